//! The vocabulary of invalid input shared by every layer: which field, what is wrong.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field: a JSON path such as `manifest[1].tonnes` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The one-line summary of a list of field errors.
pub fn summary(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        _ => format!("{} fields are invalid", errors.len()),
    }
}
