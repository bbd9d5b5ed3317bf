//! The specs' schemas, checked against a JSON body: what the generated types
//! cannot express (numeric ranges, item counts, `null` where the schema has
//! none) next to what they can (enums, patterns, required and unknown fields).
//!
//! The schemas are the spec's own: `cargo xtask generate` compiles them into
//! nodes (bounds, enums, patterns, required and known fields), emitted as
//! Rust statics in `src/generated/*_schemas.rs`, so a range changed in
//! `openapi/` reaches every check after regeneration, and a check parses no
//! JSON. The schemas as the spec writes them (`src/generated/*.schemas.json`)
//! are parsed only when a caller asks for one ([`Schemas::get`],
//! [`Schemas::property`]). The mock refuses with them what the services would
//! refuse; the facade runs them on every body before sending.
//!
//! ```
//! use ideogram_raw::schema;
//!
//! let body = serde_json::json!({"prompt": "a fox", "seed": 5});
//! let err = schema::segmind().check("IdeogramTxt2ImgRequest", &body).unwrap_err();
//! assert_eq!(err.to_string(), "seed: 5 is below the minimum 100");
//! ```

use std::sync::OnceLock;

use serde_json::{Map, Value};

mod node;

use node::{Additional, Compiler, FieldRef, List, Literal, MAX_DEPTH, Node, Range, Text};

/// The compiled nodes of `openapi/segmind.yaml`'s schemas.
#[rustfmt::skip]
#[path = "generated/segmind_schemas.rs"]
mod segmind_nodes;

/// The compiled nodes of `openapi/ideogram.yaml`'s schemas.
#[rustfmt::skip]
#[path = "generated/ideogram_schemas.rs"]
mod ideogram_nodes;

/// One spec's schemas: compiled into [`Node`]s that a check walks without
/// looking keys up, and as the spec writes them, parsed when first asked for.
#[derive(Debug)]
pub struct Schemas {
    nodes: List<Node>,
    /// The node of each named schema, sorted by name.
    named: List<(Text, usize)>,
    json: Json,
}

/// The schemas as JSON.
#[derive(Debug)]
enum Json {
    /// The generated text, parsed the first time it is read.
    Embedded(&'static str, OnceLock<Value>),
    /// A caller's document.
    Owned(Value),
}

static SEGMIND: Schemas = Schemas {
    nodes: List::Borrowed(&segmind_nodes::NODES),
    named: List::Borrowed(segmind_nodes::NAMED),
    json: Json::Embedded(
        include_str!("generated/segmind.schemas.json"),
        OnceLock::new(),
    ),
};
static IDEOGRAM: Schemas = Schemas {
    nodes: List::Borrowed(&ideogram_nodes::NODES),
    named: List::Borrowed(ideogram_nodes::NAMED),
    json: Json::Embedded(
        include_str!("generated/ideogram.schemas.json"),
        OnceLock::new(),
    ),
};

/// The schemas of `openapi/segmind.yaml`.
pub fn segmind() -> &'static Schemas {
    &SEGMIND
}

/// The schemas of `openapi/ideogram.yaml`.
pub fn ideogram() -> &'static Schemas {
    &IDEOGRAM
}

/// Where a body breaks its schema, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field, as a path into the body: `image_request.color_palette.members[2]`
    /// (empty for the body itself).
    pub path: String,
    /// What is wrong, naming what is allowed.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Violation {}

/// What the spec says of one field of an object schema, read from the
/// compiled nodes (no JSON): what a caller building requests asks about
/// each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFacts<'a> {
    /// It holds a list (`type: array`).
    pub list: bool,
    /// It is sent as a file part (`format: binary`, or a list of them).
    pub file: bool,
    /// It holds input images (see [`Schemas::is_image`]).
    pub image: bool,
    /// Free text: a string with no enum, pattern or format, and no image.
    pub free_text: bool,
    /// Its enum's values, in the spec's order (empty: not an enum).
    pub values: Vec<&'a str>,
    /// `x-takes`: what other bodies call the value it takes.
    pub takes: Option<&'a str>,
    /// The models the object's `x-field-models` lets send it; `None`: every
    /// model.
    pub models: Option<Vec<&'a str>>,
    /// The field whose images it masks (the object's `x-masks`).
    pub mask_of: Option<&'a str>,
    /// The file field it may stand in for (`x-in-place-of`): an asset
    /// identifier given instead of the image.
    pub in_place_of: Option<&'a str>,
    /// `x-max-total-bytes`: the most bytes its files may hold in all.
    pub max_total_bytes: Option<u64>,
    /// `x-max-bytes` of its file (or of each file of its list): the most
    /// bytes one may hold.
    pub max_bytes: Option<u64>,
    /// `x-media-types` of its file (or of each file of its list): what it
    /// takes in place of an image (layerize's fonts); empty: an image.
    pub media_types: Vec<&'a str>,
    /// `x-max-aspect` of its image (or of each of its list): its long side
    /// is at most this many times its short side.
    pub max_aspect: Option<u64>,
}

/// The name a [`Schemas::document`]'s own schema is kept under.
const DOCUMENT: &str = "#";

/// `text` as the integer it spells exactly (its canonical decimal form).
fn exact_integer(text: &str) -> Option<Value> {
    if text.starts_with('-') {
        let number = text.parse::<i64>().ok()?;
        (number.to_string() == text).then_some(number.into())
    } else {
        let number = text.parse::<u64>().ok()?;
        (number.to_string() == text).then_some(number.into())
    }
}

impl Schemas {
    fn compile_all(schemas: Value) -> Self {
        let mut compiler = Compiler::new(&schemas);
        let named = compiler.compile_named();
        let nodes = compiler.nodes;
        Self {
            nodes: List::Owned(nodes),
            named: List::Owned(named),
            json: Json::Owned(schemas),
        }
    }

    /// The schemas as the spec writes them, parsed on first use.
    fn json(&self) -> &Value {
        match &self.json {
            Json::Embedded(text, parsed) => parsed.get_or_init(|| {
                serde_json::from_str(text).expect("the generated schemas are JSON")
            }),
            Json::Owned(value) => value,
        }
    }

