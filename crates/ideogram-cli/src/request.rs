//! Turns command-line options and batch lines into checked requests. The
//! flags are the spec's fields by name (`args`), `--set` reaches any other
//! field, and a batch line is the library's JSON form of a request: the
//! spec's field names, with the library's aliases and nothing of our own.

use ideogram::{
    DescribeRequest, EditKind, EditRequest, GenerateRequest, ImageInput, ImageWeight, InvalidInput,
    LayerizeRequest, MagicPrompt, Model, Palette, SpecEnum,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::naming;
use crate::options::{BodyOptions, EditOptions, Options, TargetOptions};

/// What the flags of [`BodyOptions`] set, on either kind of request.
trait Body: Sized {
    fn set(self, field: &str, value: Value) -> Self;
    fn palette(self, palette: Palette) -> Self;
    fn magic_prompt(self, magic: MagicPrompt) -> Self;
    fn style_reference(self, image: ImageInput) -> Self;
}

impl Body for GenerateRequest {
    fn set(self, field: &str, value: Value) -> Self {
        GenerateRequest::set(self, field, value)
    }
    fn palette(self, palette: Palette) -> Self {
        GenerateRequest::palette(self, palette)
    }
    fn magic_prompt(self, magic: MagicPrompt) -> Self {
        GenerateRequest::magic_prompt(self, magic)
    }
    fn style_reference(self, image: ImageInput) -> Self {
        GenerateRequest::style_reference(self, image)
    }
}

impl Body for EditRequest {
    fn set(self, field: &str, value: Value) -> Self {
        EditRequest::set(self, field, value)
    }
    fn palette(self, palette: Palette) -> Self {
        EditRequest::palette(self, palette)
    }
    fn magic_prompt(self, magic: MagicPrompt) -> Self {
        EditRequest::magic_prompt(self, magic)
    }
    fn style_reference(self, image: ImageInput) -> Self {
        EditRequest::style_reference(self, image)
    }
}

/// `request` with the body fields `options` give: each flag by its spec
/// field's name, then every `--set FIELD=VALUE`.
fn with_body<R: Body>(mut request: R, options: &BodyOptions) -> Result<R, InvalidInput> {
    for (field, text) in [("num_images", &options.num_images), ("seed", &options.seed)] {
        if let Some(number) = whole(field, text.as_deref())? {
            request = request.set(field, number.into());
        }
    }
    // Enum values, already in the spec's spelling (`values`).
    request = verbatim(request, &options.enums);
    if let Some(magic) = &options.magic_prompt {
        request = match MagicPrompt::parse_loose(magic) {
            // The switch every body spells its own way.
            Ok(magic) => request.magic_prompt(magic),
            // A value only the spec knows: to the field whose enum has it.
            Err(_) => {
                let field = ["magic_prompt", "magic_prompt_option"]
                    .into_iter()
                    .find(|f| ideogram::field_values(f).contains(magic))
                    .unwrap_or("magic_prompt");
                request.set(field, magic.as_str().into())
            }
        };
    }
    if let Some(palette) = &options.color_palette {
        request = request.palette(palette.parse::<Palette>()?);
    }
    for reference in &options.style_reference_images {
        request = request.style_reference(image_named(reference, "style_reference_images")?);
    }
    for (field, value) in sets(&options.set)? {
        request = request.set(&field, value);
    }
    Ok(request)
}

/// `request` with each field `fields` gives, by its own name (the spec's).
fn verbatim<R: Body>(mut request: R, fields: &impl serde::Serialize) -> R {
    let fields = serde_json::to_value(fields).expect("flags are JSON");
    for (field, value) in fields.as_object().into_iter().flatten() {
        if !value.is_null() {
            request = request.set(field, value.clone());
        }
    }
    request
}

/// `--set FIELD=VALUE` pairs: VALUE read as JSON, else as text.
fn sets(pairs: &[String]) -> Result<Vec<(String, Value)>, InvalidInput> {
    pairs
        .iter()
        .map(|pair| {
            let (field, text) = pair
                .split_once('=')
                .ok_or_else(|| InvalidInput::new("set", format!("{pair:?} is not FIELD=VALUE")))?;
            let field = field.trim();
            if field.is_empty() {
                return Err(InvalidInput::new("set", format!("{pair:?} names no field")));
            }
            let value = serde_json::from_str(text).unwrap_or_else(|_| text.into());
            Ok((field.to_owned(), value))
        })
        .collect()
}

/// A command's positional arguments as it reads them: its `images` (by
/// the request's names, `image` and `mask`, each its next argument, or the
/// asset identifier `--set` gives in its place: the field the spec marks
/// `x-in-place-of` it, taken out of `set`), then its `words`. `given` are
/// the arguments clap filled, in order (an image named by its identifier
/// leaves its place to the next argument). An image given neither way, or
/// both ways, is refused naming the two.
pub(crate) fn positionals(
    given: &[Option<String>],
    images: &[&'static str],
    words: &[&'static str],
    set: &mut Vec<String>,
) -> Result<(Vec<ImageInput>, Vec<String>), InvalidInput> {
    let given: Vec<&String> = given.iter().flatten().collect();
    let mut assets = Vec::new();
    for image in images {
        let field = ImageInput::asset_field(image);
        let pair = field.and_then(|field| {
            set.iter().position(|pair| {
                pair.split_once('=')
                    .is_some_and(|(name, _)| name.trim() == field)
            })
        });
        assets.push(match (field, pair) {
            (Some(field), Some(at)) => {
                let pair = set.remove(at);
                let text = pair.split_once('=').map_or("", |(_, text)| text);
                let value = serde_json::from_str(text).unwrap_or_else(|_| text.into());
                Some((field, ImageInput::from_asset_json(field, &value)?))
            }
            _ => None,
        });
    }
    let files = assets.iter().filter(|a| a.is_none()).count();
    let extra = given.len().saturating_sub(files + words.len());
    if let (true, Some((field, _))) = (extra > 0, assets.iter().flatten().next()) {
        let image = images[assets.iter().position(Option::is_some).expect("an asset")];
        let message = format!(
            "stands in for {}: give the file or its identifier, not both",
            image.to_uppercase()
        );
        return Err(InvalidInput::new(*field, message));
    }
    // Short of arguments: the first image given neither way is what is
    // missing (a prompt alone would otherwise be read as the image).
    let short = given.len() < files + words.len();
    let mut given = given.into_iter();
    let mut inputs = Vec::new();
    for (image, asset) in images.iter().zip(assets) {
        if let Some((_, asset)) = asset {
            inputs.push(asset);
            continue;
        }
        let next = if short { None } else { given.next() };
        let Some(text) = next else {
            let upper = image.to_uppercase();
            let message = match ImageInput::asset_field(image) {
                Some(field) => format!(
                    "is required: give {upper} (a file or a URL), or --set {field}=<asset identifier> in its place"
                ),
                None => format!("is required: give {upper} (a file or a URL)"),
            };
            return Err(InvalidInput::new(*image, message));
        };
        inputs.push(image_named(text, image)?);
    }
    let mut texts = Vec::new();
    for word in words {
        let text = given
            .next()
            .ok_or_else(|| InvalidInput::new(*word, "is required"))?;
        texts.push(text.clone());
    }
    Ok((inputs, texts))
}

/// An image operation's request: `kind` done to `image`, with `options`.
pub(crate) fn edit(
    image: ImageInput,
    kind: EditKind,
    options: &EditOptions,
) -> Result<EditRequest, InvalidInput> {
    let mut request = EditRequest::new(image, kind);
    if let Some(model) = &options.model {
        request = request.model(model.parse()?);
    }
    if let Some(id) = &options.operation {
        request = request.operation(id);
    }
    with_body(request, &options.body)
}

/// A describe request for `image` with `options`.
pub(crate) fn describe(
    image: ImageInput,
    options: &TargetOptions,
) -> Result<DescribeRequest, InvalidInput> {
    let request = DescribeRequest::new(image);
    targeted(request, options)
}

/// A layerize request for `image` (and `prompt`) with `options`.
pub(crate) fn layerize(
    image: ImageInput,
    prompt: Option<&str>,
    options: &TargetOptions,
) -> Result<LayerizeRequest, InvalidInput> {
    let mut request = LayerizeRequest::new(image);
    if let Some(prompt) = prompt {
        request = request.prompt(prompt);
    }
    targeted(request, options)
}

/// What [`TargetOptions`] set, on describe and layerize requests alike.
trait Targeted: Sized {
    fn model(self, model: Model) -> Self;
    fn operation(self, id: &str) -> Self;
    fn set(self, field: String, value: Value) -> Self;
}

macro_rules! targeted {
    ($($request:ty),*) => {$(
        impl Targeted for $request {
            fn model(self, model: Model) -> Self {
                <$request>::model(self, model)
            }
            fn operation(self, id: &str) -> Self {
                <$request>::operation(self, id)
            }
            fn set(self, field: String, value: Value) -> Self {
                <$request>::set(self, field, value)
            }
        }
    )*};
}
targeted!(DescribeRequest, LayerizeRequest);

/// `request` run on the model or operation `options` choose, with their fields.
fn targeted<R: Targeted>(mut request: R, options: &TargetOptions) -> Result<R, InvalidInput> {
    if let Some(model) = &options.model {
        request = request.model(model.parse()?);
    }
    if let Some(id) = &options.operation {
        request = request.operation(id);
    }
    for (field, value) in sets(&options.set)? {
        request = request.set(field, value);
    }
    Ok(request)
}

/// A whole number as written, if one was, its error naming `field`. A
/// negative one is kept, for the spec's range to refuse by name.
pub(crate) fn whole(field: &'static str, text: Option<&str>) -> Result<Option<i64>, InvalidInput> {
    text.map(|t| {
        t.trim()
            .parse::<i64>()
            .map_err(|_| InvalidInput::new(field, format!("{t:?} is not a whole number")))
    })
    .transpose()
}

/// [`whole`], for a value the library takes unsigned.
pub(crate) fn unsigned(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<u32>, InvalidInput> {
    whole(field, text)?
        .map(|n| u32::try_from(n).map_err(|_| InvalidInput::new(field, format!("{n} is below 0"))))
        .transpose()
}

/// The mask of an edit, named as the command calls it.
pub(crate) fn mask(text: &str) -> Result<ImageInput, InvalidInput> {
    image_named(text, "mask")
}

/// The request for `prompt` with `options`.
pub(crate) fn build(prompt: &str, options: &Options) -> Result<GenerateRequest, InvalidInput> {
    let mut request = GenerateRequest::new(prompt);
    if let Some(model) = &options.model {
        request = request.model(model.parse::<Model>()?);
    }
    if let Some(operation) = &options.operation {
        request = request.operation(operation);
    }
    if let Some(resolution) = &options.resolution {
        request = request.resolution(resolution.parse()?);
    }
    if let Some(aspect) = &options.aspect_ratio {
        request = request.aspect_ratio(aspect.parse()?);
    }
    request = verbatim(request, &options.text);
    if let Some(character) = &options.character_reference_images {
        let mask = options
            .character_reference_images_mask
            .as_deref()
            .map(|m| image_named(m, "character_reference_images_mask"))
            .transpose()?;
        request = request
            .character_reference(image_named(character, "character_reference_images")?, mask);
    }
    if options.transparent {
        request = request.transparent();
    }
    with_body(request, &options.body)
}

/// An input image whose errors name `field`.
fn image_named(text: &str, field: &'static str) -> Result<ImageInput, InvalidInput> {
    text.parse::<ImageInput>().map_err(|mut e| {
        e.field = field.into();
        e
    })
}

/// Adds the input image of a remix, and how closely to follow it.
pub(crate) fn with_image(
    request: GenerateRequest,
    image: ImageInput,
    weight: Option<&str>,
) -> Result<GenerateRequest, InvalidInput> {
    let mut request = request.image(image);
    if let Some(weight) = weight {
        let weight = unsigned("image_weight", Some(weight))?.unwrap_or_default();
        request = request.image_weight(ImageWeight::new(weight)?);
    }
    Ok(request)
}

/// An `image_weight` given with no input image to weigh.
pub(crate) fn weight_without_image() -> InvalidInput {
    let instead = ImageInput::asset_field("image")
        .map(|field| format!(" (or --set {field}=<asset identifier>)"))
        .unwrap_or_default();
    InvalidInput::new(
        "image_weight",
        format!("weighs an input image: give --image{instead} with it"),
    )
}

/// What a batch item makes: a generation, an operation on an image, or
/// an image's words (describe) or text layers (layerize-text).
#[derive(Debug)]
pub(crate) enum Work {
    Generate(GenerateRequest),
    Edit(EditRequest),
    Describe(DescribeRequest),
    Layerize(LayerizeRequest),
}

impl Work {
    /// The whole request checked for `provider`, nothing read or sent.
    pub(crate) fn check(&self, provider: ideogram::Provider) -> Result<(), ideogram::InvalidInput> {
        match self {
            Self::Generate(request) => request.check(provider),
            Self::Edit(request) => request.check(provider),
            Self::Describe(request) => request.check(provider),
            Self::Layerize(request) => match request.answers_later(provider)? {
                // Refused as `layerize-text` refuses it: a batch line waits
                // for its layers itself.
                Some(fields) => Err(InvalidInput::new(
                    fields.join(", "),
                    format!(
                        "layerize-text waits for its result itself: send it without {}",
                        fields.join(" or ")
                    ),
                )),
                None => Ok(()),
            },
        }
    }

    /// The images it makes (checked by the library; one unless asked).
    pub(crate) fn images(&self) -> usize {
        match self {
            Self::Generate(request) => request.num_images_asked().unwrap_or(1) as usize,
            Self::Edit(request) => request.images_asked() as usize,
            // A text file.
            Self::Describe(_) => 1,
            // The base, and v2's design beside it.
            Self::Layerize(_) => 2,
        }
    }

    /// Whether it names an image (a file or a URL) to read before sending.
    pub(crate) fn reads_images(&self) -> bool {
        match self {
            Self::Generate(request) => !request.input_images().is_empty(),
            Self::Edit(request) => !request.input_images().is_empty(),
            Self::Describe(_) | Self::Layerize(_) => true,
        }
    }

    pub(crate) fn model(&self) -> ideogram::Model {
        match self {
            Self::Generate(request) => request.chosen_model(),
            Self::Edit(_) => EditRequest::MODEL,
            // v1's describe names no model; the v2 routes each run one.
            Self::Describe(request) => request.chosen_model().unwrap_or(LayerizeRequest::MODEL),
            Self::Layerize(request) => request.chosen_model().unwrap_or(LayerizeRequest::MODEL),
        }
    }

    /// Its images read and checked as sending would, nothing sent.
    pub(crate) async fn check_images(
        &self,
        client: &ideogram::Client,
    ) -> Result<(), ideogram::Error> {
        match self {
            Self::Describe(request) => client.check_describe(request).await,
            Self::Layerize(request) => client.check_layerize(request).await,
            _ => self.prepare(client).await.map(drop),
        }
    }

    /// The spec's price (a dry run where the operation has one, which is
    /// free), for an item resumed without preparing its request.
    pub(crate) async fn estimate(
        &self,
        client: &ideogram::Client,
    ) -> Result<ideogram::Quote, ideogram::Error> {
        match self {
            Self::Describe(_) | Self::Layerize(_) => self.quote(client).await,
            _ => self.prepare(client).await?.estimate(),
        }
    }

    /// Checked, its images read and its in-flight slot held: ready to
    /// send (`generate`) or queue (`submit`).
    pub(crate) async fn prepare<'a>(
        &'a self,
        client: &'a ideogram::Client,
    ) -> Result<ideogram::Prepared<'a>, ideogram::Error> {
        match self {
            Self::Generate(request) => client.prepare(request).await,
            Self::Edit(request) => client.prepare_edit(request).await,
            Self::Describe(_) | Self::Layerize(_) => Err(InvalidInput::new(
                "op",
                "describe and layerize-text are sent whole, not prepared",
            )
            .into()),
        }
    }

    /// What sending it would cost ([`ideogram::Client::quote`]): a free
    /// dry run, or the spec's price; its images are read, nothing runs.
    pub(crate) async fn quote(
        &self,
        client: &ideogram::Client,
    ) -> Result<ideogram::Quote, ideogram::Error> {
        match self {
            Self::Generate(request) => client.quote(request).await,
            Self::Edit(request) => client.quote_edit(request).await,
            Self::Describe(request) => client.quote_describe(request).await,
            Self::Layerize(request) => client.quote_layerize(request).await,
        }
    }

    /// What was asked, for the sidecars: `named` (the words the files are
    /// named from) on `provider`.
    pub(crate) fn asked(
        &self,
        named: String,
        provider: ideogram::Provider,
    ) -> crate::output::Asked {
        match self {
            Self::Generate(request) => crate::output::Asked::generate(request, provider),
            Self::Edit(request) => crate::output::Asked::edit(named, request, provider),
            Self::Describe(request) => {
                crate::output::Asked::on_image(named, request.chosen_model(), provider)
            }
            Self::Layerize(request) => {
                crate::output::Asked::on_image(named, request.chosen_model(), provider)
            }
        }
    }
}

/// The operations a batch line names with `"op"` (`generate` when
/// absent): generate, remix (generate with an `"image"`), and each
/// operation on an image the library has, with the fields of its own.
fn operations() -> Vec<(String, Vec<String>)> {
    let schema =
        serde_json::to_value(ideogram::schemars::schema_for!(EditKind)).expect("a schema is JSON");
    let mut ops = vec![
        ("generate".to_owned(), Vec::new()),
        ("remix".to_owned(), Vec::new()),
    ];
    for variant in schema["oneOf"].as_array().into_iter().flatten() {
        let properties = variant["properties"].as_object();
        let op = properties.and_then(|p| p["op"]["const"].as_str().or(p["op"]["enum"][0].as_str()));
        if let (Some(op), Some(properties)) = (op, properties) {
            let own = properties.keys().filter(|k| *k != "op").cloned().collect();
            ops.push((op.to_owned(), own));
        }
    }
    ops
}

/// A JSON request from `object`, a field the library refuses named as the
/// line names it.
fn from_json<T: DeserializeOwned>(object: Map<String, Value>, op: &str) -> Result<T, InvalidInput> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            let article = if field.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return InvalidInput::new("batch line", format!("{op} needs {article} \"{field}\""));
        }
        // The library's own refusal of a value names its field.
        if let Some((field, why)) = message
            .strip_prefix("invalid ")
            .and_then(|m| m.split_once(": "))
        {
            return InvalidInput::new(field.to_owned(), why.to_owned());
        }
        let field = if path == "." {
            "batch line".to_owned()
        } else {
            path
        };
        InvalidInput::new(field, message)
    })
}

