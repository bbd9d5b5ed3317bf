//! The Segmind queue's request state, written by hand in place of the
//! generated enum so that a state added later still decodes.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a queued request is. Unknown states from the server are kept in
/// [`QueueStatus::Other`] instead of failing to decode a paid result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueStatus {
    /// Accepted, waiting for a worker.
    Queued,
    /// Running on a worker.
    Processing,
    /// Done: the result is ready.
    Completed,
    /// Errored, content and safety blocks included.
    Failed,
    /// A state this version does not know.
    Other(String),
}

impl QueueStatus {
    /// The state as the server spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "QUEUED",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Other(other) => other,
        }
    }

    /// Whether the request will change no more (`COMPLETED` or `FAILED`).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

impl FromStr for QueueStatus {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "QUEUED" => Self::Queued,
            "PROCESSING" => Self::Processing,
            "COMPLETED" => Self::Completed,
            "FAILED" => Self::Failed,
            other => Self::Other(other.to_owned()),
        })
    }
}

impl fmt::Display for QueueStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for QueueStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for QueueStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Ok(text
            .parse()
            .unwrap_or_else(|never: Infallible| match never {}))
    }
}

impl schemars::JsonSchema for QueueStatus {
    fn schema_name() -> Cow<'static, str> {
        "QueueStatus".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "QUEUED, PROCESSING, COMPLETED or FAILED; later states are kept as they come.",
            "examples": ["QUEUED", "PROCESSING", "COMPLETED", "FAILED"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_states_round_trip() {
        for text in ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"] {
            let status: QueueStatus = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(status.to_string(), text);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{text}\"")
            );
        }
        assert_eq!(
            "CANCELLED".parse::<QueueStatus>().unwrap(),
            QueueStatus::Other("CANCELLED".into())
        );
        assert!(QueueStatus::Failed.is_terminal() && !QueueStatus::Processing.is_terminal());
    }

    /// The states named here are the spec's, no more and no fewer.
    #[test]
    fn the_known_states_are_the_specs() {
        let spec: Vec<&str> = crate::schema::segmind().get("QueueStatus").unwrap()["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let known = [
            QueueStatus::Queued,
            QueueStatus::Processing,
            QueueStatus::Completed,
            QueueStatus::Failed,
        ];
        assert_eq!(
            spec,
            known.iter().map(QueueStatus::as_str).collect::<Vec<_>>()
        );
        for text in spec {
            assert!(
                !matches!(text.parse().unwrap(), QueueStatus::Other(_)),
                "{text}"
            );
        }
    }
}
