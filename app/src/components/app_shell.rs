//! The frame around every page: skip link, demo banner, navigation and the
//! signed-in user.

use super::icon::{Icon, IconKind, IconSprite};
use crate::domain::{Role, User};
use crate::islands::live::LiveUpdates;
use crate::session_context::SessionContext;
use crate::views::home::NavCounts;
use crate::views::session::SessionInfo;
use leptos::prelude::*;
use leptos_router::components::A;

/// The links every page offers: the first five in the bar, the rest under
/// "More" (on a phone, all of them behind the menu button).
const PRIMARY: &[(&str, &str)] = &[
    ("/approvals", "Approvals"),
    ("/board", "Board"),
    ("/calendar", "Calendar"),
    ("/prod-plan", "Prod plan"),
    ("/release-demo", "Release demo"),
];
const MORE: &[(&str, &str)] = &[
    ("/environments", "Environments"),
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
    let path_for_nav = path.clone();
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
            <div class="mx-auto flex h-12 max-w-7xl items-center gap-3 px-4 sm:px-6">
                <a href="/" class="flex shrink-0 items-center gap-2 font-semibold tracking-tight text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-600">
                    <Icon kind=IconKind::Gate class="h-5 w-5 text-indigo-600" />
                    "Gatehouse"
                </a>
                <Suspense fallback=move || view! { <Navigation nav=NavCounts::default() path=path_for_nav.clone() user=None /> }>
                    {move || {
                        let path = path.clone();
                        Suspend::new(async move {
                            match session.info.await {
                                Ok(info) => view! { <Navigation nav=info.nav path user=info.user /> }.into_any(),
                                Err(err) => view! {
                                    <Navigation nav=NavCounts::default() path user=None />
                                    <p role="alert" class="text-xs text-rose-700">{err.to_string()}</p>
                                }
                                .into_any(),
                            }
                        })
                    }}
                </Suspense>
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
        "/" => &["board", "approvals", "calendar"],
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

/// The navigation: on a desktop one row (five links with their counts, a
/// "More" menu, the person's menu); on a phone one bar with a menu
/// button. Menus are `<details>`: they open without JavaScript.
#[component]
fn Navigation(nav: NavCounts, path: String, user: Option<User>) -> impl IntoView {
    let more: Vec<(&'static str, &'static str)> = MORE
        .iter()
        .copied()
        .filter(|(href, _)| *href != "/audit" || nav.audit)
        .collect();
    let in_more = more.iter().any(|(href, _)| path == *href);
    let link = move |href: &'static str, label: &'static str, place: &'static str| {
        let count = count_of(nav, href, place);
        view! {
            <A
                href=href
                attr:class=if place == "bar" { BAR_LINK } else { MENU_LINK }
            >
                {label}
                {count}
            </A>
        }
    };
    view! {
        <nav aria-label="Main" class="hidden min-w-0 items-center gap-0.5 lg:flex">
            {PRIMARY.iter().map(|(href, label)| link(href, label, "bar")).collect_view()}
            <details class="menu relative">
                <summary class=format!("{BAR_LINK} cursor-pointer list-none data-[current]:bg-slate-100 data-[current]:text-slate-900") data-current=in_more.then_some("")>
                    "More"
                    <span aria-hidden="true" class="text-xs text-slate-400">"▾"</span>
                </summary>
                <div class="absolute left-0 z-40 mt-1 w-48 rounded-md border border-slate-200 bg-white p-1 shadow-lg">
                    {more.iter().map(|(href, label)| link(href, label, "more")).collect_view()}
                </div>
            </details>
        </nav>
        <div class="ml-auto flex items-center gap-2 text-sm">
            <details class="menu relative lg:hidden" data-testid="phone-menu">
                <summary class="flex h-8 cursor-pointer list-none items-center gap-1.5 rounded-md px-2.5 font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-600">
                    <span aria-hidden="true">"☰"</span>
                    "Menu"
                    <span id="nav-button-down" data-live="" class="rounded-full bg-rose-700 px-1.5 text-xs font-semibold text-white tabular-nums empty:hidden">
                        {(nav.down > 0).then(|| format!("{} down", nav.down))}
                    </span>
                </summary>
                <nav aria-label="Main" class="absolute right-0 z-40 mt-1 w-64 rounded-md border border-slate-200 bg-white p-1 shadow-lg">
                    {PRIMARY.iter().map(|(href, label)| link(href, label, "menu")).collect_view()}
                    <hr class="my-1 border-slate-100" />
                    {more.iter().map(|(href, label)| link(href, label, "menu")).collect_view()}
                </nav>
            </details>
            {match user {
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
            }}
        </div>
    }
}

const BAR_LINK: &str = "flex items-center gap-1.5 whitespace-nowrap rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-slate-100 aria-[current=page]:text-slate-900";
const MENU_LINK: &str = "flex items-center justify-between gap-2 rounded px-2.5 py-1.5 text-sm text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-slate-100 aria-[current=page]:font-medium aria-[current=page]:text-slate-900";

/// The count a link carries: requests waiting on Approvals (violet: they
/// wait on a person), cells down on the Board (red, only when any is).
/// Each count is a live region of its own, there (empty) when the count is
/// zero, so a live update can fill or empty it.
fn count_of(nav: NavCounts, href: &str, place: &'static str) -> Option<AnyView> {
    let (id, words, tone) = match href {
        "/approvals" => (
            "approvals",
            (nav.approvals > 0).then(|| nav.approvals.to_string()),
            "bg-violet-100 text-violet-900",
        ),
        "/board" => (
            "down",
            (nav.down > 0).then(|| format!("{} down", nav.down)),
            "bg-rose-700 text-white",
        ),
        _ => return None,
    };
    Some(
        view! {
            <span
                id=format!("nav-{place}-{id}")
                data-live=""
                data-testid=format!("nav-count-{id}")
                class=format!("rounded-full px-1.5 text-xs font-semibold tabular-nums empty:hidden {tone}")
            >
                {words}
            </span>
        }
        .into_any(),
    )
}

#[component]
fn UserMenu(user: User) -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let roles = role_summary(&user.roles);
    let name = user.display_name.to_string();
    let title = format!("{name} · {roles}");
    view! {
        <details class="menu relative" data-testid="user-menu">
            <summary class="flex cursor-pointer list-none items-center gap-2 rounded-md px-1.5 py-1 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-600" title=title>
                <span aria-hidden="true" class="flex h-7 w-7 shrink-0 items-center justify-center rounded-full bg-slate-900 text-xs font-semibold text-white">
                    {super::initials(&name)}
                </span>
                <span class="max-sm:sr-only text-left leading-tight">
                    <span class="block font-medium text-slate-900" data-testid="current-user">{name}</span>
                    <span class="block text-xs text-slate-500">{roles}</span>
                </span>
            </summary>
            <div class="absolute right-0 z-40 mt-1 w-48 rounded-md border border-slate-200 bg-white p-2 text-sm shadow-lg">
                <div>
                <leptos::form::ActionForm action=session.sign_out>
                    <button
                        type="submit"
                        class="w-full rounded-md px-2.5 py-1.5 text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-600"
                    >
                        "Sign out"
                    </button>
                </leptos::form::ActionForm>
                </div>
            </div>
        </details>
    }
}
