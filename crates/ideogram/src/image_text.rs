//! Requests that read an image's words rather than make images: describe
//! and layerize-text, each with the model or operation to run it on and
//! body fields by their spec names; and the text blocks layerize answers.

use std::collections::BTreeMap;

use ideogram_raw::ideogram::types::{DetectedTextBlock, TextBlockV2};
use serde_json::Value;

use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::lowering::{Draft, Lowered, Slot};
use crate::model::Model;
use crate::provider::Provider;

/// Where a request on an image runs, and the body fields it sets.
#[derive(Debug, Clone, Default, PartialEq)]
struct Target {
    model: Option<Model>,
    operation: Option<String>,
    fields: BTreeMap<String, Value>,
}

impl Target {
    /// `task` on `image` (and `prompt`) lowered into its operation's body.
    fn lower(
        &self,
        provider: Provider,
        task: &str,
        default_model: Option<Model>,
        image: &ImageInput,
        prompt: Option<&str>,
    ) -> Result<Lowered, InvalidInput> {
        if let Some(prompt) = prompt {
            crate::lowering::check_prompt("prompt", prompt)?;
        }
        Slot::Input.check(image)?;
        Draft {
            task,
            model: self.model.or(default_model),
            operation: self.operation.as_deref(),
            prompt,
            resolution: None,
            aspect_ratio: None,
            palette: None,
            magic_prompt: None,
            images: &[(Slot::Input, image)],
            fields: &self.fields,
        }
        .lower(provider)
    }
}

/// The setters both requests share: the model, the operation, a field.
macro_rules! target_setters {
    () => {
        /// Runs on `model` (Ideogram's routes pick the operation that runs it).
        pub fn model(mut self, model: Model) -> Self {
            self.target.model = Some(model);
            self
        }

        /// Sends to the operation with the spec id `id`, not the first that
        /// takes the request.
        pub fn operation(mut self, id: impl Into<String>) -> Self {
            self.target.operation = Some(id.into());
            self
        }

        /// Sets the body field `name` (its spec name) to `value`; a field
        /// no operation here takes is refused when the request is lowered,
        /// never dropped.
        pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
            self.target.fields.insert(name.into(), value.into());
            self
        }

        /// Checks the request for `provider` as sending it would (its
        /// operation, fields and values, the image's form), reading and
        /// sending nothing: a caller that sends many (a batch) refuses a bad
        /// one before any is sent.
        pub fn check(&self, provider: Provider) -> Result<(), InvalidInput> {
            self.lower(provider).map(drop)
        }

        /// The chosen model, if any.
        pub fn chosen_model(&self) -> Option<Model> {
            self.target.model
        }
    };
}

/// Words for an image ([`Client::describe_request`](crate::Client::describe_request)):
/// by default Ideogram's v1 `/describe` (Segmind's `ideogram-describe`);
/// [`Model::V4`] runs v2's 4.0 describe, whose answer is one description,
/// a structured prompt as JSON text.
///
/// ```no_run
/// use ideogram::{Client, DescribeRequest, ImageInput, Model};
///
/// # async fn run() -> Result<(), ideogram::Error> {
/// let client = Client::ideogram_from_env()?;
/// let request = DescribeRequest::new("photo.png".parse::<ImageInput>()?)
///     .model(Model::V4)
///     .set("include_tags", true);
/// let words = client.describe_request(&request).await?;
/// // 4.0's one description is a `json_prompt` to generate with.
/// let json_prompt = serde_json::from_str::<serde_json::Value>(&words[0]);
/// # let _ = json_prompt;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeRequest {
    image: ImageInput,
    target: Target,
}

impl DescribeRequest {
    /// Describes `image` with the service's defaults.
    pub fn new(image: ImageInput) -> Self {
        Self {
            image,
            target: Target::default(),
        }
    }

    target_setters!();

    /// The models a describe on `provider` may be asked for (those its
    /// spec's describe routes name), oldest first.
    ///
    /// ```
    /// use ideogram::{DescribeRequest, Model, Provider};
    ///
    /// assert!(DescribeRequest::models(Provider::Ideogram).contains(&Model::V4));
    /// ```
    pub fn models(provider: Provider) -> Vec<Model> {
        let names = crate::catalog::models(provider, "describe");
        let mut models: Vec<Model> = names.iter().filter_map(|m| m.parse().ok()).collect();
        models.dedup();
        models
    }

    /// The request lowered into its operation's body on `provider`.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        self.target
            .lower(provider, "describe", None, &self.image, None)
    }
}

