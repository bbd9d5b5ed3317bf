//! The API surface of a generated module, as a reviewer reads it: each
//! operation with its method, path, parameters and answers; each type with
//! its fields or its values. A spec change shows as a short diff here, while
//! `cargo xtask generate --check` guards the full text.

use std::fmt::Write as _;

use quote::ToTokens as _;

/// The surface of `source`, a module `generate` wrote.
pub fn api_surface(source: &str) -> Result<String, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut operations = Vec::new();
    let mut builders = std::collections::HashMap::new();
    let mut types = Vec::new();
    let mut limits = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Impl(block) if type_name(&block.self_ty) == "Client" => {
                for item in &block.items {
                    if let syn::ImplItem::Fn(method) = item
                        && let Some(line) = operation(method)
                    {
                        operations.push(line);
                    }
                }
            }
            syn::Item::Mod(module)
                if module.ident == "builder" || module.ident == "multipart_builder" =>
            {
                for (name, line) in builder_signatures(module) {
                    builders.insert(name, line);
                }
            }
            syn::Item::Mod(module) if module.ident == "limits" => {
                for item in module.content.iter().flat_map(|(_, items)| items) {
                    if let syn::Item::Const(constant) = item {
                        limits.push(format!(
                            "{} = {}",
                            constant.ident,
                            tidy(&constant.expr.to_token_stream().to_string())
                        ));
                    }
                }
            }
            syn::Item::Mod(module) if module.ident == "types" => {
                for item in module.content.iter().flat_map(|(_, items)| items) {
                    if let Some(line) = type_line(item) {
                        types.push(line);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::from("operations:\n");
    for (name, method, path, builder) in operations {
        let signature = builders.get(&builder).cloned().unwrap_or_default();
        writeln!(out, "  {name}: {method} {path}{signature}").expect("a string");
    }
    out.push_str("limits:\n");
    for line in limits {
        writeln!(out, "  {line}").expect("a string");
    }
    out.push_str("types:\n");
    types.sort();
    for (head, members) in types {
        writeln!(out, "  {head}").expect("a string");
        for member in members {
            writeln!(out, "    {member}").expect("a string");
        }
    }
    Ok(out)
}

/// `(name, method, path, builder)` of a client method that sends a request.
fn operation(method: &syn::ImplItemFn) -> Option<(String, String, String, String)> {
    let docs = docs(&method.attrs);
    let rest = docs.split("Sends a `").nth(1)?;
    let (verb, rest) = rest.split_once("` request to `")?;
    let (path, rest) = rest.split_once('`')?;
    // The generated multipart operations say so after the path.
    let path = match rest.strip_prefix(" as `") {
        Some(form) => format!("{path} ({})", form.split('`').next().unwrap_or_default()),
        None => path.to_owned(),
    };
    let syn::ReturnType::Type(_, ty) = &method.sig.output else {
        return None;
    };
    Some((
        method.sig.ident.to_string(),
        verb.to_owned(),
        path,
        type_name(ty),
    ))
}

/// For each operation builder: ` (param: Type, ...) -> Answer, errors Error`.
fn builder_signatures(module: &syn::ItemMod) -> Vec<(String, String)> {
    let items: Vec<&syn::Item> = module.content.iter().flat_map(|(_, items)| items).collect();
    let mut out = Vec::new();
    for item in &items {
        let syn::Item::Struct(builder) = item else {
            continue;
        };
        let params: Vec<String> = builder
            .fields
            .iter()
            .filter_map(|f| {
                let name = f.ident.as_ref()?.to_string();
                (name != "client").then(|| format!("{name}: {}", inner_ok(&f.ty)))
            })
            .collect();
        let answer = items.iter().find_map(|item| match item {
            syn::Item::Impl(block) if builder.ident == type_name(&block.self_ty) => {
                block.items.iter().find_map(|item| match item {
                    syn::ImplItem::Fn(f) if f.sig.ident == "send" => match &f.sig.output {
                        syn::ReturnType::Type(_, ty) => {
                            Some(answers(&tidy(&ty.to_token_stream().to_string())))
                        }
                        syn::ReturnType::Default => None,
                    },
                    _ => None,
                })
            }
            _ => None,
        });
        out.push((
            builder.ident.to_string(),
            format!(
                " ({}) -> {}",
                params.join(", "),
                answer.unwrap_or_else(|| "?".into())
            ),
        ));
    }
    out
}

/// A generated type: a heading, and a line per field or value (as the wire
/// spells it), so that a change to one reads as a one-line diff.
fn type_line(item: &syn::Item) -> Option<(String, Vec<String>)> {
    let ty = |t: &syn::Type| tidy(&t.to_token_stream().to_string());
    match item {
        syn::Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => match &s.fields {
            syn::Fields::Named(fields) => Some((
                format!("struct {}", s.ident),
                fields
                    .named
                    .iter()
                    .map(|f| format!("{}: {}", f.ident.as_ref().expect("named"), ty(&f.ty)))
                    .collect(),
            )),
            syn::Fields::Unnamed(fields) => Some((
                format!(
                    "newtype {}({})",
                    s.ident,
                    fields
                        .unnamed
                        .iter()
                        .map(|f| ty(&f.ty))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Vec::new(),
            )),
            syn::Fields::Unit => Some((format!("struct {}", s.ident), Vec::new())),
        },
        syn::Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => Some((
            format!("enum {}", e.ident),
            e.variants
                .iter()
                .map(|v| {
                    let wire = serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
                    match &v.fields {
                        syn::Fields::Unit => wire,
                        fields => {
                            let inner: Vec<String> = fields.iter().map(|f| ty(&f.ty)).collect();
                            format!("{wire}({})", inner.join(", "))
                        }
                    }
                })
                .collect(),
        )),
        syn::Item::Type(t) if matches!(t.vis, syn::Visibility::Public(_)) => {
            Some((format!("type {} = {}", t.ident, ty(&t.ty)), Vec::new()))
        }
        _ => None,
    }
}

/// `Result<ResponseValue<T>, Error<E>>` as `T, errors E`.
fn answers(result: &str) -> String {
    let inner = result
        .strip_prefix("Result<ResponseValue<")
        .and_then(|r| r.strip_suffix('>'))
        .and_then(|r| r.rsplit_once(">, Error<"))
        .map(|(ok, err)| format!("{ok}, errors {}", err.trim_end_matches('>')));
    inner.unwrap_or_else(|| result.to_owned())
}

/// `#[serde(rename = "X")]`'s X.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        if !attr.path().is_ident("serde") {
            return None;
        }
        let text = attr.to_token_stream().to_string();
        let rest = text.split("rename = \"").nth(1)?;
        Some(rest.split('"').next()?.to_owned())
    })
}

