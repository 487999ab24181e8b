// The page's body is rendered on the server only (see `body_html`); the
// browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::delivery::delivery;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::team_filter::TeamFilter;
use crate::domain::dora::{Band, Measures};
use crate::domain::trend_chart::{self, Line};
use crate::domain::TeamId;
use crate::error::AppError;
use crate::views::delivery::{
    band_words, duration_words, frequency_words, rate_words, DeliveryView, MeasureRow, Scope,
    FAILURE_WINDOW_DAYS, WINDOWS,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/delivery`: the four DORA measures of delivery to Prod per team and
/// service, release by release as charts and over 30 or 90 days as a
/// table, with a CSV export. Works without JavaScript, live with it.
#[component]
pub fn DeliveryPage() -> impl IntoView {
    let query = use_query_map().read_untracked().clone();
    let days = query.get("days").and_then(|d| d.parse::<u32>().ok());
    let team = query.get("team");
    #[cfg(feature = "ssr")]
    let response = use_context::<leptos_axum::ResponseOptions>();
    let data = Resource::new(move || (days, team.clone()), |(d, t)| body_html(d, t));
    view! {
        <Title text="Metrics" />
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading the delivery metrics…"</p> }>
            {move || {
                #[cfg(feature = "ssr")]
                let response = response.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(html) => view! { <div id="delivery-live" data-live="" inner_html=html></div> }.into_any(),
                        Err(error) => {
                            #[cfg(feature = "ssr")]
                            if let (AppError::NotFound(_), Some(r)) = (&error, &response) {
                                r.set_status(http::StatusCode::NOT_FOUND);
                            }
                            view! {
                                <h1 class="text-xl font-semibold tracking-tight">"Delivery metrics"</h1>
                                <div class="mt-4"><ErrorNotice error /></div>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// The page's body, as HTML.
async fn body_html(days: Option<u32>, team: Option<String>) -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        let data = delivery(days, team).await?;
        Ok(crate::pages::board_page::without_markers(
            view! { <DeliveryBody data /> }.to_html(),
        ))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (days, team);
        Err(AppError::Unavailable)
    }
}

fn band_icon(band: Option<Band>) -> IconKind {
    match band {
        Some(Band::Elite) | Some(Band::High) => IconKind::Check,
        Some(Band::Medium) => IconKind::Minus,
        Some(Band::Low) => IconKind::Alert,
        None => IconKind::Dashed,
    }
}

fn band_tone(band: Option<Band>) -> &'static str {
    match band {
        // A band is information, not an alarm: its word says how it
        // compares; only High and Elite are marked as good.
        Some(Band::Elite) | Some(Band::High) => "text-emerald-800",
        Some(Band::Medium) | Some(Band::Low) => "text-slate-700",
        None => "text-slate-600",
    }
}

#[component]
fn BandWord(band: Option<Band>) -> impl IntoView {
    view! {
        <span class=format!("inline-flex items-center gap-1 {}", band_tone(band))>
            <Icon kind=band_icon(band) class="h-3.5 w-3.5 shrink-0" />
            {band_words(band)}
        </span>
    }
}

fn lead(m: &Measures) -> String {
    duration_words(m.lead_time_secs)
}

fn restore(m: &Measures) -> String {
    let mut words = duration_words(m.restore_secs);
    if m.open_outages > 0 {
        words.push_str(&format!(" ({} still down)", m.open_outages));
    }
    words
}

/// One team's card: its band and the four numbers.
#[component]
fn TeamCard(row: MeasureRow, days: u32) -> impl IntoView {
    let m = row.measures.clone();
    view! {
        <li class="rounded-lg border border-slate-200 bg-white px-4 py-3" data-testid="team-card">
            <div class="flex items-baseline justify-between gap-2">
                <h3 class="font-semibold text-slate-900">{row.name.clone()}</h3>
                <span class="text-sm"><BandWord band=m.band /></span>
            </div>
            <dl class="mt-2 grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
                <dt class="text-slate-600">"Deployment frequency"</dt>
                <dd class="text-right font-medium">{frequency_words(m.per_day)}</dd>
                <dt class="text-slate-600">"Lead time for changes"</dt>
                <dd class="text-right font-medium">{lead(&m)}</dd>
                <dt class="text-slate-600">"Change failure rate"</dt>
                <dd class="text-right font-medium">{rate_words(&m)}</dd>
                <dt class="text-slate-600">"Time to restore"</dt>
                <dd class="text-right font-medium">{restore(&m)}</dd>
            </dl>
            <p class="mt-2 text-xs text-slate-500">{format!("{} deployments to Prod in the last {days} days", m.deployments)}</p>
        </li>
    }
}

#[component]
fn DeliveryBody(data: DeliveryView) -> impl IntoView {
    let selected = data.team.as_deref().and_then(|t| TeamId::parse(t).ok());
    let days = data.days;
    let team_query = data
        .team
        .as_ref()
        .map_or_else(String::new, |t| format!("&team={t}"));
    let windows = WINDOWS
        .iter()
        .map(|&d| {
            let current = d == days;
            view! {
                <a href=format!("/delivery?days={d}{team_query}") aria-current=current.then_some("page")
                    class="rounded-md px-2.5 py-1 text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:bg-white aria-[current=page]:text-slate-900 aria-[current=page]:shadow-sm aria-[current=page]:ring-1 aria-[current=page]:ring-slate-200">
                    {format!("Last {d} days")}
                </a>
            }
        })
        .collect_view();
    let team_cards: Vec<MeasureRow> = data
        .rows
        .iter()
        .filter(|r| r.scope != Scope::Service)
        .cloned()
        .collect();
    let labels: Vec<String> = data
        .trend
        .first()
        .map(|s| s.points.iter().map(|p| p.release.clone()).collect())
        .unwrap_or_default();
    let series = |value: &dyn Fn(&Measures) -> Option<f64>| -> Vec<Line> {
        data.trend
            .iter()
            .map(|s| Line {
                name: s.name.clone(),
                values: s.points.iter().map(|p| value(&p.measures)).collect(),
            })
            .collect()
    };
    let charts = [
        (
            "freq",
            "Deployments to Prod per week, per release",
            "",
            series(&|m| Some((m.per_day * 70.0).round() / 10.0)),
        ),
        (
            "lead",
            "Median lead time for changes in hours, per release",
            " h",
            series(&|m| m.lead_time_secs.map(|s| (s as f64 / 360.0).round() / 10.0)),
        ),
        (
            "cfr",
            "Change failure rate in percent, per release",
            " %",
            series(&|m| m.change_failure_rate.map(|r| (r * 1000.0).round() / 10.0)),
        ),
        (
            "mttr",
            "Median time to restore in hours, per release",
            " h",
            series(&|m| m.restore_secs.map(|s| (s as f64 / 360.0).round() / 10.0)),
        ),
    ];
    let legend = data
        .trend
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (colour, dash, marker) = trend_chart::style(i);
            let sample = format!(
                r#"<svg viewBox="0 0 28 10" width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" y2="5" stroke="{colour}" stroke-width="2"{}/>{}</svg>"#,
                if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) },
                trend_chart::marker(marker, 14.0, 5.0, colour)
            );
            view! { <li class="inline-flex items-center gap-1.5"><span inner_html=sample></span>{s.name.clone()}</li> }
        })
        .collect_view();
    let chart_views = charts
        .into_iter()
        .map(|(id, title, unit, lines)| {
            let svg = trend_chart::svg(id, title, unit.trim(), &labels, &lines);
            view! {
                <figure class="rounded-lg border border-slate-200 bg-white p-3">
                    <figcaption class="text-sm font-medium text-slate-900">{title}</figcaption>
                    <div class="mt-1" inner_html=svg></div>
                </figure>
            }
        })
        .collect_view();
    let trend_rows = data
        .trend
        .iter()
        .flat_map(|s| {
            s.points.iter().map(move |p| {
                let m = &p.measures;
                view! {
                    <tr>
                        <th scope="row" class="px-3 py-1.5 text-left font-medium">{s.name.clone()}</th>
                        <td class="whitespace-nowrap px-3 py-1.5">{p.release.clone()}</td>
                        <td class="whitespace-nowrap px-3 py-1.5 text-right">{m.deployments}</td>
                        <td class="whitespace-nowrap px-3 py-1.5 text-right">{lead(m)}</td>
                        <td class="whitespace-nowrap px-3 py-1.5 text-right">{rate_words(m)}</td>
                        <td class="whitespace-nowrap px-3 py-1.5 text-right">{restore(m)}</td>
                        <td class="whitespace-nowrap px-3 py-1.5"><BandWord band=m.band /></td>
                    </tr>
                }
            })
        })
        .collect::<Vec<_>>();
    let table_rows = data
        .rows
        .iter()
        .map(|row| {
            let m = row.measures.clone();
            let (name_class, scope) = match row.scope {
                Scope::Org => ("font-semibold", "All teams"),
                Scope::Team => ("font-semibold", "Team"),
                Scope::Service => ("pl-6 font-normal", "Service"),
            };
            view! {
                <tr data-scope=scope data-id=row.id.clone()>
                    <th scope="row" class=format!("px-3 py-1.5 text-left {name_class}")>
                        <span class="sr-only">{format!("{scope}: ")}</span>{row.name.clone()}
                    </th>
                    <td class="whitespace-nowrap px-3 py-1.5 text-right">{m.deployments}</td>
                    <td class="whitespace-nowrap px-3 py-1.5 text-right">{frequency_words(m.per_day)}</td>
                    <td class="whitespace-nowrap px-3 py-1.5 text-right">{lead(&m)}</td>
                    <td class="whitespace-nowrap px-3 py-1.5 text-right">{rate_words(&m)}</td>
                    <td class="whitespace-nowrap px-3 py-1.5 text-right">{restore(&m)}</td>
                    <td class="whitespace-nowrap px-3 py-1.5"><BandWord band=m.band /></td>
                </tr>
            }
        })
        .collect_view();
    let empty =
        data.rows.iter().all(|r| r.measures.deployments == 0) && data.history_from.is_none();
    let heading_note = format!(
        "Deployments to {} and its outages, as Gatehouse recorded them. Lead time: from each commit to its deployment. Change failure: a deployment followed within {FAILURE_WINDOW_DAYS} days by an outage or a hotfix of the same service. Bands as DORA defines them; a team's band is its weakest measure.",
        data.environment
    );
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <h1 class="text-xl font-semibold tracking-tight">"Delivery metrics"</h1>
                <details class="mt-1 max-w-3xl text-sm text-slate-600">
                    <summary class="cursor-pointer text-indigo-700 hover:underline">"How these are measured"</summary>
                    <p class="mt-1">{heading_note}</p>
                </details>
                {data.history_from.map(|f| view! {
                    <p class="mt-1 text-xs text-slate-500">{format!("History from {} UTC.", f.format("%-d %b %Y"))}</p>
                })}
                {(data.unread > 0).then(|| view! {
                    <p class="mt-1 flex items-center gap-1 text-xs text-slate-600" role="status">
                        <Icon kind=IconKind::Clock class="h-3.5 w-3.5" />
                        {format!("Commit times of {} deployments are still being read from GitHub; lead times will include them shortly.", data.unread)}
                    </p>
                })}
            </div>
            <p class="text-sm print:hidden">
                <a href=data.export_href() class="lnk" download="">"Download CSV"</a>
            </p>
        </div>
        <div class="mt-4 flex flex-wrap items-center gap-3">
            <TeamFilter teams=data.teams.clone() selected path="/delivery" query=format!("days={days}") />
            <nav aria-label="Window" class="inline-flex gap-1 rounded-lg bg-slate-100 p-1">{windows}</nav>
        </div>
        {if empty {
            view! {
                <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600" data-testid="no-history">
                    "No deployment to Prod is recorded yet. Gatehouse records each one the board sees, and reads each Prod pipeline's earlier runs from CodePipeline once; this page fills as it does."
                </p>
            }.into_any()
        } else {
            view! {
                <section aria-labelledby="teams-heading" class="mt-6">
                    <h2 id="teams-heading" class="text-base font-semibold text-slate-900">{format!("Last {days} days")}</h2>
                    <ul class="mt-2 grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
                        {team_cards.into_iter().map(|row| view! { <TeamCard row days /> }).collect_view()}
                    </ul>
                </section>
                <section aria-labelledby="trend-heading" class="mt-8">
                    <h2 id="trend-heading" class="text-base font-semibold text-slate-900">"Release by release"</h2>
                    <ul class="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" aria-label="Lines">{legend}</ul>
                    <div class="mt-2 grid gap-3 md:grid-cols-2" data-testid="charts">{chart_views}</div>
                    <details class="mt-3 rounded-lg border border-slate-200 bg-white">
                        <summary class="cursor-pointer px-3 py-2 text-sm font-medium text-slate-900">"The charts' numbers"</summary>
                        <div class="scroller" tabindex="0" role="region" aria-label="The charts' numbers, scrollable sideways">
                            <table class="min-w-full text-sm">
                                <caption class="sr-only">"Each team's measures per release"</caption>
                                <thead class="bg-slate-50 text-xs text-slate-600">
                                    <tr>
                                        <th scope="col" class="px-3 py-2 text-left font-medium">"Team"</th>
                                        <th scope="col" class="px-3 py-2 text-left font-medium">"Release"</th>
                                        <th scope="col" class="px-3 py-2 text-right font-medium">"Deployments"</th>
                                        <th scope="col" class="px-3 py-2 text-right font-medium">"Lead time"</th>
                                        <th scope="col" class="px-3 py-2 text-right font-medium">"Change failure rate"</th>
                                        <th scope="col" class="px-3 py-2 text-right font-medium">"Time to restore"</th>
                                        <th scope="col" class="px-3 py-2 text-left font-medium">"Band"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">{trend_rows}</tbody>
                            </table>
                        </div>
                    </details>
                </section>
                <section aria-labelledby="table-heading" class="mt-8">
                    <h2 id="table-heading" class="text-base font-semibold text-slate-900">{format!("Teams and services, last {days} days")}</h2>
                    <div class="scroller mt-2 rounded-lg border border-slate-200 bg-white" tabindex="0" role="region" aria-labelledby="table-heading">
                        <table class="min-w-full text-sm" data-testid="measures">
                            <caption class="sr-only">{format!("The four measures per team and service over the last {days} days")}</caption>
                            <thead class="bg-slate-50 text-xs text-slate-600">
                                <tr>
                                    <th scope="col" class="px-3 py-2 text-left font-medium">"Team or service"</th>
                                    <th scope="col" class="px-3 py-2 text-right font-medium">"Deployments"</th>
                                    <th scope="col" class="px-3 py-2 text-right font-medium">"Frequency"</th>
                                    <th scope="col" class="px-3 py-2 text-right font-medium">"Lead time"</th>
                                    <th scope="col" class="px-3 py-2 text-right font-medium">"Change failure rate"</th>
                                    <th scope="col" class="px-3 py-2 text-right font-medium">"Time to restore"</th>
                                    <th scope="col" class="px-3 py-2 text-left font-medium">"Band"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">{table_rows}</tbody>
                        </table>
                    </div>
                </section>
            }.into_any()
        }}
    }
}