/// An image's text separated into layers
/// ([`Client::layerize`](crate::Client::layerize)): Ideogram 3.0's v1
/// layerize-text unless the request needs v2's design layerize (`async`,
/// `webhook_url`, font files, or its operation chosen).
///
/// ```no_run
/// use ideogram::{Client, ImageInput, LayerizeRequest};
///
/// # async fn run() -> Result<(), ideogram::Error> {
/// let client = Client::ideogram_from_env()?;
/// let request = LayerizeRequest::new("poster.png".parse::<ImageInput>()?)
///     .operation("post_layerize_v2_ideogram_3")
///     .set("async", true);
/// let layers = client.layerize(&request).await?;
/// for block in layers.blocks.placed() {
///     println!("{} at {},{}", block.text, block.x, block.y);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LayerizeRequest {
    image: ImageInput,
    prompt: Option<String>,
    target: Target,
}

impl LayerizeRequest {
    /// The model layerize runs unless one is chosen: Ideogram 3.0.
    pub const MODEL: Model = Model::V3;

    /// Separates `image`'s text with the service's defaults.
    pub fn new(image: ImageInput) -> Self {
        Self {
            image,
            prompt: None,
            target: Target::default(),
        }
    }

    /// What the image shows, to guide text detection (v1 and v2 take it;
    /// without it v1 writes one and v2 reads the image alone).
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    target_setters!();

    /// The spec ids of the operations a layerize on `provider` may be sent
    /// to ([`operation`](Self::operation)), in the spec's order: v1's
    /// layerize-text first, then v2's design layerize.
    ///
    /// ```
    /// use ideogram::{LayerizeRequest, Provider};
    ///
    /// assert!(LayerizeRequest::operations(Provider::Ideogram).contains(&"post_layerize_v2_ideogram_3"));
    /// ```
    pub fn operations(provider: Provider) -> Vec<&'static str> {
        crate::catalog::routes(provider, "layerize-text", None)
            .map(|op| op.id)
            .collect()
    }

    /// The prompt given, if any.
    pub(crate) fn prompt_text(&self) -> Option<&str> {
        self.prompt.as_deref()
    }

    /// Whether on `provider` this request is answered later (v2 with
    /// `async` or a `webhook_url`: a generation id, then polled), and if so
    /// the fields of its body that decide how it is delivered: a caller that
    /// must record what it paid for before waiting (a journal) learns it
    /// here, before anything is sent. Lowering's refusal is the error.
    pub fn answers_later(
        &self,
        provider: Provider,
    ) -> Result<Option<Vec<&'static str>>, InvalidInput> {
        let lowered = self.lower(provider)?;
        let (op, body) = (lowered.operation, &lowered.body);
        let polled = op.route.is_some_and(|r| r.poll.is_some());
        let (spec, schema) = (
            crate::catalog::schemas(provider),
            op.body.unwrap_or_default(),
        );
        Ok((polled && spec.answers_later(schema, body)).then(|| spec.delivery_field_names(schema)))
    }

    /// The request lowered into its operation's body on `provider`.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        let task = "layerize-text";
        let (image, prompt) = (&self.image, self.prompt.as_deref());
        self.target
            .lower(provider, task, Some(Self::MODEL), image, prompt)
    }
}

/// The text blocks of a layerized image, each as the spec's generated type
/// for the operation that answered describes it: v1's
/// [`DetectedTextBlock`] (with fonts and formatting), or v2's
/// [`TextBlockV2`]. Serialises as the list.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum TextBlocks {
    /// v1 layerize-text's blocks.
    V1(Vec<DetectedTextBlock>),
    /// v2 design layerize's blocks.
    V2(Vec<TextBlockV2>),
}

/// Where one block of text is and what it says, whichever version answered.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PlacedText<'a> {
    /// The words.
    pub text: &'a str,
    /// Left edge in pixels.
    pub x: i64,
    /// Top edge in pixels.
    pub y: i64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels, where the answer gives it.
    pub height: Option<i64>,
}

impl TextBlocks {
    /// How many blocks there are.
    pub fn len(&self) -> usize {
        match self {
            Self::V1(blocks) => blocks.len(),
            Self::V2(blocks) => blocks.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each block's box and words, in order.
    pub fn placed(&self) -> Vec<PlacedText<'_>> {
        match self {
            Self::V1(blocks) => blocks
                .iter()
                .map(|b| PlacedText {
                    text: &b.text,
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: Some(b.height),
                })
                .collect(),
            Self::V2(blocks) => blocks
                .iter()
                .map(|b| PlacedText {
                    text: &b.text,
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                })
                .collect(),
        }
    }
}
