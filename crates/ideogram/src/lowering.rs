//! A request lowered into the body of the first operation of its task and
//! model that takes every field, ergonomic values (size, shape, palette, magic
//! prompt, images) in the body's own spelling; checked, nothing dropped.

use std::collections::BTreeMap;

use ideogram_raw::enums::pair;
use ideogram_raw::operation::Operation;
use serde_json::{Map, Value};
use smallvec::SmallVec;

use crate::aspect::AspectRatio;
use crate::catalog::{self, Field};
use crate::image_input::{Accepts, ImageInput};
use crate::invalid::InvalidInput;
use crate::model::Model;
use crate::options::MagicPrompt;
use crate::palette::Palette;
use crate::provider::Provider;
use crate::resolution::{Resolution, megapixel, nearest_in};

/// Where an image of a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The operation's input image (its route's `image` field).
    Input,
    /// The body's field that takes the request's value of this name ([`Field::is`]).
    Field(&'static str),
}

impl Slot {
    /// The request's name for an image in this slot, as errors name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Input => "image",
            Self::Field(value) => value,
        }
    }

    /// Checks `image` as far as it can be without reading it.
    pub(crate) fn check(self, image: &ImageInput) -> Result<(), InvalidInput> {
        image.check().map_err(named(self.name()))
    }
}

/// An error renamed for `field` (the name copied only when there is one).
fn named(field: &str) -> impl Fn(InvalidInput) -> InvalidInput + '_ {
    move |mut e| {
        e.field = field.to_owned().into();
        e
    }
}

/// A request before it is lowered: what the caller gave.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draft<'a> {
    pub task: &'a str,
    pub model: Option<Model>,
    /// The spec id of the operation to use, instead of the first that fits.
    pub operation: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub resolution: Option<Resolution>,
    pub aspect_ratio: Option<AspectRatio>,
    pub palette: Option<&'a Palette>,
    pub magic_prompt: Option<MagicPrompt>,
    pub images: &'a [(Slot, &'a ImageInput)],
    /// Every other field, by the spec's name.
    pub fields: &'a BTreeMap<String, Value>,
}

/// One field of images in a lowered body.
#[derive(Debug, Clone)]
pub(crate) struct ImageField {
    /// The body's field.
    pub field: &'static str,
    /// The request's name for it, as errors name it (`image`: the input image).
    pub named: &'static str,
    /// Held in place for a field of one image (most are).
    pub inputs: SmallVec<[ImageInput; 1]>,
    /// Sent as file parts (multipart); else as text (a URL, or base64).
    pub file: bool,
    pub list: bool,
    /// The field whose images these mask.
    pub mask_of: Option<&'static str>,
    /// The most bytes its files may hold in all (the spec's
    /// `x-max-total-bytes`); `None`: each file is bounded on its own only.
    pub max_total_bytes: Option<u64>,
    /// What each of its files may be (the spec's `x-max-bytes` and
    /// `x-media-types`).
    pub accepts: Accepts,
}

/// A request lowered into its operation's body; its images still to read.
#[derive(Debug, Clone)]
pub(crate) struct Lowered {
    pub provider: Provider,
    pub operation: &'static Operation,
    /// The body without its images, as sent.
    pub body: Map<String, Value>,
    pub images: Vec<ImageField>,
}

/// Who take a field, and the verb agreeing with them: `V_3 does`,
/// `V_2, V_3 do`.
fn agreeing(takers: &[String]) -> String {
    let verb = if takers.len() == 1 { "does" } else { "do" };
    format!("{} {verb}", takers.join(", "))
}

/// A body tried has no place for `field`: [`Draft::lower`] tries the next.
fn no_place(field: &str) -> InvalidInput {
    InvalidInput::not_taken(field.to_owned(), String::new())
}

