//! Multipart operations, which progenitor cannot generate: the xtask writes
//! them in progenitor's builder style, through the same hooks.
//!
//! The body's type is the generated type of the multipart schema (binary
//! fields become `crate::multipart::FilePart`, see `settings`), built with
//! its generated builder and checked by it. The xtask adds, per body schema,
//! an `impl crate::multipart::MultipartBody` that lists its parts in the
//! spec's order (files as file parts, repeated for an array; everything else
//! as a value part, JSON where the spec's `encoding` or the value's shape
//! says so), and per operation a builder with `body`, `body_map` and `send`,
//! whose answers are mapped as the generated operations map theirs.

use std::error::Error;
use std::fmt::Write as _;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type};

const MULTIPART: &str = "multipart/form-data";

/// A multipart operation taken out of the spec before progenitor runs.
#[derive(Debug, Clone)]
pub struct MultipartOp {
    /// The client method: the `operationId`, with `_multipart` added when
    /// the operation also takes JSON (progenitor generates that form).
    pub method_name: String,
    /// The spec's `operationId`, reported to the hooks.
    pub operation_id: String,
    /// Upper-case HTTP method.
    pub http_method: String,
    /// The path, without parameters (none of our multipart paths has any).
    pub path: String,
    /// The operation's summary and description, for its doc comment.
    pub doc: String,
    /// The body's schema name.
    pub body: String,
    /// Properties the spec's `encoding` sends as JSON.
    pub json_parts: Vec<String>,
    /// The success status and its JSON answer's schema name.
    pub success: Success,
    /// The documented error statuses, handed over unread.
    pub errors: Vec<u16>,
    /// Its optional boolean query parameters (Ideogram's `dry_run`), each
    /// set by a builder method of its name.
    pub flags: Vec<String>,
}

/// Takes the multipart form of every operation out of `spec`: an operation
/// that only takes multipart is removed, one that also takes JSON keeps its
/// JSON form for progenitor.
pub fn take_multipart(spec: &mut OpenAPI) -> Result<Vec<MultipartOp>, Box<dyn Error>> {
    let components = spec.components.clone().unwrap_or_default();
    let mut taken = Vec::new();
    for (path, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (http_method, op) in [
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
        ] {
            let Some(operation) = op else { continue };
            let Some(ReferenceOr::Item(body)) = operation.request_body.as_ref() else {
                continue;
            };
            let Some(media) = body.content.get(MULTIPART).cloned() else {
                continue;
            };
            let id = operation
                .operation_id
                .clone()
                .ok_or_else(|| format!("{http_method} {path} has no operationId"))?;
            if path.contains('{') {
                return Err(format!(
                    "{id}: multipart operations with path parameters are not generated yet"
                )
                .into());
            }
            let flags = flags(&id, operation, &components)?;
            let body_name = match &media.schema {
                Some(ReferenceOr::Reference { reference }) => reference
                    .strip_prefix("#/components/schemas/")
                    .ok_or_else(|| format!("{id}: the multipart body is not a component schema"))?
                    .to_owned(),
                _ => {
                    return Err(
                        format!("{id}: the multipart body must be a $ref to a schema").into(),
                    );
                }
            };
            let json_parts = media
                .encoding
                .iter()
                .filter(|(_, e)| e.content_type.as_deref() == Some("application/json"))
                .map(|(name, _)| name.clone())
                .collect();
            let also_json = body.content.len() > 1;
            let (success, errors) = answers(&id, operation, &components)?;
            let doc = [
                operation.summary.as_deref(),
                operation.description.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n\n");
            taken.push(MultipartOp {
                method_name: if also_json {
                    format!("{id}_multipart")
                } else {
                    id.clone()
                },
                operation_id: id,
                http_method: http_method.to_owned(),
                path: path.clone(),
                doc,
                body: body_name,
                json_parts,
                success,
                errors,
                flags,
            });
            if also_json {
                if let Some(ReferenceOr::Item(body)) = operation.request_body.as_mut() {
                    body.content.shift_remove(MULTIPART);
                }
            } else {
                *op = None;
            }
        }
    }
    spec.paths.paths.retain(|_, item| match item {
        ReferenceOr::Item(item) => item.iter().next().is_some(),
        ReferenceOr::Reference { .. } => true,
    });
    Ok(taken)
}

/// A success status and its JSON answer's schema name.
type Success = (u16, String);

/// The names of an operation's parameters, each an optional boolean in the
/// query: the only parameters a multipart operation may have so far.
fn flags(
    id: &str,
    operation: &openapiv3::Operation,
    components: &openapiv3::Components,
) -> Result<Vec<String>, Box<dyn Error>> {
    let mut names = Vec::new();
    for parameter in &operation.parameters {
        let parameter = match parameter {
            ReferenceOr::Item(parameter) => parameter,
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/parameters/")
                .and_then(|name| components.parameters.get(name))
                .and_then(|p| p.as_item())
                .ok_or_else(|| format!("{id}: unresolved parameter {reference}"))?,
        };
        let openapiv3::Parameter::Query { parameter_data, .. } = parameter else {
            return Err(
                format!("{id}: a multipart operation's parameters are in the query").into(),
            );
        };
        let boolean = match &parameter_data.format {
            openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
                matches!(schema.schema_kind, SchemaKind::Type(Type::Boolean(_)))
            }
            _ => false,
        };
        if parameter_data.required || !boolean {
            return Err(format!(
                "{id}: {} is not an optional boolean; only those are generated for multipart",
                parameter_data.name
            )
            .into());
        }
        names.push(parameter_data.name.clone());
    }
    Ok(names)
}

