//! What the generated multipart operations build their bodies with: a file
//! part ([`FilePart`], the generated type of every `format: binary` field),
//! and the parts of a body ([`MultipartBody`], implemented by the xtask for
//! each multipart body schema).
//!
//! A file is a part with a file name and a content type, repeated for an
//! array of files. Any other field is a value part: a string, number or
//! boolean as its text, an array of them as one part per item, and an
//! object (or a field the spec's `encoding` marks `application/json`) as a
//! JSON part. Absent fields send nothing. Part names and file names go in
//! quoted, escaped `Content-Disposition` values.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A file sent as a multipart part: its bytes, the file name sent with it
/// (made safe for the header: [`safe_file_name`]) and its content type.
///
/// In JSON (a request written by an agent, a schema) it is a
/// `data:<type>;base64,<bytes>` URL.
///
/// ```
/// use ideogram_raw::multipart::FilePart;
///
/// let file = FilePart::new(&b"\x89PNG..."[..], "input.png", "image/png");
/// assert_eq!((file.file_name(), file.content_type()), ("input.png", "image/png"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FilePart {
    bytes: Bytes,
    file_name: String,
    /// Borrowed when given as a static (an image's sniffed type): no copy.
    content_type: std::borrow::Cow<'static, str>,
}

impl FilePart {
    /// A file of `bytes` named `file_name`, of `content_type` (such as
    /// `image/png`).
    pub fn new(
        bytes: impl Into<Bytes>,
        file_name: impl Into<String>,
        content_type: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        Self {
            bytes: bytes.into(),
            file_name: file_name.into(),
            content_type: content_type.into(),
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The file name, as given.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The content type, if it can stand in a part's header: a
    /// `type/subtype` of visible ASCII (parameters allowed), never a line
    /// break that would end the header.
    fn checked_content_type(&self) -> Result<&str, String> {
        let ct = &*self.content_type;
        let fits = ct.contains('/') && ct.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
        if fits {
            Ok(ct)
        } else {
            Err(format!(
                "{}: content type {:?}: not a media type",
                self.file_name, self.content_type
            ))
        }
    }
}

impl fmt::Debug for FilePart {
    /// The name, type and size; never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Serialize for FilePart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(&self.bytes);
        serializer.collect_str(&format_args!("data:{};base64,{data}", self.content_type))
    }
}

impl<'de> Deserialize<'de> for FilePart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = Cow::<str>::deserialize(deserializer)?;
        let (head, data) = text
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            .ok_or_else(|| serde::de::Error::custom("a file is a data:<type>;base64,... URL"))?;
        let content_type = head
            .strip_suffix(";base64")
            .ok_or_else(|| serde::de::Error::custom("a file's data URL is base64"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(serde::de::Error::custom)?;
        Ok(Self::new(bytes, "file", content_type.to_owned()))
    }
}

impl schemars::JsonSchema for FilePart {
    fn schema_name() -> Cow<'static, str> {
        "FilePart".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "binary",
            "description": "A file: sent as a multipart file part; in JSON a data:<type>;base64,... URL.",
        })
    }
}

/// A multipart body: its parts, in the spec's order. Implemented by the
/// generated code for every multipart body schema.
pub trait MultipartBody {
    /// The form to send.
    fn form(&self) -> Result<Form, String>;
}

