//! Reading an address's query string, refused in a sentence: axum's own
//! `Query` answers a query string it cannot read with its framework text
//! ("Failed to deserialize query string: ..."). Use this one in its place
//! (same name, same use); give fields that a person types as `String` and
//! check them with a sentence of their own.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The query string as `T`, or a 400 in words.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// What a refused query string is answered with.
pub const REFUSAL: &str = "This address has a query string Gatehouse cannot read (a value given \
                           twice, or a value of the wrong kind). Open the page from its links \
                           and try again.";

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                tracing::debug!(error = %rejection, "a query string was refused");
                Err((
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    REFUSAL,
                )
                    .into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Query, REFUSAL};
    use axum::extract::FromRequestParts;

    #[derive(Debug, serde::Deserialize)]
    struct Window {
        #[allow(dead_code)]
        days: Option<u32>,
    }

    async fn read(uri: &str) -> Result<(), (u16, String)> {
        let (mut parts, ()) = axum::http::Request::builder()
            .uri(uri)
            .body(())
            .expect("request")
            .into_parts();
        match Query::<Window>::from_request_parts(&mut parts, &()).await {
            Ok(_) => Ok(()),
            Err(response) => {
                let status = response.status().as_u16();
                let body = axum::body::to_bytes(response.into_body(), 10_000)
                    .await
                    .expect("body");
                Err((status, String::from_utf8_lossy(&body).into_owned()))
            }
        }
    }

    #[tokio::test]
    async fn a_query_string_that_cannot_be_read_is_refused_in_a_sentence() {
        assert_eq!(read("/x?days=30").await, Ok(()));
        for uri in ["/x?days=-1", "/x?days=30&days=90"] {
            assert_eq!(read(uri).await, Err((400, REFUSAL.to_owned())), "{uri}");
        }
    }
}
