//! A one-line outcome shown at the top of a page: what a form submitted
//! without JavaScript did, or why a sign-in failed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Whether it says something went wrong.
    pub error: bool,
    pub text: String,
}

impl Notice {
    /// What a form's result says: its sentence, or the error's.
    pub fn of<E: std::fmt::Display>(result: &Result<String, E>) -> Self {
        match result {
            Ok(text) => Self {
                error: false,
                text: text.clone(),
            },
            Err(err) => Self {
                error: true,
                text: err.to_string(),
            },
        }
    }
}
