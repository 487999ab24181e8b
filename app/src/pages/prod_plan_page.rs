// The page's body is rendered on the server only (see `body_html`); the
// browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::prod_plan::prod_plan;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::team_filter::TeamFilter;
use crate::domain::deploy_dag::{PlanNode, ProdState};
use crate::domain::TeamId;
use crate::error::AppError;
use crate::views::prod_plan::ProdPlanView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/prod-plan`: the current release's way to Prod. The DAG of which
/// service calls which, drawn on the server, and the same plan as an
/// ordered list of steps; `?team=` narrows it. Works without JavaScript,
/// live with it (the `board` and `approvals` topics).
#[component]
pub fn ProdPlanPage() -> impl IntoView {
    let team = use_query_map().read_untracked().get("team");
    #[cfg(feature = "ssr")]
    let response = use_context::<leptos_axum::ResponseOptions>();
    let data = Resource::new(move || team.clone(), body_html);
    view! {
        <Title text="Prod plan" />
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading the Prod plan…"</p> }>
            {move || {
                #[cfg(feature = "ssr")]
                let response = response.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(html) => view! { <div id="prod-plan-live" data-live="" inner_html=html></div> }.into_any(),
                        Err(error) => {
                            #[cfg(feature = "ssr")]
                            if let (AppError::NotFound(_), Some(r)) = (&error, &response) {
                                r.set_status(http::StatusCode::NOT_FOUND);
                            }
                            view! {
                                <h1 class="text-xl font-semibold tracking-tight">"Prod plan"</h1>
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
async fn body_html(team: Option<String>) -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        let data = prod_plan(team).await?;
        Ok(crate::pages::board_page::without_markers(
            view! { <PlanBody data /> }.to_html(),
        ))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = team;
        Err(AppError::Unavailable)
    }
}

/// A state's icon: never colour alone.
pub fn state_icon(state: ProdState) -> IconKind {
    match state {
        ProdState::Unchanged => IconKind::Minus,
        ProdState::NotStarted => IconKind::Dashed,
        ProdState::WaitingForApproval => IconKind::Hand,
        ProdState::Approved => IconKind::Approval,
        ProdState::Deploying => IconKind::Bolt,
        ProdState::Deployed => IconKind::Check,
        ProdState::Failed => IconKind::Cross,
        ProdState::Unknown => IconKind::Alert,
    }
}

fn state_tone(state: ProdState) -> &'static str {
    match state {
        ProdState::Unchanged | ProdState::NotStarted | ProdState::Unknown => "text-slate-600",
        ProdState::WaitingForApproval => "text-violet-800",
        ProdState::Approved => "text-indigo-700",
        ProdState::Deploying => "text-sky-700",
        ProdState::Deployed => "text-emerald-700",
        ProdState::Failed => "text-rose-700",
    }
}

#[component]
fn StateWord(state: ProdState) -> impl IntoView {
    view! {
        <span class=format!("inline-flex items-center gap-1 text-sm {}", state_tone(state))>
            <Icon kind=state_icon(state) class="h-3.5 w-3.5 shrink-0" />
            {state.words()}
        </span>
    }
}

#[component]
fn PlanBody(data: ProdPlanView) -> impl IntoView {
    let selected = data.team.as_deref().and_then(|t| TeamId::parse(t).ok());
    let heading = match &data.release {
        Some(r) => format!("Prod plan: release {r}"),
        None => "Prod plan".to_owned(),
    };
    let freeze = data.frozen_words.clone().map(|f| {
        format!("Code freeze {f}: what Pre-Prod runs that Prod does not, and what Prod took since then.")
    });
    let counts = data.counts();
    let steps = data.steps();
    let unchanged = data.unchanged();
    let total_steps = data.plan.steps.len();
    let md = data.export_href("md");
    let json = data.export_href("json");
    let nodes = data.plan.nodes.clone();
    let team_name = {
        let teams = data.teams.clone();
        move |id: &str| crate::views::prod_plan::team_name(&teams, id)
    };
    let item = {
        let nodes = nodes.clone();
        let team_name = team_name.clone();
        move |i: usize| {
            let n: PlanNode = nodes[i].clone();
            let name_of = |id: &str| {
                nodes
                    .iter()
                    .find(|m| m.id == id)
                    .map_or_else(|| id.to_owned(), |m| m.name.clone())
            };
            let blocked = (!n.blocked_on.is_empty()).then(|| {
                let names: Vec<String> = n.blocked_on.iter().map(|b| name_of(b)).collect();
                view! {
                    <p class="mt-0.5 flex items-center gap-1 text-sm text-amber-800">
                        <Icon kind=IconKind::Lock class="h-3.5 w-3.5 shrink-0" />
                        {format!("Blocked on {}", names.join(", "))}
                    </p>
                }
            });
            let calls = (!n.calls.is_empty()).then(|| {
                let words: Vec<String> = n
                    .calls
                    .iter()
                    .map(|c| format!("{} ({})", name_of(c.service.as_str()), c.kind.as_str()))
                    .collect();
                view! { <p class="mt-0.5 text-xs text-slate-500">{format!("Calls {}", words.join(", "))}</p> }
            });
            let href = format!("/board/{}/prod", n.id);
            view! {
                <li class="py-2" data-service=n.id.clone()>
                    <div class="flex flex-wrap items-baseline gap-x-3 gap-y-0.5">
                        <a href=href class="lnk font-medium">{n.name.clone()}</a>
                        <span class="text-xs text-slate-500">{team_name(&n.team)}</span>
                        <StateWord state=n.state />
                    </div>
                    {blocked}
                    {calls}
                </li>
            }
        }
    };
    let step_list = if steps.is_empty() {
        view! {
            <p class="mt-2 text-sm text-slate-600">
                "Nothing changes in this release: Prod runs what Pre-Prod runs."
            </p>
        }
        .into_any()
    } else {
        let item = item.clone();
        view! {
            <ol class="mt-2 space-y-3" aria-label="Steps to Prod">
                {steps
                    .into_iter()
                    .map(|(step, members)| {
                        let item = item.clone();
                        let label = format!("Step {} of {total_steps}", step + 1);
                        let parallel = if members.len() > 1 { " (in parallel)" } else { "" };
                        view! {
                            <li class="rounded-lg border border-slate-200 bg-white px-4 py-2">
                                <h3 class="text-sm font-semibold text-slate-900">{label}{parallel}</h3>
                                <ul class="divide-y divide-slate-100">
                                    {members.into_iter().map(item).collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    };
    let unchanged_list = (!unchanged.is_empty()).then(|| {
        let item = item.clone();
        view! {
            <section aria-labelledby="unchanged-heading" class="mt-6">
                <h2 id="unchanged-heading" class="text-sm font-semibold text-slate-900">"Unchanged in this release"</h2>
                <ul class="mt-1 divide-y divide-slate-100">{unchanged.into_iter().map(item).collect_view()}</ul>
            </section>
        }
    });
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <h1 class="text-xl font-semibold tracking-tight">{heading}</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">
                    "Services go to Prod after the services they call: each step may go in parallel once the steps before it are deployed. A Prod approval whose changed dependencies have not reached Prod is blocked."
                </p>
                {freeze.map(|f| view! { <p class="mt-1 text-xs text-slate-500">{f}</p> })}
            </div>
            <p class="flex gap-3 text-sm print:hidden">
                <a href=md class="lnk" download="">"Download Markdown"</a>
                <a href=json class="lnk" download="">"Download JSON"</a>
            </p>
        </div>
        <TeamFilter teams=data.teams.clone() selected path="/prod-plan" class="mt-4" />
        <ul class="mt-3 flex flex-wrap gap-x-4 gap-y-1" aria-label="Services by state">
            {counts
                .into_iter()
                .map(|(state, n)| view! { <li class="text-sm"><b class="font-semibold">{n}</b>" " <StateWord state /></li> })
                .collect_view()}
        </ul>
        <figure class="mt-4 rounded-lg border border-slate-200 bg-slate-50">
            <div class="scroller overflow-y-auto p-2" tabindex="0" role="group" aria-label="The dependency graph, scrollable" inner_html=data.svg.clone()></div>
            <figcaption class="flex flex-wrap gap-x-4 gap-y-1 border-t border-slate-200 px-3 py-2 text-xs text-slate-600">
                <span>"An arrow goes from a service to a service that calls it: left to right is the order to Prod."</span>
                <span>"Solid: HTTP · dashed: gRPC · dotted: queue."</span>
                <span class="inline-flex items-center gap-1"><Icon kind=IconKind::Lock class="h-3 w-3" />"Amber border and arrows: blocked."</span>
            </figcaption>
        </figure>
        <section aria-labelledby="steps-heading" class="mt-6">
            <h2 id="steps-heading" class="text-sm font-semibold text-slate-900">"The plan, step by step"</h2>
            {step_list}
        </section>
        {unchanged_list}
    }
}
