//! Properties over generated inputs (proptest, bounded so CI stays fast):
//! the value types accept exactly what the specs accept, every textual form
//! round-trips, and no answer body, however odd, panics a decoder.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::LazyLock;

use ideogram::{AspectRatio, Palette, PaletteColor, Resolution};
use ideogram_raw::{ideogram as ideogram_api, schema, segmind as segmind_api};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// 512 cases each, or `PROPTEST_CASES` (tests/fuzz sets it); a failing
/// case is saved in `proptest-regressions/properties.txt` (committed) and
/// tried first on every later run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(512),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/properties.txt"
        )))),
        ..ProptestConfig::default()
    }
}

/// Any JSON value, nested a few levels.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[ -~]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("COMPLETED"),
            Just("FAILED"),
            Just("https://x.test/a.png"),
            Just("1024x1024")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("data".to_owned()),
                    Just("created".to_owned()),
                    Just("url".to_owned()),
                    Just("status".to_owned()),
                    Just("error".to_owned()),
                    Just("seed".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every size a `resolution` field of either spec takes, as `(width,
/// height)`: read from the generated schemas, so a size family the spec
/// gains is in the oracle without a change here.
fn spec_sizes() -> &'static BTreeSet<(u16, u16)> {
    static SIZES: LazyLock<BTreeSet<(u16, u16)>> = LazyLock::new(|| {
        let mut sizes = BTreeSet::new();
        for spec in [schema::segmind(), schema::ideogram()] {
            for name in spec.names() {
                let values = spec.field_values(name, "resolution").unwrap_or_default();
                // P-Image's `resolution` is a tier (`1k`, `2k`), not sizes.
                if !values
                    .iter()
                    .any(|v| ideogram_raw::enums::pair(v).is_some())
                {
                    continue;
                }
                for value in values {
                    let (w, h) = value
                        .strip_prefix("RESOLUTION_")
                        .map_or_else(|| value.split_once('x'), |rest| rest.split_once('_'))
                        .unwrap_or_else(|| panic!("{name}.resolution: {value:?} is not a size"));
                    sizes.insert((w.parse().unwrap(), h.parse().unwrap()));
                }
            }
        }
        assert!(!sizes.is_empty(), "no resolution field in the specs");
        sizes
    });
    &SIZES
}

