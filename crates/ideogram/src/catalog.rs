//! The operations a request can go to, read from the specs' `x-route`s:
//! which provider serves which task and model, in what body.

use std::sync::{LazyLock, OnceLock};

use ideogram_raw::operation::Operation;
use ideogram_raw::schema::{self, Schemas};
use serde_json::Value;

use crate::provider::Provider;

/// Every operation of `provider`'s spec.
pub(crate) fn operations(provider: Provider) -> &'static [Operation] {
    match provider {
        Provider::Segmind => ideogram_raw::segmind::operations::ALL,
        Provider::Ideogram => ideogram_raw::ideogram::operations::ALL,
    }
}

/// The schemas of `provider`'s spec.
pub(crate) fn schemas(provider: Provider) -> &'static Schemas {
    match provider {
        Provider::Segmind => schema::segmind(),
        Provider::Ideogram => schema::ideogram(),
    }
}

/// The field `name` of every body of either provider a request can go to.
fn everywhere(name: &str) -> impl Iterator<Item = &'static Field> + '_ {
    let all = |p| operations(p).iter().map(move |op| (p, op));
    let all = Provider::ALL.into_iter().flat_map(all);
    all.filter_map(|(provider, op)| field(provider, op, name))
}

/// The operations of `provider` that run `task` with `model` (`None`: any),
/// in the spec's order.
pub(crate) fn routes(
    provider: Provider,
    task: &str,
    model: Option<&str>,
) -> impl Iterator<Item = &'static Operation> {
    operations(provider).iter().filter(move |op| {
        op.route
            .is_some_and(|r| r.task == task && model.is_none_or(|m| r.runs(m)))
    })
}

/// The operation of `provider` with the spec id `id`, if it is routed.
pub(crate) fn by_id(provider: Provider, id: &str) -> Option<&'static Operation> {
    let mut operations = operations(provider).iter();
    operations.find(|op| op.id == id && op.route.is_some())
}

/// The models `provider` runs `task` with, oldest first.
pub(crate) fn models(provider: Provider, task: &str) -> Vec<&'static str> {
    let routes = routes(provider, task, None).filter_map(|op| op.route);
    let mut models: Vec<&'static str> = routes.flat_map(|r| r.models).copied().collect();
    sort_models(&mut models);
    models
}

/// The tasks `provider` serves, in the spec's order.
pub(crate) fn tasks(provider: Provider) -> Vec<&'static str> {
    let mut tasks: Vec<&'static str> = Vec::new();
    for route in operations(provider).iter().filter_map(|op| op.route) {
        if !tasks.contains(&route.task) {
            tasks.push(route.task);
        }
    }
    tasks
}

/// Model names oldest first (in `ModelEnum`'s order, then names it lacks,
/// sorted), each once.
fn sort_models<S: AsRef<str> + Ord>(names: &mut Vec<S>) {
    let order = ideogram_raw::enums::values::<ideogram_raw::ideogram::types::ModelEnum>();
    let rank = |name: &S| order.iter().position(|m| m == name.as_ref());
    names.sort_by(|a, b| (rank(a).is_none(), rank(a), a).cmp(&(rank(b).is_none(), rank(b), b)));
    names.dedup();
}

/// The schema whose fields a request for `op` sets: its body, or the
/// object nested in it (`image_request`).
pub(crate) fn fields_schema(provider: Provider, op: &Operation) -> Option<&'static str> {
    let body = op.body?;
    let schemas = schemas(provider);
    match op.route.and_then(|r| r.nest) {
        Some(nest) => schemas.field_schema_name(body, nest),
        None => schemas.contains(body).then_some(body),
    }
}

/// A field a request sets, with its facts read once from the compiled
/// schemas ([`schema::FieldFacts`] says what each means).
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub property: Property,
    facts: schema::FieldFacts<'static>,
}

impl std::ops::Deref for Field {
    type Target = schema::FieldFacts<'static>;

    fn deref(&self) -> &Self::Target {
        &self.facts
    }
}

/// A field's schema, references followed, parsed from the spec's JSON only
/// when read: a request whose lowering reads none parses no JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Property {
    provider: Provider,
    schema: &'static str,
    field: &'static str,
}

impl std::ops::Deref for Property {
    type Target = Value;

    fn deref(&self) -> &Value {
        static NONE: Value = Value::Null;
        let property = schemas(self.provider).property(self.schema, self.field);
        property.unwrap_or(&NONE)
    }
}

impl Field {
    /// Whether a body sent with `model` may hold it.
    pub(crate) fn for_model(&self, model: &str) -> bool {
        self.models.as_ref().is_none_or(|m| m.contains(&model))
    }

    /// Whether it takes the request's `value` (its name or `x-takes`).
    pub(crate) fn is(&self, value: &str) -> bool {
        self.name == value || self.takes == Some(value)
    }
}

/// The fields of the object schema `name` of `provider`'s spec.
fn read_fields(provider: Provider, name: &'static str) -> Vec<Field> {
    let schemas = schemas(provider);
    let read = |field: &'static str| {
        let facts = schemas.field_facts(name, field)?;
        let property = Property {
            provider,
            schema: name,
            field,
        };
        Some(Field {
            name: field,
            property,
            facts,
        })
    };
    schemas.fields(name).into_iter().filter_map(read).collect()
}

/// Each operation's fields by provider and place in its spec, read the
/// first time a request goes there.
static FIELDS: LazyLock<[Vec<OnceLock<Vec<Field>>>; 2]> = LazyLock::new(|| {
    Provider::ALL.map(|p| (0..operations(p).len()).map(|_| OnceLock::new()).collect())
});

