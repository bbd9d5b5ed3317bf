//! Clap value parsers built on the library's parsers: `--help` and the
//! completion scripts list the values the specs allow, and a value the
//! library refuses is refused while the command line is read, with the
//! library's message and, for a near miss, the value meant.
//!
//! The parsed value stays the text given (a spec field's value: its
//! spelling in the spec): the library reads it again when the request is
//! built, with the model and provider known.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use ideogram::{AspectRatio, InvalidInput, Model, Palette, SpecEnum};

use crate::failure::Failure;

/// The values an option lists, and the check of one.
#[derive(Clone, Copy)]
pub(crate) enum Values {
    /// A list the library gives, and the library's parser.
    Listed {
        names: fn() -> Vec<String>,
        check: fn(&str) -> Result<(), InvalidInput>,
    },
    /// The values the specs' bodies allow for these fields (spec names,
    /// the first naming the errors): read from the specs, so a value a
    /// regeneration adds is taken with no change here. A value is read in
    /// any case and given on in the spec's spelling.
    Fields(&'static [&'static str]),
}

/// Every value the specs allow for `fields`, each once whatever its case
/// (the first spelling kept).
pub(crate) fn field_values(fields: &[&str]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in fields.iter().flat_map(|f| ideogram::field_values(f)) {
        if !values.iter().any(|v| key(v) == key(&value)) {
            values.push(value);
        }
    }
    values
}

/// A value as a listed one is compared: any case, `-` for `_`.
fn key(text: &str) -> String {
    text.trim().to_ascii_uppercase().replace('-', "_")
}

impl Values {
    /// A spec field's enum (see [`Values::Fields`]).
    pub(crate) fn field(fields: &'static [&'static str]) -> Self {
        Self::Fields(fields)
    }

    /// `--model`: the versions (short forms and slugs are read too).
    pub(crate) fn model() -> Self {
        Self::Listed {
            names: || Model::ALL.iter().map(ToString::to_string).collect(),
            check: |text| text.parse::<Model>().map(drop),
        }
    }

    /// `--aspect-ratio`: every ratio some model takes (which one takes
    /// which is checked with the request).
    pub(crate) fn aspect() -> Self {
        Self::Listed {
            names: || {
                let mut names: Vec<String> = AspectRatio::v3().map(|r| r.to_string()).collect();
                for ratio in AspectRatio::legacy().map(|r| r.to_string()) {
                    if !names.contains(&ratio) {
                        names.push(ratio);
                    }
                }
                names
            },
            check: |text| text.parse::<AspectRatio>().map(drop),
        }
    }

    /// `--color-palette`: the presets are listed; colours are read too.
    pub(crate) fn palette() -> Self {
        Self::Listed {
            names: || {
                <ideogram::PalettePreset as SpecEnum>::values()
                    .into_iter()
                    .map(|p| Palette::from(p).to_string())
                    .collect()
            },
            // Named as the flag and the spec name it.
            check: |text| {
                text.parse::<Palette>().map(drop).map_err(|mut e| {
                    e.field = "color_palette".into();
                    e
                })
            },
        }
    }

    /// The values listed.
    fn names(&self) -> Vec<String> {
        match self {
            Self::Listed { names, .. } => names(),
            Self::Fields(fields) => field_values(fields),
        }
    }

    /// `text` as the option passes it on, or the library's refusal.
    fn check(&self, text: &str, names: &[String]) -> Result<String, InvalidInput> {
        match self {
            Self::Listed { check, .. } => check(text).map(|()| text.to_owned()),
            Self::Fields(fields) => names
                .iter()
                .find(|name| key(name) == key(text))
                .cloned()
                .ok_or_else(|| {
                    InvalidInput::new(
                        fields[0],
                        format!("{text:?} is not allowed; use one of {}", names.join(", ")),
                    )
                }),
        }
    }
}

impl TypedValueParser for Values {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let Some(text) = value.to_str() else {
            return Err(clap::Error::raw(
                ErrorKind::InvalidUtf8,
                "an option value is not UTF-8\n",
            ));
        };
        let names = self.names();
        let err = match self.check(text, &names) {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let mut failure = Failure::from(err);
        if let Some(meant) = nearest(text, &names) {
            failure = failure.hint(format!("did you mean {meant}?"));
        }
        let shown = failure.to_string();
        let message = shown.strip_prefix("error: ").unwrap_or(&shown);
        Err(clap::Error::raw(
            ErrorKind::ValueValidation,
            format!("{message}\n"),
        ))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names().into_iter().map(PossibleValue::new)))
    }
}

/// The listed name `text` most likely meant, as clap finds one for a
/// mistyped option: Jaro similarity above 0.8, case and `-`/`_` aside.
fn nearest(text: &str, names: &[String]) -> Option<String> {
    let key = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let typed = key(text);
    names
        .iter()
        .map(|name| (strsim::jaro(&typed, &key(name)), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_finds_the_value_meant() {
        let styles = Values::field(&["style_type"]).names();
        assert_eq!(nearest("realistc", &styles).as_deref(), Some("REALISTIC"));
        assert_eq!(nearest("render-3", &styles).as_deref(), Some("RENDER_3D"));
        assert_eq!(nearest("cubist", &styles), None);
    }

    #[test]
    fn an_enum_flag_takes_every_value_the_specs_allow_in_any_case() {
        use clap::builder::TypedValueParser as _;
        let command = clap::Command::new("t");
        for (flag, fields) in [
            ("style_type", &["style_type"][..]),
            ("rendering_speed", &["rendering_speed"]),
            ("style_preset", &["style_preset"]),
            ("upscale_factor", &["upscale_factor"]),
            ("magic_prompt", &["magic_prompt", "magic_prompt_option"]),
        ] {
            let parser = Values::Fields(fields);
            let values: Vec<String> = fields
                .iter()
                .flat_map(|f| ideogram::field_values(f))
                .collect();
            assert!(!values.is_empty(), "{flag}");
            for value in values {
                let lower = value.to_ascii_lowercase().replace('_', "-");
                for given in [value.as_str(), lower.as_str()] {
                    let parsed = parser.parse_ref(&command, None, OsStr::new(given));
                    let parsed = parsed.unwrap_or_else(|e| panic!("{flag} {given}: {e}"));
                    assert!(
                        parsed.eq_ignore_ascii_case(&value),
                        "{flag}: {given} -> {parsed}"
                    );
                }
            }
            assert!(
                parser
                    .parse_ref(&command, None, OsStr::new("cubist"))
                    .is_err()
            );
        }
    }
}
