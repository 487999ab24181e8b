//! Gatehouse's web app: routes, pages and components rendered on the server,
//! the islands hydrated in the browser, the server functions they call, and
//! the wasm-safe domain model both sides share.

// Leptos views are deeply nested types; release builds need more depth.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod assets;
pub mod components;
pub mod domain;
pub mod encode;
pub mod error;
pub mod islands;
pub mod notice;
pub mod pages;
pub mod session_context;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod views;

/// Browser entry point: readies the runtime; Leptos's loader then hydrates
/// each island on the page (nothing else is hydrated).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