    /// The node of the schema named `name`. The place of the name the
    /// thread found last is tried first (one comparison, where the search
    /// was eight, about 0.3k instructions): a client checks the same body
    /// schema call after call. It is only a hint, taken when the name there
    /// is `name`.
    fn node_of(&self, name: &str) -> Option<usize> {
        thread_local!(static LAST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
        let named = &self.named;
        let last = LAST.get();
        if let Some((n, node)) = named.get(last)
            && **n == *name
        {
            return Some(*node);
        }
        let at = named.binary_search_by(|(n, _)| (**n).cmp(name)).ok()?;
        LAST.set(at);
        Some(named[at].1)
    }

    /// The node of `field` in the object schema `name`.
    fn field_node(&self, name: &str, field: &str) -> Option<&node::Property> {
        let schema = &self.nodes[self.node_of(name)?];
        schema.properties.iter().find(|p| p.name == field)
    }

    /// One JSON Schema document (draft 2020-12, as `schemars` writes one;
    /// its `$ref`s point into its own `$defs`), compiled for
    /// [`check_document`](Self::check_document): for a caller that publishes
    /// a schema (an agent's tool definition) and checks what it receives
    /// against that very schema. `type` lists (`["integer", "null"]`),
    /// `const` and numeric `exclusiveMinimum`/`exclusiveMaximum` are read as
    /// draft 2020-12 means them.
    ///
    /// ```
    /// use ideogram_raw::schema::Schemas;
    ///
    /// let schema = serde_json::json!({
    ///     "type": "object",
    ///     "properties": {"n": {"type": ["integer", "null"], "minimum": 1, "maximum": 8}},
    ///     "additionalProperties": false,
    /// });
    /// let schemas = Schemas::document(schema);
    /// assert!(schemas.check_document(&serde_json::json!({"n": 8})).is_ok());
    /// assert!(schemas.check_document(&serde_json::json!({"n": null})).is_ok());
    /// let err = schemas.check_document(&serde_json::json!({"n": 9})).unwrap_err();
    /// assert_eq!(err.to_string(), "n: 9 is above the maximum 8");
    /// ```
    pub fn document(mut schema: Value) -> Self {
        let mut root = match schema.as_object_mut().and_then(|s| s.remove("$defs")) {
            Some(Value::Object(defs)) => defs,
            _ => Map::new(),
        };
        root.insert(DOCUMENT.to_owned(), schema);
        Self::compile_all(Value::Object(root))
    }

    /// Checks `body` against the schema of [`document`](Self::document):
    /// the first violation, or `Ok`.
    pub fn check_document(&self, body: &Value) -> Result<(), Violation> {
        self.check(DOCUMENT, body)
    }

    /// `body` with each string that is exactly an integer's decimal form
    /// (`"4242"`, `"-7"`; not `"042"`, `"+1"`, `" 42"`, `"42.0"` or `"4e3"`)
    /// made that integer where the document's schema takes an integer and no
    /// string there: some clients send every number as text.
    pub fn integers_from_text(&self, body: &mut Value) {
        if let Some(node) = self.node_of(DOCUMENT) {
            self.retype(node, body, 0);
        }
    }

    fn retype(&self, node: usize, value: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = &self.nodes[node];
        if let Value::String(text) = value {
            let integer = schema.kinds.iter().any(|k| k == "integer")
                && !schema.kinds.iter().any(|k| k == "string");
            if integer && let Some(number) = exact_integer(text) {
                *value = number;
            }
            return;
        }
        for &part in schema
            .all_of
            .iter()
            .chain(schema.choices.iter().flat_map(|c| c.0.iter()))
        {
            self.retype(part, value, depth + 1);
        }
        match value {
            Value::Array(items) => {
                if let Some(item) = schema.items {
                    for value in items {
                        self.retype(item, value, depth + 1);
                    }
                }
            }
            Value::Object(object) => {
                for (name, value) in object {
                    if let Some(field) = schema.property(name) {
                        self.retype(field, value, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// The schema named `name`, as the spec writes it (parsed from the
    /// embedded JSON the first time any is asked for).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.json().get(name)
    }

    /// Whether the spec has a schema `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.node_of(name).is_some()
    }

    /// The name of every schema, in no particular order: for checks over a
    /// whole spec (every enum a request field takes, say), so that a schema
    /// the spec gains is covered without a list to update.
    ///
    /// ```
    /// let names: Vec<&str> = ideogram_raw::schema::ideogram().names().collect();
    /// assert!(names.contains(&"ResolutionV3"));
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.named.iter().map(|(name, _)| &**name)
    }

    /// Checks `body` against the schema named `name`: the first violation,
    /// or `Ok` when the spec accepts it.
    ///
    /// # Panics
    ///
    /// When the spec has no schema `name` (a programming error).
    pub fn check(&self, name: &str, body: &Value) -> Result<(), Violation> {
        self.check_given(name, body, &[])
    }

    /// [`check`](Self::check) of an object `body` with more fields `given`
    /// beside it, in order of name: each checked as if `body` held it
    /// (required fields, unknown fields, its schema, `x-exclusive` and
    /// `x-field-models`), in place of a field of the same name in `body`.
    /// For a body whose files are sent apart from its fields (a multipart
    /// body): each file field stands as a value of its kind, without putting
    /// it into the body and taking it out again (about 2k instructions of an
    /// edit).
    ///
    /// # Panics
    ///
    /// When the spec has no schema `name` (a programming error).
    pub fn check_given(
        &self,
        name: &str,
        body: &Value,
        given: &[(&str, &Value)],
    ) -> Result<(), Violation> {
        let node = self
            .node_of(name)
            .unwrap_or_else(|| panic!("no schema {name} in the spec"));
        // The path is written as the walk goes down: a buffer kept for the
        // thread's next check, not one made for each (about 0.3k
        // instructions of a check).
        thread_local!(static PATH: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) });
        let mut path = PATH.take();
        path.clear();
        let checked = self.walk_given(node, body, &mut path, 0, given);
        PATH.set(path);
        checked
    }

    /// The schema a `$ref` names, or `schema` itself.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        node::resolve(self.json(), schema)
    }

    fn walk(
        &self,
        node: usize,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), Violation> {
        self.walk_given(node, value, path, depth, &[])
    }

    /// [`walk`](Self::walk) of an object with the fields `given` beside it
    /// ([`check_given`](Self::check_given)).
    fn walk_given(
        &self,
        node: usize,
        value: &Value,
        path: &mut String,
        depth: usize,
        given: &[(&str, &Value)],
    ) -> Result<(), Violation> {
        if depth > MAX_DEPTH {
            return fail(path, "nested too deeply".into());
        }
        let schema = &self.nodes[node];
        if value.is_null() {
            return if schema.nullable {
                Ok(())
            } else {
                fail(path, "must not be null; leave the field out instead".into())
            };
        }
        for &part in schema.all_of.iter() {
            self.walk_given(part, value, path, depth + 1, given)?;
        }
        if let Some((choices, exclusive)) = &schema.choices {
            let mut first_error = None;
            let mut matched = 0;
            for &choice in choices.iter() {
                match self.walk_given(choice, value, &mut path.clone(), depth + 1, given) {
                    Ok(()) => matched += 1,
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if matched == 0 || (*exclusive && matched > 1) {
                return Err(match first_error {
                    Some(e) if matched == 0 && choices.len() == 1 => e,
                    _ => Violation {
                        path: path.clone(),
                        message: format!(
                            "must match exactly one of {} shapes{}",
                            choices.len(),
                            first_error.map_or(String::new(), |e| format!(" ({e})"))
                        ),
                    },
                });
            }
        }
        // A number's range first: a whole number past 64 bits reads as a
        // float, and its range says what is wrong with it, its kind not.
        if let Some(number) = value.as_f64() {
            schema
                .range
                .check(number, value)
                .or_else(|m| fail(path, m))?;
        }
        if schema.kind_bits != 0 && schema.kind_bits & node::kind_bits_of(value) == 0 {
            let kinds: Vec<String> = schema
                .kinds
                .iter()
                .filter(|k| *k != "null")
                .map(|k| article(k))
                .collect();
            return fail(
                path,
                format!("must be {}, not {}", kinds.join(" or "), describe(value)),
            );
        }
        if let Some(allowed) = &schema.allowed
            && !allowed.iter().any(|a| a.matches(value))
        {
            let names: Vec<String> = allowed.iter().map(Literal::name).collect();
            return fail(
                path,
                format!(
                    "{} is not allowed; use one of {}",
                    short(value),
                    names.join(", ")
                ),
            );
        }
        if let Some(text) = value.as_str()
            && (schema.min_length.is_some()
                || schema.max_length.is_some()
                || schema.pattern.is_some())
        {
            // UTF-8 text of n bytes holds from n/4 (rounded up) to n
            // characters: they are counted only where those bounds do not
            // settle the length (a prompt's 1 to 10000, about 0.1k
            // instructions of every check).
            let bytes = text.len() as u64;
            let settled = schema.min_length.is_none_or(|min| min <= bytes.div_ceil(4))
                && schema.max_length.is_none_or(|max| bytes <= max);
            let chars = match settled {
                true => None,
                false => Some(text.chars().count() as u64),
            };
            if let Some(min) = schema.min_length
                && let Some(chars) = chars
                && chars < min
            {
                return fail(
                    path,
                    if min == 1 {
                        "must not be empty".into()
                    } else {
                        format!("must be at least {min} characters")
                    },
                );
            }
            if let Some(max) = schema.max_length
                && let Some(chars) = chars
                && chars > max
            {
                return fail(
                    path,
                    format!("is {chars} characters; at most {max} are accepted"),
                );
            }
            if let Some(pattern) = &schema.pattern
                && pattern.regex().find(text).is_none()
            {
                let source = &pattern.source;
                return fail(path, format!("{} does not match {source}", short(value)));
            }
        }
        if let Some(items) = value.as_array() {
            let count = items.len() as u64;
            if let Some(min) = schema.min_items
                && count < min
            {
                return fail(
                    path,
                    format!("holds {count} items; at least {min} are needed"),
                );
            }
            if let Some(max) = schema.max_items
                && count > max
            {
                return fail(
                    path,
                    format!("holds {count} items; at most {max} are accepted"),
                );
            }
            if let Some(item_schema) = schema.items {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    self.walk(item_schema, item, path, depth + 1)?;
                    path.truncate(len);
                }
            }
        }
        if let Some(object) = value.as_object() {
            self.walk_object(schema, object, path, depth, given)?;
        }
        Ok(())
    }

    /// The object rules of `schema`: known fields and their schemas first,
    /// then required and exclusive fields, and the fields only some models
    /// take. Each field's value is kept at its place among the schema's
    /// properties as the walk passes it; the rules name their fields by
    /// place (compiled), so they read it there without a lookup.
    fn walk_object(
        &self,
        schema: &Node,
        object: &Map<String, Value>,
        path: &mut String,
        depth: usize,
        given: &[(&str, &Value)],
    ) -> Result<(), Violation> {
        let places = schema.properties.len();
        let mut inline = [None; INLINE_PLACES];
        let mut spilled = Vec::new();
        let seen: &mut [Option<&Value>] = if places <= INLINE_PLACES {
            &mut inline[..places]
        } else {
            spilled.resize(places, None);
            &mut spilled
        };
        // Fields come in order of name, as the properties are: each is
        // looked for from the place after the last one found.
        let mut next = 0;
        let mut walk = |name: &str, field| -> Result<(), Violation> {
            let place = schema.place_from(next, name);
            if let Some(place) = place {
                seen[place] = Some(field);
                next = place + 1;
            }
            self.walk_field(schema, place, name, field, path, depth)
        };
        if given.is_empty() {
            for (name, field) in object {
                walk(name, field)?;
            }
        } else {
            // The body's fields and the given ones, in order of name (as
            // one map holding both would give them), a given one in place
            // of the body's of the same name.
            let given_as = |name: &str| given.iter().any(|(g, _)| *g == name);
            let mut fields = object
                .iter()
                .map(|(name, field)| (name.as_str(), field))
                .filter(|(name, _)| !given_as(name))
                .peekable();
            let mut extra = given.iter().copied().peekable();
            loop {
                let next = match (fields.peek(), extra.peek()) {
                    (Some(field), Some(other)) if other.0 < field.0 => extra.next(),
                    (Some(_), _) => fields.next(),
                    (None, _) => extra.next(),
                };
                let Some((name, field)) = next else { break };
                walk(name, field)?;
            }
        }
        let seen = &*seen;
        // The value of the field `name` at `place`; a field that is no
        // property of the schema (one of its additional properties) looked
        // up by name.
        let value = |name: &str, place: Option<usize>| match place {
            Some(place) => seen[place],
            None => (given.iter().find(|(g, _)| *g == name).map(|(_, v)| *v))
                .or_else(|| object.get(name)),
        };
        let at = |field: &FieldRef| value(&field.name, field.place);
        let given_at = |field: &FieldRef| at(field).is_some_and(|v| !v.is_null());
        for field in schema.required.iter() {
            if at(field).is_none() {
                push_field(path, &field.name);
                return fail(path, "is required".into());
            }
        }
        // `x-in-place-of`: a field standing in for a file; one of the two.
        for (place, property) in schema.properties.iter().enumerate() {
            let Some(file) = &property.in_place_of else {
                continue;
            };
            let stand_in = seen[place].is_some_and(|v| !v.is_null());
            match (given_at(file), stand_in) {
                (false, false) => {
                    push_field(path, &file.name);
                    let message = format!("is required, or {} in its place", property.name);
                    return fail(path, message);
                }
                (true, true) => {
                    push_field(path, &property.name);
                    let file = &file.name;
                    let message = format!("cannot be given with {file}: it stands in for it");
                    return fail(path, message);
                }
                _ => {}
            }
        }
        // `x-exclusive`: groups of fields of which a body gives one.
        for group in schema.exclusive.iter() {
            // The first two given, found without collecting the group.
            let mut given = group.iter().filter(|f| given_at(f));
            if let (Some(first), Some(second)) = (given.next(), given.next()) {
                push_field(path, &second.name);
                return fail(path, format!("cannot be given with {}", first.name));
            }
        }
        // The rules below are on few schemas, and name their fields.
        let get = |name: &str| value(name, schema.place(name));
        let present = |name: &str| get(name).is_some_and(|v| !v.is_null());
        // `x-max-items-with`: a list shorter when another field is given.
        for (list, with, max) in schema.max_items_with.iter() {
            if present(with)
                && let Some(Value::Array(items)) = get(list)
                && items.len() as u64 > *max
            {
                push_field(path, list);
                let count = items.len();
                let message =
                    format!("holds {count} items; at most {max} are accepted with {with}");
                return fail(path, message);
            }
        }
        // `x-value-requires`: a value taken only beside one of some fields.
        for (field, value, with) in schema.value_requires.iter() {
            if get(field).and_then(Value::as_str) == Some(&**value)
                && !with.iter().any(|other| present(other))
            {
                push_field(path, field);
                let with: Vec<&str> = with.iter().map(|w| &**w).collect();
                let message = format!("{value:?} is accepted only with {}", with.join(" or "));
                return fail(path, message);
            }
        }
        // `x-size-with`: a `<w>x<h>` size held to more beside some fields.
        for rule in schema.size_with.iter() {
            let Some(text) = get(&rule.field).and_then(Value::as_str) else {
                continue;
            };
            let beside = rule.with.iter().find(|w| present(w));
            if let (Some(beside), Some((width, height))) = (beside, sized(text))
                && let Some(why) = rule.refuses(width, height)
            {
                push_field(path, &rule.field);
                return fail(
                    path,
                    format!("{text:?} is not a size taken with {beside}: {why}"),
                );
            }
        }
        if let Some(model) = schema.model_of(object) {
            for (field, models) in schema.field_models.iter() {
                if get(field).is_some() && !models.iter().any(|m| m == model) {
                    push_field(path, field);
                    let models: Vec<&str> = models.iter().map(|m| &**m).collect();
                    let message =
                        format!("{model} does not take this field; {} do", models.join(", "));
                    return fail(path, message);
                }
            }
        }
        Ok(())
    }

    /// One field `name` of an object of `schema`, at `place` among its
    /// properties: checked against its own schema, or refused where the
    /// object takes no field by that name.
    fn walk_field(
        &self,
        schema: &Node,
        place: Option<usize>,
        name: &str,
        field: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), Violation> {
        let len = path.len();
        push_field(path, name);
        match place {
            Some(place) => self.walk(schema.properties[place].node, field, path, depth + 1)?,
            None => match schema.additional {
                Additional::Refused => {
                    let known: Vec<&str> = schema.properties.iter().map(|p| &*p.name).collect();
                    return fail(
                        path,
                        format!("is not a field here; the fields are {}", known.join(", ")),
                    );
                }
                Additional::Schema(extra) => self.walk(extra, field, path, depth + 1)?,
                Additional::Any => {}
            },
        }
        path.truncate(len);
        Ok(())
    }

    /// The schema of `field` in the object schema `name`, its `$ref`
    /// followed, as the spec writes it (parsed from the embedded JSON the
    /// first time any is asked for).
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// let seed = spec.property("GenerateImageRequestV3", "seed").unwrap();
    /// assert_eq!(seed["type"], "integer");
    /// ```
    pub fn property<'a>(&'a self, name: &str, field: &str) -> Option<&'a Value> {
        let schema = self.resolve(self.get(name)?);
        schema["properties"].get(field).map(|p| self.resolve(p))
    }

