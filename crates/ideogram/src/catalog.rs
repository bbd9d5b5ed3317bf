//! The operations a request can go to, read from the specs' `x-route`s
//! (each generated `operations::ALL`): which provider serves which task and
//! model, in what body. Nothing here names a slug, a path or a body.

use std::collections::HashMap;
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

/// The operations of `provider` that run `task` with `model` (`None`: an
/// operation that names no model), in the spec's order: the first whose
/// body takes every field given is the one a request goes to.
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

/// The operation of `provider` with the spec id `id`, if it is one a
/// request can go to.
pub(crate) fn by_id(provider: Provider, id: &str) -> Option<&'static Operation> {
    operations(provider)
        .iter()
        .find(|op| op.id == id && op.route.is_some())
}

/// The models `provider` runs `task` with, oldest first, as errors list
/// them.
pub(crate) fn models(provider: Provider, task: &str) -> Vec<&'static str> {
    let mut models: Vec<&'static str> = routes(provider, task, None)
        .flat_map(|op| op.route.iter().flat_map(|r| r.models))
        .copied()
        .collect();
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

/// Model names oldest first (the order of Ideogram's `ModelEnum`; a name
/// it lacks, such as `V_4`, after them), each once; other names (operation
/// ids) sorted.
fn sort_models<S: AsRef<str> + Ord>(names: &mut Vec<S>) {
    let order = ideogram_raw::enums::values::<ideogram_raw::ideogram::types::ModelEnum>();
    let rank = |name: &S| {
        order
            .iter()
            .position(|m| m == name.as_ref())
            .unwrap_or(usize::MAX)
    };
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    names.dedup();
}

/// The schema whose fields a request for `op` sets: its body, or the
/// object nested in it (`image_request`).
pub(crate) fn fields_schema(provider: Provider, op: &Operation) -> Option<&'static str> {
    let body = op.body?;
    let schemas = schemas(provider);
    match op.route.and_then(|r| r.nest) {
        Some(nest) => schemas.field_schema_name(body, nest),
        None => schemas.get(body).map(|_| body),
    }
}

/// A field of a body, as lowering a request asks about it: read once
/// from the spec, so each question is a lookup, not a walk of its JSON.
#[derive(Debug)]
pub(crate) struct Field {
    /// The spec's name.
    pub name: &'static str,
    /// Its schema, references followed.
    pub property: &'static Value,
    /// The models `x-field-models` lets send it; `None`: every model.
    models: Option<Vec<&'static str>>,
    /// It holds input images (a file, or a URL the spec marks `x-image`).
    pub image: bool,
    /// It holds a list.
    pub list: bool,
    /// It is sent as a file part.
    pub file: bool,
    /// Free text (a string with no enum, pattern or format), read as a
    /// prompt is.
    pub free_text: bool,
    /// Its enum's values, in the spec's order (empty: not an enum).
    pub values: Vec<String>,
}

impl Field {
    /// Whether a body sent with `model` may hold it.
    pub(crate) fn for_model(&self, model: &str) -> bool {
        self.models.as_ref().is_none_or(|m| m.contains(&model))
    }
}

/// An operation's fields: those a request sets (the nested object's, for
/// a nested body) and the body's own.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    inner: Vec<Field>,
    outer: Vec<Field>,
}

impl Fields {
    /// The field a request sets named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Field> {
        self.inner.iter().find(|f| f.name == name)
    }

    /// The body's own field named `name` (beside a nested object).
    pub(crate) fn outer(&self, name: &str) -> Option<&Field> {
        self.outer.iter().find(|f| f.name == name)
    }
}

