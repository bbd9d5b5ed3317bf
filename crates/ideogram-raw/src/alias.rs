//! Other names the service may give a field (the spec's `x-aliases`), as
//! each generated module's `aliases::ALL` lists them, and their renaming
//! to the spec's name: how a reader of a body the service wrote (a webhook
//! delivery) accepts either spelling with no name of its own.

use serde_json::{Map, Value};

/// A field of a schema, and the other names it may arrive under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    /// The schema, as `components.schemas` names it (`WebhookDelivery`).
    pub schema: &'static str,
    /// The field's name in the spec (`generation_id`).
    pub field: &'static str,
    /// Its other names, in the spec's order (`request_id`).
    pub aliases: &'static [&'static str],
}

/// Renames, in `body` (an object of the schema `schema`), each field given
/// only under an alias to its spec name, by `table` (a generated
/// `aliases::ALL`). A body giving the spec's name keeps it, and its
/// aliases untouched; of two aliases given, the first in the spec's order
/// wins.
///
/// ```
/// use ideogram_raw::alias::rename_aliases;
///
/// let mut body = serde_json::json!({"request_id": "g1", "data": []});
/// let table = ideogram_raw::ideogram::aliases::ALL;
/// rename_aliases(table, "WebhookDelivery", body.as_object_mut().unwrap());
/// assert_eq!(body, serde_json::json!({"generation_id": "g1", "data": []}));
/// ```
pub fn rename_aliases(table: &[Alias], schema: &str, body: &mut Map<String, Value>) {
    for alias in table.iter().filter(|a| a.schema == schema) {
        if body.contains_key(alias.field) {
            continue;
        }
        if let Some(value) = alias.aliases.iter().find_map(|name| body.remove(*name)) {
            body.insert(alias.field.to_owned(), value);
        }
    }
}