    /// Whether a body of the schema `name` asks to be answered later (a
    /// generation id to poll, not its images): it gives a field the spec
    /// marks `x-delivery` (v2's `async: true`, a `webhook_url`), or the
    /// schema has no boolean `x-delivery` switch at all (its operation always
    /// runs so). Form values read from multipart text count as given unless
    /// `false`.
    ///
    /// ```
    /// use serde_json::json;
    /// let spec = ideogram_raw::schema::ideogram();
    /// let body = |v: serde_json::Value| v.as_object().cloned().unwrap();
    /// assert!(!spec.answers_later("GenerateV4RequestV2", &body(json!({"prompt": "x"}))));
    /// assert!(spec.answers_later("GenerateV4RequestV2", &body(json!({"prompt": "x", "async": true}))));
    /// assert!(spec.answers_later("ReplaceBackgroundV3RequestV2", &body(json!({"prompt": "x"}))));
    /// ```
    pub fn answers_later(&self, name: &str, body: &Map<String, Value>) -> bool {
        let delivery = self.delivery_fields(name);
        let given = |(field, _): &(&str, &Value)| {
            body.get(*field).is_some_and(|v| {
                !matches!(v, Value::Null | Value::Bool(false)) && v.as_str() != Some("false")
            })
        };
        let switch = |(_, p): &(&str, &Value)| p["type"] == "boolean";
        delivery.iter().any(given) || !delivery.iter().any(switch)
    }

