//! An operation of a spec as data (each generated module's `operations::ALL`),
//! and a visitor that receives a body schema's generated type
//! (`operations::with_body_type`): how code that routes requests by path,
//! such as the mock, follows the spec with no table of its own.

/// One operation of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The spec's `operationId` (the generated client's method name).
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, such as `/v2/requests/{request_id}`.
    pub path: &'static str,
    /// The request body's content type, when it takes one.
    pub content_type: Option<&'static str>,
    /// The request body's schema name, when it takes one.
    pub body: Option<&'static str>,
    /// How long one run typically takes, where the spec says
    /// (`x-typical-seconds`): where a poll schedule starts from.
    pub typical: Option<core::time::Duration>,
    /// The `Accept` header its generated method sends: `application/json`
    /// where its success answer is JSON.
    pub accept: Option<&'static str>,
    /// What a client routes to it (`x-route`), where it is one a client
    /// picks by task and model.
    pub route: Option<Route>,
    /// At most this many calls in any such window, per organisation
    /// (`x-rate-limit`): a client keeps each process under it.
    pub rate_limit: Option<(u32, core::time::Duration)>,
    /// Whether the spec marks it `deprecated`, since when and in favour of
    /// what (`x-deprecation`).
    pub deprecation: Option<Deprecation>,
    /// How long after submission the service keeps a queued request's
    /// status and result (`x-result-ttl-seconds`), on the operations that
    /// read them: after that its id answers 404.
    pub result_ttl: Option<core::time::Duration>,
    /// What the spec says a call costs (`x-price`), where it says.
    pub price: Option<Price>,
    /// The boolean query parameter that prices a call instead of running
    /// it (marked `x-price-quote`; Ideogram's `dry_run`), where it takes one.
    /// Never sent to an operation without one: that may run, and bill.
    pub dry_run: Option<&'static str>,
}

/// An operation's price as its spec states it (`x-price`): per call, or per
/// unit of a count field, by the value of one field. Every figure is in
/// millionths of a US dollar, the unit of Ideogram's quotes and usage costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// The product a call is billed as (a quote's `billing_identifier`).
    pub billing: &'static str,
    /// The body field whose count multiplies the price (`num_images`), with
    /// its default; `None`: the price is per call.
    pub per: Option<(&'static str, u64)>,
    /// The body field whose value sets the price (`quality`), if one does.
    pub by: Option<&'static str>,
    /// The price of one unit for each value of `by`.
    pub usd_micros: &'static [(&'static str, u64)],
    /// The price of one unit when `by` is absent, or when no field sets it.
    pub base: u64,
    /// The most one unit may cost, where the price is known only as a range
    /// from `base` (an estimate).
    pub upper: Option<u64>,
    /// Where the figures come from, and how sure they are.
    pub source: &'static str,
    /// What the figures leave out, where the spec says.
    pub note: Option<&'static str>,
}

/// What a call's body costs by its operation's [`Price`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    /// Billable units (the images asked for, or 1 per call).
    pub quantity: u64,
    /// The price, in millionths of a US dollar.
    pub usd_micros: u64,
    /// The most it may cost, where the price is a range.
    pub upper_usd_micros: Option<u64>,
}

impl Operation {
    /// What sending `fields` (the body's fields, as sent) costs by the
    /// spec's price, read in the nested request where the operation nests
    /// one: `None` where the spec prices neither the operation nor a value
    /// given.
    pub fn priced(&self, fields: &serde_json::Map<String, serde_json::Value>) -> Option<Priced> {
        let price = self.price?;
        let nested = self
            .route
            .and_then(|r| r.nest)
            .and_then(|nest| fields.get(nest));
        let fields = match nested {
            Some(serde_json::Value::Object(nested)) => nested,
            _ => fields,
        };
        let (quantity, usd_micros) = price.of(fields)?;
        let upper_usd_micros = match price.upper {
            Some(upper) => Some(upper.checked_mul(quantity)?),
            None => None,
        };
        Some(Priced {
            quantity,
            usd_micros,
            upper_usd_micros,
        })
    }
}

impl Price {
    /// The units and total price of a call whose body fields are `fields`
    /// (a JSON body, or a multipart body's value parts): `None` where `by`
    /// has a value the spec does not price (a request the service refuses).
    pub fn of(&self, fields: &serde_json::Map<String, serde_json::Value>) -> Option<(u64, u64)> {
        let unit = match self.by.and_then(|field| fields.get(field)) {
            None => self.base,
            Some(value) => {
                let value = value.as_str()?;
                self.usd_micros.iter().find(|(v, _)| *v == value)?.1
            }
        };
        let quantity = match self.per {
            None => 1,
            Some((field, default)) => match fields.get(field) {
                None => default,
                Some(count) => count.as_u64()?,
            },
        };
        Some((quantity, unit.checked_mul(quantity)?))
    }
}

/// A deprecated operation's `x-deprecation`: what the service's answers to
/// it announce in their `Deprecation`, `Link` and `Sunset` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// The day it was deprecated, `YYYY-MM-DD` (UTC), where the spec says.
    pub since: Option<&'static str>,
    /// The path of the operation that replaces it.
    pub replacement: Option<&'static str>,
    /// The day it stops being served, `YYYY-MM-DD` (UTC), where announced.
    pub sunset: Option<&'static str>,
}

