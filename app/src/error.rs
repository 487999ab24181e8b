//! What a user may be told when something fails. Server-side causes are
//! logged in full; the browser gets a category and a sentence.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

/// On the wire (server functions' JSON error bodies): `{"kind": "Invalid",
/// "message": "The comment is ..."}`, so any client reads the sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", try_from = "WireError")]
pub enum AppError {
    #[error("Please sign in first.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// A request Gatehouse cannot read at all (a query value out of range).
    #[error("{0}")]
    BadRequest(String),
    /// The thing changed under the request (already decided, double click).
    #[error("{0}")]
    Conflict(String),
    #[error("Gatehouse cannot reach its database right now; try again in a moment.")]
    Unavailable,
    /// A service Gatehouse depends on (GitHub, CodePipeline) cannot answer.
    #[error("{0}")]
    Dependency(String),
    #[error("Something went wrong on the server. If it keeps happening, quote reference {0}.")]
    Internal(String),
    #[error("The server could not be reached: {0}")]
    Transport(String),
    /// Over a rate limit: the sentence says how long to wait.
    #[error("{0}")]
    TooMany(String),
}

/// An [`AppError`] as JSON clients see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireError {
    kind: String,
    message: String,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        let kind = match &err {
            AppError::Unauthenticated => "Unauthenticated",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "NotFound",
            AppError::Invalid(_) => "Invalid",
            AppError::BadRequest(_) => "BadRequest",
            AppError::Conflict(_) => "Conflict",
            AppError::Unavailable => "Unavailable",
            AppError::Dependency(_) => "Dependency",
            AppError::Internal(_) => "Internal",
            AppError::Transport(_) => "Transport",
            AppError::TooMany(_) => "TooMany",
        };
        let message = match &err {
            AppError::Internal(reference) => reference.clone(),
            other => other.to_string(),
        };
        WireError {
            kind: kind.to_owned(),
            message,
        }
    }
}

impl TryFrom<WireError> for AppError {
    type Error = String;

    fn try_from(wire: WireError) -> Result<Self, String> {
        let m = wire.message;
        Ok(match wire.kind.as_str() {
            "Unauthenticated" => AppError::Unauthenticated,
            "Forbidden" => AppError::Forbidden(m),
            "NotFound" => AppError::NotFound(m),
            "Invalid" => AppError::Invalid(m),
            "BadRequest" => AppError::BadRequest(m),
            "Conflict" => AppError::Conflict(m),
            "Unavailable" => AppError::Unavailable,
            "Dependency" => AppError::Dependency(m),
            "Internal" => AppError::Internal(m),
            "Transport" => AppError::Transport(m),
            "TooMany" => AppError::TooMany(m),
            other => return Err(format!("unknown error kind {other:?}")),
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The decoder's own text names its internals, not the form:
            // a sentence instead, whatever it said.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid(ARGS_REFUSED.to_owned())
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// What a server function answers when its fields cannot be read.
pub const ARGS_REFUSED: &str =
    "Gatehouse could not read this request's fields (one is missing, given \
                                twice or of the wrong kind). Reload the page and try again.";

impl AppError {
    /// The HTTP status a server function answers with for this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable | AppError::Dependency(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Sets this request's response status from the error and passes it on.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(err.status());
            }
        }
        result
    }

    /// Logs `err` with its whole source chain under a fresh reference and
    /// returns the error the user sees, carrying only that reference.
    pub fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(reference = %reference, error = %chain, "request failed");
        AppError::Internal(reference)
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn errors_travel_with_their_sentence_and_come_back_the_same() {
        for err in [
            AppError::Unauthenticated,
            AppError::Unavailable,
            AppError::Invalid("The comment is too long.".into()),
            AppError::Internal("1a2b3c4d".into()),
        ] {
            let json = serde_json::to_string(&err).expect("json");
            assert!(json.contains("\"message\":"), "{json}");
            let back: AppError = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, err);
        }
        let json = serde_json::to_string(&AppError::Unavailable).expect("json");
        assert!(
            json.contains("Gatehouse cannot reach its database right now; try again in a moment.")
        );
    }
}