    /// The URL a body of the schema `name` gives for its result to be
    /// delivered to: its `x-delivery` field of `format: uri` (v2's
    /// `webhook_url`), where given.
    pub fn delivered_to<'b>(&self, name: &str, body: &'b Map<String, Value>) -> Option<&'b str> {
        let delivery = self.delivery_fields(name);
        let mut urls = delivery.iter().filter(|(_, p)| p["format"] == "uri");
        urls.find_map(|(field, _)| body.get(*field)?.as_str())
    }

    /// The names of the fields of `name` the spec marks `x-delivery`: how
    /// the result comes back (`async`, `webhook_url`), not what is made.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// assert_eq!(spec.delivery_field_names("LayerizeV3RequestV2"), ["async", "webhook_url"]);
    /// ```
    pub fn delivery_field_names(&self, name: &str) -> Vec<&str> {
        self.delivery_fields(name)
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    }

    /// The fields of `name` the spec marks `x-delivery`, with their schemas.
    fn delivery_fields(&self, name: &str) -> Vec<(&str, &Value)> {
        let fields = self.fields(name).into_iter();
        let marked = fields.filter_map(|field| Some((field, self.property(name, field)?)));
        marked.filter(|(_, p)| p["x-delivery"] == true).collect()
    }

    /// The fields of the object schema `name`, in the spec's order.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// assert_eq!(spec.fields("GenerateImageRequest"), ["image_request"]);
    /// ```
    pub fn fields(&self, name: &str) -> Vec<&str> {
        self.node_of(name).map_or_else(Vec::new, |node| {
            let properties = self.nodes[node].properties.iter();
            properties.map(|p| &*p.name).collect()
        })
    }

    /// Whether `field` of the object schema `name` holds input images: a
    /// file (`format: binary`) or a schema marked `x-image` (a URL or
    /// base64), or a list of them.
    ///
    /// ```
    /// assert!(ideogram_raw::schema::segmind().is_image("Ideogram3Request", "style_reference_images"));
    /// assert!(ideogram_raw::schema::ideogram().is_image("EditImageRequestV3", "mask"));
    /// assert!(!ideogram_raw::schema::ideogram().is_image("EditImageRequestV3", "prompt"));
    /// ```
    pub fn is_image(&self, name: &str, field: &str) -> bool {
        self.field_node(name, field)
            .is_some_and(|property| self.holds_images(&self.nodes[property.node]))
    }

    /// Whether `schema` (or its items) is a file or marked `x-image`.
    fn holds_images(&self, schema: &Node) -> bool {
        let image = |schema: &Node| schema.image || schema.format.as_deref() == Some("binary");
        image(schema) || schema.items.is_some_and(|items| image(&self.nodes[items]))
    }

    /// The name of the schema `field` of the object schema `name` refers to
    /// (`InitialImageRequest` for `RemixImageRequest`'s `image_request`).
    pub fn field_schema_name(&self, name: &str, field: &str) -> Option<&str> {
        self.field_node(name, field)?.reference.as_deref()
    }

    /// Whether a body of the object schema `name`, sent with `model`, may
    /// hold `field`: the schema has it, and its `x-field-models` (the spec's
    /// list of fields only some models take) names `model` where it names the
    /// field.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// assert!(spec.takes("ImageRequest", "color_palette", "V_2"));
    /// assert!(!spec.takes("ImageRequest", "color_palette", "V_2A"));
    /// assert!(!spec.takes("ImageRequest", "rendering_speed", "V_2"));
    /// ```
    pub fn takes(&self, name: &str, field: &str, model: &str) -> bool {
        self.field_node(name, field).is_some()
            && self
                .field_models(name, field)
                .is_none_or(|models| models.contains(&model))
    }

    /// The models the object schema `name`'s `x-field-models` lets send
    /// `field`; `None` where it does not name the field.
    fn field_models(&self, name: &str, field: &str) -> Option<Vec<&str>> {
        let schema = &self.nodes[self.node_of(name)?];
        let (_, models) = schema.field_models.iter().find(|(f, _)| f == field)?;
        Some(models.iter().map(|m| &**m).collect())
    }

    /// The `minimum..=maximum` of the integer `field` of the object schema
    /// `name`, when it has both.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::segmind();
    /// assert_eq!(spec.field_range("Ideogram4Request", "seed"), Some(0..=2147483647));
    /// assert_eq!(spec.field_range("Ideogram2aTxt2ImgRequest", "seed"), Some(100..=999999));
    /// ```
    pub fn field_range(&self, name: &str, field: &str) -> Option<std::ops::RangeInclusive<i64>> {
        let range = self.nodes[self.field_node(name, field)?.node].range;
        let integer = |(bound, _): (f64, bool)| {
            (bound.fract() == 0.0 && bound.abs() < 9.0e15).then_some(bound as i64)
        };
        Some(integer(range.min?)?..=integer(range.max?)?)
    }

    /// The values the `field` of the object schema `name` takes, when it is
    /// an enum, in the spec's order.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// let styles = spec.field_values("GenerateImageRequestV3", "style_type").unwrap();
    /// assert!(styles.contains(&"FICTION") && !styles.contains(&"ANIME"));
    /// ```
    pub fn field_values(&self, name: &str, field: &str) -> Option<Vec<&str>> {
        let allowed = self.nodes[self.field_node(name, field)?.node]
            .allowed
            .as_ref()?;
        Some(allowed.iter().filter_map(Literal::text).collect())
    }

    /// What the spec says of `field` of the object schema `name`, read from
    /// the compiled nodes; `None` when the schema has no such field.
    ///
    /// ```
    /// let spec = ideogram_raw::schema::ideogram();
    /// let mask = spec.field_facts("EditImageRequestV3", "mask").unwrap();
    /// assert!(mask.file && mask.image && !mask.free_text);
    /// assert_eq!((mask.max_bytes, mask.media_types.len()), (Some(10 << 20), 0));
    /// let fonts = spec.field_facts("LayerizeV3RequestV2", "font_candidate_files").unwrap();
    /// assert!(fonts.file && fonts.list && fonts.media_types.contains(&"font/woff2"));
    /// let prompt = spec.field_facts("GenerateImageRequestV3", "prompt").unwrap();
    /// assert!(prompt.free_text && prompt.values.is_empty());
    /// ```
    pub fn field_facts(&self, name: &str, field: &str) -> Option<FieldFacts<'_>> {
        let property = self.field_node(name, field)?;
        let schema = &self.nodes[property.node];
        let object = &self.nodes[self.node_of(name)?];
        let kind = |kind: &str| schema.kinds.iter().any(|k| k == kind);
        let binary = |node: &Node| node.format.as_deref() == Some("binary");
        let image = self.holds_images(schema);
        Some(FieldFacts {
            list: kind("array"),
            file: binary(schema) || schema.items.is_some_and(|i| binary(&self.nodes[i])),
            image,
            free_text: kind("string")
                && !image
                && schema.allowed.is_none()
                && schema.pattern.is_none()
                && schema.format.is_none(),
            values: self.field_values(name, field).unwrap_or_default(),
            takes: property.takes.as_deref(),
            in_place_of: property.in_place_of.as_ref().map(|file| &*file.name),
            max_total_bytes: schema.max_total_bytes,
            max_bytes: schema
                .max_bytes
                .or_else(|| self.nodes[schema.items?].max_bytes),
            max_aspect: schema
                .max_aspect
                .or_else(|| self.nodes[schema.items?].max_aspect),
            media_types: (schema.media_types.iter())
                .chain(
                    schema
                        .items
                        .iter()
                        .flat_map(|&i| self.nodes[i].media_types.iter()),
                )
                .map(|t| &**t)
                .collect(),
            models: self.field_models(name, field),
            mask_of: object
                .masks
                .iter()
                .find(|(mask, _)| mask == field)
                .map(|(_, of)| &**of),
        })
    }
}