/// The fields of the object schema `name` of `provider`'s spec.
fn read_fields(provider: Provider, name: &str) -> Vec<Field> {
    let schemas = schemas(provider);
    let field_models = schemas
        .get(name)
        .and_then(|s| s["x-field-models"].as_object());
    schemas
        .fields(name)
        .into_iter()
        .filter_map(|field| {
            let property = schemas.property(name, field)?;
            let image = schemas.is_image(name, field);
            let file = property["format"] == "binary" || property["items"]["format"] == "binary";
            Some(Field {
                name: field,
                property,
                models: field_models.and_then(|m| m.get(field)).map(|models| {
                    models
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect()
                }),
                image,
                list: property["type"] == "array",
                file,
                free_text: property["type"] == "string"
                    && !image
                    && ["enum", "pattern", "format"]
                        .iter()
                        .all(|k| property.get(*k).is_none()),
                values: schemas
                    .field_values(name, field)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// Each routed operation's fields, by provider and operation id, each read
/// the first time a request goes there: a process that sends one request
/// reads one body.
static FIELDS: LazyLock<HashMap<(Provider, &'static str), OnceLock<Fields>>> =
    LazyLock::new(|| {
        Provider::ALL
            .into_iter()
            .flat_map(|provider| {
                operations(provider)
                    .iter()
                    .filter(|op| op.route.is_some())
                    .map(move |op| ((provider, op.id), OnceLock::new()))
            })
            .collect()
    });

/// The fields of `op`, a routed operation of `provider`.
pub(crate) fn fields(provider: Provider, op: &Operation) -> &'static Fields {
    static NONE: Fields = Fields {
        inner: Vec::new(),
        outer: Vec::new(),
    };
    let Some(cell) = FIELDS.get(&(provider, op.id)) else {
        return &NONE;
    };
    cell.get_or_init(|| Fields {
        inner: fields_schema(provider, op)
            .map(|name| read_fields(provider, name))
            .unwrap_or_default(),
        outer: op
            .body
            .map(|name| read_fields(provider, name))
            .unwrap_or_default(),
    })
}

/// Whether `op`'s body takes `field` for `model`: the field is in the
/// schema the request sets (or is its input image), and the spec's
/// `x-field-models` allows the model.
pub(crate) fn takes(provider: Provider, op: &Operation, field: &str, model: &str) -> bool {
    op.route.and_then(|r| r.image) == Some(field)
        || fields(provider, op)
            .get(field)
            .is_some_and(|f| f.for_model(model))
}

/// Who takes `field` for `task` on `provider`: the models, or where the
/// task names none the operations, sorted, as an error lists them.
pub(crate) fn takers(provider: Provider, task: &str, field: &str) -> Vec<String> {
    let mut takers: Vec<String> = Vec::new();
    for op in routes(provider, task, None) {
        let route = op.route.expect("a route");
        let names: Vec<String> = if route.models.is_empty() {
            takes(provider, op, field, "")
                .then(|| op.id.to_owned())
                .into_iter()
                .collect()
        } else {
            route
                .models
                .iter()
                .filter(|m| takes(provider, op, field, m))
                .map(|m| (*m).to_owned())
                .collect()
        };
        takers.extend(names);
    }
    sort_models(&mut takers);
    takers
}

/// Whether `field` holds input images in some body of either provider (a
/// file, or a URL or base64 the spec marks `x-image`): what a caller that
/// confines a request's images must look at.
pub(crate) fn is_image_field(field: &str) -> bool {
    /// Every image field's name, read once from both specs.
    static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut names = Vec::new();
        for provider in Provider::ALL {
            let schemas = schemas(provider);
            for op in operations(provider).iter().filter(|op| op.route.is_some()) {
                for name in op.body.into_iter().chain(fields_schema(provider, op)) {
                    for field in schemas.fields(name) {
                        if schemas.is_image(name, field) && !names.contains(&field) {
                            names.push(field);
                        }
                    }
                }
            }
        }
        names
    });
    NAMES.contains(&field)
}

/// Every value the specs' bodies allow for the field `field` (its spec
/// name), on either provider, each once in the specs' order: what a parser
/// of that field accepts (a value a regeneration adds included). Empty
/// where no body has an enum of that name.
///
/// ```
/// let styles = ideogram::field_values("style_type");
/// assert!(styles.iter().any(|s| s == "FICTION") && styles.iter().any(|s| s == "ANIME"));
/// ```
pub fn field_values(field: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for provider in Provider::ALL {
        let schemas = schemas(provider);
        for op in operations(provider).iter().filter(|op| op.route.is_some()) {
            let Some(name) = fields_schema(provider, op) else {
                continue;
            };
            for value in schemas.field_values(name, field).unwrap_or_default() {
                if !values.iter().any(|v| v == value) {
                    values.push(value.to_owned());
                }
            }
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
