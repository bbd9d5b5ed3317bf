//! Sends one generation with body fields set by their spec names: any field
//! of any body, including one a regeneration just added to a spec.
//!
//! ```text
//! cargo run -p ideogram --example set_field -- PROVIDER BASE_URL MODEL OPERATION PROMPT [FIELD=VALUE]...
//! ```
//!
//! The key is read from the provider's variable (`SEGMIND_API_KEY`,
//! `IDEOGRAM_API_KEY`). `OPERATION` is a spec operation id, or `-` for the
//! first of the model's that takes the fields. Each `VALUE` is read as JSON,
//! else taken as a string. Prints the operation the request went to and the
//! number of images; `cargo xtask evolve-check` runs it against the mock.

use ideogram::{Client, GenerateRequest, Provider};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [provider, base_url, model, operation, prompt, fields @ ..] = args.as_slice() else {
        return Err(
            "usage: set_field PROVIDER BASE_URL MODEL OPERATION PROMPT [FIELD=VALUE]...".into(),
        );
    };
    let provider: Provider = provider.parse()?;
    let client = Client::builder(provider).base_url(base_url).build()?;
    let mut request = GenerateRequest::new(prompt).model(model.parse()?);
    if operation != "-" {
        request = request.operation(operation);
    }
    for field in fields {
        let (name, value) = field.split_once('=').ok_or("a field is FIELD=VALUE")?;
        let value: serde_json::Value = serde_json::from_str(value).unwrap_or_else(|_| value.into());
        request = request.set(name, value);
    }
    let prepared = client.prepare(&request).await?;
    let operation = prepared.wire().operation().id;
    let generation = prepared.generate().await?;
    println!("{operation} {}", generation.images.len());
    Ok(())
}