/// `<w>x<h>` as its two sides; a side of digits too long for a `u64` is
/// `u64::MAX` (too large for any rule, not a size to skip).
fn sized(text: &str) -> Option<(u64, u64)> {
    let side = |digits: &str| match digits.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(u64::MAX)
        }
        Err(_) => None,
    };
    let (width, height) = text.split_once('x')?;
    Some((side(width)?, side(height)?))
}

impl node::SizeRule {
    /// Why a `width` x `height` size breaks this rule, if it does.
    fn refuses(&self, width: u64, height: u64) -> Option<String> {
        let (short, long) = (width.min(height), width.max(height));
        let m = u64::from(self.multiple_of);
        Some(if !width.is_multiple_of(m) || !height.is_multiple_of(m) {
            format!("each side is a multiple of {m}")
        } else if short < u64::from(self.min_side) {
            format!("each side is at least {}", self.min_side)
        } else if width.saturating_mul(height) > self.max_pixels {
            format!("it is at most {} pixels in all", self.max_pixels)
        } else if long > short.saturating_mul(u64::from(self.max_aspect)) {
            format!(
                "its long side is at most {} times its short side",
                self.max_aspect
            )
        } else {
            return None;
        })
    }
}

/// The properties an object's walk keeps on the stack; more go to the heap.
const INLINE_PLACES: usize = 32;

impl Node {
    fn property(&self, name: &str) -> Option<usize> {
        self.place(name).map(|place| self.properties[place].node)
    }

