//! An honest placeholder for a page that is not built yet.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ComingSoon(
    title: &'static str,
    summary: &'static str,
    items: &'static [&'static str],
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mx-auto max-w-3xl">
            <h1 class="text-xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-1 text-sm text-slate-600">{summary}</p>
            <section
                aria-label="Not built yet"
                class="mt-6 rounded-lg border border-dashed border-slate-300 bg-slate-50 px-5 py-4"
            >
                <p class="text-sm font-medium text-slate-800">"Not built yet. This page will show:"</p>
                <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-700">
                    {items.iter().map(|item| view! { <li>{*item}</li> }).collect_view()}
                </ul>
                <p class="mt-3 text-xs text-slate-500">"Nothing on this page is real data yet."</p>
            </section>
        </div>
    }
}
