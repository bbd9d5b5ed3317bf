//! `POST /remix`, written by hand: progenitor cannot send multipart bodies.
//!
//! It goes through the generated client's hooks (auth included) and decodes
//! answers with the generated types, exactly as a generated operation would.

use bytes::Bytes;
use progenitor_client::{ByteStream, ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue};
use reqwest::multipart::{Form, Part};

use crate::ideogram::{Client, types};

impl Client {
    /// Sends a `POST` request to `/remix`: generates images from an uploaded
    /// image and a prompt. Billed per image returned.
    ///
    /// ```no_run
    /// # use ideogram_raw::{auth::{ApiKey, Auth}, ideogram, IDEOGRAM_BASE_URL};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = ideogram::Client::new(IDEOGRAM_BASE_URL, Auth::ideogram(ApiKey::new("key")));
    /// let request = ideogram::types::InitialImageRequest::builder()
    ///     .prompt("the same scene at night".parse::<ideogram::types::Prompt>()?)
    ///     .image_weight(60);
    /// let answer = client
    ///     .post_remix_image()
    ///     .image_request(request)
    ///     .image_file(std::fs::read("input.png")?, "input.png", "image/png")
    ///     .send()
    ///     .await?;
    /// println!("{} images", answer.data.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn post_remix_image(&self) -> PostRemixImage<'_> {
        PostRemixImage {
            client: self,
            image_request: Err("image_request was not set".to_owned()),
            image_file: None,
        }
    }
}

/// The image part of a remix: its bytes, a file name and a content type.
#[derive(Debug, Clone)]
pub struct ImageFile {
    /// The image's bytes (at most 10 MB; JPEG, PNG or WebP).
    pub bytes: Bytes,
    /// The file name sent with the part.
    pub file_name: String,
    /// The content type sent with the part, such as `image/png`.
    pub content_type: String,
}

/// Builder for [`Client::post_remix_image`].
#[derive(Debug)]
pub struct PostRemixImage<'a> {
    client: &'a Client,
    image_request: Result<types::InitialImageRequest, String>,
    image_file: Option<ImageFile>,
}

impl PostRemixImage<'_> {
    /// The `image_request` part: what to generate.
    pub fn image_request<V>(mut self, value: V) -> Self
    where
        V: TryInto<types::InitialImageRequest>,
        V::Error: std::fmt::Display,
    {
        self.image_request = value.try_into().map_err(|e| {
            format!("conversion to `InitialImageRequest` for image_request failed: {e}")
        });
        self
    }

    /// The `image_file` part: the input image. The file name is sent
    /// sanitised ([`safe_file_name`]).
    pub fn image_file(
        mut self,
        bytes: impl Into<Bytes>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
    ) -> Self {
        self.image_file = Some(ImageFile {
            bytes: bytes.into(),
            file_name: file_name.into(),
            content_type: content_type.into(),
        });
        self
    }

    /// Sends the request.
    pub async fn send(
        self,
    ) -> Result<ResponseValue<types::GenerateImageResponse>, Error<ByteStream>> {
        let Self {
            client,
            image_request,
            image_file,
        } = self;
        let image_request = image_request.map_err(Error::InvalidRequest)?;
        let image_file =
            image_file.ok_or_else(|| Error::InvalidRequest("image_file was not set".to_owned()))?;
        let request_json = serde_json::to_string(&image_request)
            .map_err(|e| Error::InvalidRequest(format!("image_request: {e}")))?;
        let invalid_type = |e: reqwest::Error| Error::InvalidRequest(format!("content type: {e}"));
        let form = Form::new()
            .part(
                "image_request",
                Part::text(request_json)
                    .mime_str("application/json")
                    .map_err(invalid_type)?,
            )
            .part(
                "image_file",
                Part::stream(image_file.bytes)
                    .file_name(safe_file_name(&image_file.file_name))
                    .mime_str(&image_file.content_type)
                    .map_err(invalid_type)?,
            );

        let url = format!("{}/remix", client.baseurl());
        let mut request = client
            .client()
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header("api-version", Client::api_version())
            .multipart(form)
            .build()?;
        let info = OperationInfo {
            operation_id: "post_remix_image",
        };
        client.pre(&mut request, &info).await?;
        let result = client.exec(request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
        // The statuses openapi/ideogram.yaml documents for /remix; error
        // answers unread, as the generated operations return them.
        match response.status().as_u16() {
            200 => ResponseValue::from_response(response).await,
            400 | 401 | 402 | 403 | 422 | 429 => {
                Err(Error::ErrorResponse(ResponseValue::stream(response)))
            }
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
}

/// A file name safe to send in a part's `Content-Disposition`: control and
/// invisible characters (a CR or LF would end the header) and path separators
/// dropped, at most 200 bytes, `image` when nothing is left. Quotes and
/// backslashes are escaped by the encoder.
///
/// ```
/// use ideogram_raw::remix::safe_file_name;
///
/// assert_eq!(safe_file_name("cat\r\nX-Injected: 1.png"), "catX-Injected: 1.png");
/// assert_eq!(safe_file_name("../../etc/\u{200b}"), "....etc");
/// assert_eq!(safe_file_name("\n"), "image");
/// ```
pub fn safe_file_name(name: &str) -> String {
    const MAX_BYTES: usize = 200;
    let mut out = String::new();
    for c in name.chars() {
        if c.is_control() || crate::answer::is_invisible(c) || matches!(c, '/' | '\\') {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_BYTES {
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