/// A `multipart/form-data` body built whole, as one buffer: what is sent is
/// finished bytes with a `Content-Length`, where reqwest's form streams each
/// part's header and body as it goes and percent-encodes names (about 35k
/// instructions per edit on top of the request itself).
///
/// Each body has its own random boundary ([`Form::boundary`]). A part is
/// `--boundary`, its `Content-Disposition` (the name and a file's name
/// quoted, `\` and `"` escaped), its `Content-Type` when it has one, a blank
/// line and its bytes; the body ends with `--boundary--`, as reqwest and the
/// official SDK write it.
///
/// ```
/// use ideogram_raw::multipart::{FilePart, Form};
///
/// let form = Form::new()
///     .text("prompt", "a fox")
///     .file("image", &FilePart::new(&b"PNG"[..], "a.png", "image/png"))
///     .unwrap();
/// let boundary = form.boundary().to_owned();
/// let request = form.apply(reqwest::Client::new().post("http://localhost/edit")).build().unwrap();
/// assert_eq!(
///     request.headers()["content-type"],
///     format!("multipart/form-data; boundary={boundary}").as_str()
/// );
/// let body = request.body().and_then(|b| b.as_bytes()).unwrap();
/// assert!(body.starts_with(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na fox\r\n").as_bytes()));
/// assert!(body.ends_with(format!("PNG\r\n--{boundary}--\r\n").as_bytes()));
/// ```
#[derive(Clone)]
pub struct Form {
    /// What every part starts with: `--`, the boundary (hex digits, held
    /// in place: no allocation a form) and the start of its
    /// `Content-Disposition`, written whole (about 50 instructions a part).
    opening: [u8; OPENING.len()],
    body: Vec<u8>,
}

/// A part's opening, the boundary's 32 digits (at [`BOUNDARY`]) still to fill.
const OPENING: &[u8; 74] =
    b"--                                \r\nContent-Disposition: form-data; name=\"";

/// Where the boundary lies in [`OPENING`].
const BOUNDARY: std::ops::Range<usize> = 2..34;

impl Default for Form {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Form {
    /// The boundary and size; never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("boundary", &self.boundary())
            .field("len", &self.body.len())
            .finish()
    }
}

