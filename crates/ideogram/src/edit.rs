//! Operations on an uploaded image: one request type for all of them,
//! lowered like a generation.

use serde_json::Value;

use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::lowering::{Draft, Lowered, Slot};
use crate::model::Model;
use crate::provider::Provider;
use crate::request::{Common, common_methods};

/// What to do to the image. As JSON, an object whose `op` names the
/// operation (`edit`, `reframe`, `replace-background`, `upscale`,
/// `remove-background`, `remove-object`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum EditKind {
    /// Repaint where `mask` is black (a grayscale image of the input's
    /// size), from the prompt.
    Edit {
        /// Where to repaint.
        mask: ImageInput,
        /// What to paint there.
        prompt: String,
    },
    /// Extend a square image outwards to `resolution` (no prompt).
    Reframe {
        /// The size to extend to, one of Ideogram 3.0's.
        resolution: crate::resolution::Resolution,
    },
    /// Keep the subject and paint a new background from the prompt.
    ReplaceBackground {
        /// The new background.
        prompt: String,
    },
    /// Enlarge the image (Ideogram's `/upscale`; the result reports
    /// Ideogram 3.0 as its model).
    Upscale {
        /// What the image shows, to guide the detail added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        /// How closely the result keeps the input (`None`: the service's
        /// default), in `limits::UPSCALE_INITIAL_IMAGE_REQUEST_RESEMBLANCE`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(description = "How closely the result keeps the input.")]
        resemblance: Option<u32>,
        /// How much detail is added, in the spec's range
        /// (`limits::UPSCALE_INITIAL_IMAGE_REQUEST_DETAIL`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(description = "How much detail is added.")]
        detail: Option<u32>,
    },
    /// Make the background transparent (Ideogram's v2; no prompt).
    RemoveBackground,
    /// Remove what `mask` marks white (Ideogram's v2; no prompt).
    RemoveObject {
        /// What to remove: white is removed, black kept; the image's size.
        mask: ImageInput,
    },
}

impl EditKind {
    /// The operation's name: its task in the specs' `x-route`s.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Edit { .. } => "edit",
            Self::Reframe { .. } => "reframe",
            Self::ReplaceBackground { .. } => "replace-background",
            Self::Upscale { .. } => "upscale",
            Self::RemoveBackground => "remove-background",
            Self::RemoveObject { .. } => "remove-object",
        }
    }

    /// The model it runs unless one is chosen: Ideogram 3.0 where the
    /// task's routes name models, none where they do not (upscale, the
    /// removals).
    fn default_model(&self, provider: Provider) -> Option<Model> {
        let mut routes = crate::catalog::routes(provider, self.name(), None);
        routes
            .any(|op| op.route.is_some_and(|r| !r.models.is_empty()))
            .then_some(EditRequest::MODEL)
    }

    /// Whether this operation on `provider` takes the field `field` (its
    /// spec name).
    ///
    /// ```
    /// use ideogram::{EditKind, Provider};
    ///
    /// let upscale = EditKind::Upscale { prompt: None, resemblance: None, detail: None };
    /// assert!(upscale.takes("seed", Provider::Ideogram));
    /// assert!(!upscale.takes("color_palette", Provider::Ideogram));
    /// assert!(!upscale.takes("seed", Provider::Segmind));
    /// ```
    pub fn takes(&self, field: &str, provider: Provider) -> bool {
        !crate::catalog::takers(provider, self.name(), field).is_empty()
    }

    /// The operation's prompt, if it has one.
    pub(crate) fn prompt(&self) -> Option<&str> {
        match self {
            Self::Edit { prompt, .. } | Self::ReplaceBackground { prompt } => Some(prompt),
            Self::Upscale { prompt, .. } => prompt.as_deref(),
            Self::Reframe { .. } | Self::RemoveBackground | Self::RemoveObject { .. } => None,
        }
    }
}

/// An operation on an uploaded image, with its options by the spec's field
/// names, like [`GenerateRequest`](crate::GenerateRequest): one its body
/// does not take is an error, never dropped.
///
/// ```no_run
/// use ideogram::{Client, EditRequest, ImageInput};
///
/// # async fn run() -> Result<(), ideogram::Error> {
/// let client = Client::ideogram_from_env()?;
/// let request = EditRequest::edit(
///     "photo.png".parse::<ImageInput>()?,
///     "mask.png".parse::<ImageInput>()?,
///     "a red door",
/// )
/// .num_images(2)
/// .set("style_type", "DESIGN");
/// let generation = client.edit(&request).await?;
/// # let _ = generation;
/// # Ok(())
/// # }
/// ```
///
/// As JSON, the operation is an object named by its `op`; the other fields
/// are the body's:
///
/// ```
/// use ideogram::{EditRequest, Provider};
///
/// let request: EditRequest = serde_json::from_value(serde_json::json!({
///     "image": "https://example.com/photo.png",
///     "operation": {"op": "reframe", "resolution": "1280x800"},
///     "seed": 7
/// }))
/// .unwrap();
/// request.check(Provider::Ideogram)?;
/// # Ok::<(), ideogram::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[schemars(
    title = "EditRequest",
    description = "An operation on an image, by the spec's field names; fields the operation's body does not take are refused, never dropped."
)]
pub struct EditRequest {
    /// The image to work on: an http(s) URL, a `data:` URL or a path.
    image: ImageInput,
    /// What to do to it.
    #[serde(rename = "operation")]
    kind: EditKind,
    /// The model (default [`EditRequest::MODEL`] where the operation runs models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
    /// The spec id of the operation to send to, if not the default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "operation_id"
    )]
    operation: Option<String>,
    #[serde(flatten)]
    common: Common,
}

