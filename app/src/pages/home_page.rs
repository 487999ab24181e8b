// The page's body is rendered on the server only (see `body_html`); the
// browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::home::home;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::time::{ago, lasting};
use crate::components::verification::VerificationLine;
use crate::error::AppError;
use crate::views::home::{
    AdminSummary, DemoSummary, DownCell, Focus, HomeApproval, HomeView, ProdSummary, TeamSummary,
    UpcomingMilestone,
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/`: each person's first screen. What waits for them, what is down,
/// the Prod release, their team and the next milestones, the section that
/// answers their role's question first. Works without JavaScript, live
/// with it (the `board`, `approvals` and `calendar` topics).
#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |()| body_html());
    view! {
        <Title text="Home" />
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(html) => view! { <div id="home-live" data-live="" inner_html=html></div> }.into_any(),
                    Err(error) => view! {
                        <h1 class="text-xl font-semibold tracking-tight">"Home"</h1>
                        <div class="mt-4"><ErrorNotice error /></div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page's body, as HTML.
async fn body_html() -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        let data = home().await?;
        Ok(crate::pages::board_page::without_markers(
            view! { <HomeBody data /> }.to_html(),
        ))
    }
    #[cfg(not(feature = "ssr"))]
    {
        Err(AppError::Unavailable)
    }
}

/// "16 Dec 2026": the one way pages write a day.
pub fn day_words(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

const CARD: &str = "rounded-lg border border-slate-200 bg-white";
const CARD_HEAD: &str =
    "flex items-baseline justify-between gap-3 border-b border-slate-100 px-4 py-2.5";
const MORE: &str = "lnk text-sm whitespace-nowrap";

/// The sections in the order the viewer's role reads them.
fn order(focus: Focus, developer: bool, admin: bool) -> Vec<Focus> {
    let mut sections = vec![focus];
    let rest = [
        Focus::Approvals,
        Focus::Health,
        Focus::Record,
        Focus::Team,
        Focus::Prod,
        Focus::Demo,
    ];
    for s in rest {
        let wanted = match s {
            // Only a developer has a team; the Release demo is in the
            // milestones for everyone but stakeholders.
            Focus::Team => developer,
            Focus::Record => admin,
            Focus::Demo => false,
            _ => true,
        };
        if wanted && !sections.contains(&s) {
            sections.push(s);
        }
    }
    sections.retain(|s| *s != Focus::Overview);
    sections
}

#[component]
fn HomeBody(data: HomeView) -> impl IntoView {
    let now = data.now;
    let sections = order(data.focus, !data.teams.is_empty(), data.admin.is_some());
    let greeting = match &data.name {
        Some(name) => format!("Hello, {}", name.split_whitespace().next().unwrap_or(name)),
        None => "Gatehouse".to_owned(),
    };
    let lead = data.focus.question();
    let next = data.milestones.first().cloned();
    view! {
        <h1 class="text-xl font-semibold tracking-tight">{greeting}</h1>
        <p class="mt-1 text-sm text-slate-600">
            {if data.focus == Focus::Overview {
                format!("{lead} The release train at a glance{}.", if data.name.is_some() { "" } else { "; sign in to see what waits for you" })
            } else {
                "Your release train at a glance, what needs you first.".to_owned()
            }}
        </p>
        <Strip data=data.clone() next />
        <div class="mt-5 grid gap-4 lg:grid-cols-3">
            <div class="space-y-4 lg:col-span-2">
                {sections.into_iter().enumerate().map(|(i, s)| {
                    let first = i == 0 && s == data.focus;
                    match s {
                        Focus::Approvals => view! { <ApprovalsCard data=data.clone() now first /> }.into_any(),
                        Focus::Health => view! { <HealthCard down=data.down.clone() now first /> }.into_any(),
                        Focus::Prod => view! { <ProdCard prod=data.prod.clone() first /> }.into_any(),
                        Focus::Demo => view! { <DemoCard milestones=data.milestones.clone() demo=data.demo.clone() first /> }.into_any(),
                        Focus::Team => view! { <TeamCard teams=data.teams.clone() first /> }.into_any(),
                        Focus::Record => match data.admin.clone() {
                            Some(admin) => view! { <AdminCard admin first /> }.into_any(),
                            None => ().into_any(),
                        },
                        Focus::Overview => ().into_any(),
                    }
                }).collect_view()}
            </div>
            <MilestonesCard milestones=data.milestones.clone() today=data.today />
        </div>
    }
}

/// The counts that matter, each a link to the list it counts.
#[component]
fn Strip(data: HomeView, next: Option<UpcomingMilestone>) -> impl IntoView {
    let signed_in = data.name.is_some();
    let (waiting_label, waiting, waiting_href) = if signed_in {
        ("Waiting for you", data.yours, "/approvals")
    } else {
        ("Waiting for a decision", data.pending, "/approvals")
    };
    let tile = "flex min-h-16 flex-col justify-center rounded-lg border border-slate-200 px-4 py-2 hover:border-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600";
    let number = |n: usize, status: &'static str| {
        view! { <span class=format!("{} text-lg font-semibold tabular-nums", tone(n, status))>{n.to_string()}</span> }
    };
    view! {
        <ul class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="At a glance" data-testid="home-strip">
            <li>
                <a href=waiting_href class=tile data-testid="home-waiting">
                    {number(waiting, "st wait")}
                    <span class="text-xs text-slate-600">{waiting_label}</span>
                </a>
            </li>
            <li>
                <a href="/board?down=1" class=tile data-testid="home-down">
                    {number(data.counts.down, "st down")}
                    <span class="text-xs text-slate-600">"Down now"</span>
                </a>
            </li>
            <li>
                <a href="/board?failed=1" class=tile data-testid="home-failed">
                    {number(data.counts.failed, "st fail")}
                    <span class="text-xs text-slate-600">"Failed runs"</span>
                </a>
            </li>
            <li>
                <a href="/calendar" class=tile data-testid="home-next">
                    {match next {
                        Some(m) => view! {
                            <span class="text-sm font-semibold text-slate-900">{m.kind.label()}</span>
                            <span class="text-xs text-slate-600">{format!("Next: {}", day_words(m.date))}</span>
                        }.into_any(),
                        None => view! {
                            <span class="text-sm font-semibold text-slate-900">"No milestone"</span>
                            <span class="text-xs text-slate-600">"Next on the calendar"</span>
                        }.into_any(),
                    }}
                </a>
            </li>
        </ul>
    }
}

/// A card's heading: its role's question when it leads the page.
fn heading(first: bool, focus: Focus, title: &'static str) -> String {
    if first {
        focus.question().to_owned()
    } else {
        title.to_owned()
    }
}

#[component]
fn ApprovalsCard(data: HomeView, now: DateTime<Utc>, first: bool) -> impl IntoView {
    let signed_in = data.name.is_some();
    let title = heading(first, Focus::Approvals, "Waiting for you");
    let listed = data.yours_listed.clone();
    let body = if !signed_in {
        view! {
            <p class="px-4 py-3 text-sm text-slate-600">
                {format!("{} request{} wait for a decision. ", data.pending, if data.pending == 1 { "" } else { "s" })}
                <a href="/sign-in" class="text-indigo-700 underline">"Sign in"</a>" to see which are yours."
            </p>
        }
        .into_any()
    } else if listed.is_empty() {
        view! {
            <p class="flex items-center gap-2 px-4 py-3 text-sm text-slate-600">
                <Icon kind=IconKind::Check class="h-4 w-4 text-emerald-700" />
                {if data.pending == 0 { "Nothing waits for a decision.".to_owned() } else { format!("Nothing waits for you; {} request{} wait for others.", data.pending, if data.pending == 1 { "" } else { "s" }) }}
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100">
                {listed.into_iter().map(|a| view! { <ApprovalLine approval=a now /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let more = if signed_in && data.yours > data.yours_listed.len() {
        format!("All {} for you", data.yours)
    } else {
        format!("Approvals ({} waiting)", data.pending)
    };
    view! {
        <section class=CARD aria-labelledby="home-approvals" data-testid="home-approvals">
            <div class=CARD_HEAD>
                <h2 id="home-approvals" class="text-sm font-semibold">{title}</h2>
                <a href="/approvals" class=MORE>{more}</a>
            </div>
            {body}
        </section>
    }
}

#[component]
fn ApprovalLine(approval: HomeApproval, now: DateTime<Utc>) -> impl IntoView {
    let href = format!("/approvals?request={}", approval.request_id);
    view! {
        <li class="flex flex-wrap items-center gap-x-3 gap-y-0.5 px-4 py-2 text-sm">
            <a href=href class="min-w-0 font-medium text-slate-900 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-600">
                {format!("{} to {}", approval.service, approval.environment)}
            </a>
            <code class="font-mono text-xs text-slate-600">{approval.commit}</code>
            <span class="st wait">{format!("{} of {} approval{}", approval.votes, approval.needed, if approval.needed == 1 { "" } else { "s" })}</span>
            <span class="ml-auto text-xs text-slate-500">{format!("asked {}", ago(now, approval.requested_at))}</span>
        </li>
    }
}

#[component]
fn HealthCard(down: Vec<DownCell>, now: DateTime<Utc>, first: bool) -> impl IntoView {
    let title = heading(first, Focus::Health, "Down now");
    let count = down.len();
    view! {
        <section class=CARD aria-labelledby="home-health" data-testid="home-health">
            <div class=CARD_HEAD>
                <h2 id="home-health" class="text-sm font-semibold">{title}</h2>
                <a href="/board?down=1" class=MORE>{if count == 0 { "Board".to_owned() } else { format!("Board, {count} down") }}</a>
            </div>
            {if down.is_empty() {
                view! {
                    <p class="px-4 py-3 text-sm text-slate-600"><span class="st ok">"Nothing is down"</span>" · every health check that has an answer is passing."</p>
                }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {down.into_iter().map(|d| {
                            let href = format!("/board/{}/{}", d.service_id, d.environment_id);
                            let since = d.since.map(|s| format!("for {}", lasting(now, s)));
                            view! {
                                <li class="flex flex-wrap items-center gap-x-3 gap-y-0.5 px-4 py-2 text-sm">
                                    <span class="st down">"Down"</span>
                                    <a href=href class="font-medium text-slate-900 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-600">
                                        {format!("{} in {}", d.service, d.environment)}
                                    </a>
                                    {since.map(|s| view! { <span class="text-xs text-slate-600">{s}</span> })}
                                    {d.detail.map(|s| view! { <span class="text-xs text-slate-600">{s}</span> })}
                                    {d.ticket.map(|url| view! { <a href=url class="ml-auto lnk text-xs">"Critical ticket"</a> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Problems listed on the home; the rest are on Approvals.
const PROBLEMS_LISTED: usize = 5;

/// An admin's question: is the audit chain intact (its last check, as the
/// Audit page says it), and can Gatehouse govern every mapped pipeline.
#[component]
fn AdminCard(admin: AdminSummary, first: bool) -> impl IntoView {
    let title = heading(first, Focus::Record, "The record and the pipelines");
    let AdminSummary {
        verification,
        pipeline_problems,
    } = admin;
    let count = pipeline_problems.len();
    let problems = if count == 0 {
        view! {
            <p class="flex items-center gap-2 text-sm text-slate-700" data-testid="home-pipelines">
                <Icon kind=IconKind::Check class="h-4 w-4 text-emerald-700" />
                "Every mapped pipeline matches the configuration: Gatehouse governs them all."
            </p>
        }
        .into_any()
    } else {
        let more = count.saturating_sub(PROBLEMS_LISTED);
        view! {
            <div data-testid="home-pipelines">
                <p class="flex items-center gap-2 text-sm font-medium text-amber-950">
                    <Icon kind=IconKind::Alert class="h-4 w-4" />
                    {format!("{count} pipeline{} cannot be governed as configured", if count == 1 { "" } else { "s" })}
                </p>
                <ul class="mt-1 space-y-0.5 pl-6 text-sm text-slate-700">
                    {pipeline_problems.into_iter().take(PROBLEMS_LISTED).map(|p| view! {
                        <li><code class="font-mono text-xs">{p.pipeline}</code>" \u{2014} "{p.problem}</li>
                    }).collect_view()}
                </ul>
                {(more > 0).then(|| view! { <p class="pl-6 text-xs text-slate-600">{format!("and {more} more on Approvals.")}</p> })}
            </div>
        }
        .into_any()
    };
    view! {
        <section class=CARD aria-labelledby="home-admin-head" data-testid="home-admin">
            <div class=CARD_HEAD>
                <h2 id="home-admin-head" class="text-sm font-semibold">{title}</h2>
                <a href="/audit" class=MORE>"Audit log"</a>
            </div>
            <div class="space-y-3 px-4 pb-3">
                <VerificationLine verification />
                {problems}
                <p class="text-xs text-slate-600">
                    "Decisions CodePipeline refused: "
                    <a href="/audit?kind=aws_failed" class="text-indigo-700 underline">"in the audit log"</a>
                    "; every configuration problem: "
                    <a href="/approvals" class="text-indigo-700 underline">"on Approvals"</a>"."
                </p>
            </div>
        </section>
    }
}

/// Blocked services the manager's home names; the rest are on the plan.
const BLOCKED_LISTED: usize = 5;

/// "A", "A and B", "A, B and C".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[component]
fn ProdCard(prod: Option<ProdSummary>, first: bool) -> impl IntoView {
    let title = heading(first, Focus::Prod, "On the way to Prod");
    let body = match prod {
        None => view! { <p class="px-4 py-3 text-sm text-slate-600">"No release has passed its code freeze yet."</p> }.into_any(),
        Some(p) => {
            let when = p.prod_date.map_or_else(|| "no Prod date on the calendar".to_owned(), |d| format!("Prod release {}", day_words(d)));
            let when = view! { <span class="whitespace-nowrap">{format!(" · {when}")}</span> };
            view! {
                <div class="space-y-2 px-4 py-3 text-sm">
                    <p>
                        <span class="font-semibold">{format!("Release {}", p.release)}</span>
                        {when}
                    </p>
                    <p class="text-slate-700" data-testid="home-prod-progress">
                        {format!("{} of {} changed service{} in Prod", p.deployed, p.changed, if p.changed == 1 { "" } else { "s" })}
                    </p>
                    {(!p.failed.is_empty()).then(|| view! {
                        <p><span class="st fail">"Failed"</span>{format!(" · {}", p.failed.join(", "))}</p>
                    })}
                    {(!p.next.is_empty()).then(|| view! {
                        <div data-testid="home-prod-next">
                            <p class="font-medium">"Can go to Prod now"</p>
                            <ul class="mt-0.5 space-y-0.5 text-slate-700">
                                {p.next.iter().map(|(name, state)| view! {
                                    <li>{name.clone()}<span class="text-slate-600">{format!(" · {}", state.words())}</span></li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })}
                    {if p.blocked.is_empty() {
                        view! { <p class="text-slate-600">"Nothing is blocked by a service it calls."</p> }.into_any()
                    } else {
                        let shown = p.blocked.len().min(BLOCKED_LISTED);
                        let more = p.blocked.len() - shown;
                        view! {
                            <div data-testid="home-prod-blocked">
                                <p class="font-medium text-amber-900">
                                    <Icon kind=IconKind::Lock class="mr-1 inline h-3.5 w-3.5 align-[-2px]" />
                                    {format!("{} blocked until what they call is in Prod", p.blocked.len())}
                                </p>
                                <ul class="mt-0.5 space-y-0.5 text-slate-700">
                                    {p.blocked.into_iter().take(shown).map(|(name, waits)| view! {
                                        <li>{name}<span class="text-slate-600">{format!(" waits for {}", and_list(&waits))}</span></li>
                                    }).collect_view()}
                                </ul>
                                {(more > 0).then(|| view! { <p class="text-xs text-slate-600">{format!("and {more} more on the Prod plan.")}</p> })}
                            </div>
                        }.into_any()
                    }}
                </div>
            }.into_any()
        }
    };
    view! {
        <section class=CARD aria-labelledby="home-prod" data-testid="home-prod">
            <div class=CARD_HEAD>
                <h2 id="home-prod" class="text-sm font-semibold">{title}</h2>
                <a href="/prod-plan" class=MORE>"Prod plan"</a>
            </div>
            {body}
        </section>
    }
}

#[component]
fn DemoCard(
    milestones: Vec<UpcomingMilestone>,
    demo: Option<DemoSummary>,
    first: bool,
) -> impl IntoView {
    use crate::domain::calendar::MilestoneKind;
    let title = heading(first, Focus::Demo, "Release demo");
    let next = milestones
        .into_iter()
        .find(|m| m.kind == MilestoneKind::ReleaseDemo);
    view! {
        <section class=CARD aria-labelledby="home-demo" data-testid="home-demo">
            <div class=CARD_HEAD>
                <h2 id="home-demo" class="text-sm font-semibold">{title}</h2>
                <a href="/release-demo" class=MORE>"Release demo"</a>
            </div>
            <div class="space-y-2 px-4 py-3 text-sm">
                {demo.map(|d| {
                    let total: usize = d.teams.iter().map(|(_, n)| n).sum();
                    view! {
                        <p data-testid="home-demo-counts">
                            <span class="font-semibold">{format!("{total} change{}", if total == 1 { "" } else { "s" })}</span>
                            {format!(" in Release, not yet in Prod: {}. {}", d.teams.iter().map(|(t, n)| format!("{t} {n}")).collect::<Vec<_>>().join(", "), d.health)}
                        </p>
                        {(!d.highlights.is_empty()).then(|| view! {
                            <ul class="list-disc space-y-0.5 pl-5 text-slate-700">
                                {d.highlights.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                            </ul>
                        })}
                    }
                })}
                <p>
                    "What each team ships in the current release, from the Release environment: "
                    <a href="/release-demo" class="text-indigo-700 underline">"open the Release demo"</a>
                    " or "
                    <a href="/release-demo?present=1" class="text-indigo-700 underline">"present it"</a>"."
                </p>
                <p class="text-slate-600">
                    {match next {
                        Some(m) => format!("Next Release demo: {} (release {}).", day_words(m.date), m.release),
                        None => "No Release demo is on the calendar in the next weeks.".to_owned(),
                    }}
                </p>
            </div>
        </section>
    }
}

#[component]
fn TeamCard(teams: Vec<TeamSummary>, first: bool) -> impl IntoView {
    let title = heading(first, Focus::Team, "Your team");
    view! {
        <section class=CARD aria-labelledby="home-team" data-testid="home-team">
            <div class=CARD_HEAD>
                <h2 id="home-team" class="text-sm font-semibold">{title}</h2>
            </div>
            <ul class="divide-y divide-slate-100">
                {teams.into_iter().map(|t| {
                    let href = format!("/board?team={}", t.id);
                    let c = t.counts;
                    view! {
                        <li class="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2.5 text-sm">
                            <a href=href class="font-medium text-slate-900 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-600">
                                {format!("{} board", t.name)}
                            </a>
                            <span class="text-xs text-slate-600">{format!("{} service{}", t.services, if t.services == 1 { "" } else { "s" })}</span>
                            <span class=tone(c.down, "st down")>{format!("{} down", c.down)}</span>
                            <span class=tone(c.failed, "st fail")>{format!("{} failed", c.failed)}</span>
                            <span class=tone(c.waiting, "st wait")>{format!("{} waiting", c.waiting)}</span>
                            {(!t.down.is_empty()).then(|| view! {
                                <p class="basis-full text-xs text-slate-700">{format!("Down: {}", t.down.join(", "))}</p>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A count's tone: its status's when there is any; at zero a check (all
/// clear), not a dashed circle that reads as loading.
fn tone(count: usize, status: &'static str) -> &'static str {
    if count > 0 {
        status
    } else {
        "st ok"
    }
}

#[component]
fn MilestonesCard(milestones: Vec<UpcomingMilestone>, today: NaiveDate) -> impl IntoView {
    view! {
        <section class=format!("{CARD} self-start") aria-labelledby="home-next-head" data-testid="home-milestones">
            <div class=CARD_HEAD>
                <h2 id="home-next-head" class="text-sm font-semibold">"Next on the calendar"</h2>
                <a href="/calendar" class=MORE>"Calendar"</a>
            </div>
            {if milestones.is_empty() {
                view! { <p class="px-4 py-3 text-sm text-slate-600">"No milestone ahead in this release or the next."</p> }.into_any()
            } else {
                view! {
                    <ol class="divide-y divide-slate-100">
                        {milestones.into_iter().map(|m| {
                            let days = (m.date - today).num_days();
                            let when = match days {
                                0 => "today".to_owned(),
                                1 => "tomorrow".to_owned(),
                                d => format!("in {d} days"),
                            };
                            view! {
                                <li class="px-4 py-2 text-sm">
                                    <p class="flex items-baseline justify-between gap-2">
                                        <span class="font-medium">{m.kind.label()}</span>
                                        <span class="text-xs text-slate-600">{when}</span>
                                    </p>
                                    <p class="text-xs text-slate-600">
                                        {format!("{}{} · release {}", day_words(m.date), m.time.map(|t| format!(" {t}")).unwrap_or_default(), m.release)}
                                        {(!m.teams.is_empty()).then(|| format!(" · {}", m.teams.join(", ")))}
                                    </p>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_as_a_sentence_says_them() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(and_list(&names(&[])), "");
        assert_eq!(and_list(&names(&["A"])), "A");
        assert_eq!(and_list(&names(&["A", "B"])), "A and B");
        assert_eq!(and_list(&names(&["A", "B", "C"])), "A, B and C");
    }

    #[test]
    fn the_role_question_comes_first_and_each_section_once() {
        assert_eq!(order(Focus::Health, false, false)[0], Focus::Health);
        assert_eq!(order(Focus::Prod, false, false)[0], Focus::Prod);
        assert_eq!(order(Focus::Demo, false, false)[0], Focus::Demo);
        let admin = order(Focus::Record, false, true);
        assert_eq!(admin[..2], [Focus::Record, Focus::Approvals]);
        assert!(admin.contains(&Focus::Health));
        assert!(!order(Focus::Health, false, false).contains(&Focus::Record));
        let dev = order(Focus::Team, true, false);
        assert_eq!(dev[0], Focus::Team);
        assert_eq!(dev.iter().filter(|s| **s == Focus::Team).count(), 1);
        assert!(!order(Focus::Overview, false, false).contains(&Focus::Overview));
        assert!(!order(Focus::Approvals, false, false).contains(&Focus::Team));
    }
}
