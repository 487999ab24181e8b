//! A one-line outcome: what an action did, or why it did not.

use super::icon::{Icon, IconKind};
use leptos::prelude::*;

/// Green with a check for success, red with an alert for an error.
#[component]
pub fn Note(error: bool, text: String) -> impl IntoView {
    let (tone, icon) = if error {
        ("border-rose-200 bg-rose-50 text-rose-900", IconKind::Alert)
    } else {
        (
            "border-emerald-200 bg-emerald-50 text-emerald-900",
            IconKind::Check,
        )
    };
    view! {
        <p class=format!("flex items-center gap-2 rounded-lg border px-4 py-2 text-sm {tone}")>
            <Icon kind=icon />
            {text}
        </p>
    }
}

/// A form's outcome as the server says it after a plain form post: a
/// status (or alert) region that takes the focus when the page loads, so a
/// keyboard or screen-reader user starts from what their submit did.
#[component]
pub fn NoticeView(notice: crate::notice::Notice, #[prop(into)] class: String) -> impl IntoView {
    view! {
        <div
            class=format!("{class} focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 rounded-lg")
            role=if notice.error { "alert" } else { "status" }
            tabindex="-1"
            autofocus=true
            data-testid="form-outcome"
        >
            <Note error=notice.error text=notice.text />
        </div>
    }
}
