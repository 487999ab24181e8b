//! What answers HTTP besides the Leptos pages and server functions: the
//! versioned API for scripts (`api`), sign-in (`auth`), the exports and feeds, `/events`, the bundle, kept pages, the
//! limits and the query extractor that refuses in a sentence. The routes
//! and their layers are put together in `crate::router`.

pub mod api;
pub mod assets;
pub mod audit_export;
pub mod auth;
pub mod delivery_export;
pub mod events;
pub mod ics;
pub mod limits;
pub mod pages;
pub mod prod_plan_export;
pub mod query;