impl Draft<'_> {
    /// The body of the first operation of `provider` taking the request, checked.
    pub(crate) fn lower(&self, provider: Provider) -> Result<Lowered, InvalidInput> {
        let model = self.model.map(Model::name);
        // A pinned operation must do this task: one that does another (a
        // layerize for a describe) would be billed for what was not asked.
        let pinned = self.operation.map(|id| {
            catalog::by_id(provider, id)
                .filter(|op| op.route.is_some_and(|r| r.does(self.task)))
                .ok_or_else(|| {
                    let ids = catalog::operations(provider)
                        .iter()
                        .filter(|op| op.route.is_some_and(|r| r.does(self.task)))
                        .map(|op| op.id)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let message = format!(
                        "{id:?} is not an operation of {provider} that does {}; use one of {ids}",
                        self.task
                    );
                    InvalidInput::new("operation", message)
                })
        });
        // Tried in order, and found as tried: the search stops at the first
        // that takes the request, without listing the rest.
        let routed = pinned
            .is_none()
            .then(|| catalog::routes(provider, self.task, model));
        let mut candidates = (pinned.transpose()?.into_iter())
            .chain(routed.into_iter().flatten())
            .peekable();
        if candidates.peek().is_none() {
            return Err(self.unserved(provider));
        }
        // Each body's miss: a field it has no place for, or a value it refuses.
        let mut misses = Vec::new();
        for op in candidates {
            match self.lower_into(provider, op) {
                Ok(lowered) => return lowered.recheck(),
                Err(miss) => misses.push((op, miss)),
            }
        }
        let (last_op, last) = misses.last().expect("a candidate");
        if !last.is_not_taken() {
            return Err(last.clone());
        }
        let field = &last.field;
        let same = |(_, miss): &(_, InvalidInput)| miss.is_not_taken() && miss.field == *field;
        if misses.iter().all(same) {
            return Err(self.not_taken(provider, last_op, field));
        }
        let why = |(op, miss): &(&Operation, InvalidInput)| {
            if miss.is_not_taken() {
                format!("{} takes no {}", op.id, miss.field)
            } else {
                format!("{}: {miss}", op.id)
            }
        };
        let why = misses.iter().map(why).collect::<Vec<_>>().join("; ");
        let who = model.unwrap_or(self.task);
        let message = format!("no operation of {who} on {provider} takes the whole request: {why}");
        Err(InvalidInput::not_taken(field.clone(), message))
    }

    /// Why no operation runs this task and model on `provider`.
    fn unserved(&self, provider: Provider) -> InvalidInput {
        let task = self.task;
        let serves = |p: &Provider| catalog::routes(*p, task, None).next().is_some();
        if !serves(&provider) {
            let others = Provider::ALL.into_iter().filter(serves);
            let others: Vec<String> = others.map(|p| p.to_string()).collect();
            let (list, flags) = (others.join(", "), others.join("|"));
            let message = format!(
                "{task} runs on {list} only (--provider {flags}): {provider} serves no such operation"
            );
            return InvalidInput::new("provider", message);
        }
        let model = self.model.map(|m| m.to_string()).unwrap_or_default();
        let models = catalog::models(provider, task).join(", ");
        let field = if task == "remix" { "image" } else { "model" };
        let message = format!("{provider} does not run {model} for {task}; it runs {models}");
        InvalidInput::new(field, message)
    }

    /// `field` refused: who takes it instead (for this task, else which tasks).
    fn not_taken(&self, provider: Provider, op: &Operation, field: &str) -> InvalidInput {
        let who = match self.model {
            Some(model) if op.route.is_some_and(|r| !r.models.is_empty()) => model.to_string(),
            _ => op.id.to_owned(),
        };
        let task = self.task;
        let takers = catalog::takers(provider, task, field);
        let elsewhere: Vec<&str> = catalog::tasks(provider)
            .into_iter()
            .filter(|task| !catalog::takers(provider, task, field).is_empty())
            .collect();
        let message = if takers.contains(&who) {
            // The model takes it, through an operation other than `op` (one
            // the request pins): name those, not the model as refusing it.
            let mut through: Vec<&Operation> = Vec::new();
            for other in catalog::routes(provider, task, Some(&who)) {
                // One name per endpoint: its JSON form, not its multipart twin.
                let known = through.iter().any(|o| o.path == other.path);
                if !known && catalog::takes(provider, other, field, &who) {
                    through.push(other);
                }
            }
            let through: Vec<&str> = through.iter().map(|o| o.id).collect();
            let others: Vec<String> = takers.into_iter().filter(|t| *t != who).collect();
            let also = match others.len() {
                0 => String::new(),
                _ => format!(", and {} too", agreeing(&others)),
            };
            format!(
                "{} does not take it; on {provider} for {task}, {who} takes it through {}{also}",
                op.id,
                through.join(", ")
            )
        } else if !takers.is_empty() {
            let takers = agreeing(&takers);
            format!("{who} does not take it on {provider} for {task}; {takers}")
        } else if !elsewhere.is_empty() {
            let elsewhere = elsewhere.join(", ");
            format!("{who} does not take it on {provider} for {task}; it goes with {elsewhere}")
        } else {
            format!("no operation of {provider} takes it")
        };
        InvalidInput::not_taken(field.to_owned(), message)
    }

    /// The body for `op`, or its first field without a place or value refused.
    fn lower_into(
        &self,
        provider: Provider,
        op: &'static Operation,
    ) -> Result<Lowered, InvalidInput> {
        let route = op.route.expect("a routed operation");
        if op.body.is_none() {
            let message = format!("{} takes no body", op.id);
            return Err(InvalidInput::new("operation", message));
        }
        let model = self.model.map_or("", Model::name);
        // The field `name` if the body takes it for this model.
        // Looked up once: each lookup below searches this list.
        let fields = catalog::fields(provider, op);
        let field = |name: &str| catalog::named(fields, name).filter(|f| f.for_model(model));
        let take = |name: &str| field(name).ok_or_else(|| no_place(name));
        let into = |value: &str| catalog::taking_in(fields, value, model);
        let mut obj = Map::new();
        if let Some(prompt) = self.prompt {
            take("prompt")?;
            obj.insert("prompt".into(), prompt.into());
        }
        if self.model.is_some() && field("model").is_some() {
            obj.insert("model".into(), model.into());
        }
        if let Some(magic) = self.magic_prompt {
            let into = into("magic_prompt").ok_or_else(|| no_place("magic_prompt"))?;
            let value = match (into.property["type"] == "boolean", magic) {
                (false, magic) => Some(spelled(&magic.to_string().into(), &into.values)),
                (true, MagicPrompt::On) => Some(true.into()),
                (true, MagicPrompt::Off) => Some(false.into()),
                // The service's own choice: its default.
                (true, _) => None,
            };
            obj.extend(value.map(|value| (into.name.to_owned(), value)));
        }
        if let Some(palette) = self.palette {
            take("color_palette")?;
            let value = serde_json::to_value(palette.to_ideogram()).expect("a palette is JSON");
            obj.insert("color_palette".into(), value);
        }
        if let Some(size) = self.resolution {
            let value = size_value(size, &take("resolution")?.values, model)?;
            obj.insert("resolution".into(), value.into());
        }
        if let Some(ratio) = self.aspect_ratio {
            let who = if model.is_empty() { op.id } else { model };
            let who = format!("{who} on {provider}");
            let (into, value) =
                ratio_value(ratio, &who, into("aspect_ratio"), field("resolution"))?;
            obj.insert(into.into(), value.into());
        }
        // Fields by spec name; images among them are checked as any input image.
        let mut named_images: Vec<(&'static Field, &str, ImageInput)> = Vec::new();
        for (name, value) in self.fields {
            if obj.contains_key(name) {
                let message = "is given twice (as an option and as a field)";
                return Err(InvalidInput::new(name.clone(), message));
            }
            let known = take(name)?;
            if known.image {
                let images = images_of(known.name, value)?.into_iter();
                named_images.extend(images.map(|image| (known, known.name, image)));
                continue;
            }
            // Free text (a negative prompt): it must show something and fit.
            if let Some(text) = value.as_str()
                && known.free_text
            {
                check_prompt(name.clone(), text)?;
            }
            obj.insert(name.clone(), spelled(value, &known.values));
        }
        // Segmind documents 50 as the default; sent with every input image
        // so every provider gets the same weight.
        if self.images.iter().any(|(slot, _)| *slot == Slot::Input)
            && !obj.contains_key("image_weight")
            && let Some(default) = field("image_weight").and_then(|f| f.property.get("default"))
        {
            obj.insert("image_weight".into(), default.clone());
        }
        // Grouped by field, the request's images first, then those named
        // as fields.
        let mut images: Vec<ImageField> =
            Vec::with_capacity(self.images.len() + named_images.len());
        let mut place = |known: &'static Field, named: &'static str, input: ImageInput| {
            if let Some(image) = images.iter_mut().find(|i| i.field == known.name) {
                image.inputs.push(input);
                return;
            }
            images.push(ImageField {
                field: known.name,
                named,
                inputs: smallvec::smallvec![input],
                file: known.file,
                list: known.list,
                mask_of: known.mask_of,
                max_total_bytes: known.max_total_bytes,
                accepts: Accepts {
                    // The spec gives every file one (the xtask sees to it).
                    max_bytes: (known.max_bytes)
                        .unwrap_or(crate::image_input::MAX_IMAGE_BYTES as u64),
                    media_types: &known.media_types,
                    max_aspect: known.max_aspect,
                },
            });
        };
        for (slot, input) in self.images {
            let known = match slot {
                Slot::Input => route.image.and_then(field),
                Slot::Field(value) => into(value),
            };
            let known = known.ok_or_else(|| no_place(slot.name()))?;
            if let ImageInput::Asset(asset) = input {
                // Named, not uploaded: in the field standing in for the file.
                let stand_in = catalog::in_place_of(provider, op, known.name, model);
                let stand_in = stand_in.ok_or_else(|| {
                    no_place(catalog::stand_in_name(known.name).unwrap_or(slot.name()))
                })?;
                if obj.contains_key(stand_in.name) {
                    let message = format!("is given twice (as the {} and as a field)", slot.name());
                    return Err(InvalidInput::new(stand_in.name, message));
                }
                let value = serde_json::to_value(asset).expect("an asset identifier is JSON");
                // A list's stand-in (the character reference's) holds the one asset.
                let value = match stand_in.list {
                    true => Value::Array(vec![value]),
                    false => value,
                };
                obj.insert(stand_in.name.to_owned(), value);
                continue;
            }
            place(known, slot.name(), (*input).clone());
        }
        for (known, named, input) in named_images {
            place(known, named, input);
        }
        let body = match route.nest {
            Some(nest) => Map::from_iter([(nest.to_owned(), Value::Object(obj))]),
            None => obj,
        };
        Ok(Lowered {
            provider,
            operation: op,
            body,
            images,
        })
    }
}

