//! Schemas compiled into [`Node`]s, and the compiler that makes them from a
//! spec's JSON.
//!
//! Shared, as one file, by the raw crate (which compiles a caller's JSON
//! Schema document at run time) and the xtask (which compiles each spec's
//! schemas at generation time and emits the nodes as Rust statics, so no
//! process parses a spec's schema JSON to check a body). Every list is a
//! `Cow`, borrowed from a static or owned, so that both forms are one type.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

/// Text a node holds: the spec's own, borrowed from a static, or owned.
pub(crate) type Text = Cow<'static, str>;

/// A list a node holds.
pub(crate) type List<T> = Cow<'static, [T]>;

/// Nesting deeper than this is refused rather than followed.
pub(crate) const MAX_DEPTH: usize = 32;

/// One schema compiled: every rule a check reads, its `$ref`s followed,
/// with the schemas it holds as indices into the list of nodes.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) nullable: bool,
    pub(crate) all_of: List<usize>,
    /// `oneOf` (exclusive) or `anyOf`.
    pub(crate) choices: Option<(List<usize>, bool)>,
    /// `type`: one name, or draft 2020-12's list.
    pub(crate) kinds: List<Text>,
    /// `kinds` as a set of [`kind_bit`]s, so that a check compares no
    /// text; empty when any kind will do.
    pub(crate) kind_bits: u8,
    /// `enum`, or `const` as a one-value enum.
    pub(crate) allowed: Option<List<Literal>>,
    pub(crate) range: Range,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    /// `x-max-total-bytes`: a list of files holds at most this many bytes
    /// in all.
    pub(crate) max_total_bytes: Option<u64>,
    /// `x-max-bytes`: a file (or an `x-image`) holds at most this many bytes.
    pub(crate) max_bytes: Option<u64>,
    /// `x-media-types`: what a file takes in place of an image (fonts).
    pub(crate) media_types: List<Text>,
    /// `x-max-aspect`: an image's long side is at most this many times its
    /// short side.
    pub(crate) max_aspect: Option<u64>,
    pub(crate) items: Option<usize>,
    pub(crate) required: List<FieldRef>,
    /// In order of name (the order of the spec's JSON map), for messages
    /// that list them.
    pub(crate) properties: List<Property>,
    pub(crate) additional: Additional,
    /// `x-exclusive`: groups of fields of which a body gives one.
    pub(crate) exclusive: List<List<FieldRef>>,
    /// `x-field-models`: fields only some models take, with those models.
    pub(crate) field_models: List<(Text, List<Text>)>,
    /// The `model` property's default.
    pub(crate) default_model: Option<Text>,
    /// `format` (`binary` for a file).
    pub(crate) format: Option<Text>,
    /// `x-image`: a URL or base64 of an input image.
    pub(crate) image: bool,
    /// `x-masks`: each mask field with the field whose images it masks.
    pub(crate) masks: List<(Text, Text)>,
    /// `x-max-items-with`: a list that holds at most `max` items when
    /// another field is given, as (list, other field, max).
    pub(crate) max_items_with: List<(Text, Text, u64)>,
    /// `x-value-requires`: a value of a field accepted only when one of
    /// some other fields is given, as (field, value, those fields).
    pub(crate) value_requires: List<(Text, Text, List<Text>)>,
    /// `x-size-with`: what a `<w>x<h>` size is held to beside some fields.
    pub(crate) size_with: List<SizeRule>,
}

/// An `x-size-with` rule: a `<w>x<h>` value of `field` given beside one of
/// the fields `with` has both sides multiples of `multiple_of` and at least
/// `min_side`, at most `max_pixels` in all, and its long side at most
/// `max_aspect` times its short one (Ideogram 4.5's size with sources).
#[derive(Debug, Clone)]
pub(crate) struct SizeRule {
    pub(crate) field: Text,
    pub(crate) with: List<Text>,
    pub(crate) multiple_of: u32,
    pub(crate) min_side: u32,
    pub(crate) max_pixels: u64,
    pub(crate) max_aspect: u32,
}

