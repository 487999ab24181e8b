//! The frame around every page: skip link, demo banner, navigation and the
//! signed-in user.

use super::icon::{Icon, IconKind, IconSprite};
use crate::domain::{Role, User};
use crate::islands::live::LiveUpdates;
use crate::session_context::SessionContext;
use crate::views::session::SessionInfo;
use leptos::prelude::*;
use leptos_router::components::A;

const NAV: &[(&str, &str)] = &[
    ("/board", "Board"),
    ("/calendar", "Calendar"),
    ("/environments", "Environments"),
    ("/approvals", "Approvals"),
    ("/prod-plan", "Prod plan"),
    ("/release-demo", "Release demo"),
    ("/delivery", "Metrics"),
    ("/audit", "Audit"),
    ("/inventory", "Inventory"),
    ("/notifications", "Notifications"),
];

#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let topics = topics_of(&path);
    // The Release demo on a projector: the page alone, full width.
    let presenting = path == "/release-demo"
        && crate::pages::release_demo_page::is_presenting(
            &leptos_router::hooks::use_query_map().read_untracked(),
        );
    if presenting {
        return view! {
            <IconSprite />
            <main id="main" class="px-4 py-4 lg:px-12 lg:py-8">{children()}</main>
            <LiveUpdates topics=topics />
        }
        .into_any();
    }
    let banner_and_user = move || {
        Suspend::new(async move {
            match session.info.await {
                Ok(info) => view! { <SessionBar info /> }.into_any(),
                Err(err) => view! {
                    <p role="alert" class="text-xs text-rose-700">{err.to_string()}</p>
                }
                .into_any(),
            }
        })
    };
    view! {
        <IconSprite />
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:ring-2 focus:ring-indigo-600"
        >
            "Skip to content"
        </a>
        <Suspense fallback=|| ()>{move || Suspend::new(async move {
            match session.info.await {
                Ok(SessionInfo { demo: true, .. }) => view! { <DemoBanner /> }.into_any(),
                _ => ().into_any(),
            }
        })}</Suspense>
        <header class="border-b border-slate-200 bg-white print:hidden">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2.5 sm:px-6">
                <a href="/environments" class="flex items-center gap-2 font-semibold tracking-tight text-slate-900">
                    <Icon kind=IconKind::Gate class="h-5 w-5 text-indigo-600" />
                    "Gatehouse"
                </a>
                <nav aria-label="Main" class="order-last -mx-1 flex w-full flex-wrap gap-1 sm:order-none sm:w-auto">
                    {NAV
                        .iter()
                        .map(|(href, label)| {
                            view! {
                                <A
                                    href=*href
                                    attr:class="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-slate-100 aria-[current=page]:text-slate-900"
                                >
                                    {*label}
                                </A>
                            }
                        })
                        .collect_view()}
                </nav>
                <div class="ml-auto flex items-center gap-3 text-sm">
                    <Suspense fallback=|| view! { <span class="text-slate-400">"…"</span> }>{banner_and_user}</Suspense>
                </div>
            </div>
        </header>
        <main id="main" class="mx-auto max-w-7xl px-4 py-6 sm:px-6">
            <Suspense fallback=|| ()>{move || Suspend::new(async move {
                match session.info.await {
                    Ok(SessionInfo { user: Some(user), .. }) if user.roles.is_empty() => view! { <NoRoleNote /> }.into_any(),
                    _ => ().into_any(),
                }
            })}</Suspense>
            {children()}
        </main>
        <LiveUpdates topics=topics />
    }
    .into_any()
}

/// The change topics each page follows live.
fn topics_of(path: &str) -> Vec<String> {
    let topics: &[&str] = match path {
        "/board" => &["board", "approvals"],
        "/approvals" => &["approvals"],
        "/calendar" => &["calendar"],
        "/environments" => &["calendar", "board"],
        "/release-demo" => &["board"],
        "/prod-plan" => &["board", "approvals"],
        "/notifications" => &["notifications", "people"],
        "/inventory" => &["board"],
        "/delivery" => &["board"],
        p if p.starts_with("/board/") => &["board", "approvals"],
        _ => &[],
    };
    topics.iter().map(|t| (*t).to_owned()).collect()
}

#[component]
fn DemoBanner() -> impl IntoView {
    view! {
        <div role="note" aria-label="Demo mode" class="print:hidden bg-amber-100 px-4 py-1.5 text-center text-xs text-amber-950">
            <strong class="mr-1.5 rounded bg-amber-950 px-1.5 py-0.5 font-mono text-xs tracking-wider text-amber-100">
                "DEMO"
            </strong>
            "Seeded teams and simulated CodePipeline and GitHub. Nothing here touches AWS or GitHub."
        </div>
    }
}

#[component]
fn SessionBar(info: SessionInfo) -> impl IntoView {
    match info.user {
        Some(user) => view! { <UserMenu user /> }.into_any(),
        None => view! {
            <a
                href="/sign-in"
                class="rounded-md bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
            >
                "Sign in"
            </a>
        }
        .into_any(),
    }
}

/// Said on every page to someone signed in without a role.
#[component]
fn NoRoleNote() -> impl IntoView {
    view! {
        <p role="note" class="mb-4 flex items-start gap-2 rounded-lg border border-amber-200 bg-amber-50 px-4 py-2.5 text-sm text-amber-950 print:hidden">
            <Icon kind=IconKind::Lock class="mt-0.5 h-4 w-4" />
            <span>
                "You are signed in, but none of your teams or groups is mapped to a Gatehouse role, so you can read every page and change nothing. An admin can map your team under "
                <code class="font-mono text-xs">"[access]"</code>
                " in the org configuration."
            </span>
        </p>
    }
}

fn role_summary(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "No role (read only)".to_owned();
    }
    let words: Vec<String> = roles
        .iter()
        .map(|role| match role {
            Role::Developer(team) => format!("Developer ({team})"),
            other => other.kind().label().trim_end_matches('s').to_owned(),
        })
        .collect();
    words.join(", ")
}

#[component]
fn UserMenu(user: User) -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let roles = role_summary(&user.roles);
    view! {
        <div class="flex items-center gap-3">
            <div class="text-right leading-tight">
                <p class="font-medium text-slate-900" data-testid="current-user">{user.display_name.to_string()}</p>
                <p class="text-xs text-slate-500">{roles}</p>
            </div>
            <leptos::form::ActionForm action=session.sign_out>
                <button
                    type="submit"
                    class="rounded-md px-2.5 py-1.5 text-slate-600 ring-1 ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-600"
                >
                    "Sign out"
                </button>
            </leptos::form::ActionForm>
        </div>
    }
}