/// The success status with its answer's schema, and the error statuses.
fn answers(
    id: &str,
    operation: &openapiv3::Operation,
    components: &openapiv3::Components,
) -> Result<(Success, Vec<u16>), Box<dyn Error>> {
    let mut success = None;
    let mut errors = Vec::new();
    for (status, answer) in &operation.responses.responses {
        let StatusCode::Code(code) = status else {
            continue;
        };
        if !(200..300).contains(code) {
            errors.push(*code);
            continue;
        }
        let response = match answer {
            ReferenceOr::Item(response) => response,
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/responses/")
                .and_then(|name| components.responses.get(name))
                .and_then(|r| r.as_item())
                .ok_or_else(|| format!("{id}: unresolved response {reference}"))?,
        };
        let schema = response
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .and_then(|s| match s {
                ReferenceOr::Reference { reference } => {
                    reference.strip_prefix("#/components/schemas/")
                }
                ReferenceOr::Item(_) => None,
            })
            .ok_or_else(|| format!("{id}: its {code} answer is not a JSON $ref"))?;
        success = Some((*code, schema.to_owned()));
    }
    let success = success.ok_or_else(|| format!("{id}: no success answer"))?;
    errors.sort_unstable();
    Ok((success, errors))
}

/// The Rust for `ops`: the client methods, their builders (module
/// `multipart_builder`), and a `MultipartBody` impl per body schema.
/// `schemas_of` is the Rust expression of the spec's `ideogram_raw::schema::Schemas`
/// (`crate::schema::ideogram()`), which each `send` checks its body against
/// within `ideogram_raw::checked`.
pub fn module(
    spec: &OpenAPI,
    ops: &[MultipartOp],
    schemas_of: &str,
) -> Result<String, Box<dyn Error>> {
    if ops.is_empty() {
        return Ok(String::new());
    }
    let components = spec
        .components
        .as_ref()
        .ok_or("the spec has no components")?;
    let schemas = &components.schemas;
    let mut methods = String::new();
    let mut builders = String::new();
    let mut bodies: Vec<&str> = Vec::new();
    for op in ops {
        let builder = pascal(&op.method_name);
        writeln!(
            methods,
            "{}    pub fn {}(&self) -> multipart_builder::{builder}<'_> {{\n        \
             multipart_builder::{builder}::new(self)\n    }}",
            doc_comment(&format!(
                "Sends a `{}` request to `{}` as `{MULTIPART}`.\n\n{}",
                op.http_method, op.path, op.doc
            )),
            op.method_name,
        )?;
        builders.push_str(&builder_code(op, &builder, schemas_of));
        if !bodies.contains(&op.body.as_str()) {
            bodies.push(&op.body);
        }
    }
    let mut impls = String::new();
    for body in bodies {
        let schema = schemas
            .get(body)
            .and_then(|s| s.as_item())
            .ok_or_else(|| format!("no schema {body}"))?;
        let json_parts: Vec<&str> = ops
            .iter()
            .filter(|op| op.body == body)
            .flat_map(|op| op.json_parts.iter().map(String::as_str))
            .collect();
        impls.push_str(&body_impl(body, schema, &json_parts, components)?);
    }
    Ok(format!(
        "impl Client {{\n{methods}}}\n\
         /// Builders of the multipart operations, in progenitor's style: `body`\n\
         /// or `body_map` with the body's generated builder, then `send`.\n\
         pub mod multipart_builder {{\n\
         use super::types;\n\
         #[allow(unused_imports)]\n\
         use super::{{ByteStream, ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue}};\n\
         {builders}}}\n{impls}"
    ))
}

