//! Ideogram's POST operations, routed by the spec's operation table
//! (`ideogram::operations::ALL`): every path the table names is served at
//! the root and under `/ideogram` (as a gateway re-serves it). The request's
//! content type picks the table's entry for the path (its JSON or its
//! multipart form); that entry's body schema reads and checks the body, and
//! its `x-route` task says what the mock does with it (`ideogram_task`),
//! or, asked for a dry run, what it would cost (`quote`).
//! An operation the spec gains is served with no edit here.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, FromRequest, OriginalUri, Request, State as Shared};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use ideogram_raw::operation::Operation;
use serde_json::Value;

use crate::form::{self, Form};
use crate::ideogram::{admit, parse_json};
use crate::serve::{Hangup, error};
use crate::state::State;

/// The largest body the mock reads: every upload a call may carry, at
/// their documented limits, with room for the rest (4.5's precise edit:
/// an image and a mask of 50 MB and four references of 25 MB fit; axum's
/// default of 2 MB would not).
const UPLOAD_LIMIT: usize = 6 * form::MAX_FILE_BYTES;

const MULTIPART: &str = "multipart/form-data";
const JSON: &str = "application/json";

/// A route for each POST path of `table` that has an `x-route`.
pub(crate) fn routes(table: &'static [Operation]) -> Router<Arc<State>> {
    let mut paths = BTreeSet::new();
    let mut api = Router::new();
    for op in table.iter().filter(|op| op.route.is_some()) {
        if op.method != "POST" || !paths.insert(op.path) {
            continue;
        }
        let template = op.path;
        api = api.route(
            template,
            post(
                move |Shared(state): Shared<Arc<State>>,
                      OriginalUri(uri): OriginalUri,
                      Extension(hangup): Extension<Hangup>,
                      request: Request| async move {
                    let at = (uri.path(), uri.query());
                    handle(table, template, &state, at, &hangup, request).await
                },
            ),
        );
    }
    let api = api.layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    api.clone().nest("/ideogram", api)
}

/// Auth and faults, then the operation the content type picks, its body,
/// and its task.
async fn handle(
    table: &'static [Operation],
    template: &str,
    state: &Arc<State>,
    (path, query): (&str, Option<&str>),
    hangup: &Hangup,
    request: Request,
) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let sent = if content_type.starts_with(MULTIPART) {
        MULTIPART
    } else {
        JSON
    };
    // A JSON body is read first: it is what identifies the request for a
    // random fault (a multipart body's boundary would make draws vary).
    let headers = request.headers().clone();
    let body: Result<Bytes, Request> = if sent == JSON {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(bytes),
            Err(rejection) => return rejection.into_response(),
        }
    } else {
        Err(request)
    };
    let key = body
        .as_ref()
        .map_or(path.as_bytes(), |bytes| bytes.as_ref());
    let fault = match admit(state, path, key, &headers, hangup).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let Some(op) = operation(table, template, sent) else {
        let takes: Vec<&str> = table
            .iter()
            .filter(|op| op.matches("POST", template))
            .filter_map(|op| op.content_type)
            .collect();
        return error(400, format!("send {}", takes.join(" or ")));
    };
    let Some(schema) = op.body else {
        return error(500, format!("{}: the spec names no body", op.id));
    };
    let form = match body {
        Ok(bytes) => json_form(schema, &bytes),
        Err(request) => multipart_form(schema, state, request).await,
    };
    match form {
        Ok(form) if crate::quote::asked(op, query) => crate::quote::answer(op, &form.value),
        Ok(form) => crate::ideogram_task::answer(op, state, path, fault, form, hangup).await,
        Err(answer) => answer,
    }
}

/// The entry of `table` for the path `template` that takes `content_type`.
pub(crate) fn operation(
    table: &'static [Operation],
    template: &str,
    content_type: &str,
) -> Option<&'static Operation> {
    table
        .iter()
        .find(|op| op.matches("POST", template) && op.content_type == Some(content_type))
}

/// A JSON body checked against `schema`.
fn json_form(schema: &str, bytes: &[u8]) -> Result<Form, Response> {
    let value = parse_json(bytes)?;
    crate::check::body(
        ideogram_raw::schema::ideogram(),
        ideogram_raw::ideogram::operations::with_body_type::<crate::check::Decode>,
        schema,
        &value,
    )?;
    match value {
        Value::Object(value) => Ok(Form {
            value,
            ..Form::default()
        }),
        _ => Err(error(400, "the body is a JSON object")),
    }
}

/// A multipart body read and checked as `schema` describes it.
async fn multipart_form(
    schema: &str,
    state: &Arc<State>,
    request: Request,
) -> Result<Form, Response> {
    let parts = Multipart::from_request(request, state)
        .await
        .map_err(|e| error(400, format!("the multipart body does not parse: {e}")))?;
    form::read(schema, parts).await
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use ideogram_raw::auth::{ApiKey, Auth};
    use ideogram_raw::send::{Payload, send};
    use serde_json::json;

    use super::*;
    use crate::{MockConfig, MockServer};

    /// An operation the spec does not have, with a task it has, is served
    /// from the table alone: nothing in the mock names its path.
    #[tokio::test]
    async fn an_operation_the_table_gains_is_served_by_its_task() {
        let spec = ideogram_raw::ideogram::operations::ALL;
        let v3 = Operation::find(spec, "POST", "/v1/ideogram-v3/generate").expect("v3");
        let added = Operation {
            id: "post_generate_again",
            path: "/v9/generate-again",
            ..*v3
        };
        let table: &'static [Operation] = Box::leak([spec, &[added]].concat().into_boxed_slice());
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let mock = MockServer::serving(any, any, MockConfig::default(), table)
            .await
            .expect("started");
        let client = ideogram_raw::ideogram::Client::new(
            mock.api_url(),
            Auth::ideogram(ApiKey::new(mock.api_key())),
        );
        let fields = json!({"prompt": "a lighthouse", "num_images": 2});
        let payload = Payload {
            fields: fields.as_object().cloned().expect("an object"),
            files: Vec::new(),
            query: Vec::new(),
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            send(&client, &added, &[], &payload).await.expect("served");
            mock.settled().await;
        })
        .await
        .expect("within the deadline");
        let ledger = mock.ledger();
        assert_eq!(ledger.entries.len(), 1);
        assert_eq!(ledger.entries[0].operation, "/v9/generate-again");
        assert_eq!(ledger.entries[0].outputs.len(), 2);
        assert_eq!(
            serde_json::Value::Object(ledger.entries[0].fields.clone()),
            fields
        );
        mock.shutdown().await;
    }

    #[test]
    fn the_content_type_picks_the_entry_of_a_path() {
        let spec = ideogram_raw::ideogram::operations::ALL;
        let json = operation(spec, "/v1/ideogram-v3/generate", JSON).expect("JSON");
        let multipart = operation(spec, "/v1/ideogram-v3/generate", MULTIPART).expect("multipart");
        assert_eq!(json.body, Some("GenerateImageRequestV3"));
        assert_eq!(multipart.body, Some("GenerateImageRequestV3Multipart"));
        assert_eq!(operation(spec, "/v1/ideogram-v3/edit", JSON), None);
        assert_eq!(operation(spec, "/generate", MULTIPART), None);
    }
}