/// A field of an object schema.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub(crate) name: Text,
    pub(crate) node: usize,
    /// The name of the schema its `$ref` names, if it is one.
    pub(crate) reference: Option<Text>,
    /// `x-takes` beside its `$ref`, or in what it refers to.
    pub(crate) takes: Option<Text>,
    /// `x-in-place-of` beside its `$ref`: the file field of the same
    /// object it may stand in for (an asset identifier for `image`).
    pub(crate) in_place_of: Option<FieldRef>,
}

/// A field an object's rule names, with its place among the object's
/// properties (`None`: not one of them), found when the schema is
/// compiled: a check reads the field's value by its place, where looking
/// its name up in the body for each rule was about 0.5k instructions of an
/// edit's check.
#[derive(Debug, Clone)]
pub(crate) struct FieldRef {
    pub(crate) name: Text,
    pub(crate) place: Option<usize>,
}

impl FieldRef {
    /// A generated node's field `name`, at `place` among its properties.
    pub(crate) const fn at(name: &'static str, place: usize) -> Self {
        Self {
            name: Text::Borrowed(name),
            place: Some(place),
        }
    }
}

/// A value an `enum` or `const` allows.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// A string, as every spec enum is.
    Text(Text),
    /// Any other JSON value (a document's `const`).
    Json(Value),
}

/// A `pattern`: its source, and the regex built the first time a check
/// reads it.
#[derive(Clone)]
pub(crate) struct Pattern {
    pub(crate) source: Text,
    pub(crate) regex: OnceLock<crate::pattern::Regex>,
}

/// The source only: whether the regex is built yet says nothing of the
/// schema.
impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

/// What an object schema says of fields it does not name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Additional {
    Any,
    Refused,
    Schema(usize),
}

/// `minimum`/`maximum`, each inclusive unless `exclusive*` says otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Range {
    pub(crate) min: Option<(f64, bool)>,
    pub(crate) max: Option<(f64, bool)>,
}

/// The bit of the JSON kind `kind` names (`object`, `integer`, ...) in a
/// [`Node::kind_bits`]; every bit for a name JSON Schema does not define,
/// which constrains nothing.
pub(crate) fn kind_bit(kind: &str) -> u8 {
    match kind {
        "object" => 1,
        "array" => 1 << 1,
        "string" => 1 << 2,
        "boolean" => 1 << 3,
        "integer" => 1 << 4,
        "number" => 1 << 5,
        "null" => 1 << 6,
        _ => u8::MAX,
    }
}

/// The [`kind_bit`]s `value` is of: a whole number is an `integer` and a
/// `number`.
pub(crate) fn kind_bits_of(value: &Value) -> u8 {
    match value {
        Value::Object(_) => 1,
        Value::Array(_) => 1 << 1,
        Value::String(_) => 1 << 2,
        Value::Bool(_) => 1 << 3,
        Value::Number(n) if n.is_i64() || n.is_u64() => (1 << 4) | (1 << 5),
        Value::Number(_) => 1 << 5,
        Value::Null => 1 << 6,
    }
}

/// A node that constrains nothing: what a generated node leaves out.
pub(crate) const EMPTY: Node = Node {
    nullable: false,
    all_of: List::Borrowed(&[]),
    choices: None,
    kinds: List::Borrowed(&[]),
    kind_bits: 0,
    allowed: None,
    range: Range {
        min: None,
        max: None,
    },
    min_length: None,
    max_length: None,
    pattern: None,
    min_items: None,
    max_items: None,
    max_total_bytes: None,
    max_bytes: None,
    media_types: List::Borrowed(&[]),
    max_aspect: None,
    items: None,
    required: List::Borrowed(&[]),
    properties: List::Borrowed(&[]),
    additional: Additional::Any,
    exclusive: List::Borrowed(&[]),
    field_models: List::Borrowed(&[]),
    default_model: None,
    format: None,
    image: false,
    masks: List::Borrowed(&[]),
    max_items_with: List::Borrowed(&[]),
    value_requires: List::Borrowed(&[]),
    size_with: List::Borrowed(&[]),
};

