//! What a client and its queued jobs share: the generated client, the key
//! (to redact what the network says), policies, downloaders, in-flight slots.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ideogram_raw::auth::{ApiKey, Auth};
use ideogram_raw::{ideogram as raw_ideogram, segmind as raw_segmind};
use progenitor_client::{ByteStream, Error as RawError, ResponseValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::answers::{Body, read_response};
use crate::completion::CompletionTimes;
use crate::download::Downloader;
use crate::error::Error;
use crate::generation::{GeneratedImage, ImageData};
use crate::image_input::ImageInput;
use crate::invalid::InvalidInput;
use crate::poll::PollSchedule;
use crate::provider::Provider;
use crate::retry::RetryPolicy;

pub(crate) struct Connection {
    pub(crate) provider: Provider,
    /// As configured, credentials and all: shown only through `shown_url`.
    pub(crate) base_url: String,
    /// The generated client the crate's own calls run on: without reqwest's
    /// timeout, each call bounded by `retry::run` instead.
    pub(crate) api: Api,
    /// The generated client handed to callers ([`raw`](Self::raw)), made
    /// at the first ask.
    pub(crate) raw: OnceLock<Api>,
    pub(crate) raw_http: RawHttp,
    pub(crate) auth: Auth,
    pub(crate) downloader: Downloader,
    /// Reads input images, bound by the [`InputUrlPolicy`](crate::InputUrlPolicy).
    pub(crate) inputs: Downloader,
    pub(crate) key: ApiKey,
    pub(crate) retry: RetryPolicy,
    pub(crate) poll: PollSchedule,
    pub(crate) completion: CompletionTimes,
    pub(crate) timeout: Duration,
    /// Images let in flight at once: waiting is cheaper than a 429 and a backoff.
    pub(crate) in_flight: Option<(Arc<Semaphore>, u32)>,
    /// Whether Segmind's generations go to sync v1 rather than the queue.
    pub(crate) segmind_sync: bool,
}

pub(crate) enum Api {
    Segmind(raw_segmind::Client),
    Ideogram(raw_ideogram::Client),
}

impl Api {
    /// The generated client of `provider` at `base_url`, on `http`.
    pub(crate) fn new(
        provider: Provider,
        base_url: &str,
        http: reqwest::Client,
        auth: Auth,
    ) -> Self {
        match provider {
            Provider::Segmind => {
                Self::Segmind(raw_segmind::Client::new_with_client(base_url, http, auth))
            }
            Provider::Ideogram => {
                Self::Ideogram(raw_ideogram::Client::new_with_client(base_url, http, auth))
            }
        }
    }
}

/// What the generated client handed to a caller runs on: a caller's call
/// may not go through `retry::run`, so it gets reqwest's own timeout.
pub(crate) enum RawHttp {
    /// The caller's own client, with its own timeouts.
    Given(reqwest::Client),
    /// A client with the crate's defaults and these settings (the timeout
    /// is the connection's).
    Timed {
        connect_timeout: Duration,
        user_agent: String,
    },
}

impl std::fmt::Debug for Connection {
    /// Shown as its client: the base URL without credentials, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.provider)
            .field("base_url", &self.shown_base_url())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The base URL without any credentials it holds.
    pub(crate) fn shown_base_url(&self) -> String {
        shown_url(&self.base_url).trim_matches('"').to_owned()
    }

    /// `text` from the network with the key redacted.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.key.redact(text).into_owned()
    }

    /// [`redact`](Self::redact) of text already owned: kept as it is when
    /// the key is not in it, rather than copied.
    pub(crate) fn redact_owned(&self, text: String) -> String {
        let redacted = match self.key.redact(&text) {
            std::borrow::Cow::Owned(redacted) => Some(redacted),
            std::borrow::Cow::Borrowed(_) => None,
        };
        redacted.unwrap_or(text)
    }

    /// Every string in `value`, keys too, however deep, with the key redacted.
    pub(crate) fn redact_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(text) => *text = self.redact(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json(item)),
            Value::Object(fields) => {
                let redact = |(key, mut item): (String, Value)| {
                    self.redact_json(&mut item);
                    (self.redact(&key), item)
                };
                *fields = std::mem::take(fields).into_iter().map(redact).collect();
            }
            _ => {}
        }
    }

    /// The generated client handed to callers: on the caller's own HTTP
    /// client, or on one with reqwest's timeout (made once; an error when
    /// reqwest cannot build it).
    pub(crate) fn raw(&self) -> Result<&Api, Error> {
        if let Some(api) = self.raw.get() {
            return Ok(api);
        }
        let http = match &self.raw_http {
            RawHttp::Given(http) => http.clone(),
            RawHttp::Timed {
                connect_timeout,
                user_agent,
            } => ideogram_raw::http::client_builder()
                .timeout(self.timeout)
                .connect_timeout(*connect_timeout)
                .user_agent(user_agent)
                .build()
                .map_err(crate::error::ConfigError::HttpClient)?,
        };
        let api = Api::new(self.provider, &self.base_url, http, self.auth.clone());
        Ok(self.raw.get_or_init(|| api))
    }

    /// The generated Segmind client, or an error: Ideogram's API has no queue.
    pub(crate) fn segmind_api(&self) -> Result<&raw_segmind::Client, Error> {
        let Api::Segmind(api) = &self.api else {
            let why = "this is an Ideogram generation; Segmind's queue needs a Segmind client";
            return Err(InvalidInput::new("provider", why).into());
        };
        Ok(api)
    }

    /// The generated Ideogram client, or an error on a Segmind client.
    pub(crate) fn ideogram_api(&self) -> Result<&raw_ideogram::Client, Error> {
        let Api::Ideogram(api) = &self.api else {
            let why = "this is a Segmind job; Ideogram's generations need an Ideogram client";
            return Err(InvalidInput::new("provider", why).into());
        };
        Ok(api)
    }

    /// Sends `payload` to `operation` (without path parameters) once, and
    /// reads the answer's body: within the attempt, so that
    /// [`retry::run`](crate::retry::run)'s deadline bounds it too.
    pub(crate) async fn send_once(
        &self,
        operation: &ideogram_raw::operation::Operation,
        payload: &ideogram_raw::send::Payload,
    ) -> Result<ResponseValue<Body>, RawError<ByteStream>> {
        use ideogram_raw::send::exchange;
        let answer = match &self.api {
            Api::Segmind(api) => exchange(api, operation, &[], payload).await,
            Api::Ideogram(api) => exchange(api, operation, &[], payload).await,
        };
        Ok(read_response(answer?).await)
    }

    /// Waits for `images` in-flight slots (capped; none for 0 or no limit).
    pub(crate) async fn slots(&self, images: u32) -> Option<OwnedSemaphorePermit> {
        let (slots, limit) = self.in_flight.as_ref().filter(|_| images > 0)?;
        let permit = slots.clone().acquire_many_owned(images.min(*limit)).await;
        Some(permit.expect("the semaphore is never closed"))
    }

    /// An image at `url`, downloaded by this client's downloader.
    pub(crate) fn image_at(&self, url: String, prompt: String) -> GeneratedImage {
        GeneratedImage::new(ImageData::Url(url), prompt, self.downloader.clone())
    }

    /// Fetches and checks every URL among `images` as their field `accepts`
    /// (an error names `field`): Segmind fetches it itself after billing.
    /// Local images are checked when read.
    pub(crate) async fn check_urls<'i>(
        &self,
        images: impl IntoIterator<Item = &'i ImageInput>,
        field: &'static str,
        accepts: crate::image_input::Accepts,
    ) -> Result<(), Error> {
        for image in images {
            if let ImageInput::Url(_) = image {
                crate::image_input::load(&self.inputs, image, field, accepts).await?;
            }
        }
        Ok(())
    }
}