/// The builder of one operation.
fn builder_code(op: &MultipartOp, builder: &str, schemas_of: &str) -> String {
    let MultipartOp {
        method_name,
        operation_id,
        http_method,
        path,
        body,
        success: (status, answer),
        errors,
        flags,
        ..
    } = op;
    let flag_fields: String = flags
        .iter()
        .map(|f| format!("    {}: Option<bool>,\n", rust_field(f)))
        .collect();
    let flag_inits: String = flags
        .iter()
        .map(|f| format!(", {}: None", rust_field(f)))
        .collect();
    let flag_names: String = flags
        .iter()
        .map(|f| format!(", {}", rust_field(f)))
        .collect();
    let flag_setters: String = flags
        .iter()
        .map(|f| {
            let field = rust_field(f);
            format!(
                "    ///Sets the `{f}` query parameter.\n    \
                 pub fn {field}(mut self, value: bool) -> Self {{\n        \
                 self.{field} = Some(value);\n        self\n    }}\n"
            )
        })
        .collect();
    let flag_query: String = flags
        .iter()
        .map(|f| {
            format!(
                "        if let Some(value) = {} {{\n            \
                 request = request.query(&[({f:?}, value)]);\n        }}\n",
                rust_field(f)
            )
        })
        .collect();
    let method = http_method.to_ascii_lowercase();
    let error_arms: String = errors
        .iter()
        .map(|code| {
            format!("{code}u16 => Err(Error::ErrorResponse(ResponseValue::stream(response))),\n")
        })
        .collect();
    format!(
        r#"/**Builder for [`Client::{method_name}`]

[`Client::{method_name}`]: super::Client::{method_name}*/
#[derive(Debug, Clone)]
pub struct {builder}<'a> {{
    client: &'a super::Client,
    body: Result<types::builder::{body}, String>,
{flag_fields}}}
impl<'a> {builder}<'a> {{
    pub fn new(client: &'a super::Client) -> Self {{
        Self {{ client, body: Ok(::std::default::Default::default()){flag_inits} }}
    }}
{flag_setters}
    pub fn body<V>(mut self, value: V) -> Self
    where
        V: std::convert::TryInto<types::{body}>,
        <V as std::convert::TryInto<types::{body}>>::Error: std::fmt::Display,
    {{
        self.body = value
            .try_into()
            .map(From::from)
            .map_err(|s| format!("conversion to `{body}` for body failed: {{}}", s));
        self
    }}
    pub fn body_map<F>(mut self, f: F) -> Self
    where
        F: std::ops::FnOnce(types::builder::{body}) -> types::builder::{body},
    {{
        self.body = self.body.map(f);
        self
    }}
    ///Sends a `{http_method}` request to `{path}` as `{MULTIPART}`
    pub async fn send(self) -> Result<ResponseValue<types::{answer}>, Error<ByteStream>> {{
        let Self {{ client, body{flag_names} }} = self;
        let body = body
            .and_then(|v| types::{body}::try_from(v).map_err(|e| e.to_string()))
            .map_err(Error::InvalidRequest)?;
        crate::checked::check_multipart(&body, "{body}", {schemas_of})
            .map_err(Error::InvalidRequest)?;
        let form = crate::multipart::MultipartBody::form(&body).map_err(Error::InvalidRequest)?;
        let url = format!("{{}}{path}", client.baseurl);
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
        );
        #[allow(unused_mut)]
        let mut request = client
            .client
            .{method}(url)
            .header(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            )
            .headers(header_map);
{flag_query}        let mut request = form.apply(request).build()?;
        let info = OperationInfo {{ operation_id: "{operation_id}" }};
        client.pre(&mut request, &info).await?;
        let result = client.exec(request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {{
            {status}u16 => ResponseValue::from_response(response).await,
            {error_arms}_ => Err(Error::UnexpectedResponse(response)),
        }}
    }}
}}
"#
    )
}