    /// The place of the property `name` among the properties.
    fn place(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|p| p.name == name)
    }

    /// The place of the property `name`, looked for from `from` on (then
    /// before it).
    fn place_from(&self, from: usize, name: &str) -> Option<usize> {
        let (before, after) = self.properties.split_at(from.min(self.properties.len()));
        let found = |p: &node::Property| p.name == name;
        match after.iter().position(found) {
            Some(place) => Some(from + place),
            None => before.iter().position(found),
        }
    }

    /// The model an object is sent with, for its `x-field-models`: its
    /// `model`, or that field's default; none when no list names it (`AUTO`
    /// lets the service choose).
    fn model_of<'a>(&'a self, object: &'a Map<String, Value>) -> Option<&'a str> {
        if self.field_models.is_empty() {
            return None;
        }
        let model = object
            .get("model")
            .and_then(Value::as_str)
            .or(self.default_model.as_deref())?;
        self.field_models
            .iter()
            .any(|(_, models)| models.iter().any(|m| m == model))
            .then_some(model)
    }
}

impl Literal {
    fn matches(&self, value: &Value) -> bool {
        match self {
            Literal::Text(text) => value.as_str() == Some(&**text),
            Literal::Json(literal) => literal == value,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Literal::Text(text) => Some(text),
            Literal::Json(literal) => literal.as_str(),
        }
    }

    /// The value as a message lists it: a string bare.
    fn name(&self) -> String {
        match self {
            Literal::Text(text) => text.to_string(),
            Literal::Json(literal) => literal
                .as_str()
                .map_or_else(|| literal.to_string(), str::to_owned),
        }
    }
}

impl node::Pattern {
    /// The regex, built the first time a check reads it.
    fn regex(&self) -> &crate::pattern::Regex {
        self.regex.get_or_init(|| {
            crate::pattern::Regex::new(&self.source)
                .unwrap_or_else(|e| panic!("the spec's pattern {:?}: {e}", self.source))
        })
    }
}

fn fail(path: &str, message: String) -> Result<(), Violation> {
    Err(Violation {
        path: path.to_owned(),
        message,
    })
}

impl Range {
    fn check(&self, number: f64, value: &Value) -> Result<(), String> {
        if let Some((min, exclusive)) = self.min
            && (number < min || (exclusive && number == min))
        {
            let limit = if exclusive {
                "must be above"
            } else {
                "is below the minimum"
            };
            return Err(format!("{} {limit} {}", short(value), bound(min)));
        }
        if let Some((max, exclusive)) = self.max
            && (number > max || (exclusive && number == max))
        {
            let limit = if exclusive {
                "must be below"
            } else {
                "is above the maximum"
            };
            return Err(format!("{} {limit} {}", short(value), bound(max)));
        }
        Ok(())
    }
}