impl Lowered {
    /// The body's schema.
    pub(crate) fn schema(&self) -> &'static str {
        self.operation.body.expect("a routed operation has a body")
    }

    /// Checks the body in place (not copied), each image's field standing
    /// beside it as a value of its kind (its bytes are read later): a file
    /// as a `data:` URL, an image sent as text as a URL, a list with one
    /// for each image. The stand-ins are given to the check apart from the
    /// body ([`Schemas::check_given`](ideogram_raw::schema::Schemas::check_given)),
    /// not put into it and taken out again (about 2k instructions of an edit).
    pub(crate) fn recheck(mut self) -> Result<Self, InvalidInput> {
        use std::sync::LazyLock;
        static FILE: LazyLock<Value> = LazyLock::new(|| "data:image/png;base64,".into());
        static URL: LazyLock<Value> = LazyLock::new(|| "https://image.invalid/pending".into());
        let pending = |image: &ImageField| if image.file { &*FILE } else { &*URL };
        let lists: Vec<Value> = (self.images.iter().filter(|i| i.list))
            .map(|image| Value::Array(vec![pending(image).clone(); image.inputs.len()]))
            .collect();
        let mut lists = lists.iter();
        let mut given: SmallVec<[(&str, &Value); 4]> = (self.images.iter())
            .map(|image| {
                let value = match image.list {
                    true => lists.next().expect("a list for each listed field"),
                    false => pending(image),
                };
                (image.field, value)
            })
            .collect();
        given.sort_unstable_by_key(|(field, _)| *field);
        let body = Value::Object(std::mem::take(&mut self.body));
        let checked = self.check(&body, &given);
        drop(given);
        let Value::Object(fields) = body else {
            unreachable!("the body stays an object")
        };
        self.body = fields;
        checked.map(|()| self)
    }

    /// Checks `body`, with the fields `given` beside it, against its schema,
    /// a field named as the request names it (without the `nest`). The check is the spec's whole schema
    /// (compiled nodes: types, enums, patterns, ranges, counts, required
    /// and unknown fields), so the body is not also decoded into its
    /// generated type here (that was 1k instructions of a 3.0 generate, 4k
    /// of an edit, for a type made from the same schema): the mock
    /// decodes every body it receives into that type and answers 400 where
    /// it does not, so every test that sends one holds the two together.
    fn check(&self, body: &Value, given: &[(&str, &Value)]) -> Result<(), InvalidInput> {
        let nest = self.operation.route.and_then(|r| r.nest);
        let checked = catalog::schemas(self.provider).check_given(self.schema(), body, given);
        checked.map_err(|mut violation| {
            if let Some(path) = nest.and_then(|n| violation.path.strip_prefix(n))
                && let Some(path) = path.strip_prefix('.')
            {
                violation.path = path.to_owned();
            }
            InvalidInput::from(violation)
        })
    }
}