impl EditRequest {
    common_methods!();

    /// The model an operation that runs models runs unless one is chosen:
    /// Ideogram 3.0.
    pub const MODEL: Model = Model::V3;

    /// `image` with `kind` done to it, every option at the service's default.
    pub fn new(image: ImageInput, kind: EditKind) -> Self {
        Self {
            image,
            kind,
            model: None,
            operation: None,
            common: Common::default(),
        }
    }

    setters! {
        /// The model (Ideogram 4.5's precise edit: [`Model::V4_5`]).
        model(model: Model) => model = Some(model);
        /// Sends to the operation with the spec id `id`, not the first that takes the request.
        operation(id: impl Into<String>) => operation = Some(id.into());
    }

    /// The model the result reports: the chosen one, else [`EditRequest::MODEL`].
    pub fn chosen_model(&self) -> Model {
        self.model.unwrap_or(Self::MODEL)
    }

    /// Make `image`'s background transparent.
    pub fn remove_background(image: ImageInput) -> Self {
        Self::new(image, EditKind::RemoveBackground)
    }

    /// Remove from `image` what `mask` marks white.
    pub fn remove_object(image: ImageInput, mask: ImageInput) -> Self {
        Self::new(image, EditKind::RemoveObject { mask })
    }

    /// Repaint where `mask` is black, from `prompt`.
    pub fn edit(image: ImageInput, mask: ImageInput, prompt: impl Into<String>) -> Self {
        let prompt = prompt.into();
        Self::new(image, EditKind::Edit { mask, prompt })
    }

    /// Extend `image` (square) to `resolution`.
    pub fn reframe(image: ImageInput, resolution: crate::resolution::Resolution) -> Self {
        Self::new(image, EditKind::Reframe { resolution })
    }

    /// Replace `image`'s background with one painted from `prompt`.
    pub fn replace_background(image: ImageInput, prompt: impl Into<String>) -> Self {
        let prompt = prompt.into();
        Self::new(image, EditKind::ReplaceBackground { prompt })
    }

    /// Enlarge `image` with the service's defaults.
    pub fn upscale(image: ImageInput) -> Self {
        let kind = EditKind::Upscale {
            prompt: None,
            resemblance: None,
            detail: None,
        };
        Self::new(image, kind)
    }

    /// What is done to the image.
    pub fn kind(&self) -> &EditKind {
        &self.kind
    }

    /// The input image.
    pub fn image(&self) -> &ImageInput {
        &self.image
    }

    /// Every image the request reads, with the field that holds it.
    ///
    /// ```
    /// use ideogram::{EditRequest, ImageInput};
    ///
    /// let request = EditRequest::edit(
    ///     ImageInput::file("photo.png"),
    ///     ImageInput::file("mask.png"),
    ///     "a red door",
    /// );
    /// let fields: Vec<String> = request.input_images().into_iter().map(|(field, _)| field).collect();
    /// assert_eq!(fields, ["image", "operation.mask"]);
    /// ```
    pub fn input_images(&self) -> Vec<(String, ImageInput)> {
        // The mask is given inside the operation.
        let name = |n: &'static str| if n == "mask" { "operation.mask" } else { n };
        self.common.input_images(self.slots(), name)
    }

    /// The request's images, each with where it goes.
    fn slots(&self) -> crate::request::Slots<'_> {
        let mask = match &self.kind {
            EditKind::Edit { mask, .. } | EditKind::RemoveObject { mask } => Some(mask),
            _ => None,
        };
        self.common.slots([
            (Slot::Input, Some(&self.image)),
            (Slot::Field("mask"), mask),
        ])
    }

    /// The JSON Schema of a request for `task` (an [`EditKind::name`]) on `provider`.
    pub fn json_schema(provider: Provider, task: &str) -> Value {
        crate::json_form::request_schema::<Self>(provider, &[task])
    }

    /// The request lowered into its operation's body on `provider`.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        if let Some(prompt) = self.kind.prompt() {
            crate::lowering::check_prompt("prompt", prompt)?;
        }
        let images = self.slots();
        for (slot, image) in &images {
            slot.check(image)?;
        }
        let mut fields = self.common.fields.clone();
        if let EditKind::Upscale {
            resemblance,
            detail,
            ..
        } = self.kind
        {
            fields.extend(resemblance.map(|r| ("resemblance".to_owned(), r.into())));
            fields.extend(detail.map(|d| ("detail".to_owned(), d.into())));
        }
        Draft {
            task: self.kind.name(),
            model: self.model.or_else(|| self.kind.default_model(provider)),
            operation: self.operation.as_deref(),
            prompt: self.kind.prompt(),
            resolution: match self.kind {
                EditKind::Reframe { resolution } => Some(resolution),
                _ => None,
            },
            aspect_ratio: None,
            palette: self.common.color_palette.as_ref(),
            magic_prompt: self.common.magic_prompt,
            images: &images,
            fields: &fields,
        }
        .lower(provider)
    }
}