/// A bound as the spec writes it: `100`, `0.05`, `1.0` as `1`.
fn bound(n: f64) -> String {
    serde_json::Number::from_f64(n)
        .map_or_else(|| n.to_string(), |n| n.to_string())
        .trim_end_matches(".0")
        .to_owned()
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

fn article(kind: &str) -> String {
    match kind {
        "object" | "array" | "integer" => format!("an {kind}"),
        other => format!("a {other}"),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() && n.as_f64().is_some_and(|f| f.abs() >= 9.2e18) => {
            "a number past what 64 bits hold"
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) && n.is_f64() => "a float",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for a message: short, and never a whole pasted document.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_counts_nulls_and_fields_come_from_the_spec() {
        let segmind = segmind();
        let ok = json!({"prompt": "x", "seed": 100, "resolution": "RESOLUTION_1024_1024"});
        assert_eq!(segmind.check("IdeogramTxt2ImgRequest", &ok), Ok(()));
        let cases = [
            (
                json!({"prompt": "x", "seed": 1_000_000}),
                "seed: 1000000 is above the maximum 999999",
            ),
            (
                json!({"prompt": "x", "seed": null}),
                "seed: must not be null; leave the field out instead",
            ),
            (json!({"prompt": ""}), "prompt: must not be empty"),
            (json!({"seed": 100}), "prompt: is required"),
            // A misspelt field is named, not the field it misses.
            (
                json!({"promt": "x"}),
                "promt: is not a field here; the fields are",
            ),
            (
                json!({"prompt": "x", "num_images": 1}),
                "num_images: is not a field here",
            ),
            (
                json!({"prompt": "x", "color_palette": {"members": [{"color_hex": "#fff", "color_weight": 1.5}]}}),
                "color_palette: must match exactly one of 2 shapes",
            ),
            (
                json!({"prompt": "x", "style_type": "CUBIST"}),
                "style_type: \"CUBIST\" is not allowed",
            ),
        ];
        for (body, expected) in cases {
            let err = segmind
                .check("IdeogramTxt2ImgRequest", &body)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{body}: {err}");
        }
        let nine: Vec<Value> = (0..9).map(|_| json!({"color_hex": "#fff"})).collect();
        let err = ideogram()
            .check("ColorPaletteMembers", &json!({ "members": nine }))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "members: holds 9 items; at most 8 are accepted"
        );
        let err = ideogram()
            .check(
                "GenerateImageRequest",
                &json!({"image_request": {"prompt": "x", "num_images": 9}}),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "image_request.num_images: 9 is above the maximum 8"
        );
    }

    /// Each spec's schemas as the xtask compiled them (statics) and as the
    /// run-time compiler makes them from the JSON beside them.
    fn both(spec: &'static Schemas) -> (String, String) {
        let Json::Embedded(text, _) = spec.json else {
            unreachable!("the specs' schemas are embedded")
        };
        let compiled = Schemas::compile_all(serde_json::from_str(text).unwrap());
        let form = |s: &Schemas| format!("{:?}\n{:?}", s.named, s.nodes);
        (form(spec), form(&compiled))
    }

    #[test]
    fn the_generated_nodes_are_the_schemas_json_compiled() {
        for spec in [segmind(), ideogram()] {
            let (generated, compiled) = both(spec);
            // The first difference, with what surrounds it.
            let at = (generated.bytes().zip(compiled.bytes()))
                .position(|(a, b)| a != b)
                .unwrap_or(generated.len().min(compiled.len()));
            let around = |s: &str| s[at.saturating_sub(300)..(at + 200).min(s.len())].to_owned();
            assert_eq!(around(&generated), around(&compiled));
            assert_eq!(generated.len(), compiled.len());
            // Every pattern builds.
            for node in spec.nodes.iter() {
                if let Some(pattern) = &node.pattern {
                    pattern.regex();
                }
            }
        }
    }

    #[test]
    fn checks_and_field_questions_parse_no_json() {
        let fresh = |spec: &'static Schemas| Schemas {
            nodes: List::Borrowed(&spec.nodes),
            named: List::Borrowed(&spec.named),
            json: match spec.json {
                Json::Embedded(text, _) => Json::Embedded(text, OnceLock::new()),
                Json::Owned(_) => unreachable!(),
            },
        };
        let spec = fresh(segmind());
        let body = json!({"prompt": "x", "seed": 100, "resolution": "RESOLUTION_1024_1024"});
        assert_eq!(spec.check("IdeogramTxt2ImgRequest", &body), Ok(()));
        assert!(
            spec.check("IdeogramTxt2ImgRequest", &json!({"seed": 1}))
                .is_err()
        );
        assert_eq!(
            spec.field_range("Ideogram2aTxt2ImgRequest", "seed"),
            Some(100..=999_999)
        );
        for name in spec.names() {
            for field in spec.fields(name) {
                spec.field_facts(name, field).unwrap();
                spec.field_schema_name(name, field);
                spec.is_image(name, field);
            }
        }
        let Json::Embedded(_, parsed) = &spec.json else {
            unreachable!()
        };
        assert!(parsed.get().is_none(), "a check parsed the schemas' JSON");
        // Asked for the spec's own text, it parses it.
        assert!(spec.property("IdeogramTxt2ImgRequest", "seed").is_some());
        assert!(parsed.get().is_some());
    }

    #[test]
    fn fields_that_exclude_each_other_are_refused_together() {
        let v3 = |body: Value| ideogram().check("GenerateImageRequestV3", &body);
        assert_eq!(
            v3(json!({"prompt": "x", "style_codes": ["AAAAAAAA"], "style_type": "REALISTIC"}))
                .unwrap_err()
                .to_string(),
            "style_type: cannot be given with style_codes"
        );
        assert_eq!(
            v3(json!({"prompt": "x", "aspect_ratio": "1x1", "resolution": "1024x1024"}))
                .unwrap_err()
                .to_string(),
            "resolution: cannot be given with aspect_ratio"
        );
        assert_eq!(
            v3(json!({"prompt": "x", "style_codes": ["AAAAAAAA"]})),
            Ok(())
        );
        let segmind_remix = json!({
            "image": "https://example.com/a.png",
            "prompt": "x",
            "style_codes": ["AAAAAAAA"],
            "style_reference_images": ["https://example.com/s.png"],
        });
        assert_eq!(
            segmind()
                .check("Ideogram3RemixRequest", &segmind_remix)
                .unwrap_err()
                .to_string(),
            "style_reference_images: cannot be given with style_codes"
        );
        assert_eq!(
            ideogram()
                .check(
                    "GenerateImageRequestV4",
                    &json!({"prompt": "x", "text_prompt": "y"})
                )
                .unwrap_err()
                .to_string(),
            "text_prompt: cannot be given with prompt"
        );
        let legacy = json!({"image_request": {"prompt": "x", "aspect_ratio": "ASPECT_1_1", "resolution": "RESOLUTION_1024_1024"}});
        assert!(ideogram().check("GenerateImageRequest", &legacy).is_err());
    }

    #[test]
    fn an_asset_identifier_stands_in_for_its_file_and_one_of_the_two_is_needed() {
        let inpaint = |body: Value| ideogram().check("InpaintV3RequestV2", &body);
        let file = "data:image/png;base64,";
        let asset = json!({"asset_type": "RESPONSE", "asset_id": "x"});
        let cases = [
            (json!({"prompt": "x", "image": file, "mask": file}), None),
            (
                json!({"prompt": "x", "image_asset_identifier": asset, "mask_asset_identifier": asset}),
                None,
            ),
            (
                json!({"prompt": "x", "image_asset_identifier": asset, "mask": file}),
                None,
            ),
            (
                json!({"prompt": "x", "mask": file}),
                Some("image: is required, or image_asset_identifier in its place"),
            ),
            (
                json!({"prompt": "x", "image": file, "image_asset_identifier": asset, "mask": file}),
                Some("image_asset_identifier: cannot be given with image: it stands in for it"),
            ),
            (
                json!({"prompt": "x", "image": file}),
                Some("mask: is required, or mask_asset_identifier in its place"),
            ),
        ];
        for (body, refused) in cases {
            let checked = inpaint(body.clone()).map_err(|e| e.to_string());
            assert_eq!(checked.err().as_deref(), refused, "{body}");
        }
        let facts = ideogram().field_facts("DescribeV3RequestV2", "image_asset_identifier");
        assert_eq!(facts.unwrap().in_place_of, Some("image"));
    }

    #[test]
    fn fields_given_beside_a_body_are_checked_as_if_it_held_them() {
        let file = json!("data:image/png;base64,");
        let files = json!(["data:image/png;base64,", "data:image/png;base64,"]);
        let cases: Vec<(Value, Vec<(&str, &Value)>)> = vec![
            // Required files given: accepted.
            (
                json!({"prompt": "x"}),
                vec![("image", &file), ("mask", &file)],
            ),
            // A required file missing.
            (json!({"prompt": "x"}), vec![("image", &file)]),
            // A field the schema does not name.
            (
                json!({"prompt": "x"}),
                vec![("image", &file), ("mask", &file), ("masks", &file)],
            ),
            // A given list that excludes a body field.
            (
                json!({"prompt": "x", "style_codes": ["AAAAAAAA"]}),
                vec![
                    ("image", &file),
                    ("mask", &file),
                    ("style_reference_images", &files),
                ],
            ),
            // A given field in place of the body's own of that name.
            (
                json!({"prompt": "x", "image": 3}),
                vec![("image", &file), ("mask", &file)],
            ),
            // A given field of the wrong kind.
            (
                json!({"prompt": "x"}),
                vec![("image", &files), ("mask", &file)],
            ),
        ];
        let mut answers = Vec::new();
        for (body, mut given) in cases {
            given.sort_by_key(|(name, _)| *name);
            let beside = ideogram().check_given("EditImageRequestV3", &body, &given);
            let mut whole = body.clone();
            for (name, value) in &given {
                whole[*name] = (*value).clone();
            }
            let inside = ideogram().check("EditImageRequestV3", &whole);
            assert_eq!(beside, inside, "{body} with {given:?}");
            answers.push(beside.map_err(|e| e.to_string()));
        }
        assert_eq!(answers[0], Ok(()));
        assert_eq!(answers[1], Err("mask: is required".to_owned()));
        assert!(
            answers[2]
                .as_ref()
                .is_err_and(|e| e.starts_with("masks: is not a field"))
        );
        assert_eq!(
            answers[3],
            Err("style_reference_images: cannot be given with style_codes".to_owned())
        );
        assert_eq!(answers[4], Ok(()));
        assert!(answers[5].is_err());
    }

    #[test]
    fn fields_only_some_models_take_are_refused_for_the_others() {
        let body = |request: Value| json!({ "image_request": request });
        let check = |request| ideogram().check("GenerateImageRequest", &body(request));
        let palette = json!({"name": "EMBER"});
        let err =
            check(json!({"prompt": "x", "model": "V_2A", "color_palette": palette})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image_request.color_palette: V_2A does not take this field; V_2, V_2_TURBO, V_3 do"
        );
        // No model is the spec's default, V_2, which takes it; AUTO is the
        // service's choice, so not refused.
        assert_eq!(
            check(json!({"prompt": "x", "color_palette": palette})),
            Ok(())
        );
        assert_eq!(
            check(json!({"prompt": "x", "model": "AUTO", "color_palette": palette})),
            Ok(())
        );
        assert!(check(json!({"prompt": "x", "model": "V_1", "style_type": "GENERAL"})).is_err());
        assert!(
            ideogram()
                .check(
                    "InitialImageRequest",
                    &json!({"prompt": "x", "model": "V_2A_TURBO", "negative_prompt": "fog"}),
                )
                .is_err()
        );
        assert!(ideogram().takes("ImageRequest", "negative_prompt", "V_1_TURBO"));
        assert!(!ideogram().takes("ImageRequest", "negative_prompt", "V_2A"));
        assert!(!ideogram().takes("NoSuchSchema", "prompt", "V_2"));
    }

    #[test]
    fn schemas_checked_in_turn_are_each_found() {
        let spec = ideogram();
        let missing = |name: &str| spec.check(name, &json!({})).unwrap_err().path;
        for _ in 0..2 {
            assert_eq!(missing("GenerateImageRequestV3"), "prompt");
            assert_eq!(missing("DescribeRequest"), "image_file");
        }
        assert_eq!(spec.node_of("NoSuchSchema"), None);
        assert_eq!(missing("DescribeRequest"), "image_file");
    }

    #[test]
    fn a_value_needing_a_field_is_refused_without_it() {
        let spec = ideogram();
        let check = |body: Value| {
            spec.check("GenerateV45Request", &body)
                .map_err(|e| e.to_string())
        };
        let asset = json!([{"asset_type": "UPLOAD", "asset_id": "a1"}]);
        assert_eq!(
            check(json!({"prompt": "x", "size": "source"})),
            Err("size: \"source\" is accepted only with image_asset_identifiers".into())
        );
        let sourced = json!({"prompt": "x", "size": "source", "image_asset_identifiers": asset});
        assert_eq!(check(sourced), Ok(()));
        assert_eq!(check(json!({"prompt": "x", "size": "auto"})), Ok(()));
        let err = check(json!({"prompt": "x", "quality": "very_low"})).unwrap_err();
        assert!(
            err.starts_with("quality: \"very_low\" is accepted only with"),
            "{err}"
        );
    }

    #[test]
    fn a_length_counts_characters_not_bytes() {
        let schemas = Schemas::document(json!({"type": "string", "minLength": 2, "maxLength": 3}));
        let check = |text: &str| {
            schemas
                .check_document(&json!(text))
                .map_err(|e| e.to_string())
        };
        for fits in ["ab", "éé", "日本語", "a\u{1F600}"] {
            assert_eq!(check(fits), Ok(()), "{fits}");
        }
        assert_eq!(check("é"), Err("must be at least 2 characters".into()));
        assert_eq!(
            check("abcd"),
            Err("is 4 characters; at most 3 are accepted".into())
        );
        assert_eq!(
            check("日本語日"),
            Err("is 4 characters; at most 3 are accepted".into())
        );
        let one = Schemas::document(json!({"type": "string", "minLength": 1}));
        assert!(one.check_document(&json!("")).is_err());
        assert!(one.check_document(&json!("\u{1F600}")).is_ok());
    }

    #[test]
    fn a_type_admits_its_kinds_and_an_unknown_one_anything() {
        let check = |kind: Value, value: Value| {
            let schemas = Schemas::document(json!({"type": kind}));
            schemas.check_document(&value).is_ok()
        };
        assert!(check(json!("number"), json!(2)), "an integer is a number");
        assert!(check(json!("integer"), json!(2)));
        assert!(!check(json!("integer"), json!(1.5)));
        assert!(!check(json!("string"), json!(true)));
        assert!(check(json!(["boolean", "object"]), json!({})));
        assert!(!check(json!(["boolean", "object"]), json!([])));
        assert!(
            check(json!("whatever"), json!([])),
            "no such type constrains nothing"
        );
    }

    #[test]
    fn a_json_schema_document_is_checked_as_draft_2020_12_reads_it() {
        let schemas = Schemas::document(json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["op"],
            "properties": {
                "op": {"const": "upscale", "type": "string"},
                "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 8},
                "w": {"type": "number", "exclusiveMinimum": 0},
                "palette": {"anyOf": [{"$ref": "#/$defs/Palette"}, {"type": "null"}]},
                "list": {"type": "array", "items": {"type": "integer"}},
            },
            "$defs": {"Palette": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        }));
        let check = |body: Value| schemas.check_document(&body).map_err(|e| e.to_string());
        assert_eq!(
            check(json!({"op": "upscale", "n": null, "palette": null})),
            Ok(())
        );
        assert_eq!(
            check(json!({"op": "upscale", "palette": {"name": "EMBER"}})),
            Ok(())
        );
        let refusals = [
            (
                json!({"op": "edit"}),
                "op: \"edit\" is not allowed; use one of upscale",
            ),
            (
                json!({"op": "upscale", "n": 0}),
                "n: 0 is below the minimum 1",
            ),
            (
                json!({"op": "upscale", "n": "4"}),
                "n: must be an integer, not a string",
            ),
            (json!({"op": "upscale", "w": 0}), "w: 0 must be above 0"),
            // A whole number past 64 bits is read as a float: its range
            // (or what it is) is said, not that it has a fraction.
            (
                json!({"op": "upscale", "n": 1e20}),
                "n: 1e+20 is above the maximum 8",
            ),
            (
                json!({"op": "upscale", "list": [1e20]}),
                "list[0]: must be an integer, not a number past what 64 bits hold",
            ),
            (
                json!({"op": "upscale", "palette": {}}),
                "palette: must match exactly one of 2 shapes",
            ),
            (
                json!({"op": "upscale", "x": 1}),
                "x: is not a field here; the fields are",
            ),
            (json!({}), "op: is required"),
        ];
        for (body, expected) in refusals {
            let err = check(body.clone()).expect_err(&body.to_string());
            assert!(err.starts_with(expected), "{body}: {err}");
        }
        // Integers sent as text read as integers only when exact.
        let mut body = json!({"op": "upscale", "n": "4", "list": ["2", "-3"]});
        schemas.integers_from_text(&mut body);
        assert_eq!(body, json!({"op": "upscale", "n": 4, "list": [2, -3]}));
        for text in [
            "042",
            "+4",
            " 4",
            "4.0",
            "4e3",
            "",
            "x",
            "99999999999999999999",
        ] {
            let mut body = json!({"op": "upscale", "n": text});
            schemas.integers_from_text(&mut body);
            assert_eq!(body["n"], text, "{text}");
        }
        let mut body = json!({"op": "4"});
        schemas.integers_from_text(&mut body);
        assert_eq!(body["op"], "4", "a string field stays a string");
    }
}
