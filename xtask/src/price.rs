//! An operation's price (`x-price`) and dry-run parameter (a query
//! parameter marked `x-price-quote`), checked against its body schemas and
//! written as `crate::operation::Price` expressions: what a mock quotes and
//! a client estimates, read from the spec.

use std::error::Error;

use serde_json::Value;

/// The keys an `x-price` may have.
const KEYS: [&str; 7] = [
    "billing",
    "per",
    "by",
    "usd_micros",
    "upper_usd_micros",
    "source",
    "note",
];

/// The price of the field's absence in a per-value `usd_micros`.
const UNSET: &str = "unset";

/// An operation's `x-price` as an `Option<crate::operation::Price>`
/// expression. `bodies` are its body schemas (JSON and multipart): `per`
/// and `by` must name a property of each, every value of `by`'s enum must
/// have a price, and the price of `by` absent is its `unset` entry or, failing
/// that, the price of the enum's default. Where the operation nests its
/// request in one field (`x-route.nest`), the fields are that field's.
/// `upper_usd_micros` caps a flat price known only as a range.
pub(crate) fn price(
    spec: &Value,
    id: &str,
    op: &Value,
    bodies: &[&str],
) -> Result<String, Box<dyn Error>> {
    let data = &op["x-price"];
    if data.is_null() {
        return Ok("None".to_owned());
    }
    if let Some(key) = data
        .as_object()
        .ok_or_else(|| format!("{id}: x-price is a map"))?
        .keys()
        .find(|key| !KEYS.contains(&key.as_str()))
    {
        return Err(format!("{id}: x-price.{key} is not a price field").into());
    }
    let text = |key: &str| data[key].as_str();
    let billing = text("billing").ok_or_else(|| format!("{id}: x-price.billing is a string"))?;
    let source = text("source")
        .ok_or_else(|| format!("{id}: x-price.source says where the price is from"))?;
    let nest = op["x-route"]["nest"].as_str();
    let property = |field: &str| -> Result<Vec<Value>, Box<dyn Error>> {
        let mut found = Vec::new();
        for body in bodies {
            let mut properties = &spec["components"]["schemas"][*body]["properties"];
            if let Some(nest) = nest {
                properties = &resolve(spec, &properties[nest])["properties"];
            }
            let schema = &properties[field];
            if schema.is_null() {
                return Err(
                    format!("{id}: x-price names {field:?}, which {body} does not take").into(),
                );
            }
            found.push(resolve(spec, schema).clone());
        }
        if found.is_empty() {
            return Err(
                format!("{id}: x-price names {field:?}, but the operation takes no body").into(),
            );
        }
        Ok(found)
    };
    let per = match text("per") {
        None if data["per"].is_null() => "None".to_owned(),
        None => return Err(format!("{id}: x-price.per is a field name").into()),
        Some(field) => {
            let schemas = property(field)?;
            let default = schemas[0]["default"].as_u64().unwrap_or(1);
            if schemas
                .iter()
                .any(|s| s["default"].as_u64().unwrap_or(1) != default)
            {
                return Err(format!("{id}: {field}'s default differs between bodies").into());
            }
            format!("Some(({field:?}, {default}))")
        }
    };
    let micros = |value: &Value, what: &str| {
        value.as_u64().ok_or_else(|| {
            format!("{id}: x-price.usd_micros{what} is a whole number of micro-dollars")
        })
    };
    let (by, values, base) = match text("by") {
        None => (
            "None".to_owned(),
            String::new(),
            micros(&data["usd_micros"], "")?,
        ),
        Some(field) => {
            let prices = data["usd_micros"]
                .as_object()
                .ok_or_else(|| format!("{id}: x-price.usd_micros is a map of {field}'s values"))?;
            let mut values = String::new();
            let mut enum_default = None;
            for schema in property(field)? {
                let choices = schema["enum"]
                    .as_array()
                    .ok_or_else(|| format!("{id}: x-price.by names {field}, which has no enum"))?;
                for choice in choices.iter().filter_map(Value::as_str) {
                    if !prices.contains_key(choice) {
                        return Err(
                            format!("{id}: x-price has no price for {field} {choice:?}").into()
                        );
                    }
                }
                if let Some(key) = prices
                    .keys()
                    .find(|k| *k != UNSET && !choices.iter().any(|c| c == *k))
                {
                    return Err(
                        format!("{id}: x-price prices {key:?}, not a value of {field}").into(),
                    );
                }
                enum_default = enum_default.or(schema["default"].as_str().map(str::to_owned));
            }
            for (value, price) in prices.iter().filter(|(k, _)| *k != UNSET) {
                let price = micros(price, &format!(".{value}"))?;
                values.push_str(&format!("({value:?}, {price}), "));
            }
            let base = match (prices.get(UNSET), enum_default) {
                (Some(price), _) => micros(price, ".unset")?,
                (None, Some(default)) => micros(&prices[&default], &format!(".{default}"))?,
                (None, None) => {
                    return Err(format!(
                        "{id}: {field} has no default: x-price.usd_micros.unset prices its absence"
                    )
                    .into());
                }
            };
            (format!("Some({field:?})"), values, base)
        }
    };
    let upper = match &data["upper_usd_micros"] {
        Value::Null => "None".to_owned(),
        _ if !data["by"].is_null() => {
            return Err(format!("{id}: upper_usd_micros caps a flat price only").into());
        }
        value => match value.as_u64() {
            Some(upper) if upper >= base => format!("Some({upper})"),
            _ => {
                return Err(format!(
                    "{id}: upper_usd_micros is a whole number, at least usd_micros"
                )
                .into());
            }
        },
    };
    let note = match text("note") {
        Some(note) => format!("Some({note:?})"),
        None => "None".to_owned(),
    };
    Ok(format!(
        "Some(crate::operation::Price {{ billing: {billing:?}, per: {per}, by: {by}, \
         usd_micros: &[{values}], base: {base}, upper: {upper}, source: {source:?}, note: {note} }})"
    ))
}