/// The fields a request for `op`, a routed operation of `provider`, sets:
/// its body's (the nested object's, for a nested body) and its input image.
pub(crate) fn fields(provider: Provider, op: &Operation) -> &'static [Field] {
    let all = operations(provider);
    // By address first (an operation of the table, as routing gives): the
    // ids compared only for a copy.
    let Some(i) = (all.iter().position(|o| std::ptr::eq(o, op)))
        .or_else(|| all.iter().position(|o| o.id == op.id))
        .filter(|i| all[*i].route.is_some())
    else {
        return &[];
    };
    FIELDS[provider as usize][i].get_or_init(|| {
        let mut fields =
            fields_schema(provider, op).map_or_else(Vec::new, |s| read_fields(provider, s));
        // A nested body's input image sits beside the nested object.
        if let (Some(body), Some(image)) = (op.body, op.route.and_then(|r| r.image))
            && !fields.iter().any(|f| f.name == image)
        {
            let beside = read_fields(provider, body).into_iter();
            fields.extend(beside.filter(|f| f.name == image));
        }
        fields
    })
}

/// The field `name` of [`fields`].
pub(crate) fn field(provider: Provider, op: &Operation, name: &str) -> Option<&'static Field> {
    named(fields(provider, op), name)
}

/// The field `name` among `fields` (one operation's [`fields`], looked up
/// once by a caller that asks for several).
pub(crate) fn named<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find(|f| f.name == name)
}

/// Whether `op`'s body takes `field` for `model`: the request sets it, and
/// the spec's `x-field-models` allows the model.
pub(crate) fn takes(provider: Provider, op: &Operation, field: &str, model: &str) -> bool {
    self::field(provider, op, field).is_some_and(|f| f.for_model(model))
}

/// The field of `op`'s body that takes the request's `value` for `model`.
pub(crate) fn taking(
    provider: Provider,
    op: &Operation,
    value: &str,
    model: &str,
) -> Option<&'static Field> {
    taking_in(fields(provider, op), value, model)
}

/// [`taking`] among one operation's `fields`.
pub(crate) fn taking_in<'a>(fields: &'a [Field], value: &str, model: &str) -> Option<&'a Field> {
    fields.iter().find(|f| f.is(value) && f.for_model(model))
}

/// Who takes `field` for `task` on `provider`: the models, or where the
/// task names none the operations, sorted, as an error lists them.
pub(crate) fn takers(provider: Provider, task: &str, field: &str) -> Vec<String> {
    let mut takers: Vec<String> = Vec::new();
    for op in routes(provider, task, None) {
        let models = op.route.map_or(&[][..], |r| r.models);
        if models.is_empty() && takes(provider, op, field, "") {
            takers.push(op.id.to_owned());
        }
        let taking = models.iter().filter(|m| takes(provider, op, field, m));
        takers.extend(taking.map(|m| (*m).to_owned()));
    }
    sort_models(&mut takers);
    takers
}

/// The field of `op`'s body that may stand in for its file field `file`
/// for `model` (the spec's `x-in-place-of`: an asset identifier).
pub(crate) fn in_place_of(
    provider: Provider,
    op: &Operation,
    file: &str,
    model: &str,
) -> Option<&'static Field> {
    let mut fields = fields(provider, op).iter();
    fields.find(|f| f.in_place_of == Some(file) && f.for_model(model))
}

/// The name some body of either provider gives the field standing in for
/// its file field `file` (`image_asset_identifier` for `image`).
pub(crate) fn stand_in_name(file: &str) -> Option<&'static str> {
    let all = |p| operations(p).iter().map(move |op| (p, op));
    let mut all = Provider::ALL.into_iter().flat_map(all);
    all.find_map(|(provider, op)| {
        let mut fields = fields(provider, op).iter();
        fields.find(|f| f.in_place_of == Some(file)).map(|f| f.name)
    })
}

/// Whether `field` holds input images in some body of either provider.
pub(crate) fn is_image_field(field: &str) -> bool {
    everywhere(field).any(|f| f.image)
}

/// Every value the specs' bodies allow for the field `field` (its spec
/// name), on either provider, each once in the specs' order; empty where no
/// body has an enum of that name.
///
/// ```
/// let styles = ideogram::field_values("style_type");
/// assert!(styles.iter().any(|s| s == "FICTION") && styles.iter().any(|s| s == "ANIME"));
/// ```
pub fn field_values(field: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in everywhere(field).flat_map(|f| &f.values) {
        if !values.iter().any(|v| v == value) {
            values.push(value.to_string());
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_come_from_the_specs() {
        let first =
            |provider, task, model| routes(provider, task, Some(model)).next().map(|op| op.id);
        assert_eq!(
            first(Provider::Segmind, "generate", "V_2A"),
            Some("ideogram_2a_txt_2_img")
        );
        assert_eq!(
            first(Provider::Segmind, "remix", "V_3"),
            Some("ideogram_3_remix")
        );
        assert_eq!(
            first(Provider::Ideogram, "generate", "V_2"),
            Some("post_generate_image")
        );
        assert_eq!(
            first(Provider::Ideogram, "generate", "V_3"),
            Some("post_generate_image_v3")
        );
        assert_eq!(first(Provider::Segmind, "generate", "V_1"), None);
        assert_eq!(
            fields_schema(
                Provider::Ideogram,
                by_id(Provider::Ideogram, "post_remix_image").unwrap()
            ),
            Some("InitialImageRequest")
        );
        assert!(models(Provider::Segmind, "generate").contains(&"V_4"));
    }

    #[test]
    fn takers_read_the_bodies_and_field_models() {
        assert_eq!(
            takers(Provider::Segmind, "generate", "color_palette"),
            ["V_2", "V_2_TURBO", "V_3"]
        );
        assert_eq!(takers(Provider::Segmind, "generate", "num_images"), ["V_4"]);
    }
}
