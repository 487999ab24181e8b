use leptos::prelude::*;
use leptos_meta::Title;

/// Any unknown path: says so, with a 404 status.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <div class="mx-auto max-w-xl py-12 text-center">
            <h1 class="text-xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "There is nothing at this address. "
                <a class="text-indigo-700 underline" href="/environments">"Go to Environments"</a>
            </p>
        </div>
    }
}