/// A batch line's field by the name the request's JSON form gives it (an
/// alias of the library's read as its spec name).
fn spec_named(field: &str, value: &Value) -> Result<Map<String, Value>, InvalidInput> {
    if field == "prompt" {
        return Ok(Map::from_iter([(field.to_owned(), value.clone())]));
    }
    let probe = Map::from_iter([
        ("prompt".to_owned(), Value::from("-")),
        (field.to_owned(), value.clone()),
    ]);
    let request: GenerateRequest = from_json(probe, "generate")?;
    let mut named = match serde_json::to_value(request) {
        Ok(Value::Object(named)) => named,
        _ => Map::new(),
    };
    named.remove("prompt");
    if named.is_empty() {
        // A default (`false`, `[]`): as written.
        named.insert(field.to_owned(), value.clone());
    }
    Ok(named)
}

/// One batch line as the work it asks for and the words its files are
/// named from. `base` is the batch's command line: every line starts from
/// it, and a line's field replaces the base's (a resolution replaces the
/// base's aspect ratio, and the other way round).
pub(crate) fn batch_work(line: &str, base: &Options) -> Result<(String, Work), InvalidInput> {
    let line = line.trim();
    if !line.starts_with('{') {
        return Ok((line.to_owned(), Work::Generate(build(line, base)?)));
    }
    let value: Value = serde_json::from_str(line)
        .map_err(|e| InvalidInput::new("batch line", format!("not JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(InvalidInput::new("batch line", "must be a JSON object"));
    };
    let op = match object.remove("op") {
        None => "generate".to_owned(),
        Some(Value::String(op)) => op,
        Some(other) => {
            return Err(InvalidInput::new(
                "batch line",
                format!("op {other} is not text"),
            ));
        }
    };
    if READERS.contains(&op.as_str()) {
        return reader_work(&op, object, base);
    }
    let operations = operations();
    let Some((_, own)) = operations.iter().find(|(name, _)| *name == op) else {
        let names: Vec<&str> = (operations.iter().map(|(name, _)| name.as_str()))
            .chain(READERS)
            .collect();
        return Err(InvalidInput::new(
            "batch line",
            format!("op {op:?} is not one of {}", names.join(", ")),
        ));
    };
    let mut merged = match serde_json::to_value(build("-", base)?) {
        Ok(Value::Object(base)) => base,
        _ => Map::new(),
    };
    merged.remove("prompt");
    for (field, value) in &object {
        for (name, value) in spec_named(field, value)? {
            match name.as_str() {
                "resolution" => drop(merged.remove("aspect_ratio")),
                "aspect_ratio" => drop(merged.remove("resolution")),
                _ => {}
            }
            merged.insert(name, value);
        }
    }
    let prompt = merged
        .get("prompt")
        .and_then(Value::as_str)
        .map(str::to_owned);
    assets_in_place(&mut merged, &["image", "mask"])?;
    if op == "generate" || op == "remix" {
        if op == "remix" && !merged.contains_key("image") {
            return Err(needs(&op, "image"));
        }
        let request: GenerateRequest = from_json(merged, &op)?;
        return Ok((request.prompt().to_owned(), Work::Generate(request)));
    }
    // An operation on an image: its own fields go into its `operation`.
    let mut kind = Map::from_iter([("op".to_owned(), Value::from(op.as_str()))]);
    for field in own {
        if let Some(value) = merged.remove(field) {
            kind.insert(field.clone(), value);
        }
    }
    merged.insert("operation".to_owned(), Value::Object(kind.clone()));
    if !merged.contains_key("image") {
        return Err(needs(&op, "image"));
    }
    let kind: EditKind = from_json(kind, &op)?;
    let request: EditRequest = from_json(merged, &op)?;
    Ok((edit_named(&kind, prompt), Work::Edit(request)))
}

/// A batch line's image slots (`image`, `mask`) it names by an asset
/// identifier instead, under the spec's field for it (`x-in-place-of`):
/// moved into the slot, checked as the spec checks it, so the library
/// sends it in place of the file. A line giving both keeps both, for the
/// spec's rule to refuse naming the two.
fn assets_in_place(line: &mut Map<String, Value>, slots: &[&str]) -> Result<(), InvalidInput> {
    for slot in slots {
        let Some(field) = ImageInput::asset_field(slot) else {
            continue;
        };
        if line.contains_key(*slot) {
            continue;
        }
        if let Some(value) = line.remove(field) {
            let asset = ImageInput::from_asset_json(field, &value)?;
            let value = serde_json::to_value(asset).expect("an asset identifier is JSON");
            line.insert((*slot).to_owned(), value);
        }
    }
    Ok(())
}

/// Whether `FIELD=VALUE` texts name the asset identifier standing in for `slot`.
pub(crate) fn has_asset(set: &[String], slot: &str) -> bool {
    let field = ImageInput::asset_field(slot);
    set.iter().any(|pair| {
        pair.split_once('=')
            .is_some_and(|(name, _)| Some(name.trim()) == field)
    })
}

/// A batch line without its `slot`, nor the identifier that stands in for it.
fn needs(op: &str, slot: &str) -> InvalidInput {
    let instead = ImageInput::asset_field(slot)
        .map(|field| format!(" (or an \"{field}\" in its place)"))
        .unwrap_or_default();
    InvalidInput::new("batch line", format!("{op} needs an \"{slot}\"{instead}"))
}

/// The batch ops that read an image rather than make one, named as their
/// commands.
const READERS: [&str; 2] = ["describe", "layerize-text"];

/// A describe or layerize-text line: its `image` (and layerize's
/// `prompt`), and `model`, `operation` and `set` (an object of fields, or
/// `FIELD=VALUE` texts) as the commands' flags, any other key a body field
/// by its spec name. The batch's `--model`, `--operation` and `--set`
/// apply unless the line gives its own; any other option of the batch's
/// command line is a field its body is checked for, refused by name, never
/// dropped.
fn reader_work(
    op: &str,
    mut object: Map<String, Value>,
    base: &Options,
) -> Result<(String, Work), InvalidInput> {
    let text = |object: &mut Map<String, Value>, key: &str| match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(InvalidInput::new(
            key.to_owned(),
            format!("{other} is not text"),
        )),
    };
    let image = text(&mut object, "image")?;
    let prompt = match op {
        "layerize-text" => text(&mut object, "prompt")?,
        _ => None,
    };
    let mut options = TargetOptions {
        model: text(&mut object, "model")?.or_else(|| base.model.clone()),
        operation: text(&mut object, "operation")?.or_else(|| base.operation.clone()),
        set: Vec::new(),
    };
    // The batch's own options first, the line's fields over them.
    let mut fields = match serde_json::to_value(build("-", base)?) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    for key in ["prompt", "model", "operation"] {
        fields.remove(key);
    }
    match object.remove("set") {
        None | Some(Value::Null) => {}
        Some(Value::Object(set)) => fields.extend(set),
        Some(Value::Array(pairs)) => {
            let pairs = pairs
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| InvalidInput::new("set", "a list of FIELD=VALUE texts"))?;
            fields.extend(sets(&pairs)?);
        }
        Some(other) => {
            return Err(InvalidInput::new(
                "set",
                format!("{other} is neither an object of fields nor a list of FIELD=VALUE"),
            ));
        }
    }
    fields.extend(object);
    options.set = fields
        .into_iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect();
    if image.is_none() && !has_asset(&options.set, "image") {
        return Err(needs(op, "image"));
    }
    let (mut images, _) = positionals(&[image], &["image"], &[], &mut options.set)?;
    let image = images.remove(0);
    let named = naming::image_stem(&image.to_string());
    Ok(match op {
        "describe" => (named, Work::Describe(describe(image, &options)?)),
        _ => (
            prompt.clone().unwrap_or_else(|| "text-layers".to_owned()),
            Work::Layerize(layerize(image, prompt.as_deref(), &options)?),
        ),
    })
}