/// The schema a `$ref` names in `root`, or `schema` itself.
pub(crate) fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..MAX_DEPTH {
        match reference(schema) {
            Some(name) => {
                schema = root
                    .get(name)
                    .unwrap_or_else(|| panic!("unresolved {}", schema["$ref"]));
            }
            None => return schema,
        }
    }
    schema
}

/// The name of the schema `schema`'s `$ref` names, if it is one.
fn reference(schema: &Value) -> Option<&str> {
    let reference = schema["$ref"].as_str()?;
    Some(
        reference
            .strip_prefix("#/components/schemas/")
            .or_else(|| reference.strip_prefix("#/$defs/"))
            .unwrap_or(reference),
    )
}

/// Whether `schema` takes `null`: when it says `nullable`, or its type (or
/// one of its choices) is `null`, or it constrains
/// nothing at all (`{}`, any value).
fn nullable(schema: &Value) -> bool {
    let null = |s: &Value| {
        s["type"] == "null"
            || s["type"]
                .as_array()
                .is_some_and(|t| t.contains(&"null".into()))
    };
    schema["nullable"].as_bool().unwrap_or(false)
        || null(schema)
        || ["anyOf", "oneOf"]
            .iter()
            .any(|key| schema[key].as_array().is_some_and(|c| c.iter().any(null)))
        || schema
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "description" || k == "example"))
}

/// A bound: `inclusive` (`minimum`), made exclusive by OpenAPI 3.0's
/// `exclusive: true`, or draft 2020-12's numeric `exclusive` on its own.
fn bound_of(schema: &Value, inclusive: &str, exclusive: &str) -> Option<(f64, bool)> {
    match (&schema[exclusive], schema[inclusive].as_f64()) {
        (Value::Number(n), _) => n.as_f64().map(|n| (n, true)),
        (flag, Some(m)) => Some((m, flag.as_bool().unwrap_or(false))),
        (_, None) => None,
    }
}

fn text(value: &Value) -> Option<Text> {
    value.as_str().map(|s| Text::Owned(s.to_owned()))
}

fn texts(value: &Value) -> List<Text> {
    let texts = value.as_array().into_iter().flatten().filter_map(text);
    List::Owned(texts.collect())
}

/// Compiles a spec's schemas into nodes, each schema once (by address, so
/// that a schema reached twice, or through itself, is one node).
pub(crate) struct Compiler<'a> {
    root: &'a Value,
    pub(crate) nodes: Vec<Node>,
    seen: HashMap<*const Value, usize>,
}

