//! The error every value type and request check returns: which field, and
//! what would have been accepted.

use std::fmt;

/// Input rejected before anything was sent: names the field and the values it
/// accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The field, as the request or command line calls it (`seed`, `palette`).
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InvalidInput {
    /// An error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.message)
    }
}

impl std::error::Error for InvalidInput {}