/// The words an edit's files are named from: its prompt where it has one,
/// else what it did (`reframe 1280x800`, `background removed`).
pub(crate) fn edit_named(kind: &EditKind, prompt: Option<String>) -> String {
    match kind {
        EditKind::Reframe { resolution } => format!("reframe {resolution}"),
        EditKind::RemoveBackground => "background removed".to_owned(),
        EditKind::RemoveObject { .. } => "object removed".to_owned(),
        _ => prompt.unwrap_or_else(|| "upscaled".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::TextFields;

    fn work(line: &str, base: &Options) -> Result<(String, Work), InvalidInput> {
        batch_work(line, base)
    }

    fn generate(line: &str, base: &Options) -> GenerateRequest {
        match work(line, base).unwrap().1 {
            Work::Generate(request) => request,
            other => panic!("not a generation: {other:?}"),
        }
    }

    #[test]
    fn batch_lines_override_the_base_options() {
        let base = Options {
            resolution: Some("1024x1024".into()),
            body: BodyOptions {
                seed: Some("100".into()),
                ..BodyOptions::default()
            },
            ..Options::default()
        };
        let (named, plain) = work("  a plain prompt ", &base).unwrap();
        assert_eq!(named, "a plain prompt");
        let Work::Generate(plain) = plain else {
            panic!("an edit")
        };
        assert_eq!(plain.fields()["seed"], 100);
        let line = generate(
            r#"{"prompt": "x", "seed": 4242, "aspect_ratio": "16:9"}"#,
            &base,
        );
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(json["seed"], 4242);
        assert_eq!(json["aspect_ratio"], "16:9");
        assert!(json.get("resolution").is_none(), "{json}");
        assert!(
            work(r#"{"seed": 1}"#, &base)
                .unwrap_err()
                .message
                .contains("generate needs a \"prompt\"")
        );
    }

    #[test]
    fn batch_lines_speak_the_spec_s_field_names_and_the_library_s_aliases() {
        let base = Options::default();
        let request = generate(
            r#"{"prompt": "x", "negative_prompt": "fog", "palette": {"name": "EMBER"}, "style_type": "DESIGN", "evolve_probe": "p"}"#,
            &base,
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["negative_prompt"], "fog");
        assert_eq!(json["color_palette"]["name"], "EMBER");
        assert_eq!(json["style_type"], "DESIGN");
        // A field only the spec knows is the body's to take or refuse.
        assert_eq!(request.fields()["evolve_probe"], "p");
        // One spelling: the CLI's old names are not the library's.
        let err = work(r#"{"prompt": "x", "negative": "fog"}"#, &base)
            .and_then(|(_, w)| w.check(ideogram::Provider::Ideogram))
            .unwrap_err();
        assert_eq!(err.field, "negative");
        // A base palette and a line's alias of it are one field.
        let base = Options {
            body: BodyOptions {
                color_palette: Some("ember".into()),
                ..BodyOptions::default()
            },
            ..Options::default()
        };
        let request = generate(r#"{"prompt": "x", "palette": {"name": "FRESH"}}"#, &base);
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["color_palette"]["name"], "FRESH");
    }

    #[test]
    fn batch_lines_name_image_operations() {
        let base = Options::default();
        let (named, reframe) = work(
            r#"{"op": "reframe", "image": "a.png", "resolution": "1280x800"}"#,
            &base,
        )
        .unwrap();
        assert_eq!(named, "reframe 1280x800");
        assert!(
            matches!(reframe, Work::Edit(ref r) if matches!(r.kind(), EditKind::Reframe { .. }))
        );
        let (_, remix) = work(
            r#"{"prompt": "at night", "image": "a.png", "image_weight": 70}"#,
            &base,
        )
        .unwrap();
        assert!(matches!(remix, Work::Generate(_)));
        let refused = |line: &str| work(line, &base).unwrap_err().message;
        assert!(
            refused(r#"{"op": "edit", "image": "a.png", "prompt": "x"}"#)
                .contains("needs a \"mask\"")
        );
        assert!(
            refused(r#"{"op": "reframe", "image": "a.png"}"#).contains("needs a \"resolution\"")
        );
        assert!(refused(r#"{"op": "upscale"}"#).contains("needs an \"image\""));
        assert!(refused(r#"{"op": "remix", "prompt": "x"}"#).contains("needs an \"image\""));
        assert!(
            refused(r#"{"op": "paint", "image": "a.png"}"#)
                .contains("not one of generate, remix, edit, reframe, replace-background, upscale, remove-background, remove-object, describe, layerize-text")
        );
        let err = work(
            r#"{"prompt": "x", "model": "3", "character_mask": "m.png"}"#,
            &base,
        )
        .and_then(|(_, w)| w.check(ideogram::Provider::Ideogram))
        .unwrap_err();
        assert_eq!(err.field, "character_reference_images_mask");
        // A field an operation's body lacks is refused, never dropped,
        // whether the line or the batch's command line gives it.
        let checked = |line: &str, base: &Options| {
            work(line, base).and_then(|(_, w)| w.check(ideogram::Provider::Ideogram))
        };
        let err = checked(
            r#"{"op": "reframe", "image": "a.png", "resolution": "1280x800", "negative_prompt": "x"}"#,
            &base,
        )
        .unwrap_err();
        assert_eq!(err.field, "negative_prompt");
        let base = Options {
            text: TextFields {
                negative_prompt: Some("blurry".into()),
                ..TextFields::default()
            },
            ..Options::default()
        };
        let err = checked(r#"{"op": "upscale", "image": "a.png"}"#, &base).unwrap_err();
        assert_eq!(err.field, "negative_prompt", "{err}");
    }

    #[test]
    fn batch_lines_describe_and_layerize_as_their_commands_do() {
        let provider = ideogram::Provider::Ideogram;
        let base = Options::default();
        let (named, describe) = work(
            r#"{"op": "describe", "image": "shots/cat.png", "model": "4", "set": {"include_tags": true}}"#,
            &base,
        )
        .unwrap();
        assert_eq!(named, "cat", "named from its image");
        assert!(matches!(describe, Work::Describe(ref r) if r.chosen_model() == Some(Model::V4)));
        describe.check(provider).unwrap();
        let (named, layerize) = work(
            r#"{"op": "layerize-text", "image": "https://host/x/poster.jpg?s=1", "operation": "post_layerize_v2_ideogram_3", "set": ["async=true"]}"#,
            &base,
        )
        .unwrap();
        assert_eq!(named, "text-layers", "as the command names it");
        let err = layerize.check(provider).unwrap_err();
        assert!(err.message.contains("waits for its result itself"), "{err}");
        let (named, _) = work(
            r#"{"op": "layerize-text", "image": "a.png", "prompt": "a sign"}"#,
            &base,
        )
        .unwrap();
        assert_eq!(named, "a sign");
        assert!(
            work(r#"{"op": "describe"}"#, &base)
                .unwrap_err()
                .message
                .contains("describe needs an \"image\"")
        );
        // The batch's other options are fields the body is checked for,
        // refused by name, never dropped; a field of the line too.
        let blurry = Options {
            text: TextFields {
                negative_prompt: Some("blurry".into()),
                ..TextFields::default()
            },
            ..Options::default()
        };
        let checked =
            |line: &str, base: &Options| work(line, base).and_then(|(_, w)| w.check(provider));
        let err = checked(r#"{"op": "describe", "image": "a.png"}"#, &blurry).unwrap_err();
        assert_eq!(err.field, "negative_prompt", "{err}");
        let err = checked(
            r#"{"op": "describe", "image": "a.png", "style": "x"}"#,
            &base,
        )
        .unwrap_err();
        assert_eq!(err.field, "style", "{err}");
    }

    #[test]
    fn option_values_are_checked_by_the_library() {
        let bad = Options {
            body: BodyOptions {
                seed: Some("lots".into()),
                ..BodyOptions::default()
            },
            ..Options::default()
        };
        assert_eq!(build("x", &bad).unwrap_err().field, "seed");
        let bad = Options {
            resolution: Some("1000x1000".into()),
            ..Options::default()
        };
        assert_eq!(build("x", &bad).unwrap_err().field, "resolution");
    }

    #[test]
    fn set_reads_json_else_text_and_reaches_any_field() {
        let options = Options {
            body: BodyOptions {
                set: vec![
                    "style_codes=[\"AAFF5733\"]".into(),
                    "evolve_probe=plain text".into(),
                    "seed=7".into(),
                ],
                ..BodyOptions::default()
            },
            ..Options::default()
        };
        let request = build("x", &options).unwrap();
        assert_eq!(request.fields()["style_codes"][0], "AAFF5733");
        assert_eq!(request.fields()["evolve_probe"], "plain text");
        assert_eq!(request.fields()["seed"], 7);
        let bad = Options {
            body: BodyOptions {
                set: vec!["no-equals".into()],
                ..BodyOptions::default()
            },
            ..Options::default()
        };
        assert_eq!(build("x", &bad).unwrap_err().field, "set");
    }
}