impl<'a> Compiler<'a> {
    /// A compiler of the schemas `root` holds by name.
    pub(crate) fn new(root: &'a Value) -> Self {
        Self {
            root,
            nodes: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Every schema of `root`, with the node of each name, sorted by name.
    pub(crate) fn compile_named(&mut self) -> Vec<(Text, usize)> {
        let root = self.root;
        let mut named: Vec<(Text, usize)> = root
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| (Text::Owned(name.clone()), self.compile(schema)))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        named
    }

    fn compile(&mut self, schema: &Value) -> usize {
        let schema = resolve(self.root, schema);
        if let Some(&node) = self.seen.get(&std::ptr::from_ref(schema)) {
            return node;
        }
        let index = self.nodes.len();
        self.nodes.push(EMPTY);
        self.seen.insert(std::ptr::from_ref(schema), index);
        let choices = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
        let root = self.root;
        let kinds = match &schema["type"] {
            Value::String(kind) => List::Owned(vec![Text::Owned(kind.clone())]),
            list @ Value::Array(_) => texts(list),
            _ => List::Borrowed(&[]),
        };
        // Each field a rule names is placed among the properties, in the
        // order of the spec's map (that of their names).
        let fields = schema["properties"].as_object().into_iter().flatten();
        let names: Vec<&str> = fields.clone().map(|(name, _)| name.as_str()).collect();
        let placed = |name: Text| FieldRef {
            place: names.iter().position(|n| *n == name),
            name,
        };
        let refs = |names: &Value| {
            let names = names.as_array().into_iter().flatten().filter_map(text);
            List::Owned(names.map(placed).collect())
        };
        let properties: Vec<Property> = fields
            .map(|(name, field)| Property {
                name: Text::Owned(name.clone()),
                node: self.compile(field),
                reference: reference(field).map(|r| Text::Owned(r.to_owned())),
                takes: text(&field["x-takes"]).or_else(|| text(&resolve(root, field)["x-takes"])),
                in_place_of: text(&field["x-in-place-of"]).map(placed),
            })
            .collect();
        let node = Node {
            nullable: nullable(schema),
            all_of: self.compile_all(schema["allOf"].as_array()),
            choices: choices.map(|c| (self.compile_all(Some(c)), schema.get("oneOf").is_some())),
            kind_bits: kinds.iter().fold(0, |bits, kind| bits | kind_bit(kind)),
            kinds,
            allowed: schema["enum"]
                .as_array()
                .cloned()
                .or_else(|| schema.get("const").map(|c| vec![c.clone()]))
                .map(|values| {
                    let literal = |value: Value| match value {
                        Value::String(text) => Literal::Text(Text::Owned(text)),
                        other => Literal::Json(other),
                    };
                    List::Owned(values.into_iter().map(literal).collect())
                }),
            range: Range {
                min: bound_of(schema, "minimum", "exclusiveMinimum"),
                max: bound_of(schema, "maximum", "exclusiveMaximum"),
            },
            min_length: schema["minLength"].as_u64(),
            max_length: schema["maxLength"].as_u64(),
            pattern: text(&schema["pattern"]).map(|source| Pattern {
                source,
                regex: OnceLock::new(),
            }),
            min_items: schema["minItems"].as_u64(),
            max_items: schema["maxItems"].as_u64(),
            max_total_bytes: schema["x-max-total-bytes"].as_u64(),
            max_bytes: schema["x-max-bytes"].as_u64(),
            media_types: texts(&schema["x-media-types"]),
            max_aspect: schema["x-max-aspect"].as_u64(),
            items: schema.get("items").map(|items| self.compile(items)),
            required: refs(&schema["required"]),
            exclusive: List::Owned(
                schema["x-exclusive"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(refs)
                    .collect(),
            ),
            properties: List::Owned(properties),
            additional: match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => Additional::Refused,
                Some(extra @ Value::Object(_)) => Additional::Schema(self.compile(extra)),
                _ => Additional::Any,
            },
            field_models: List::Owned(
                schema["x-field-models"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(field, models)| (Text::Owned(field.clone()), texts(models)))
                    .collect(),
            ),
            default_model: text(&resolve(root, &schema["properties"]["model"])["default"]),
            format: text(&schema["format"]),
            image: schema["x-image"] == true,
            masks: List::Owned(
                schema["x-masks"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(mask, of)| Some((Text::Owned(mask.clone()), text(of)?)))
                    .collect(),
            ),
            max_items_with: List::Owned(
                schema["x-max-items-with"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|rule| {
                        let (list, with) = (text(&rule["field"])?, text(&rule["with"])?);
                        Some((list, with, rule["max"].as_u64()?))
                    })
                    .collect(),
            ),
            value_requires: List::Owned(
                schema["x-value-requires"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|rule| {
                        let (field, value) = (text(&rule["field"])?, text(&rule["value"])?);
                        Some((field, value, texts(&rule["with"])))
                    })
                    .collect(),
            ),
            size_with: List::Owned(
                schema["x-size-with"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|rule| {
                        let number = |key: &str| rule[key].as_u64().filter(|n| *n > 0);
                        let side = |key: &str| number(key).and_then(|n| u32::try_from(n).ok());
                        Some(SizeRule {
                            field: text(&rule["field"])?,
                            with: texts(&rule["with"]),
                            multiple_of: side("multiple_of")?,
                            min_side: side("min_side")?,
                            max_pixels: number("max_pixels")?,
                            max_aspect: side("max_aspect")?,
                        })
                    })
                    .collect(),
            ),
        };
        self.nodes[index] = node;
        index
    }

    fn compile_all(&mut self, schemas: Option<&Vec<Value>>) -> List<usize> {
        let nodes = schemas.into_iter().flatten();
        List::Owned(nodes.map(|schema| self.compile(schema)).collect())
    }
}