/// A size: anything, or one the specs list, or one a step off a listed one.
fn size() -> impl Strategy<Value = (u16, u16)> {
    let listed: Vec<(u16, u16)> = spec_sizes().iter().copied().collect();
    prop_oneof![
        (0u16..2048, 0u16..2048),
        prop::sample::select(listed.clone()),
        (prop::sample::select(listed), -1i32..=1, -1i32..=1).prop_map(|((w, h), dw, dh)| {
            let step = |n: u16, d: i32| u16::try_from(i32::from(n) + d).unwrap_or(n);
            (step(w, dw), step(h, dh))
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Every numeric rule of the facade is the spec's: a value passes the
    /// facade's check exactly when the spec's schema takes it.
    #[test]
    fn the_facades_ranges_are_the_specs(
        n in prop_oneof![0u32..2_000_000, any::<u32>(), 0u32..12],
        colours in 0usize..12,
    ) {
        use ideogram::{ImageWeight, Provider, Seed};
        let value = serde_json::json!(n);
        for (provider, spec) in [(Provider::Segmind, schema::segmind()), (Provider::Ideogram, schema::ideogram())] {
            prop_assert_eq!(Seed(n).check_for(provider).is_ok(), spec.check("Seed", &value).is_ok(), "{} {}", provider, n);
        }
        prop_assert_eq!(ImageWeight::new(n).is_ok(), schema::segmind().check("ImageWeight", &value).is_ok());
        let remix = serde_json::json!({"prompt": "x", "image_weight": n});
        prop_assert_eq!(ImageWeight::new(n).is_ok(), schema::ideogram().check("InitialImageRequest", &remix).is_ok());
        let members: Vec<_> = (0..colours).map(|_| serde_json::json!({"color_hex": "#123"})).collect();
        let custom = Palette::custom((0..colours).map(|_| PaletteColor::new("#123", None).unwrap()).collect());
        for spec in [schema::segmind(), schema::ideogram()] {
            prop_assert_eq!(custom.is_ok(), spec.check("ColorPaletteMembers", &serde_json::json!({"members": members})).is_ok());
        }
    }

    /// The oracle is the specs' own lists (every `resolution` field of
    /// either spec); two thirds of the cases are listed sizes and their
    /// neighbours,
    /// since a uniform pair is almost never legal.
    #[test]
    fn a_size_is_legal_exactly_when_a_spec_lists_it((w, h) in size()) {
        let listed = spec_sizes().contains(&(w, h));
        prop_assert_eq!(Resolution::new(w, h).is_ok(), listed, "{}x{}", w, h);
        prop_assert_eq!(format!("{w}x{h}").parse::<Resolution>().is_ok(), listed && w > 0 && h > 0);
    }

    #[test]
    fn every_legal_size_round_trips_in_every_spelling(
        (w, h) in prop::sample::select(spec_sizes().iter().copied().collect::<Vec<_>>()),
        upper in any::<bool>(),
    ) {
        let r = Resolution::new(w, h).unwrap();
        prop_assert_eq!((r.width(), r.height()), (w, h));
        let forms = [r.to_string(), r.legacy_name(), format!("{}*{}", r.width(), r.height())];
        for form in forms {
            let form = if upper { form.to_uppercase() } else { form.to_lowercase() };
            prop_assert_eq!(form.parse::<Resolution>().unwrap(), r);
        }
    }

    #[test]
    fn a_colour_is_accepted_exactly_when_the_spec_pattern_accepts_it(text in "#?[0-9a-fA-FgG]{0,7}") {
        // The generated ColorHex type enforces the spec's own pattern.
        let spec = segmind_api::types::ColorHex::from_str(&text).is_ok();
        prop_assert_eq!(PaletteColor::new(&text, None).is_ok(), spec, "{}", text);
    }

    #[test]
    fn a_weight_is_accepted_exactly_in_the_spec_range(weight in -0.5f64..1.5) {
        let ok = PaletteColor::new("#abc", Some(weight)).is_ok();
        prop_assert_eq!(ok, (0.05..=1.0).contains(&weight));
    }

    #[test]
    fn palettes_round_trip_through_their_text(
        colours in prop::collection::vec(("[0-9a-f]{6}", prop::option::of(5u32..=100)), 1..=8)
    ) {
        let text: Vec<String> = colours
            .iter()
            .map(|(hex, w)| match w {
                Some(w) => format!("#{hex}:{}", f64::from(*w) / 100.0),
                None => format!("#{hex}"),
            })
            .collect();
        let palette: Palette = text.join(",").parse().unwrap();
        prop_assert_eq!(palette.to_string().parse::<Palette>().unwrap(), palette.clone());
        // The wire JSON holds every colour as written, fits both specs'
        // schemas, and reads back into their generated types unchanged.
        let members: Vec<serde_json::Value> = colours
            .iter()
            .map(|(hex, w)| match w {
                Some(w) => serde_json::json!({"color_hex": format!("#{hex}"), "color_weight": f64::from(*w) / 100.0}),
                None => serde_json::json!({"color_hex": format!("#{hex}")}),
            })
            .collect();
        let expected = serde_json::json!({ "members": members });
        let segmind = serde_json::to_value(&palette).unwrap();
        let ideogram = serde_json::to_value(palette.to_ideogram()).unwrap();
        for (wire, spec) in [(&segmind, schema::segmind()), (&ideogram, schema::ideogram())] {
            prop_assert_eq!(wire, &expected);
            prop_assert_eq!(spec.check("ColorPalette", wire), Ok(()));
        }
        let read: segmind_api::types::ColorPalette = serde_json::from_value(segmind.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(read).unwrap(), segmind);
        let read: ideogram_api::types::ColorPalette = serde_json::from_value(ideogram.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(read).unwrap(), ideogram);
    }

    #[test]
    fn aspect_ratios_round_trip(w in 1u32..40, h in 1u32..40) {
        let ratio = AspectRatio::new(w, h).unwrap();
        for form in [format!("{w}:{h}"), format!("{w}x{h}"), format!("ASPECT_{w}_{h}")] {
            prop_assert_eq!(form.parse::<AspectRatio>().unwrap(), ratio);
        }
    }

    #[test]
    fn no_answer_body_panics_a_decoder(value in json(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = value.to_string();
        for body in [text.as_bytes(), bytes.as_slice()] {
            let _ = serde_json::from_slice::<ideogram_api::types::GenerateImageResponse>(body);
            let _ = serde_json::from_slice::<ideogram_api::types::ErrorBody>(body);
            let _ = serde_json::from_slice::<segmind_api::types::QueueSubmitResponse>(body);
            let _ = serde_json::from_slice::<segmind_api::types::QueueStatusResponse>(body);
            let _ = serde_json::from_slice::<segmind_api::types::QueueResultResponse>(body);
            let _ = serde_json::from_slice::<segmind_api::types::ErrorBody>(body);
        }
    }

    #[test]
    fn text_inputs_never_panic_their_parsers(text in "\\PC{0,24}") {
        let _ = text.parse::<Resolution>();
        let _ = text.parse::<Palette>();
        let _ = text.parse::<AspectRatio>();
        let _ = text.parse::<ideogram::Model>();
        let _ = text.parse::<ideogram::Seed>();
        let _ = text.parse::<ideogram::StyleType>();
        let _ = text.parse::<ideogram::ImageInput>();
    }
}
