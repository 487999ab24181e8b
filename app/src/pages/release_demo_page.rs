// The page's body is rendered on the server only (kept as HTML, see
// `body_html`); the browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::release_demo::release_demo;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::error::AppError;
use crate::islands::step_keys::StepKeys;
use crate::views::release_demo::{slides, Panel, ReleaseDemoView, ServiceDemo};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// `/release-demo`: for stakeholders watching a Release demo, what is in
/// Release that is not in Prod, by team, in large type. With JavaScript it
/// follows deployments and health live; without, a Refresh link reloads it,
/// and a projector's kiosk URL may opt in to reloading itself
/// (`?refresh=60`, 30 to 3600 seconds), since a page that reloads on its own
/// takes the reader's place away (WCAG 2.2.1).
///
/// `?present=1` is the presentation mode for a projector: no app chrome,
/// large type, one 1920x1080 screen per slide (`&slide=2`, the presenter's
/// place, kept by live updates), and with `&advance=30` (10 to 600
/// seconds) the slides advance on their own.
#[component]
pub fn ReleaseDemoPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map().read_untracked();
    if is_presenting(&query) {
        let slide = query
            .get("slide")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1);
        let advance = query
            .get("advance")
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|s| (10..=600).contains(s));
        return view! { <Presentation slide advance /> }.into_any();
    }
    let data = Resource::new(|| (), |_| body_html());
    let kiosk = query
        .get("refresh")
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|s| (30..=3600).contains(s));
    view! {
        <Title text="Release demo" />
        {kiosk.map(|seconds| view! { <Meta http_equiv="refresh" content=seconds.to_string() /> })}
        <Suspense fallback=|| view! { <p class="mt-6 text-lg text-slate-500" aria-busy="true">"Loading what is in Release…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(html) => view! { <div id="release-demo-live" data-live="" inner_html=html></div> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// Whether a query asks for the presentation mode (`present=1`).
pub fn is_presenting(query: &leptos_router::params::ParamsMap) -> bool {
    query
        .get("present")
        .is_some_and(|v| v == "1" || v == "true")
}

fn slide_href(slide: usize, advance: Option<u32>) -> String {
    match advance {
        Some(seconds) => format!("/release-demo?present=1&slide={slide}&advance={seconds}"),
        None => format!("/release-demo?present=1&slide={slide}"),
    }
}

/// The presentation: one slide of the demo, its place in the URL.
#[component]
fn Presentation(slide: usize, advance: Option<u32>) -> impl IntoView {
    let data = Resource::new(|| (), |_| release_demo());
    view! {
        <Title text="Release demo (presenting)" />
        <Suspense fallback=|| view! { <p class="text-3xl text-slate-500" aria-busy="true">"Loading what is in Release…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        let slides = slides(&data);
                        let count = slides.len();
                        let index = slide.clamp(1, count) - 1;
                        let previous = (index > 0).then(|| slide_href(index, advance));
                        let next = (index + 1 < count).then(|| slide_href(index + 2, advance));
                        // Advancing wraps round to the first slide.
                        let refresh = advance.map(|seconds| {
                            let to = slide_href(if index + 1 < count { index + 2 } else { 1 }, advance);
                            view! { <Meta http_equiv="refresh" content=format!("{seconds};url={to}") /> }
                        });
                        let columns = slides.into_iter().nth(index).unwrap_or_default();
                        view! {
                            {refresh}
                            <StepKeys previous=previous.clone() next=next.clone() page_keys=true />
                            <div id="release-demo-live" data-live="" class="flex flex-col">
                                <SlideHeader data previous next index count advance />
                                <div class="mt-5 grid grid-cols-1 gap-12 lg:grid-cols-3">
                                    {columns.into_iter().map(|column| view! {
                                        <div class="min-w-0 space-y-6">
                                            {column.into_iter().map(|panel| view! { <PanelView panel /> }).collect_view()}
                                        </div>
                                    }).collect_view()}
                                </div>
                            </div>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <div class="text-2xl"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SlideHeader(
    data: ReleaseDemoView,
    previous: Option<String>,
    next: Option<String>,
    index: usize,
    count: usize,
    advance: Option<u32>,
) -> impl IntoView {
    let health = data.health_line();
    let (icon, tone) = if data.down > 0 {
        (IconKind::Cross, "font-semibold text-rose-800")
    } else if data.unknown > 0 {
        (IconKind::Dashed, "text-slate-700")
    } else {
        (IconKind::Check, "text-emerald-800")
    };
    const STEP: &str = "inline-flex min-h-12 items-center rounded-lg px-4 ring-1 ring-slate-300 hover:bg-slate-50 focus-visible:outline-4 focus-visible:outline-indigo-600";
    let exit = if advance.is_some() {
        slide_href(index + 1, None)
    } else {
        "/release-demo".to_owned()
    };
    let exit_label = if advance.is_some() {
        "Stop advancing"
    } else {
        "Leave presentation"
    };
    view! {
        <header class="flex flex-wrap items-start justify-between gap-x-10 gap-y-4">
            <div>
                <h1 class="text-4xl font-semibold tracking-tight text-slate-900">{format!("In {}, not yet in {}", data.release, data.prod)}</h1>
                <p class=format!("mt-2 flex items-center gap-3 text-3xl {tone}") role="status" aria-label=format!("{} health", data.release)>
                    <Icon kind=icon class="h-8 w-8 shrink-0" />{health}
                </p>
            </div>
            <nav aria-label="Slides" class="flex flex-wrap items-center gap-3 text-2xl text-slate-700">
                {match previous {
                    Some(href) => view! { <a href=href class=STEP rel="prev" aria-keyshortcuts="ArrowLeft PageUp">"← Previous"</a> }.into_any(),
                    None => ().into_any(),
                }}
                <span aria-current="page">{format!("Slide {} of {count}", index + 1)}</span>
                {match next {
                    Some(href) => view! { <a href=href class=STEP rel="next" aria-keyshortcuts="ArrowRight PageDown">"Next →"</a> }.into_any(),
                    None => ().into_any(),
                }}
                <a href=exit class="px-2 text-slate-600 underline">{exit_label}</a>
            </nav>
        </header>
    }
}

#[component]
fn PanelView(panel: Panel) -> impl IntoView {
    let Panel {
        team,
        part,
        parts,
        total,
        changes,
        problems,
    } = panel;
    let heading = if parts > 1 {
        format!("{team} ({part} of {parts})")
    } else {
        team.clone()
    };
    let empty = changes.is_empty() && problems.is_empty();
    let label = heading.clone();
    view! {
        <section aria-label=label class="min-w-0">
            <h2 class="flex flex-wrap items-baseline gap-x-4 text-3xl font-semibold text-slate-900">
                {heading}
                {(total > 0).then(|| view! { <span class="text-2xl font-normal text-slate-600">{if total == 1 { "1 change".to_owned() } else { format!("{total} changes") }}</span> })}
            </h2>
            {empty.then(|| view! { <p class="mt-4 text-3xl text-slate-600">"Nothing new in Release."</p> })}
            <ul class="mt-4 space-y-4 empty:hidden">
                {problems.into_iter().map(|(service, problem)| view! {
                    <li class="text-2xl text-rose-800">
                        <p class="flex items-center gap-3 font-semibold"><Icon kind=IconKind::Alert class="h-7 w-7 shrink-0" />{service}</p>
                        <p>{problem}</p>
                    </li>
                }).collect_view()}
                // On the screen a change is its title and the services it
                // reached; who wrote it is on the page's normal view.
                {changes.into_iter().map(|change| {
                    view! {
                        <li>
                            <p class="text-[1.625rem] leading-tight text-slate-900">
                                {change.title}
                            </p>
                            <p class="mt-1 text-2xl leading-7 text-slate-600">
                                <span class="font-medium text-slate-800">{change.services.join(", ")}</span>
                            </p>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The view as HTML: the same for every viewer, so rendered once per change
/// (and minute) and copied after that; a view in which GitHub could not be
/// read is not kept.
async fn body_html() -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        use crate::ssr::changes::Topic;
        crate::ssr::kept_html(&[Topic::Org, Topic::Board], "/release-demo", async {
            let data = release_demo().await?;
            let keep = !data.github_failed;
            Ok((view! { <DemoBody data /> }.to_html(), keep))
        })
        .await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Pages are rendered on the server only (islands hydrate on their own).
        Err(AppError::Unavailable)
    }
}

#[component]
fn DemoBody(data: ReleaseDemoView) -> impl IntoView {
    let ReleaseDemoView {
        release,
        prod,
        teams,
        up,
        down,
        unknown,
        ..
    } = data;
    // A change is what the presentation counts: a pull request (or a
    // commit without one), however many services it reached.
    let total: usize = teams.iter().map(|t| t.changes().len()).sum();
    let commits: usize = teams
        .iter()
        .flat_map(|t| t.services.iter())
        .map(|s| s.commits.len())
        .sum();
    view! {
        <h1 class="text-3xl font-semibold tracking-tight">{format!("In {release}, not yet in {prod}")}</h1>
        <p class="mt-2 text-lg text-slate-600">
            {format!("{total} change{} ({commits} commit{}) deployed in {release} that {prod} does not run yet. ", if total == 1 { "" } else { "s" }, if commits == 1 { "" } else { "s" })}
            <a href="/release-demo" class="text-base font-medium text-indigo-700 underline">"Refresh"</a>
            " · "
            <a href="/release-demo?present=1" class="text-base font-medium text-indigo-700 underline">"Present on a projector"</a>
        </p>
        <p class="mt-3 flex flex-wrap items-center gap-x-5 gap-y-1 text-lg" role="status" aria-label=format!("{release} health")>
            <span class="inline-flex items-center gap-2 text-emerald-800"><Icon kind=IconKind::Check class="h-5 w-5" />{format!("{up} up")}</span>
            {(down > 0).then(|| view! { <span class="inline-flex items-center gap-2 font-semibold text-rose-800"><Icon kind=IconKind::Cross class="h-5 w-5" />{format!("{down} down")}</span> })}
            {(unknown > 0).then(|| view! { <span class="inline-flex items-center gap-2 text-slate-500"><Icon kind=IconKind::Dashed class="h-5 w-5" />{format!("{unknown} not checked")}</span> })}
        </p>
        <div class="mt-8 grid gap-8 xl:grid-cols-3">
            {teams.into_iter().map(|team| view! {
                <section aria-label=team.team.clone()>
                    <h2 class="flex items-baseline gap-3 text-2xl font-semibold text-slate-900">
                        {team.team.clone()}
                        <span class="text-base font-normal text-slate-600">{match team.changes().len() { 1 => "1 change".to_owned(), n => format!("{n} changes") }}</span>
                    </h2>
                    <ul class="mt-3 space-y-5">
                        {team.services.into_iter().map(|service| view! { <ServiceItem service /> }).collect_view()}
                    </ul>
                </section>
            }).collect_view()}
        </div>
    }
}

#[component]
fn ServiceItem(service: ServiceDemo) -> impl IntoView {
    let revision = service
        .release_revision
        .clone()
        .unwrap_or_else(|| "nothing deployed".to_owned());
    let health = match service.up {
        Some(true) => view! { <span class="inline-flex items-center gap-1 text-base text-emerald-800"><Icon kind=IconKind::Check />"up"</span> }.into_any(),
        Some(false) => view! { <span class="inline-flex items-center gap-1 text-base font-semibold text-rose-800"><Icon kind=IconKind::Cross />"down"</span> }.into_any(),
        None => ().into_any(),
    };
    let body = match (&service.problem, service.commits.is_empty()) {
        (Some(problem), _) => view! {
            <p class="mt-1 flex items-center gap-2 text-lg text-rose-800"><Icon kind=IconKind::Alert />{problem.clone()}</p>
        }
        .into_any(),
        (None, true) => view! { <p class="mt-1 text-lg text-slate-500">"Nothing new in Release."</p> }.into_any(),
        (None, false) => view! {
            <ul class="mt-1 space-y-1">
                {service.commits.into_iter().map(|c| view! {
                    <li class="text-lg leading-snug text-slate-800">
                        <code class="mr-2 font-mono text-base text-slate-500">{c.sha}</code>
                        {c.title}
                        {c.author.map(|a| view! { <span class="text-base text-slate-500">{format!(" \u{b7} @{a}")}</span> })}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <li aria-label=service.name.clone()>
            <h3 class="flex flex-wrap items-baseline gap-x-3 text-xl font-medium text-slate-900">
                {service.name.clone()}
                <code class="font-mono text-sm text-slate-500">{revision}</code>
                {health}
            </h3>
            {body}
        </li>
    }
}