/// `impl MultipartBody` for the body schema `name`: one line per property,
/// in the spec's order.
fn body_impl(
    name: &str,
    schema: &Schema,
    json_parts: &[&str],
    components: &openapiv3::Components,
) -> Result<String, Box<dyn Error>> {
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Err(format!("the multipart body {name} is not an object").into());
    };
    let mut parts = String::new();
    for (property, value) in &object.properties {
        let field = rust_field(property);
        let line = if is_files(value, components) {
            format!(
                "let form = crate::multipart::file_parts(form, {property:?}, &self.{field})?;\n"
            )
        } else {
            let json = json_parts.contains(&property.as_str());
            format!(
                "let form = crate::multipart::value_part(form, {property:?}, &self.{field}, {json})?;\n"
            )
        };
        parts.push_str(&line);
    }
    Ok(format!(
        "impl crate::multipart::MultipartBody for types::{name} {{\n\
         fn form(&self) -> Result<crate::multipart::Form, String> {{\n\
         let form = crate::multipart::Form::new();\n{parts}Ok(form)\n}}\n}}\n"
    ))
}

/// Whether a property is a file or an array of files (`format: binary`).
fn is_files(property: &ReferenceOr<Box<Schema>>, components: &openapiv3::Components) -> bool {
    let schema: &Schema = match property {
        ReferenceOr::Item(schema) => schema,
        ReferenceOr::Reference { reference } => {
            match reference
                .strip_prefix("#/components/schemas/")
                .and_then(|n| components.schemas.get(n))
                .and_then(|s| s.as_item())
            {
                Some(schema) => schema,
                None => return false,
            }
        }
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            s.format == openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary)
        }
        SchemaKind::Type(Type::Array(a)) => a
            .items
            .as_ref()
            .is_some_and(|items| is_files(items, components)),
        _ => false,
    }
}

/// The field typify names for a property (our properties are snake case).
fn rust_field(property: &str) -> String {
    let field = property.replace('-', "_");
    // A keyword (`async`) gets a trailing underscore, as typify names it.
    match syn::parse_str::<syn::Ident>(&field) {
        Ok(_) if field != "gen" => field,
        _ => format!("{field}_"),
    }
}

/// `post_remix_image` as `PostRemixImage`.
pub(crate) fn pascal(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `text` as `///` lines.
fn doc_comment(text: &str) -> String {
    text.trim()
        .lines()
        .map(|line| format!("    ///{}{line}\n", if line.is_empty() { "" } else { " " }))
        .collect()
}
