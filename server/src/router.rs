//! Every route Gatehouse serves and the layers around them: the Leptos
//! pages and server functions, sign-in, exports and feeds, `/events`, the
//! bundle, `/healthz` and `/readyz`, `/metrics`, and the middleware
//! (sessions, the same-origin check, limits, kept pages, security headers,
//! compression, timeouts, request spans). `startup` builds the state and
//! calls [`router`].

use crate::startup::DEMO_GITHUB_PAGES;
use app::app::{shell, App};
use app::ssr::{AppState, Mode};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

/// The app's page routes, listed once per process. Listing runs the app
/// with resource loading suppressed process-wide (a leptos_server flag), so
/// a page rendering meanwhile in another server of the same process (tests
/// and benchmarks start several) could wait forever for its data; listing
/// once, before the first server serves, leaves no such window.
pub fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route with its layers; `https` (the public URL's scheme) makes the
/// session cookie `Secure` and adds HSTS.
#[allow(clippy::too_many_arguments)]
pub(crate) fn router(
    state: AppState,
    directory: Arc<crate::http::auth::Directory>,
    pool: PgPool,
    https: bool,
    session_idle: Duration,
    assets: crate::http::assets::Assets,
    changes: crate::http::events::Changes,
    github_pages: Option<Router>,
    rate_limits: crate::http::limits::RateLimits,
    metrics: crate::metrics::MetricsState,
    draining: Arc<std::sync::atomic::AtomicBool>,
    integrations: crate::adapters::integrations::Integrations,
) -> Router {
    let mut routes = page_routes();
    if state.mode != Mode::Demo {
        routes.retain(|route| !route.path().starts_with("/demo"));
    }
    let sessions = SessionManagerLayer::new(PostgresStore::new(pool.clone()))
        .with_name("gatehouse_session")
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(session_idle.as_secs()).unwrap_or(i64::MAX),
        )));

    let leptos_options = state.leptos_options.clone();
    let context_state = state.clone();
    let mut app = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    if state.mode != Mode::Demo {
        app = app.route(
            "/demo/sign-in",
            get(|| async { (StatusCode::NOT_FOUND, "Not found") }),
        );
    }
    app = app
        .route("/calendar.ics", get(crate::http::ics::org_feed))
        .route("/calendar/{team}", get(crate::http::ics::team_feed));
    let events = Router::new()
        .route("/events", get(crate::http::events::stream))
        .with_state(crate::http::events::EventsState {
            changes,
            app: state.clone(),
        });
    // The bundle is public (a sign-in page needs it too) and served before
    // sessions: no session row is read or written for a file.
    let bundle = Router::new()
        .route("/pkg/{file}", get(crate::http::assets::serve))
        .with_state(assets);
    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Readiness {
            pool: pool.clone(),
            draining,
            integrations,
        });

    let sign_in = crate::http::auth::routes::router(crate::http::auth::routes::AuthState {
        app: state.clone(),
        directory,
    });
    let audit_export = crate::http::audit_export::router(crate::http::audit_export::ExportState {
        app: state.clone(),
        pool: pool.clone(),
    });
    let prod_plan_export = crate::http::prod_plan_export::router(state.clone());
    let delivery_export = crate::http::delivery_export::router(state.clone());
    let api = crate::http::api::router(state.clone());
    let metrics = Router::new()
        .route("/metrics", get(crate::metrics::serve))
        .with_state(metrics);
    let app = app
        .with_state(state.clone())
        .merge(sign_in)
        .merge(audit_export)
        .merge(prod_plan_export)
        .merge(delivery_export)
        .merge(api)
        .merge(events)
        .layer(axum::middleware::from_fn_with_state(
            crate::http::pages::Keeper {
                app: state.clone(),
                pages: Arc::default(),
            },
            crate::http::pages::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::http::auth::guard::require_sign_in,
        ))
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::same_origin,
        ))
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::bad_input_is_400,
        ))
        // Inside the session layer: a session counts once the store has it.
        .layer(axum::middleware::from_fn_with_state(
            rate_limits,
            crate::http::limits::limit_rate,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::limit_body,
        ))
        .merge(bundle)
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::log_bundle_misses,
        ));
    // Demo mode: the simulated GitHub's pages, public like GitHub's.
    let app = match github_pages {
        Some(pages) => app.nest(DEMO_GITHUB_PAGES, pages),
        None => app,
    };
    let app = app
        .merge(metrics)
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::security_headers,
        ));
    let app = if https {
        app.layer(SetResponseHeaderLayer::overriding(
            http::header::STRICT_TRANSPORT_SECURITY,
            http::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
    } else {
        app
    };
    // The health checks stay out of the request log: a load balancer asks
    // several times a second, and a draining replica's 503 is what it is
    // meant to answer, not a failure (`/readyz` logs a failing database
    // itself).
    let health = health
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(axum::middleware::from_fn(
            crate::http::auth::guard::security_headers,
        ));
    app.layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::telemetry::request_span)
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        .merge(health)
        .layer(axum::middleware::from_fn(crate::telemetry::request_id))
}

/// What `/readyz` looks at.
#[derive(Clone)]
struct Readiness {
    pool: PgPool,
    draining: Arc<std::sync::atomic::AtomicBool>,
    /// What Gatehouse depends on outside itself, shown, never gating.
    integrations: crate::adapters::integrations::Integrations,
}

/// Ready when Postgres answers within two seconds and the process is not
/// shutting down. The integrations (sign-in, AWS, CodePipeline, GitHub,
/// notification channels) are shown with what to fix, and never make the
/// process unready: a load balancer has nothing to gain from dropping it.
async fn readyz(
    State(Readiness {
        pool,
        draining,
        integrations,
    }): State<Readiness>,
) -> impl IntoResponse {
    let (status, mut body) = if draining.load(std::sync::atomic::Ordering::SeqCst) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "status": "draining", "database": "not checked" }),
        )
    } else {
        let check = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&pool),
        )
        .await;
        match check {
            Ok(Ok(_)) => (
                StatusCode::OK,
                serde_json::json!({ "status": "ready", "database": "ok" }),
            ),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness check failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::json!({ "status": "unavailable", "database": "error" }),
                )
            }
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "database": "timeout" }),
            ),
        }
    };
    body["integrations"] = integrations.to_json();
    (status, Json(body))
}
