//! A queued request's state (Segmind's queue, Ideogram's v2 generations),
//! written by hand in place of the generated enums so that a state added
//! later still decodes.

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
    /// Accepted and not finished: Ideogram's v2 `pending`, which does not
    /// tell waiting from running.
    Pending,
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
            Self::Pending => "PENDING",
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
            "PENDING" => Self::Pending,
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
            "description": "QUEUED, PROCESSING, PENDING, COMPLETED or FAILED; later states are kept as they come.",
            "examples": ["QUEUED", "PROCESSING", "PENDING", "COMPLETED", "FAILED"]
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

    /// The states named here are the specs' (Segmind's queue, Ideogram's
    /// generations in upper case), no more and no fewer.
    #[test]
    fn the_known_states_are_the_specs() {
        let states = |schemas: &crate::schema::Schemas, name: &str| -> Vec<String> {
            let values = schemas.get(name).unwrap()["enum"].as_array().unwrap();
            let values = values.iter().filter_map(|v| v.as_str());
            values.map(str::to_ascii_uppercase).collect()
        };
        let mut spec = states(crate::schema::segmind(), "QueueStatus");
        spec.extend(states(crate::schema::ideogram(), "GenerationState"));
        spec.sort();
        spec.dedup();
        let mut known: Vec<String> = [
            QueueStatus::Queued,
            QueueStatus::Processing,
            QueueStatus::Pending,
            QueueStatus::Completed,
            QueueStatus::Failed,
        ]
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
        known.sort();
        assert_eq!(spec, known);
        for text in spec {
            assert!(
                !matches!(text.parse().unwrap(), QueueStatus::Other(_)),
                "{text}"
            );
        }
    }
}
