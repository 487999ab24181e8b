// The page's body is rendered on the server only (see `body_html`); the
// browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::board::board_cell;
use crate::components::error_notice::ErrorNotice;
use crate::components::time::ago;
use crate::error::AppError;
use crate::pages::board_page::{status_tone, status_word, GapList, Timeline};
use crate::views::board::percent_up;
use crate::views::board::{CellDetail, CellStatus};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/board/{service}/{environment}`: one board cell on a page of its own,
/// what the board's disclosure summarises: every action of the deployed run
/// with its links, all the commits the environment lacks, health, downtime
/// and the outage timeline. Where the board's run links lead, in demo mode
/// too. Live with JavaScript (the `board` and `approvals` topics).
#[component]
pub fn CellPage() -> impl IntoView {
    let params = use_params_map();
    let (service, environment) = {
        let p = params.read_untracked();
        (
            p.get("service").unwrap_or_default(),
            p.get("environment").unwrap_or_default(),
        )
    };
    #[cfg(feature = "ssr")]
    let response = use_context::<leptos_axum::ResponseOptions>();
    let data = Resource::new(
        move || (service.clone(), environment.clone()),
        |(service, environment)| body_html(service, environment),
    );
    view! {
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading…"</p> }>
            {move || {
                #[cfg(feature = "ssr")]
                let response = response.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok((title, html)) => view! {
                            <Title text=title />
                            <div id="cell-live" data-live="" inner_html=html></div>
                        }.into_any(),
                        Err(error) => {
                            #[cfg(feature = "ssr")]
                            if let (AppError::NotFound(_), Some(r)) = (&error, &response) {
                                r.set_status(http::StatusCode::NOT_FOUND);
                            }
                            view! {
                                <Title text="Not found" />
                                <p class="text-sm"><a href="/board" class="lnk">"Board"</a></p>
                                <div class="mt-4"><ErrorNotice error /></div>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// The page's title and body, as HTML.
async fn body_html(service: String, environment: String) -> Result<(String, String), AppError> {
    #[cfg(feature = "ssr")]
    {
        let data = board_cell(service, environment).await?;
        let title = format!("{} in {}", data.service, data.cell.environment);
        let html = crate::pages::board_page::without_markers(view! { <CellBody data /> }.to_html());
        Ok((title, html))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (service, environment);
        Err(AppError::Unavailable)
    }
}

/// Whether a link leads to the AWS console (CodeBuild, CodeDeploy).
fn is_aws_console(url: &str) -> bool {
    url.starts_with("https://console.aws.amazon.com/") || url.contains(".console.aws.amazon.com/")
}

/// Which execution the actions listed belong to: the newest, and whether
/// it is the one whose revision the environment runs.
fn run_heading(latest: Option<&str>, deployed: Option<&str>) -> String {
    match (latest, deployed) {
        (Some(l), Some(d)) if l == d => format!("Run {l} (the deployed run)"),
        (Some(l), Some(d)) => {
            format!("Run {l} (the newest; the environment runs what run {d} deployed)")
        }
        (Some(l), None) => format!("Run {l} (the newest)"),
        (None, Some(d)) => format!("Run {d} (the deployed run)"),
        (None, None) => "Latest run".to_owned(),
    }
}

/// A label and its value in the page's facts list.
#[component]
fn Fact(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="flex gap-3 py-1.5">
            <dt class="w-28 shrink-0 text-slate-500">{label}</dt>
            <dd class="min-w-0 text-slate-900">{children()}</dd>
        </div>
    }
}

#[component]
fn CellBody(data: CellDetail) -> impl IntoView {
    let now: DateTime<Utc> = data.now.parse().unwrap_or_default();
    let CellDetail {
        service_id,
        service,
        team,
        repository,
        repository_url,
        cell,
        hotfixes,
        demo,
        ..
    } = data;
    let status = cell.status;
    let health = cell.health.clone();
    let word = status_word(status, health.as_ref(), now);
    let heading = format!("{service} in {}", cell.environment);
    let back = format!("/board?service={service_id}");
    let version = cell.tag.clone().or_else(|| cell.short_sha.clone());
    let deployed = cell
        .deployed_at
        .as_deref()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .map(|t| format!("{} ({})", ago(now, t), crate::components::time::stamp(t)));
    let ticket = health.as_ref().and_then(|h| h.ticket.clone());
    let commit = match (cell.short_sha.clone(), cell.commit_url.clone()) {
        (Some(sha), Some(url)) => view! { <a href=url class="rev lnk">{sha}</a> }.into_any(),
        (Some(sha), None) => view! { <code class="rev">{sha}</code> }.into_any(),
        _ => view! { <span class="text-slate-500">"Nothing deployed yet"</span> }.into_any(),
    };
    let actions = (!cell.actions.is_empty()).then(|| {
        let rows = cell.actions.clone();
        view! {
            <section aria-labelledby="run-heading" class="mt-6" id="run">
                <h2 id="run-heading" class="text-sm font-semibold text-slate-900">
                    {run_heading(cell.latest_run.as_deref(), cell.run_id.as_deref())}
                </h2>
                <table class="mt-2 w-full border-collapse text-left text-sm">
                    <caption class="sr-only">"Actions of the run and how each went"</caption>
                    <thead class="border-b border-slate-200 text-xs text-slate-600">
                        <tr>
                            <th scope="col" class="py-1.5 pr-4 font-medium">"Action"</th>
                            <th scope="col" class="py-1.5 pr-4 font-medium">"State"</th>
                            <th scope="col" class="py-1.5 font-medium">"Detail"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|a| {
                            let (tone, state_word, _) = a.state.look();
                            // The demo's runs are simulated: AWS has no console
                            // page for them (GitHub's runs open the simulator's).
                            let link = match a.url {
                                Some(url) if is_aws_console(&url) && demo => Some(view! { <span class="text-slate-500">"Simulated: the demo has no AWS console page"</span> }.into_any()),
                                Some(url) if is_aws_console(&url) => Some(view! { <a href=url class="lnk">"Open in the AWS console"</a> }.into_any()),
                                Some(url) => Some(view! { <a href=url class="lnk">"Open the run on GitHub"</a> }.into_any()),
                                None => None,
                            };
                            let detail = a.detail.map(|d| view! { <span class="block">{d}</span> });
                            view! {
                                <tr class="border-b border-slate-100 align-top">
                                    <th scope="row" class="py-1.5 pr-4 font-normal">{a.label}</th>
                                    <td class="py-1.5 pr-4"><span class=format!("st {tone}")>{state_word}</span></td>
                                    <td class="py-1.5 text-slate-700">{detail}{link}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    });
    let gap = cell.behind.clone().map(|g| {
        let words = if g.behind_by == 0 {
            format!("Level with {}: nothing to promote.", g.of)
        } else {
            crate::pages::board_page::gap_words(&g)
        };
        let behind = g.behind_by > 0;
        view! {
            <section aria-labelledby="gap-heading" class="mt-6">
                <h2 id="gap-heading" class="text-sm font-semibold text-slate-900">"Missing commits"</h2>
                <p class="mt-1 text-sm text-slate-700" data-testid="behind">{words}</p>
                {behind.then(|| view! {
                    <div class="mt-1 text-sm"><GapList gap=g shown=usize::MAX authors=true /></div>
                })}
            </section>
        }
    });
    let health_section = health.clone().map(|h| {
        let state = match h.up {
            Some(true) => "Up",
            Some(false) => "Down",
            None => "Checking",
        };
        let since = h
            .since
            .as_deref()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| format!(" for {}", crate::components::time::lasting(now, t)));
        view! {
            <section aria-labelledby="health-heading" class="mt-6">
                <h2 id="health-heading" class="text-sm font-semibold text-slate-900">"Health"</h2>
                <p class="mt-1 text-sm text-slate-700">{format!("{state}{}", since.unwrap_or_default())}{h.detail.map(|d| format!(": {d}"))}</p>
                {h.uptime_30d.map(|u30| {
                    let minutes = h.downtime_cycle_minutes.unwrap_or(0);
                    let any_down = minutes > 0 || !h.timeline.is_empty() || h.up == Some(false);
                    view! {
                    <p class="mt-1 text-sm text-slate-700" data-testid="uptime">
                        {format!(
                            "Down {minutes} min this release cycle ({}% up) · {}% up in the last 30 days",
                            percent_up(h.uptime_cycle.unwrap_or(100.0), minutes > 0 || h.up == Some(false)),
                            percent_up(u30, any_down)
                        )}
                    </p>
                    <div class="mt-1 max-w-xl"><Timeline marks=h.timeline.clone() /></div>
                }})}
            </section>
        }
    });
    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-600">
            <a href=back class="text-indigo-700 underline">"Board"</a>" / "{team}" / "{service.clone()}
        </nav>
        <h1 class="mt-1 text-xl font-semibold tracking-tight">{heading}</h1>
        {(status == CellStatus::Down).then(|| view! {
            <p class="mt-3 flex items-center gap-2 rounded-md bg-rose-700 px-3 py-2 text-sm font-semibold text-white" data-testid="health">
                <span class="st down text-white">{word.clone()}</span>
                {health.as_ref().and_then(|h| h.detail.clone()).map(|d| view! { <span class="font-normal">{d}</span> })}
                {ticket.clone().map(|url| view! { <a href=url class="ml-auto text-white underline" data-testid="ticket">"Critical ticket"</a> })}
            </p>
        })}
        <p class="mt-3 flex flex-wrap items-center gap-3">
            <span class="font-mono text-base font-medium">{version.unwrap_or_else(|| "—".to_owned())}</span>
            <span class=format!("{} text-sm", status_tone(status)) data-testid="status">{word}</span>
            {cell.waiting.clone().map(|w| view! {
                <a href=format!("/approvals?request={}", w.request_id) class="waiting text-sm" data-testid="waiting">
                    {format!("Review {} ({} of {} approvals)", w.commit, w.votes, w.needed)}
                </a>
            })}
        </p>
        {cell.problem.clone().map(|p| view! { <p role="note" class="mt-2 text-sm text-amber-900">{p}</p> })}
        {health_section}
        <dl class="mt-4 divide-y divide-slate-100 text-sm">
            <Fact label="Commit">{commit}</Fact>
            <Fact label="Message">{cell.message.clone().unwrap_or_else(|| "—".to_owned())}</Fact>
            <Fact label="Branch">{cell.branch.clone().unwrap_or_else(|| "—".to_owned())}</Fact>
            <Fact label="Deployed">{deployed.unwrap_or_else(|| "—".to_owned())}</Fact>
            <Fact label="Pipeline"><code class="font-mono text-xs">{cell.pipeline.clone()}</code></Fact>
            <Fact label="Repository"><a href=repository_url class="lnk font-mono text-xs">{repository}</a></Fact>
        </dl>
        {actions}
        {gap}
        {(!hotfixes.is_empty()).then(|| view! {
            <section aria-labelledby="hotfix-heading" class="mt-6">
                <h2 id="hotfix-heading" class="text-sm font-semibold text-slate-900">"Hotfix branches"</h2>
                <ul class="mt-1 space-y-1 text-sm text-slate-700">
                    {hotfixes.into_iter().map(|h| {
                        let words = if h.missing.is_empty() {
                            "merged back".to_owned()
                        } else {
                            format!("not merged into {}", h.missing.join(" and "))
                        };
                        view! {
                            <li data-testid="hotfix"><code class="font-mono">{h.branch}</code>{format!(": {}in Release, {words}", if h.in_release { "" } else { "not " })}</li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}