/// The name of an operation's dry-run parameter (a query parameter marked
/// `x-price-quote`), as an `Option<&str>` expression; an operation with one
/// must carry an `x-price` (what a mock quotes).
pub(crate) fn dry_run(spec: &Value, id: &str, op: &Value) -> Result<String, Box<dyn Error>> {
    let parameters = op["parameters"].as_array().into_iter().flatten();
    let marked: Vec<&str> = parameters
        .map(|p| resolve(spec, p))
        .filter(|p| !p["x-price-quote"].is_null())
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            if p["in"] != "query" || p["schema"]["type"] != "boolean" {
                return Err(format!(
                    "{id}: the dry-run parameter {name:?} is a boolean in the query"
                ));
            }
            Ok(name)
        })
        .collect::<Result<_, _>>()?;
    match marked[..] {
        [] => Ok("None".to_owned()),
        [name] if !op["x-price"].is_null() => Ok(format!("Some({name:?})")),
        [_] => Err(format!("{id}: it takes a dry run, so it has an x-price").into()),
        _ => Err(format!("{id}: more than one dry-run parameter").into()),
    }
}

/// `value`, or what its `$ref` (within the spec) points at.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(path) => spec.pointer(path).unwrap_or(value),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Body": {"properties": {
                "speed": {"$ref": "#/components/schemas/Speed"},
                "n": {"type": "integer", "default": 2},
            }},
            "Speed": {"type": "string", "enum": ["fast", "slow"]},
        }}})
    }

    fn priced(data: Value) -> Result<String, Box<dyn Error>> {
        price(&spec(), "op", &json!({"x-price": data}), &["Body"])
    }

    #[test]
    fn a_price_is_written_with_the_count_default_and_the_price_of_absence() {
        let text = priced(
            json!({"billing": "b", "per": "n", "by": "speed", "source": "s",
            "usd_micros": {"fast": 1, "slow": 2, "unset": 2}}),
        )
        .expect("a valid price");
        assert!(text.contains(r#"per: Some(("n", 2))"#), "{text}");
        assert!(
            text.contains(r#"usd_micros: &[("fast", 1), ("slow", 2), ], base: 2"#),
            "{text}"
        );
    }

    #[test]
    fn a_price_that_does_not_fit_its_body_is_refused_naming_what() {
        let refused = |data: Value, says: &str| {
            let error = priced(data).expect_err("refused").to_string();
            assert!(error.contains(says), "{error}");
        };
        let base = |extra: Value| {
            let mut data = json!({"billing": "b", "source": "s", "usd_micros": 5});
            data.as_object_mut()
                .expect("a map")
                .extend(extra.as_object().cloned().expect("a map"));
            data
        };
        refused(base(json!({"per": "count"})), "does not take");
        refused(base(json!({"currency": "eur"})), "x-price.currency");
        refused(
            base(json!({"by": "speed", "usd_micros": {"fast": 1}})),
            "no price for speed \"slow\"",
        );
        refused(
            base(json!({"by": "speed", "usd_micros": {"fast": 1, "slow": 2, "warp": 3}})),
            "not a value of speed",
        );
        refused(
            base(json!({"by": "speed", "usd_micros": {"fast": 1, "slow": 2}})),
            "unset",
        );
        refused(json!({"billing": "b", "usd_micros": 5}), "source");
        refused(base(json!({"upper_usd_micros": 4})), "at least usd_micros");
    }

    #[test]
    fn a_dry_run_needs_a_price() {
        let spec = json!({});
        let op = json!({"parameters": [{"name": "dry_run", "in": "query",
            "schema": {"type": "boolean"}, "x-price-quote": "PriceQuote"}]});
        let error = dry_run(&spec, "op", &op).expect_err("refused").to_string();
        assert!(error.contains("x-price"), "{error}");
    }
}