/// The images (one, or a list) a field's value names as an [`ImageInput`], checked.
pub(crate) fn images_of(field: &str, value: &Value) -> Result<Vec<ImageInput>, InvalidInput> {
    let one = |value: &Value| {
        let why = "is an image: a URL, a path or a data: URL";
        let text = value
            .as_str()
            .ok_or_else(|| InvalidInput::new(field.to_owned(), why))?;
        let image: ImageInput = text.parse().map_err(named(field))?;
        image.check().map_err(named(field)).map(|()| image)
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        value => one(value).map(|image| vec![image]),
    }
}

/// `value` in the enum's own case (Segmind's character model writes `Realistic`).
fn spelled(value: &Value, values: &[&str]) -> Value {
    let text = value.as_str().filter(|t| !values.contains(t));
    let own = text.and_then(|text| values.iter().find(|v| v.eq_ignore_ascii_case(text)));
    own.map_or_else(|| value.clone(), |v| (*v).into())
}

/// The value of an enum of sizes (`RESOLUTION_1024_768`, `1024x768`) nearest a size.
fn nearest<'a>(values: &[&'a str], (width, height): (u32, u32)) -> Option<&'a str> {
    let size = nearest_in(width, height, values.iter().filter_map(|v| pair(v)))?;
    values.iter().copied().find(|v| pair(v) == Some(size))
}

