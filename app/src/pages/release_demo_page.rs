// The page's body is rendered on the server only (kept as HTML, see
// `body_html`); the browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::release_demo::{release_demo, ReleaseDemoView, ServiceDemo};
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// `/release-demo`: for stakeholders watching a Release demo, what is in
/// Release that is not in Prod, by team, in large type. With JavaScript it
/// follows deployments and health live; without, a Refresh link reloads it,
/// and a projector's kiosk URL may opt in to reloading itself
/// (`?refresh=60`, 30 to 3600 seconds), since a page that reloads on its own
/// takes the reader's place away (WCAG 2.2.1).
#[component]
pub fn ReleaseDemoPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| body_html());
    let kiosk = leptos_router::hooks::use_query_map()
        .read_untracked()
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
    let total: usize = teams
        .iter()
        .flat_map(|t| t.services.iter())
        .map(|s| s.commits.len())
        .sum();
    view! {
        <h1 class="text-3xl font-semibold tracking-tight">{format!("In {release}, not yet in {prod}")}</h1>
        <p class="mt-2 text-lg text-slate-600">
            {format!("{total} change{} deployed in {release} that {prod} does not run yet. ", if total == 1 { "" } else { "s" })}
            <a href="/release-demo" class="text-base font-medium text-indigo-700 underline">"Refresh"</a>
        </p>
        <p class="mt-3 flex flex-wrap items-center gap-x-5 gap-y-1 text-lg" role="status" aria-label=format!("{release} health")>
            <span class="inline-flex items-center gap-2 text-emerald-800"><Icon kind=IconKind::Check class="h-5 w-5" />{format!("{up} up")}</span>
            {(down > 0).then(|| view! { <span class="inline-flex items-center gap-2 font-semibold text-rose-800"><Icon kind=IconKind::Cross class="h-5 w-5" />{format!("{down} down")}</span> })}
            {(unknown > 0).then(|| view! { <span class="inline-flex items-center gap-2 text-slate-500"><Icon kind=IconKind::Dashed class="h-5 w-5" />{format!("{unknown} not checked")}</span> })}
        </p>
        <div class="mt-8 grid gap-8 xl:grid-cols-3">
            {teams.into_iter().map(|team| view! {
                <section aria-label=team.team.clone()>
                    <h2 class="text-2xl font-semibold text-slate-900">{team.team.clone()}</h2>
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