/// The documentation of an item, joined.
fn docs(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .map(|a| a.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last path segment's name of a type (`builder::X<'_>` gives `X`).
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// `T` of a builder field `Result<T, String>`.
fn inner_ok(ty: &syn::Type) -> String {
    let text = tidy(&ty.to_token_stream().to_string());
    text.strip_prefix("Result<")
        .and_then(|t| t.strip_suffix(", String>"))
        .map_or(text.clone(), str::to_owned)
}

/// Token text as a person writes a type: no spaces, no absolute paths.
fn tidy(text: &str) -> String {
    let mut out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& '", "&'"),
    ] {
        out = out.replace(from, to);
    }
    for prefix in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::collections::",
        "::std::result::",
        "::std::num::",
        "::serde_json::",
        "::chrono::offset::",
        "::chrono::",
        "super::",
        "crate::",
        "types::builder::",
        "types::",
    ] {
        out = out.replace(prefix, "");
    }
    // What is left of a path's root (`::std::ops::RangeInclusive`), never
    // the `::` inside one (`usize::MAX`).
    out = out.replace("::std::ops::", "");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_people_write_them() {
        assert_eq!(
            tidy(":: std :: option :: Option < super :: QueueMetrics >"),
            "Option<QueueMetrics>"
        );
        assert_eq!(
            tidy("Result < ResponseValue < types :: X > , Error < ByteStream > >"),
            "Result<ResponseValue<X>, Error<ByteStream>>"
        );
        assert_eq!(
            tidy(":: chrono :: DateTime < :: chrono :: offset :: Utc >"),
            "DateTime<Utc>"
        );
        assert_eq!(
            tidy(":: std :: ops :: RangeInclusive < usize > = 1 ..= usize :: MAX"),
            "RangeInclusive<usize> = 1 ..= usize::MAX"
        );
    }
}