/// The enum value that names `size`.
fn size_value(size: Resolution, values: &[&str], model: &str) -> Result<String, InvalidInput> {
    let wanted = (u32::from(size.width()), u32::from(size.height()));
    if let Some(value) = values.iter().find(|v| pair(v) == Some(wanted)) {
        return Ok(value.to_string());
    }
    let near = nearest(values, wanted).and_then(pair);
    let near = near.map(|(w, h)| format!("; the nearest is {w}x{h}"));
    let near = near.unwrap_or_default();
    let message = format!("{size} is not a size {model} renders here{near}");
    Err(InvalidInput::new("resolution", message))
}

/// Where an aspect ratio goes: the value of its shape in the field taking it
/// (`ASPECT_16_9`, `16x9`, a name in `x-sizes`), else a megapixel `resolution`.
fn ratio_value(
    ratio: AspectRatio,
    who: &str,
    shaped: Option<&'static Field>,
    sized: Option<&'static Field>,
) -> Result<(&'static str, String), InvalidInput> {
    let (w, h) = ratio.parts();
    let same = |(a, b): (u32, u32)| u64::from(a) * u64::from(h) == u64::from(b) * u64::from(w);
    if let Some(into) = shaped {
        let shape = |value: &str| match into.property["x-sizes"][value].as_str() {
            Some(size) => pair(size).map(|(w, h)| AspectRatio::reduced(w, h).parts()),
            None => pair(value),
        };
        if let Some(value) = into.values.iter().find(|v| shape(v).is_some_and(same)) {
            return Ok((into.name, value.to_string()));
        }
        let shapes = into.values.iter().filter_map(|v| shape(v));
        let mut shown: Vec<String> = shapes.map(|(w, h)| format!("{w}:{h}")).collect();
        shown.dedup();
        let message = format!("{who} takes {}, not {ratio}", shown.join(", "));
        return Err(InvalidInput::new("aspect_ratio", message));
    }
    let near = sized.and_then(|into| Some((into.name, nearest(&into.values, megapixel(ratio))?)));
    let (into, value) = near.ok_or_else(|| no_place("aspect_ratio"))?;
    Ok((into, value.to_owned()))
}

