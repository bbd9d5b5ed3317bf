//! The error of every value and request check: which field, and what it accepts.

use std::borrow::Cow;

/// Input rejected before anything was sent: names the field and the values it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct InvalidInput {
    /// The field as the request calls it (`seed`), or its path (`image_request.color_palette`).
    pub field: Cow<'static, str>,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The model, operation or provider has no place for the field at all.
    not_taken: bool,
}

impl InvalidInput {
    /// An error for `field`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            not_taken: false,
        }
    }

    /// An error for a `field` the model, operation or provider does not take at all.
    pub fn not_taken(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            not_taken: true,
            ..Self::new(field, message)
        }
    }

    /// Whether the field is not taken here at all (a list of its values would not help).
    pub fn is_not_taken(&self) -> bool {
        self.not_taken
    }
}

impl From<ideogram_raw::schema::Violation> for InvalidInput {
    /// The spec's verdict on a body: the field's path and what it allows.
    fn from(violation: ideogram_raw::schema::Violation) -> Self {
        let path = Some(violation.path).filter(|path| !path.is_empty());
        let field = path.map_or(Cow::Borrowed("request"), Cow::Owned);
        Self::new(field, violation.message)
    }
}
