//! The error every value type and request check returns: which field, and
//! what would have been accepted.

use std::borrow::Cow;
use std::fmt;

/// Input rejected before anything was sent: names the field and the values it
/// accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The field, as the request or command line calls it (`seed`,
    /// `palette`), or its path in the body the spec describes
    /// (`image_request.color_palette.members[0]`).
    pub field: Cow<'static, str>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InvalidInput {
    /// An error for `field`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
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

impl From<ideogram_raw::schema::Violation> for InvalidInput {
    /// The spec's verdict on a body: the field's path and what it allows.
    fn from(violation: ideogram_raw::schema::Violation) -> Self {
        let field = if violation.path.is_empty() {
            "request".to_owned()
        } else {
            violation.path
        };
        Self::new(field, violation.message)
    }
}