impl Form {
    /// An empty form with a new random boundary.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty form with room for `bytes` of parts (the files' sizes,
    /// say), so that a large file is copied once.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut opening = *OPENING;
        opening[BOUNDARY].copy_from_slice(&random_boundary());
        Self {
            opening,
            body: spare::buffer(bytes + 512),
        }
    }

    /// The boundary between parts: 32 random hex digits, new for every
    /// form, so that no part's bytes can be taken for it.
    pub fn boundary(&self) -> &str {
        std::str::from_utf8(&self.opening[BOUNDARY]).expect("hex digits are ASCII")
    }

    /// Adds a text part.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.head(name, None, None);
        self.body.extend_from_slice(value.as_bytes());
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Adds `value` as a JSON part (`Content-Type: application/json`).
    pub fn json(mut self, name: &str, value: &Value) -> Self {
        self.head(name, None, Some("application/json"));
        // Writing a `Value` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.body, value);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a file part: its bytes, its file name made safe
    /// ([`safe_file_name`]) and its content type, which must be a media
    /// type that fits in a header.
    pub fn file(mut self, name: &str, file: &FilePart) -> Result<Self, String> {
        let content_type = file.checked_content_type()?;
        let safe;
        // A plain name (what the facade sends) goes in as it is, unscanned
        // again for quoting.
        let file_name = if is_safe_file_name(&file.file_name) {
            FileName::Plain(&file.file_name)
        } else {
            safe = safe_file_name(&file.file_name);
            FileName::Quoted(&safe)
        };
        self.head(name, Some(file_name), Some(content_type));
        self.body.extend_from_slice(&file.bytes);
        self.body.extend_from_slice(b"\r\n");
        Ok(self)
    }

    /// The body's `Content-Type`, with its boundary.
    pub fn content_type(&self) -> String {
        // Joined, not `format!`ted: about 1k instructions less a request.
        ["multipart/form-data; boundary=", self.boundary()].concat()
    }

    /// [`content_type`](Self::content_type) as a header value, written in
    /// place rather than joined into a `String` first.
    pub fn content_type_header(&self) -> reqwest::header::HeaderValue {
        const PREFIX: &[u8] = b"multipart/form-data; boundary=";
        let mut value = [0u8; PREFIX.len() + 32];
        value[..PREFIX.len()].copy_from_slice(PREFIX);
        value[PREFIX.len()..].copy_from_slice(&self.opening[BOUNDARY]);
        reqwest::header::HeaderValue::from_bytes(&value).expect("hex digits fit a header")
    }

    /// The finished body: the parts and the closing boundary.
    pub fn into_bytes(mut self) -> Bytes {
        self.body.extend_from_slice(&self.opening[..BOUNDARY.end]);
        self.body.extend_from_slice(b"--\r\n");
        spare::bytes(self.body)
    }

    /// `builder` with this form as its body and its `Content-Type` (reqwest
    /// adds the `Content-Length` of the finished bytes).
    pub fn apply(self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let content_type = self.content_type_header();
        builder
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(self.into_bytes())
    }

    /// A part's boundary line and header, up to the blank line.
    fn head(&mut self, name: &str, file_name: Option<FileName>, content_type: Option<&str>) {
        let body = &mut self.body;
        body.extend_from_slice(&self.opening);
        quoted(body, name);
        body.push(b'"');
        if let Some(file_name) = file_name {
            body.extend_from_slice(b"; filename=\"");
            match file_name {
                FileName::Plain(plain) => body.extend_from_slice(plain.as_bytes()),
                FileName::Quoted(text) => quoted(body, text),
            }
            body.push(b'"');
        }
        if let Some(content_type) = content_type {
            body.extend_from_slice(b"\r\nContent-Type: ");
            body.extend_from_slice(content_type.as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
    }
}

/// A part's file name as [`Form::head`] writes it.
enum FileName<'a> {
    /// Safe and with nothing to escape ([`is_safe_file_name`]).
    Plain(&'a str),
    /// Made safe, its quotes and backslashes still to escape.
    Quoted(&'a str),
}

/// Bodies' buffers, kept for the next form once sent: a body of files is
/// one large allocation, and glibc sorts its free lists for each (about 1k
/// instructions an edit). At most [`KEPT`](spare::KEPT) buffers of at most
/// [`MAX`](spare::MAX) bytes each are kept; a larger body is freed.
mod spare {
    use std::sync::Mutex;

    use bytes::Bytes;

    pub(super) const KEPT: usize = 4;
    pub(super) const MAX: usize = 1 << 20;

    static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

    fn spare() -> std::sync::MutexGuard<'static, Vec<Vec<u8>>> {
        SPARE.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty buffer with room for `bytes`: a kept one if it has the room.
    pub(super) fn buffer(bytes: usize) -> Vec<u8> {
        match spare().pop() {
            Some(kept) if kept.capacity() >= bytes => kept,
            _ => Vec::with_capacity(bytes),
        }
    }

    /// `body` as the bytes sent, its buffer kept when the last of them is dropped.
    pub(super) fn bytes(body: Vec<u8>) -> Bytes {
        Bytes::from_owner(Kept(body))
    }

    /// A sent body's buffer, back among the spare ones when dropped.
    struct Kept(Vec<u8>);

    impl AsRef<[u8]> for Kept {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Kept {
        fn drop(&mut self) {
            if self.0.capacity() > MAX {
                return;
            }
            let mut spare = spare();
            if spare.len() < KEPT {
                let mut buffer = std::mem::take(&mut self.0);
                buffer.clear();
                spare.push(buffer);
            }
        }
    }
}

/// `text` inside a quoted header parameter: `\` and `"` escaped (as
/// reqwest writes file names), and a line break dropped: a part's header
/// ends at one. (File names are made safe before, part names come from the
/// spec: neither has one.)
fn quoted(out: &mut Vec<u8>, text: &str) {
    // A name with nothing to escape (every name from the spec) goes in whole.
    let special = |b: u8| matches!(b, b'\\' | b'"' | b'\r' | b'\n');
    if !text.bytes().any(special) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    for &b in text.as_bytes() {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\r' | b'\n' => {}
            _ => out.push(b),
        }
    }
}

/// 32 random hex digits: two SplitMix64 outputs of a counter that starts,
/// for each thread, at a seed drawn from the standard library's random
/// hash keys (from the system); not for secrets, only so that a boundary
/// is new every time and cannot be guessed by whoever chose a part's bytes.
/// A counter and a mix, not a hasher built for each (about 0.3k
/// instructions a form).
fn random_boundary() -> [u8; 32] {
    use std::cell::Cell;
    use std::hash::{BuildHasher as _, Hasher as _};
    thread_local!(static NEXT: Cell<u64> = Cell::new(
        std::collections::hash_map::RandomState::new().build_hasher().finish()
    ));
    // Each byte's two digits at once.
    const HEX: [[u8; 2]; 256] = {
        let digits = b"0123456789abcdef";
        let mut table = [[0; 2]; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = [digits[i >> 4], digits[i & 0xf]];
            i += 1;
        }
        table
    };
    let mut out = [0u8; 32];
    for half in out.chunks_exact_mut(16) {
        let state = NEXT.with(|next| {
            let state = next.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            next.set(state);
            state
        });
        // SplitMix64's output function (Steele, Lea and Flood, 2014).
        let mut word = state;
        word = (word ^ (word >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        word = (word ^ (word >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        word ^= word >> 31;
        for (pair, byte) in half.chunks_exact_mut(2).zip(word.to_le_bytes()) {
            pair.copy_from_slice(&HEX[byte as usize]);
        }
    }
    out
}

/// What may stand in a file field: one file, an optional one, or several.
pub trait Files {
    /// The files, in order.
    fn files(&self) -> Vec<&FilePart>;
}

impl Files for FilePart {
    fn files(&self) -> Vec<&FilePart> {
        vec![self]
    }
}

impl<T: Files> Files for Option<T> {
    fn files(&self) -> Vec<&FilePart> {
        self.as_ref().map(Files::files).unwrap_or_default()
    }
}

impl Files for Vec<FilePart> {
    fn files(&self) -> Vec<&FilePart> {
        self.iter().collect()
    }
}

/// Adds `files` as parts named `name`, one each.
pub fn file_parts(mut form: Form, name: &str, files: &impl Files) -> Result<Form, String> {
    for file in files.files() {
        form = form.file(name, file).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(form)
}

/// Adds `value` as parts named `name`: text for a scalar, a part per item
/// for an array of scalars, JSON for an object or when `json` (the spec's
/// `encoding`) says so; nothing when it is absent or an empty object.
pub fn value_part(
    form: Form,
    name: &str,
    value: &impl Serialize,
    json: bool,
) -> Result<Form, String> {
    let value = serde_json::to_value(value).map_err(|e| format!("{name}: {e}"))?;
    Ok(json_value_part(form, name, &value, json))
}

/// [`value_part`] for a value that is JSON already.
pub fn json_value_part(mut form: Form, name: &str, value: &Value, json: bool) -> Form {
    match value {
        // Absent, or empty as the generated types leave an unset map (their
        // JSON form skips it too).
        Value::Null => {}
        Value::Object(fields) if fields.is_empty() => {}
        value if json => form = form.json(name, value),
        Value::Array(items) => {
            for item in items {
                form = match item {
                    Value::Null => form,
                    Value::String(text) => form.text(name, text),
                    Value::Number(_) | Value::Bool(_) => form.text(name, &item.to_string()),
                    other => form.json(name, other),
                };
            }
        }
        Value::Object(_) => form = form.json(name, value),
        Value::String(text) => form = form.text(name, text),
        scalar => form = form.text(name, &scalar.to_string()),
    }
    form
}

/// A file name safe to send in a part's `Content-Disposition`: control and
/// invisible characters (a CR or LF would end the header) and path separators
/// dropped, at most 200 bytes, `image` when nothing is left. Quotes and
/// backslashes are escaped by [`Form`].
///
/// ```
/// use ideogram_raw::multipart::safe_file_name;
///
/// assert_eq!(safe_file_name("cat\r\nX-Injected: 1.png"), "catX-Injected: 1.png");
/// assert_eq!(safe_file_name("../../etc/\u{200b}"), "....etc");
/// assert_eq!(safe_file_name("\n"), "image");
/// ```
pub fn safe_file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_control() || crate::answer::is_invisible(c) || matches!(c, '/' | '\\') {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_FILE_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    if out.trim().is_empty() {
        "image".to_owned()
    } else {
        out
    }
}

/// The longest file name sent, in bytes.
const MAX_FILE_NAME_BYTES: usize = 200;

/// Whether `name` is its own [`safe_file_name`] with nothing to escape:
/// printable ASCII, no path separator or quote, not blank and short enough
/// (as the facade names its parts), so it is sent as it is, uncopied.
fn is_safe_file_name(name: &str) -> bool {
    name.len() <= MAX_FILE_NAME_BYTES
        && !name.trim().is_empty()
        && name
            .bytes()
            .all(|b| (b == b' ' || b.is_ascii_graphic()) && !matches!(b, b'/' | b'\\' | b'"'))
}

/// A file's media type and extension from its first bytes.
///
/// ```
/// # use ideogram_raw::multipart::media_type;
/// assert_eq!(media_type(b"\x89PNG\r\n\x1a\n..."), Some(("image/png", "png")));
/// assert_eq!(media_type(b"wOF2..."), Some(("font/woff2", "woff2")));
/// assert_eq!(media_type(b"GIF89a"), None);
/// ```
pub use crate::media::media_type;

/// An image's width and height from its header, for a PNG, JPEG or WebP:
/// what a service checks before it takes a mask of the image's size.
///
/// ```
/// # use ideogram_raw::multipart::image_size;
/// assert_eq!(image_size(b"GIF89a"), None);
/// ```
pub fn image_size(image: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(image.get(i..i + 4)?.try_into().ok()?));
    let be16 = |i: usize| {
        Some(u32::from(u16::from_be_bytes(
            image.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let le16 = |i: usize| {
        Some(u32::from(u16::from_le_bytes(
            image.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    if image.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if image.starts_with(&[0xff, 0xd8, 0xff]) {
        let mut i = 2;
        while i + 9 < image.len() {
            if image[i] != 0xff {
                return None;
            }
            let marker = image[i + 1];
            if matches!(marker, 0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf) {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + be16(i + 2)? as usize;
        }
        return None;
    }
    if image.len() >= 30 && &image[..4] == b"RIFF" && &image[8..12] == b"WEBP" {
        return match &image[12..16] {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(image[21..25].try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => {
                let le24 = |i: usize| u32::from_le_bytes([image[i], image[i + 1], image[i + 2], 0]);
                Some((le24(24) + 1, le24(27) + 1))
            }
            _ => None,
        };
    }
    None
}

/// Whether a mask is grayscale, as Ideogram requires of masks: a gray PNG,
/// or a colour or palette PNG whose pixels are all gray. At most 64 MiB of
/// pixels are decoded: a PNG that claims more (a few bytes can claim
/// gigabytes) or does not decode is not taken as gray. JPEG and WebP pass:
/// their pixels are not decoded here.
///
/// A colour PNG found gray is remembered ([`GrayMemo`]): the same mask sent
/// again (an edit repeated, a batch of edits of one mask) is not decoded
/// again.
pub fn is_grayscale(image: &[u8]) -> bool {
    if !image.starts_with(b"\x89PNG") {
        return true;
    }
    let key = GrayMemo::key(image);
    if GRAY.holds(key) {
        return true;
    }
    let gray = decodes_gray(image);
    if gray {
        GRAY.remember(key);
    }
    gray
}

/// The masks last found gray by decoding, by a hash of their bytes. Only
/// "gray" is remembered: a wrong hit (a hash collision) can only skip this
/// local check, never refuse a mask, and the service checks masks itself.
struct GrayMemo(std::sync::Mutex<std::collections::VecDeque<(usize, u64)>>);

/// The masks [`is_grayscale`] remembers (the most recent).
static GRAY: GrayMemo = GrayMemo(std::sync::Mutex::new(std::collections::VecDeque::new()));

impl GrayMemo {
    /// How many masks are remembered.
    const SIZE: usize = 16;

    /// An image's length and a hash of its bytes: the CRC-32s each PNG
    /// chunk carries of its own bytes, mixed (a few words to read, where
    /// hashing every byte was ~0.8k instructions for a small mask, and
    /// SipHash over the CRCs 0.25k), else a hash of the bytes.
    fn key(image: &[u8]) -> (usize, u64) {
        use std::hash::{Hash as _, Hasher as _};
        let hash = match png_crcs(image) {
            // The CRCs are hashes already: each folded in (FxHash's step).
            Some(crcs) => crcs.fold(0u64, |hash, crc| {
                (hash.rotate_left(5) ^ u64::from(crc)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
            }),
            None => {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                image.hash(&mut hasher);
                hasher.finish()
            }
        };
        (image.len(), hash)
    }

    fn holds(&self, key: (usize, u64)) -> bool {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.contains(&key)
    }

    fn remember(&self, key: (usize, u64)) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !kept.contains(&key) {
            if kept.len() == Self::SIZE {
                kept.pop_front();
            }
            kept.push_back(key);
        }
    }
}

/// The CRC-32s of a PNG's chunks, in order, where its chunks fill it
/// exactly (each a length, a type, its data and its CRC); `None` otherwise.
fn png_crcs(image: &[u8]) -> Option<impl Iterator<Item = u32> + '_> {
    let be32 = |at: usize| Some(u32::from_be_bytes(image.get(at..at + 4)?.try_into().ok()?));
    let mut at = 8;
    while at < image.len() {
        let len = usize::try_from(be32(at)?).ok()?;
        at = at.checked_add(12)?.checked_add(len)?;
    }
    (image.starts_with(b"\x89PNG\r\n\x1a\n") && at == image.len()).then(|| {
        let mut at = 8;
        std::iter::from_fn(move || {
            let len = be32(at)? as usize;
            let crc = be32(at + 8 + len)?;
            at += 12 + len;
            Some(crc)
        })
    })
}

/// Whether a PNG decodes, within the pixel cap, to gray pixels only.
fn decodes_gray(image: &[u8]) -> bool {
    const MAX_PIXEL_BYTES: usize = 64 * 1024 * 1024;
    let limits = png::Limits {
        bytes: MAX_PIXEL_BYTES,
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(image), limits);
    // Palettes become RGB(A) and 16-bit samples 8-bit: one test for all.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let Ok(mut reader) = decoder.read_info() else {
        return false;
    };
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => return true,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return false,
    };
    // The decoder's limit does not count the buffer the pixels go into.
    let size = match reader.output_buffer_size() {
        Some(size) if size <= MAX_PIXEL_BYTES => size,
        _ => return false,
    };
    let mut pixels = vec![0; size];
    if reader.next_frame(&mut pixels).is_err() {
        return false;
    }
    pixels
        .chunks(channels)
        .all(|p| p[0] == p[1] && p[1] == p[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_holds_only_the_next_body() {
        let file = FilePart::new(vec![7u8; 4096], "a.png", "image/png");
        for _ in 0..spare::KEPT + 1 {
            let form = Form::with_capacity(4096).file("image", &file).unwrap();
            drop(form.into_bytes());
        }
        let form = Form::new().text("prompt", "a fox");
        let b = form.boundary().to_owned();
        let body = form.into_bytes();
        let want = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na fox\r\n--{b}--\r\n"
        );
        assert_eq!(std::str::from_utf8(&body).unwrap(), want);
        // A body still held keeps its bytes while others are built.
        let held = Form::new().text("n", "1").into_bytes();
        let copy = held.to_vec();
        drop(Form::new().text("n", "2").into_bytes());
        assert_eq!(held.to_vec(), copy);
    }

    #[test]
    fn files_read_back_from_their_json_form() {
        let file = FilePart::new(&b"\x89PNG"[..], "a.png", "image/png");
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json, "data:image/png;base64,iVBORw==");
        let back: FilePart = serde_json::from_value(json).unwrap();
        assert_eq!(
            (back.bytes(), back.content_type()),
            (file.bytes(), "image/png")
        );
        assert!(serde_json::from_value::<FilePart>("a.png".into()).is_err());
        assert!(!format!("{file:?}").contains("137"), "no bytes in Debug");
    }

    #[test]
    fn every_form_has_its_own_boundary_in_its_content_type() {
        let forms: Vec<Form> = (0..64).map(|_| Form::new()).collect();
        let mut boundaries: Vec<&str> = forms.iter().map(Form::boundary).collect();
        assert!(
            boundaries
                .iter()
                .all(|b| b.len() == 32 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        );
        boundaries.sort_unstable();
        boundaries.dedup();
        assert_eq!(boundaries.len(), 64, "a new boundary every time");
        let form = Form::new();
        assert_eq!(
            form.content_type(),
            format!("multipart/form-data; boundary={}", form.boundary())
        );
    }

    #[test]
    fn threads_draw_boundaries_of_their_own() {
        let draw = || std::thread::spawn(|| Form::new().boundary().to_owned());
        let (a, b) = (draw().join().unwrap(), draw().join().unwrap());
        assert_ne!(a, b, "each thread starts from its own seed");
    }

    #[test]
    fn a_part_is_written_whole_and_a_header_cannot_be_broken() {
        let form = Form::new()
            .json("palette", &serde_json::json!({"name": "EMBER"}))
            .file(
                "image",
                &FilePart::new(&b"PNG"[..], "a\"b\r\n.png", "image/png"),
            )
            .unwrap();
        let boundary = form.boundary().to_owned();
        let body = form.into_bytes();
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"palette\"\r\n\
                 Content-Type: application/json\r\n\r\n{{\"name\":\"EMBER\"}}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\\\"b.png\"\r\n\
                 Content-Type: image/png\r\n\r\nPNG\r\n--{boundary}--\r\n"
            )
        );
        for bad in ["image/png\r\nX-Injected: 1", "png", ""] {
            let file = FilePart::new(&b"PNG"[..], "a.png", bad);
            let err = Form::new().file("image", &file).unwrap_err();
            assert!(err.contains("content type"), "{err}");
        }
    }

    /// A PNG of `width`x`height` in `color` at `depth`, with `palette`.
    fn png_of(
        (width, height): (u32, u32),
        color: png::ColorType,
        depth: png::BitDepth,
        palette: Option<Vec<u8>>,
        pixels: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        if let Some(palette) = palette {
            encoder.set_palette(palette);
        }
        encoder
            .write_header()
            .unwrap()
            .write_image_data(pixels)
            .unwrap();
        out
    }

    #[test]
    fn masks_are_gray_when_their_pixels_or_palette_are() {
        use png::{BitDepth, ColorType};
        let gray_rgb = png_of(
            (2, 1),
            ColorType::Rgb,
            BitDepth::Eight,
            None,
            &[9, 9, 9, 200, 200, 200],
        );
        assert!(is_grayscale(&gray_rgb));
        let red = png_of((1, 1), ColorType::Rgb, BitDepth::Eight, None, &[255, 0, 0]);
        assert!(!is_grayscale(&red));
        // A 1-bit black and white mask, as image editors save them.
        let two_tone = png_of(
            (8, 1),
            ColorType::Indexed,
            BitDepth::One,
            Some(vec![0, 0, 0, 255, 255, 255]),
            &[0b1010_0101],
        );
        assert!(is_grayscale(&two_tone));
        let coloured = png_of(
            (8, 1),
            ColorType::Indexed,
            BitDepth::One,
            Some(vec![0, 0, 0, 255, 0, 0]),
            &[0b1010_0101],
        );
        assert!(!is_grayscale(&coloured));
        let gray16 = png_of(
            (1, 1),
            ColorType::Rgb,
            BitDepth::Sixteen,
            None,
            &[1, 2, 1, 2, 1, 2],
        );
        assert!(is_grayscale(&gray16));
    }

    #[test]
    fn a_colour_png_found_gray_is_remembered_and_a_coloured_one_never() {
        use png::{BitDepth, ColorType};
        // Pixels no other test uses, so that the memo starts without them.
        let gray = png_of((1, 1), ColorType::Rgb, BitDepth::Eight, None, &[77; 3]);
        let red = png_of((1, 1), ColorType::Rgb, BitDepth::Eight, None, &[78, 0, 0]);
        assert!(!GRAY.holds(GrayMemo::key(&gray)));
        assert!(is_grayscale(&gray));
        assert!(
            GRAY.holds(GrayMemo::key(&gray)),
            "decoded once, then remembered"
        );
        for _ in 0..2 {
            assert!(!is_grayscale(&red));
        }
        assert!(!GRAY.holds(GrayMemo::key(&red)), "only gray is remembered");
        // Bounded: the oldest is forgotten.
        for i in 0..GrayMemo::SIZE as u64 {
            GRAY.remember((0, i));
        }
        assert!(!GRAY.holds(GrayMemo::key(&gray)));
        assert!(is_grayscale(&gray));
    }

    #[test]
    fn a_png_is_remembered_by_its_chunks_crcs_and_anything_else_by_its_bytes() {
        let png = png_of(
            (1, 1),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            None,
            &[5; 3],
        );
        let crcs: Vec<u32> = png_crcs(&png).expect("whole chunks").collect();
        let last = u32::from_be_bytes(png[png.len() - 4..].try_into().unwrap());
        assert_eq!(
            (crcs.len(), crcs.last()),
            (3, Some(&last)),
            "IHDR, IDAT, IEND"
        );
        // Cut short, or not a PNG: every byte is hashed.
        assert!(png_crcs(&png[..png.len() - 1]).is_none());
        assert!(png_crcs(b"GIF89a").is_none());
        let mut other = png.clone();
        let at = other.len() - 1;
        other[at] ^= 1;
        assert_ne!(GrayMemo::key(&png), GrayMemo::key(&other));
    }

    #[test]
    fn a_mask_claiming_a_huge_size_is_refused_without_allocating_it() {
        // 200000 x 200000 RGBA is 160 GB of pixels; the file is a few bytes.
        let mut image = png_of(
            (1, 1),
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            None,
            &[0; 4],
        );
        image[16..24].copy_from_slice(&[0, 3, 13, 64, 0, 3, 13, 64]);
        let crc = crc32(&image[12..29]);
        image[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(image_size(&image), Some((200_000, 200_000)));
        assert!(!is_grayscale(&image));
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {

        /// Any file name becomes one that cannot break a part's header or
        /// name a folder: no control or invisible character, no slash, at
        /// most 200 bytes, never blank; cleaning it again changes nothing.
        #[test]
        fn a_file_name_is_made_safe(name in "(\\PC|[\r\n\t\u{0}\u{200b}/\\\\\"]){0,260}") {
            let safe = safe_file_name(&name);
            prop_assert!(!safe.trim().is_empty());
            prop_assert!(safe.len() <= 200, "{}", safe.len());
            prop_assert!(!safe.chars().any(|c| c.is_control() || crate::answer::is_invisible(c) || c == '/' || c == '\\'), "{:?}", safe);
            prop_assert_eq!(safe_file_name(&safe), safe);
            // A name sent as it is, uncopied, is one cleaning leaves alone.
            if is_safe_file_name(&name) {
                prop_assert_eq!(safe_file_name(&name), name);
            }
        }

        /// Plain ASCII names (as the facade gives its parts) are sent as
        /// they are, uncopied and unescaped: their own safe name, without
        /// a quote to escape.
        #[test]
        fn a_plain_name_is_sent_as_it_is(name in "[ -~]{0,210}") {
            let plain = is_safe_file_name(&name);
            let same = safe_file_name(&name) == name && !name.contains('"');
            prop_assert_eq!(plain, same, "{:?}", name);
        }

        /// A header gives the size it holds; any other bytes give a size
        /// or none, never a panic.
        #[test]
        fn an_image_header_gives_its_size(
            width in 1u32..20_000,
            height in 1u32..20_000,
            tail in prop::collection::vec(any::<u8>(), 0..40),
            junk in prop::collection::vec(any::<u8>(), 0..64),
            prefix in prop::sample::select(vec![&b"\x89PNG\r\n\x1a\n"[..], &[0xff, 0xd8, 0xff][..], &b"RIFF\0\0\0\0WEBPVP8X"[..], &b""[..]]),
        ) {
            let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
            png.extend(width.to_be_bytes());
            png.extend(height.to_be_bytes());
            png.extend(&tail);
            prop_assert_eq!(image_size(&png), Some((width, height)));
            let mut other = prefix.to_vec();
            other.extend(junk);
            let _ = image_size(&other);
        }
    }
}
