//! Simulated services for demo mode and tests: a health endpoint per
//! service and environment, reached over HTTP by the prober exactly like a
//! real one, and a control surface to take one down or bring it back.
//!
//! - `GET /{service}/{environment}/healthz`: 200 `{"status":"ok"}`, or 503
//!   `{"status":"down"}` while it is down.
//! - `POST /_sim/{service}/{environment}` with `{"up": false}`: changes it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Which simulated services are down; every other one answers.
#[derive(Clone, Default)]
pub struct HealthSimulator {
    down: Arc<Mutex<BTreeSet<(String, String)>>>,
}

impl HealthSimulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a service down in an environment, or brings it back.
    pub fn set_up(&self, service: &str, environment: &str, up: bool) {
        let key = (service.to_owned(), environment.to_owned());
        let mut down = self
            .down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if up {
            down.remove(&key);
        } else {
            down.insert(key);
        }
    }

    fn is_up(&self, service: &str, environment: &str) -> bool {
        !self
            .down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&(service.to_owned(), environment.to_owned()))
    }

    /// The health endpoints and the control surface.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{service}/{environment}/healthz", get(health))
            .route("/_sim/{service}/{environment}", post(set))
            .with_state(self.clone())
    }

    /// The URL template for the prober, given where this simulator listens.
    pub fn url_template(base: &str) -> String {
        format!("{base}/{{service}}/{{environment}}/healthz")
    }
}

async fn health(
    State(sim): State<HealthSimulator>,
    Path((service, environment)): Path<(String, String)>,
) -> Response {
    if sim.is_up(&service, &environment) {
        Json(json!({ "status": "ok", "service": service, "environment": environment }))
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "down", "service": service, "environment": environment })),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct SetUp {
    up: bool,
}

async fn set(
    State(sim): State<HealthSimulator>,
    Path((service, environment)): Path<(String, String)>,
    Json(body): Json<SetUp>,
) -> StatusCode {
    sim.set_up(&service, &environment, body.up);
    StatusCode::NO_CONTENT
}
