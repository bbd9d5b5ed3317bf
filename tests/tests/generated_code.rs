//! insta guards what the generated code offers: any spec or generator
//! change that alters an operation or a type fails here, as a short diff of
//! the API surface (operations with method, path, parameters and answers;
//! types with their fields or values), until the snapshot is reviewed
//! (`cargo insta review`) and accepted. The full generated text is guarded
//! by `cargo xtask generate --check` and the test below.

#[test]
fn generated_segmind_api_surface() {
    let target = &xtask::TARGETS[0];
    assert_eq!(target.spec, "openapi/segmind.yaml");
    let code = xtask::generate(target).expect("generate");
    insta::assert_snapshot!("segmind", xtask::api_surface(&code).expect("parse"));
}

#[test]
fn generated_ideogram_api_surface() {
    let target = &xtask::TARGETS[1];
    assert_eq!(target.spec, "openapi/ideogram.yaml");
    let code = xtask::generate(target).expect("generate");
    insta::assert_snapshot!("ideogram", xtask::api_surface(&code).expect("parse"));
}

#[test]
fn committed_code_is_what_the_specs_generate() {
    for target in &xtask::TARGETS {
        for file in xtask::generate_all(target).expect("generate") {
            if let Some(diff) = xtask::stale_diff(&file) {
                panic!(
                    "{} is stale, run `cargo xtask generate`:\n{diff}",
                    file.path
                );
            }
        }
    }
}

#[test]
fn multipart_operations_are_generated_beside_progenitor() {
    let path = xtask::workspace_root().join("openapi/ideogram.yaml");
    let mut spec = xtask::load_spec(&path).expect("spec");
    let ops = xtask::multipart::take_multipart(&mut spec).expect("multipart");
    let mut names: Vec<_> = ops.iter().map(|op| op.method_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "post_describe",
            "post_describe_v2_ideogram_3",
            "post_describe_v2_ideogram_4",
            "post_edit_image_v3",
            "post_generate_image_v3_multipart",
            "post_generate_image_v3_transparent_multipart",
            "post_generate_image_v4_multipart",
            "post_generate_v2_ideogram_3_character",
            "post_generate_v2_ideogram_3_custom_model_multipart",
            "post_generate_v2_ideogram_3_multipart",
            "post_generate_v2_ideogram_4_5_multipart",
            "post_inpaint_v2_ideogram_3",
            "post_inpaint_v2_ideogram_3_character",
            "post_inpaint_v2_ideogram_3_custom_model",
            "post_layerize_text_v3",
            "post_layerize_v2_ideogram_3",
            "post_precise_edit_v2_ideogram_4_5",
            "post_reframe_image_v3",
            "post_reframe_v2_ideogram_3",
            "post_remix_image",
            "post_remix_image_v3",
            "post_remix_v2_ideogram_3",
            "post_remix_v2_ideogram_3_character",
            "post_remix_v2_ideogram_3_custom_model",
            "post_remix_v2_ideogram_4",
            "post_remove_background_v2",
            "post_remove_object_v2",
            "post_replace_background_v2_ideogram_3",
            "post_replace_background_v3",
            "post_upscale_image",
            "post_upscale_v2",
        ]
    );
    // Progenitor never sees a multipart body (it has none, and panics on
    // two content types): a multipart-only operation is gone from its
    // input, one that also takes JSON keeps JSON alone. The schemas stay.
    assert!(!spec.paths.paths.contains_key("/remix"));
    let both = spec.paths.paths["/v1/ideogram-v3/generate"]
        .as_item()
        .and_then(|item| item.post.as_ref())
        .and_then(|op| op.request_body.as_ref())
        .and_then(|body| body.as_item())
        .expect("generate v3");
    assert_eq!(
        both.content.keys().collect::<Vec<_>>(),
        ["application/json"]
    );
    let schemas = &spec.components.as_ref().expect("components").schemas;
    assert!(schemas.contains_key("RemixImageRequest"));
    let remix = ops
        .iter()
        .find(|op| op.method_name == "post_remix_image")
        .unwrap();
    assert_eq!(remix.json_parts, ["image_request"]);
    assert_eq!(remix.success, (200, "GenerateImageResponse".to_owned()));
}

/// Each spec's `aliases::ALL` is every `x-aliases` its schemas' fields
/// carry, and the webhook delivery's id is among them (`request_id`).
#[test]
fn the_aliases_tables_hold_what_the_specs_say() {
    use ideogram_raw::alias::Alias;
    let in_spec = |schemas: &ideogram_raw::schema::Schemas| {
        let mut rows = Vec::new();
        for name in schemas.names() {
            let properties = schemas.get(name).and_then(|s| s["properties"].as_object());
            for (field, property) in properties.into_iter().flatten() {
                if let Some(aliases) = property["x-aliases"].as_array() {
                    let aliases: Vec<String> = aliases
                        .iter()
                        .map(|a| a.as_str().expect("a name").to_owned())
                        .collect();
                    rows.push((name.to_owned(), field.clone(), aliases));
                }
            }
        }
        rows.sort();
        rows
    };
    let in_table = |table: &[Alias]| {
        let mut rows: Vec<_> = table
            .iter()
            .map(|a| {
                let aliases = a.aliases.iter().map(|n| (*n).to_owned()).collect();
                (a.schema.to_owned(), a.field.to_owned(), aliases)
            })
            .collect::<Vec<(String, String, Vec<String>)>>();
        rows.sort();
        rows
    };
    let ideogram = in_spec(ideogram_raw::schema::ideogram());
    assert!(
        ideogram.contains(&(
            "WebhookDelivery".to_owned(),
            "generation_id".to_owned(),
            vec!["request_id".to_owned()]
        )),
        "{ideogram:?}"
    );
    assert_eq!(in_table(ideogram_raw::ideogram::aliases::ALL), ideogram);
    let segmind = in_spec(ideogram_raw::schema::segmind());
    assert_eq!(in_table(ideogram_raw::segmind::aliases::ALL), segmind);
}
