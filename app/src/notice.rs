//! A one-line outcome shown at the top of a page: what a form submitted
//! without JavaScript did, or why a sign-in failed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Whether it says something went wrong.
    pub error: bool,
    pub text: String,
    /// The form it answers, where a page says it next to that form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// What that form held when it was refused, so nothing typed is lost
    /// (bounded by the server function's own limits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<(String, String)>,
}

impl Notice {
    /// What a form's result says: its sentence, or the error's.
    pub fn of<E: std::fmt::Display>(result: &Result<String, E>) -> Self {
        match result {
            Ok(text) => Self {
                error: false,
                text: text.clone(),
                form: None,
                kept: Vec::new(),
            },
            Err(err) => Self {
                error: true,
                text: err.to_string(),
                form: None,
                kept: Vec::new(),
            },
        }
    }

    /// Whether it answers `form`.
    pub fn answers(&self, form: &str) -> bool {
        self.form.as_deref() == Some(form)
    }

    /// What the refused form held in `field` (empty when it was accepted).
    pub fn kept(&self, field: &str) -> Option<&str> {
        self.kept
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
    }
}