/// A URL for a message: without `user:password@`, in quotes.
pub(crate) fn shown_url(url: &str) -> String {
    let shown = match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        // Not a URL with a host: drop all before an `@`, which could be credentials.
        _ => url.rsplit('@').next().unwrap_or_default().to_owned(),
    };
    format!("{:?}", shown.trim_end_matches('/'))
}

#[cfg(test)]
mod properties {
    use crate::prop_support::{connection, disguised, json, text};
    use ideogram_raw::auth::REDACTED;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Every string a JSON value holds, keys included.
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out);
            }),
            _ => {}
        }
    }

    proptest! {

        /// Redacting takes out every form of the key, one `[REDACTED]` for
        /// each, and leaves text without the key as it was.
        #[test]
        fn redaction_takes_out_every_form_of_the_key(text in text()) {
            let redacted = connection().redact(&text);
            prop_assert!(!disguised(&redacted), "{}", redacted);
            if !disguised(&text) {
                prop_assert_eq!(&redacted, &text);
            } else {
                prop_assert!(redacted.matches(REDACTED).count() >= 1, "{}", redacted);
            }
        }

        /// Redacting a JSON value takes the key out of every string in it,
        /// keys and values however deep, and changes nothing else.
        #[test]
        fn json_redaction_reaches_every_string(mut value in json(5)) {
            let original = value.clone();
            connection().redact_json(&mut value);
            let mut all = Vec::new();
            strings(&value, &mut all);
            prop_assert!(all.iter().all(|s| !disguised(s)), "{}", value);
            let mut before = Vec::new();
            strings(&original, &mut before);
            if before.iter().all(|s| !disguised(s)) {
                prop_assert_eq!(value, original);
            }
        }
    }
}