/// An operation's place in routing, from its `x-route`: a client picks the
/// first operation of a task and model whose body takes every field given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// What it does: `generate`, `remix`, `transparent`, `edit`, `reframe`,
    /// `replace-background`, `describe`, `upscale`, `layerize-text`.
    pub task: &'static str,
    /// The models it runs, as the specs name them (`V_3`); empty where the
    /// operation has no model to choose.
    pub models: &'static [&'static str],
    /// The body field that takes the input image, where it takes one.
    pub image: Option<&'static str>,
    /// The body field the other fields are nested in (`image_request`).
    pub nest: Option<&'static str>,
    /// The operation that queues the same body (Segmind's v2).
    pub queue: Option<&'static str>,
    /// The operation polling what this one answers when it runs
    /// asynchronously (Ideogram's v2: `get_generation_v2`).
    pub poll: Option<&'static str>,
    /// The other tasks whose requests may pin it (a transparent generate
    /// serves a generate): routing for those tasks never picks it unasked.
    pub serves: &'static [&'static str],
}

impl Route {
    /// Whether a request for `task` may be sent to it: its own task, or one
    /// it serves when pinned.
    pub fn does(&self, task: &str) -> bool {
        self.task == task || self.serves.contains(&task)
    }

    /// Whether it runs `model` (any model when it names none).
    pub fn runs(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.contains(&model)
    }
}

impl Operation {
    /// Whether a request for `method` and `path` (a concrete path, without
    /// a query) is this operation: each `{parameter}` of the template stands
    /// for one non-empty segment.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut template = self.path.split('/');
        let mut given = path.split('/');
        loop {
            match (template.next(), given.next()) {
                (None, None) => return true,
                (Some(t), Some(g)) if t.starts_with('{') && t.ends_with('}') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(t), Some(g)) if t == g => {}
                _ => return false,
            }
        }
    }

    /// The operation of `operations` that `method` and `path` call.
    pub fn find(operations: &'static [Self], method: &str, path: &str) -> Option<&'static Self> {
        operations.iter().find(|op| op.matches(method, path))
    }
}

/// Receives a generated body type by name (see `operations::with_body_type`
/// in each generated module): decode into it, print its schema, ...
pub trait BodyVisitor {
    /// What the visit gives.
    type Output;

    /// Called with the generated type `T`.
    fn visit<T>(self) -> Self::Output
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema + 'static;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price_of(id: &str) -> Price {
        let ops = crate::ideogram::operations::ALL;
        let op = ops.iter().find(|op| op.id == id).expect(id);
        op.price.expect("a priced operation")
    }

    #[test]
    fn a_price_multiplies_the_unit_of_the_pricing_value_by_the_count() {
        let fields = |json: serde_json::Value| json.as_object().cloned().expect("an object");
        let generate = price_of("post_generate_v2_ideogram_4_5");
        let medium = fields(serde_json::json!({"quality": "medium", "num_images": 3}));
        assert_eq!(generate.of(&medium), Some((3, 180_000)));
        // Neither field: the price of quality unset, for the count's default.
        assert_eq!(
            generate.of(&fields(serde_json::json!({}))),
            Some((1, generate.base))
        );
        // A value the spec does not price is not guessed.
        let odd = fields(serde_json::json!({"quality": "ultra"}));
        assert_eq!(generate.of(&odd), None);
        // Per call: the count field is not read.
        let remove = price_of("post_remove_background_v2");
        assert_eq!(remove.per, None);
        assert_eq!(
            remove.of(&fields(serde_json::json!({"num_images": 4}))),
            Some((1, remove.base))
        );
    }

    #[test]
    fn every_operation_with_a_dry_run_is_priced_and_v2_describe_takes_none() {
        let ops = crate::ideogram::operations::ALL;
        assert!(
            ops.iter()
                .filter(|op| op.dry_run.is_some())
                .all(|op| op.price.is_some())
        );
        let describe = ops.iter().find(|op| op.id == "post_describe_v2_ideogram_4");
        assert_eq!(describe.map(|op| op.dry_run), Some(None));
        let generate = ops.iter().find(|op| op.id == "post_generate_v2_ideogram_3");
        assert_eq!(generate.and_then(|op| op.dry_run), Some("dry_run"));
    }

    #[test]
    fn templates_match_one_segment_per_parameter() {
        let status = Operation::find(
            crate::segmind::operations::ALL,
            "GET",
            "/v2/requests/r-1/status",
        )
        .expect("the status operation");
        assert_eq!(status.id, "get_request_status");
        for (method, path) in [
            ("GET", "/v2/requests//status"),
            ("POST", "/v2/requests/r-1/status"),
            ("GET", "/v2/requests/r-1/status/x"),
        ] {
            assert!(!status.matches(method, path), "{method} {path}");
        }
        let sync = Operation::find(
            crate::segmind::operations::ALL,
            "post",
            "/v1/ideogram-txt-2-img",
        )
        .expect("a sync operation");
        assert_eq!(sync.body, Some("IdeogramTxt2ImgRequest"));
        assert_eq!(sync.content_type, Some("application/json"));
    }

    #[test]
    fn every_json_body_has_its_generated_type() {
        struct Name;
        impl BodyVisitor for Name {
            type Output = String;
            fn visit<T>(self) -> String
            where
                T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema + 'static,
            {
                T::schema_name().into_owned()
            }
        }
        for (operations, dispatch) in [
            (
                crate::segmind::operations::ALL,
                crate::segmind::operations::with_body_type::<Name>
                    as fn(&str, Name) -> Option<String>,
            ),
            (
                crate::ideogram::operations::ALL,
                crate::ideogram::operations::with_body_type::<Name>,
            ),
        ] {
            for op in operations
                .iter()
                .filter(|op| op.content_type == Some("application/json"))
            {
                let body = op.body.expect("a JSON body has a schema");
                assert_eq!(dispatch(body, Name).as_deref(), Some(body), "{}", op.id);
            }
        }
    }
}
