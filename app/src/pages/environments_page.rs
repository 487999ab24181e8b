// The page's body is rendered on the server only (kept as HTML, see
// `body_html`); the browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::org::environments;
use crate::components::badges::{BranchChip, DownPolicyBadge, GateBadge, TriggerBadge};
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::team_filter::TeamFilter;
use crate::domain::{Service, Team, TeamId};
use crate::error::AppError;
use crate::views::org::{EnvironmentRow, EnvironmentsView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/environments?team=<id>`: the environment model in promotion order, for
/// the whole org or as one team sees it.
#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let query = use_query_map();
    let team = query.read_untracked().get("team");
    let view_data = Resource::new(move || team.clone(), body_html);
    view! {
        <Title text="Environments" />
        <div class="flex flex-wrap items-end justify-between gap-3">
            <div>
                <h1 class="text-xl font-semibold tracking-tight">"Environments"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "How a change moves from a commit to production, in promotion order."
                </p>
            </div>
        </div>
        <Suspense fallback=EnvironmentsSkeleton>
            {move || Suspend::new(async move {
                match view_data.await {
                    // Live: what each environment allows today follows the
                    // calendar.
                    Ok(html) => view! { <div id="environments-live" data-live="" inner_html=html></div> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page's body as HTML: the same for every viewer of a team filter, so
/// rendered once per change of the org or calendar (and per minute: what
/// each environment allows follows the clock) and copied after that.
async fn body_html(team: Option<String>) -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        use crate::ssr::changes::Topic;
        let key = format!("/environments {team:?}");
        crate::ssr::kept_html(&[Topic::Org, Topic::Calendar], &key, async {
            let data = environments(team).await?;
            Ok((view! { <EnvironmentsBody data /> }.to_html(), true))
        })
        .await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Pages are rendered on the server only (islands hydrate on their own).
        let _ = team;
        Err(AppError::Unavailable)
    }
}

#[component]
fn EnvironmentsSkeleton() -> impl IntoView {
    view! {
        <div aria-busy="true" aria-label="Loading environments" class="mt-6 space-y-2">
            {(0..6).map(|_| view! { <div class="h-16 animate-pulse rounded-lg bg-slate-100"></div> }).collect_view()}
        </div>
    }
}

#[component]
fn EnvironmentsBody(data: EnvironmentsView) -> impl IntoView {
    let EnvironmentsView {
        org_name,
        teams,
        team,
        environments,
        services,
    } = data;
    let team_name = team
        .as_ref()
        .and_then(|id| teams.iter().find(|t| &t.id == id))
        .map(|t| t.name.to_string());
    let scope = match &team_name {
        Some(name) => format!("{name} at {org_name}"),
        None => format!("All teams at {org_name}"),
    };
    let selected = team.clone();
    let team_names = teams.clone();
    view! {
        <TeamFilter teams=teams.clone() selected=team.clone() path="/environments" class="mt-5" />
        <section aria-labelledby="environments-heading" class="mt-4">
            <h2 id="environments-heading" class="sr-only">{format!("Environments: {scope}")}</h2>
            <p class="mb-2 text-xs text-slate-500">{scope}</p>
            <div
                aria-hidden="true"
                class="hidden gap-x-6 border-b border-slate-200 px-4 pb-2 text-xs font-medium uppercase tracking-wide text-slate-500 lg:grid lg:grid-cols-[14rem_minmax(0,1fr)_minmax(0,1.1fr)_minmax(0,1.2fr)_minmax(0,1fr)]"
            >
                <span>"Environment"</span>
                <span>"Branches"</span>
                <span>"Deploys"</span>
                <span>"Testing"</span>
                <span>"Stakeholders · when down"</span>
            </div>
            <ol class="divide-y divide-slate-200 rounded-lg border border-slate-200 lg:rounded-t-none lg:border-t-0">
                {environments
                    .into_iter()
                    .map(|row| view! { <EnvironmentItem row selected=selected.clone() teams=team_names.clone() /> })
                    .collect_view()}
            </ol>
        </section>
        <ServicesSection services teams team_name />
    }
}

const LABEL: &str = "text-xs font-medium uppercase tracking-wide text-slate-500 lg:sr-only";

#[component]
fn EnvironmentItem(
    row: EnvironmentRow,
    selected: Option<TeamId>,
    teams: Vec<Team>,
) -> impl IntoView {
    let EnvironmentRow {
        environment: env,
        overridden_for,
        today,
    } = row;
    let heading_id = format!("env-{}", env.id);
    let team_name = |id: &TeamId| {
        teams
            .iter()
            .find(|t| &t.id == id)
            .map(|t| t.name.to_string())
            .unwrap_or_else(|| id.to_string())
    };
    let override_note = match &selected {
        Some(team) if overridden_for.contains(team) => {
            Some(format!("Set differently for {}", team_name(team)))
        }
        Some(_) => None,
        None if overridden_for.is_empty() => None,
        None => Some(format!(
            "Set differently for {}",
            overridden_for
                .iter()
                .map(team_name)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    let stakeholders = env
        .stakeholders
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <li>
            <article
                aria-labelledby=heading_id.clone()
                data-environment=env.id.to_string()
                class="grid gap-x-6 gap-y-3 px-4 py-3.5 sm:grid-cols-2 lg:grid-cols-[14rem_minmax(0,1fr)_minmax(0,1.1fr)_minmax(0,1.2fr)_minmax(0,1fr)]"
            >
                <div class="sm:col-span-2 lg:col-span-1">
                    <div class="flex items-center gap-2">
                        <span
                            class="inline-flex h-5 w-5 items-center justify-center rounded-full bg-slate-900 text-xs font-semibold text-white"
                            title="Promotion order"
                        >
                            {env.position}
                        </span>
                        <h3 id=heading_id.clone() class="font-semibold text-slate-900">{env.name.to_string()}</h3>
                    </div>
                    <p class="mt-1 text-sm text-slate-600">{env.usage.clone()}</p>
                    {override_note.map(|note| view! { <p class="mt-1 text-xs font-medium text-indigo-700">{note}</p> })}
                </div>
                <div>
                    <p class=LABEL>"Branches"</p>
                    <ul class="mt-1 flex flex-wrap gap-1 lg:mt-0" aria-label="Branches">
                        {env.branches.iter().cloned().map(|pattern| view! { <li><BranchChip pattern /></li> }).collect_view()}
                    </ul>
                </div>
                <div>
                    <p class=LABEL>"Deploys"</p>
                    <div class="mt-1 lg:mt-0"><TriggerBadge trigger=env.trigger /></div>
                    <ul class="mt-1.5 space-y-1 empty:hidden" aria-label="Today">
                        {today.into_iter().map(|(team, gate, sentence)| view! {
                            <li class="flex flex-wrap items-center gap-x-1.5 gap-y-0.5 text-xs text-slate-600" data-testid="allowance">
                                <GateBadge gate />
                                {team.map(|t| view! { <span class="font-medium">{format!("{t}:")}</span> })}
                                <span>{sentence}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
                <div>
                    <p class=LABEL>"Testing"</p>
                    {env.test_types.is_empty().then(|| view! {
                        <p class="mt-1 text-sm text-slate-500 lg:mt-0">"No test stage"</p>
                    })}
                    <ul class="mt-1 flex flex-wrap gap-1 empty:hidden lg:mt-0" aria-label="Test types">
                        {env
                            .test_types
                            .iter()
                            .map(|t| view! {
                                <li class="inline-flex items-center gap-1 rounded-md bg-slate-50 px-1.5 py-0.5 text-xs text-slate-800 ring-1 ring-inset ring-slate-500/20">
                                    <Icon kind=IconKind::Flask class="h-3 w-3" />
                                    {t.label()}
                                </li>
                            })
                            .collect_view()}
                    </ul>
                </div>
                <div class="space-y-1.5">
                    <p class=LABEL>"Stakeholders · when down"</p>
                    <p class="flex items-center gap-1 text-sm text-slate-700">
                        <Icon kind=IconKind::People class="h-3.5 w-3.5 text-slate-500" />
                        <span data-testid="stakeholders">{stakeholders}</span>
                    </p>
                    <DownPolicyBadge policy=env.down_policy />
                </div>
            </article>
        </li>
    }
}

#[component]
fn ServicesSection(
    services: Vec<Service>,
    teams: Vec<Team>,
    team_name: Option<String>,
) -> impl IntoView {
    let heading = match &team_name {
        Some(name) => format!("{name} services"),
        None => "Services".to_owned(),
    };
    let empty = services.is_empty();
    let team_label = move |id: &TeamId| {
        teams
            .iter()
            .find(|t| &t.id == id)
            .map(|t| t.name.to_string())
            .unwrap_or_default()
    };
    view! {
        <section aria-labelledby="services-heading" class="mt-8">
            <h2 id="services-heading" class="text-base font-semibold">{heading}</h2>
            <p class="mt-0.5 text-sm text-slate-600">"Each service is promoted through the environments above."</p>
            {if empty {
                view! {
                    <p class="mt-3 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-600">
                        "No services yet. Add them under "<code class="font-mono">"[[services]]"</code>" in the org configuration."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <div class="scroller mt-3 rounded-lg border border-slate-200" tabindex="0" role="region" aria-label="Environments, scrollable sideways">
                        <table class="w-full text-left text-sm">
                            <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                                <tr>
                                    <th scope="col" class="px-4 py-2 font-medium">"Service"</th>
                                    <th scope="col" class="px-4 py-2 font-medium">"Team"</th>
                                    <th scope="col" class="hidden px-4 py-2 font-medium sm:table-cell">"Repository"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200">
                                {services
                                    .iter()
                                    .map(|s| view! {
                                        <tr>
                                            <th scope="row" class="px-4 py-2 font-medium text-slate-900">
                                                <span class="inline-flex items-center gap-1.5">
                                                    <Icon kind=IconKind::Box class="h-3.5 w-3.5 text-slate-500" />
                                                    {s.name.to_string()}
                                                </span>
                                                <span class="block font-mono text-xs font-normal text-slate-500 sm:hidden">
                                                    {s.repository.to_string()}
                                                </span>
                                            </th>
                                            <td class="px-4 py-2 text-slate-700">{team_label(&s.team)}</td>
                                            <td class="hidden px-4 py-2 font-mono text-xs text-slate-700 sm:table-cell">{s.repository.to_string()}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}
