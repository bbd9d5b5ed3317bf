//! The operations a request can go to, read from the specs' `x-route`s
//! (each generated `operations::ALL`): which provider serves which task and
//! model, in what body. Nothing here names a slug, a path or a body.

use ideogram_raw::operation::Operation;
use ideogram_raw::schema::{self, Schemas};

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

/// Whether `op`'s body takes `field` for `model`: the field is in the
/// schema the request sets (or is its input image), and the spec's
/// `x-field-models` allows the model.
pub(crate) fn takes(provider: Provider, op: &Operation, field: &str, model: &str) -> bool {
    let route = op.route.as_ref();
    if route.and_then(|r| r.image) == Some(field) {
        return true;
    }
    fields_schema(provider, op).is_some_and(|name| schemas(provider).takes(name, field, model))
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
    Provider::ALL.into_iter().any(|provider| {
        operations(provider)
            .iter()
            .filter(|op| op.route.is_some())
            .any(|op| {
                let schemas = schemas(provider);
                op.body.is_some_and(|body| schemas.is_image(body, field))
                    || fields_schema(provider, op).is_some_and(|name| schemas.is_image(name, field))
            })
    })
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
