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
    let names: Vec<_> = ops.iter().map(|op| op.method_name.as_str()).collect();
    assert_eq!(names, ["post_remix_image"]);
    // Progenitor never sees a multipart body (it has none, and panics on
    // two content types); the schemas stay for the generated body types.
    assert!(!spec.paths.paths.contains_key("/remix"));
    let schemas = &spec.components.as_ref().expect("components").schemas;
    assert!(schemas.contains_key("RemixImageRequest"));
    assert_eq!(ops[0].json_parts, ["image_request"]);
    assert_eq!(ops[0].success, (200, "GenerateImageResponse".to_owned()));
}
