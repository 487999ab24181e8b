use crate::api::session::sign_in_options;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::note::Note;
use crate::views::session::SignInChoices;
use leptos::prelude::*;
use leptos_meta::Title;

const PROVIDER_BUTTON: &str = "flex w-full items-center justify-center gap-2 rounded-lg border border-slate-300 px-4 py-2.5 font-medium text-slate-900 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600";

/// `/sign-in`: GitHub, the company's single sign-on, or (in demo mode) a
/// demo persona; and why the last attempt failed, if it did.
#[component]
pub fn SignInPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| sign_in_options());
    // Where to go back to after signing in (the server checks it stays on
    // Gatehouse).
    let return_to = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("return_to")
        .filter(|p| p.starts_with('/') && p.len() <= 2_000);
    view! {
        <Title text="Sign in" />
        <div class="mx-auto max-w-md">
            <h1 class="text-xl font-semibold tracking-tight">"Sign in to Gatehouse"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Your roles come from your teams: QA and SRE may approve, managers plan the calendar, everyone else reads."
            </p>
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading…"</p> }>
                {move || {
                    let return_to = return_to.clone();
                    Suspend::new(async move {
                    match options.await {
                        Ok(options) => view! { <Choices options return_to /> }.into_any(),
                        Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                    }
                })}}
            </Suspense>
        </div>
    }
}

#[component]
fn Choices(options: SignInChoices, return_to: Option<String>) -> impl IntoView {
    let back = return_to
        .map(|p| format!("?return_to={}", crate::encode::query_value(&p)))
        .unwrap_or_default();
    let SignInChoices {
        demo,
        providers,
        user,
        notice,
    } = options;
    let notice = notice.map(|n| view! {
        <div class="mt-4" role=if n.error { "alert" } else { "status" }><Note error=n.error text=n.text /></div>
    });
    let signed_in = user.map(|u| view! {
        <p class="mt-4 text-sm text-slate-700">{format!("You are signed in as {}.", u.display_name)}</p>
    });
    let none = (providers.is_empty() && !demo).then(|| view! {
        <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-600">
            "No sign-in provider is configured, so nobody can sign in. An admin sets GitHub or single sign-on in Gatehouse's settings: see docs/operations/real-mode.md, Sign-in."
        </p>
    });
    view! {
        {notice}
        {signed_in}
        {none}
        <ul class="mt-6 space-y-3 empty:hidden">
            {providers.into_iter().map(|p| {
                let icon = if p.id == "github" { IconKind::Branch } else { IconKind::Lock };
                view! {
                    <li>
                        <a href=format!("/auth/{}/login{back}", p.id) rel="external" class=PROVIDER_BUTTON>
                            <Icon kind=icon />
                            {format!("Sign in with {}", p.label)}
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
        {demo.then(|| view! {
            <div class="mt-6 border-t border-slate-200 pt-4">
                <a href="/demo/sign-in" class=PROVIDER_BUTTON>
                    <Icon kind=IconKind::People />
                    "Use a demo persona"
                </a>
                <p class="mt-2 text-xs text-slate-500">"Demo mode: sign in as a seeded QA engineer, SRE, developer, manager or stakeholder."</p>
            </div>
        })}
    }
}