/// A prompt must show something (not only spaces or zero-width) and fit the cap.
pub(crate) fn check_prompt(
    field: impl Into<std::borrow::Cow<'static, str>>,
    text: &str,
) -> Result<(), InvalidInput> {
    let visible = text
        .chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !ideogram_raw::answer::is_invisible(c));
    if !visible {
        let message = if text.chars().all(char::is_whitespace) {
            "must not be empty"
        } else {
            "holds only invisible characters (zero-width spaces or the like)"
        };
        return Err(InvalidInput::new(field, message));
    }
    // Counted only when its bytes could be too many characters.
    let max = *ideogram_raw::ideogram::limits::PROMPT.end();
    let chars = match text.len() > max {
        true => text.chars().count(),
        false => 0,
    };
    if chars > max {
        let message = format!("is {chars} characters; at most {max} are accepted");
        return Err(InvalidInput::new(field, message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft<'a>(
        fields: &'a BTreeMap<String, Value>,
        images: &'a [(Slot, &'a ImageInput)],
    ) -> Draft<'a> {
        Draft {
            task: "generate",
            model: Some(Model::V3),
            operation: None,
            prompt: Some("a fox"),
            resolution: None,
            aspect_ratio: None,
            palette: None,
            magic_prompt: None,
            images,
            fields,
        }
    }

    #[test]
    fn a_field_goes_by_its_spec_name_to_the_first_body_that_takes_it() {
        let fields = BTreeMap::from([("style_codes".to_owned(), serde_json::json!(["AAFF5733"]))]);
        let lowered = draft(&fields, &[]).lower(Provider::Ideogram).unwrap();
        assert_eq!(lowered.operation.id, "post_generate_image_v3");
        assert_eq!(lowered.body["style_codes"][0], "AAFF5733");

        let url = ImageInput::url("https://example.com/c.png");
        let character = [(Slot::Field("character_reference_images"), &url)];
        let empty = BTreeMap::new();
        let segmind = draft(&empty, &character).lower(Provider::Segmind).unwrap();
        assert_eq!(segmind.operation.id, "ideogram_character");
        let ideogram = draft(&empty, &character).lower(Provider::Ideogram).unwrap();
        assert_eq!(ideogram.operation.id, "post_generate_image_v3_multipart");
        assert!(ideogram.images[0].file && ideogram.images[0].list);
    }

    #[test]
    fn a_field_no_body_takes_is_refused_naming_who_takes_it() {
        let fields = BTreeMap::from([("negative_prompt".to_owned(), "blur".into())]);
        let mut request = draft(&fields, &[]);
        request.model = Some(Model::V2a);
        let err = request.lower(Provider::Segmind).unwrap_err();
        assert_eq!(err.field, "negative_prompt");
        assert!(err.is_not_taken());
        assert!(err.message.contains("V_2, V_2_TURBO, V_3"), "{err}");
    }

    #[test]
    fn ratios_become_the_body_s_own_field() {
        let empty = BTreeMap::new();
        let mut request = draft(&empty, &[]);
        request.model = Some(Model::V4);
        request.aspect_ratio = Some("16:9".parse().unwrap());
        let segmind = request.lower(Provider::Segmind).unwrap();
        assert_eq!(segmind.body["image_size"], "landscape_16_9");
        request.model = Some(Model::V2);
        let legacy = request.lower(Provider::Segmind).unwrap();
        let size = legacy.body["resolution"].as_str().unwrap();
        let (w, h) = ideogram_raw::enums::pair(size).unwrap();
        assert_eq!(w * 9, h * 16, "{size}");
    }
}
