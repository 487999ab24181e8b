use crate::api::approvals::{approvals, Rerun};
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::note::NoticeView;
use crate::components::time::{ago, until};
use crate::domain::approval::{Decision, TestMark};
use crate::domain::request::{ApprovalRequest, DeliveryOutcome, PipelineProblem, RequestState};
use crate::islands::decision_panel::{DecisionPanel, TestChoice};
use crate::islands::outcome::OutcomeRegion;
use crate::views::approvals::{ApprovalsView, EnvironmentCount, QueueItem};
use chrono::{DateTime, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/approvals` (pending) and `/approvals?tab=history`: CodePipeline manual
/// approvals waiting for a decision, and the decisions made. Rendered on the
/// server; each decision panel is an island, and the queue follows changes
/// live (the `approvals` topic).
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = use_query_map();
    let before = query.read_untracked().get("before");
    let history = query.read_untracked().get("tab").as_deref() == Some("history");
    let all = query.read_untracked().get("view").as_deref() == Some("all");
    let env = query.read_untracked().get("env");
    let request = query.read_untracked().get("request");
    let followed = request.clone();
    let data = Resource::new(
        move || (before.clone(), env.clone(), request.clone()),
        |(before, env, request)| approvals(before, env, request),
    );
    view! {
        <Title text="Approvals" />
        <h1 class="text-xl font-semibold tracking-tight">"Approvals"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "CodePipeline manual approvals waiting for a decision. Gatehouse answers CodePipeline once, when the last required approval arrives."
        </p>
        <nav aria-label="Approvals" class="mt-4 flex gap-1 border-b border-slate-200">
            <TabLink href="/approvals" label="Pending" current=!history />
            <TabLink href="/approvals?tab=history" label="History" current=history />
        </nav>
        <OutcomeRegion />
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading approvals…"</p> }>
            {move || {
                let followed = followed.clone();
                Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <ApprovalsBody data=view_data history all followed /> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

#[component]
fn TabLink(href: &'static str, label: &'static str, current: bool) -> impl IntoView {
    view! {
        <a
            href=href
            aria-current=current.then_some("page")
            class="-mb-px border-b-2 border-transparent px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:border-indigo-600 aria-[current=page]:text-slate-900"
        >
            {label}
        </a>
    }
}

#[component]
fn ApprovalsBody(
    data: ApprovalsView,
    history: bool,
    all: bool,
    followed: Option<String>,
) -> impl IntoView {
    let ApprovalsView {
        now,
        pending,
        history: decided,
        older,
        signed_in,
        notice,
        problems,
        may_rerun,
        counts,
        environment,
        not_shown,
    } = data;
    // A refused decision is said on its card, beside its form, the card
    // first; any other notice at the top.
    let refused = notice.as_ref().filter(|n| n.error).and_then(|n| {
        let id = n.form.as_deref()?.strip_prefix("decide:")?;
        pending
            .iter()
            .any(|q| q.item.id == id)
            .then(|| (id.to_owned(), n.text.clone()))
    });
    let notice = notice
        .filter(|_| refused.is_none())
        .map(|notice| view! { <NoticeView notice class="mt-4" /> });
    let hint = (!signed_in).then(|| view! {
        <p class="mt-4 text-sm text-slate-600">"You are not signed in: you can look, but not decide."</p>
    });
    let problems = (!problems.is_empty()).then(|| view! { <ProblemsPanel problems /> });
    let older = older.map(|cursor| {
        let href = format!("/approvals?tab=history&before={}", crate::encode::query_value(&cursor));
        view! {
            <p class="mt-3 text-right text-sm">
                <a class="font-medium text-indigo-700 underline" href=href>"Older decisions \u{2192}"</a>
            </p>
        }
    });
    // The live region: what the queue or the history shows now.
    let body = if history {
        view! { <HistoryTable items=decided now may_rerun /> {older} }.into_any()
    } else {
        view! { <Pending now pending all counts environment not_shown followed refused /> }
            .into_any()
    };
    view! { {notice} {hint} {problems} <div id="approvals-live" data-live="">{body}</div> }
}

/// Mapped pipelines that do not match the org configuration; admins and SRE
/// see them.
#[component]
fn ProblemsPanel(problems: Vec<PipelineProblem>) -> impl IntoView {
    let count = problems.len();
    view! {
        <section aria-labelledby="problems-heading" class="mt-4 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3">
            <h2 id="problems-heading" class="flex items-center gap-2 text-sm font-semibold text-amber-950">
                <Icon kind=IconKind::Alert />
                {format!("Configuration problems: {count} pipeline{} cannot be governed", if count == 1 { "" } else { "s" })}
            </h2>
            <ul class="mt-2 space-y-1 text-sm text-amber-950">
                {problems.into_iter().map(|p| view! {
                    <li><code class="font-mono text-xs">{p.pipeline}</code>" \u{2014} "{p.problem}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// One environment-and-team group of the queue.
#[derive(Clone, PartialEq)]
struct Group {
    key: String,
    heading: String,
    now: DateTime<Utc>,
    items: Vec<QueueItem>,
}

/// The queue grouped by environment (promotion order), then team; within a
/// group the requests about to expire first (soonest first), then the
/// newest.
fn groups(now: DateTime<Utc>, mut items: Vec<QueueItem>) -> Vec<Group> {
    let order = |q: &QueueItem| {
        (
            q.item.environment_position,
            q.item.team_name.clone(),
            q.item.queue_order(now),
        )
    };
    items.sort_by_key(order);
    let mut out: Vec<Group> = Vec::new();
    for q in items {
        let key = format!("{}/{}", q.item.environment_id, q.item.team_id);
        match out.last_mut() {
            Some(g) if g.key == key => g.items.push(q),
            _ => out.push(Group {
                heading: format!("{} · {}", q.item.environment_name, q.item.team_name),
                key,
                now,
                items: vec![q],
            }),
        }
    }
    out
}

/// The pending tab: for anyone who may decide something, what waits for
/// them first (with counts per environment) and the rest folded away under
/// why they cannot decide it; `all` (`?view=all`) lists the whole queue.
#[component]
fn Pending(
    now: DateTime<Utc>,
    pending: Vec<QueueItem>,
    all: bool,
    counts: Vec<EnvironmentCount>,
    environment: Option<String>,
    not_shown: usize,
    followed: Option<String>,
    refused: Option<(String, String)>,
) -> impl IntoView {
    // The request a link named (the board's "Review" links), or the one
    // whose decision was just refused, comes first, whatever list it
    // belongs to.
    let mut pending = pending;
    let (followed, refusal) = match refused {
        Some((id, text)) => (Some(id), Some(text)),
        None => (followed, None),
    };
    let followed = followed
        .and_then(|id| pending.iter().position(|q| q.item.id == id))
        .map(|at| pending.remove(at))
        .map(|q| {
            let id = format!("card-{}", q.item.id);
            let heading = if refusal.is_some() { "The request you decided" } else { "The request you followed" };
            view! {
                <section aria-label=heading class="mt-4">
                    <h2 class="text-sm font-semibold text-slate-900">{heading}</h2>
                    <ul class="mt-2"><li id=id data-live=""><ApprovalCard q now refused=refusal /></li></ul>
                </section>
            }
        });
    // Next to the followed request, an empty list says "else".
    let nothing = if followed.is_some() {
        "Nothing else is waiting for approval."
    } else {
        "Nothing is waiting for approval. New requests appear here as pipelines reach their approval stage."
    };
    let total: usize = counts.iter().map(|c| c.total).sum();
    let count: usize = counts.iter().map(|c| c.mine).sum();
    let (mine, others): (Vec<QueueItem>, Vec<QueueItem>) =
        pending.into_iter().partition(|q| q.blocked.is_none());
    let decider = count > 0;
    // Narrowing to one environment (in the URL, so it works without JS).
    let env_links = (counts.len() > 1).then(|| {
        let suffix = if all { "&view=all" } else { "" };
        let link_class = "text-indigo-700 underline aria-[current=page]:font-semibold aria-[current=page]:text-slate-900 aria-[current=page]:no-underline";
        view! {
            <nav aria-label="Environments" class="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-sm">
                <a href=if all { "/approvals?view=all" } else { "/approvals" } class=link_class aria-current=environment.is_none().then_some("page")>"Every environment"</a>
                {counts.iter().map(|c| {
                    let shown = if all || !decider { c.total } else { c.mine };
                    let current = environment.as_deref() == Some(c.id.as_str());
                    view! {
                        <a href=format!("/approvals?env={}{suffix}", c.id) class=link_class aria-current=current.then_some("page")>
                            {format!("{} {shown}", c.name)}
                        </a>
                    }
                }).collect_view()}
            </nav>
        }
    });
    let more = (not_shown > 0).then(|| view! {
        <p class="mt-4 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700" role="note">
            {format!(
                "{not_shown} more request{} not listed here (about to expire first, then the newest, are). Choose an environment above to see others.",
                if not_shown == 1 { " is" } else { "s are" }
            )}
        </p>
    });
    let switch = (decider || all).then(|| {
        view! {
            <nav aria-label="Pending requests" class="mt-4 flex flex-wrap gap-x-4 gap-y-1 text-sm">
                <a href="/approvals" aria-current=(!all).then_some("page") class="font-medium text-indigo-700 underline aria-[current=page]:text-slate-900 aria-[current=page]:no-underline">
                    {format!("Waiting for you ({count})")}
                </a>
                <a href="/approvals?view=all" aria-current=all.then_some("page") class="font-medium text-indigo-700 underline aria-[current=page]:text-slate-900 aria-[current=page]:no-underline">
                    {format!("All pending ({total})")}
                </a>
            </nav>
        }
    });
    if all || !decider {
        let mut everything = mine;
        everything.extend(others);
        return view! { {switch} {followed} {env_links} <PendingList groups=groups(now, everything) nothing /> {more} }.into_any();
    }
    let counts = counts
        .iter()
        .filter(|c| c.mine > 0)
        .map(|c| format!("{} {}", c.name, c.mine))
        .collect::<Vec<_>>()
        .join(" · ");
    let folded = (!others.is_empty()).then(|| {
        // Grouped by why: "Only QA may approve QA." and the like.
        let mut reasons: Vec<(String, Vec<QueueItem>)> = Vec::new();
        for q in others {
            let why = q.blocked.clone().unwrap_or_default();
            match reasons.iter_mut().find(|r| r.0 == why) {
                Some(r) => r.1.push(q),
                None => reasons.push((why, vec![q])),
            }
        }
        let count: usize = reasons.iter().map(|r| r.1.len()).sum();
        view! {
            <details id="others" data-reopen="" class="mt-8 rounded-lg border border-slate-200 px-4 py-3" data-testid="others">
                <summary class="cursor-pointer text-sm font-medium text-slate-700">
                    {format!("{count} request{} you cannot decide", if count == 1 { "" } else { "s" })}
                </summary>
                {reasons.into_iter().map(|(why, items)| view! {
                    <section aria-label=why.clone() class="mt-4">
                        <h2 class="flex items-center gap-1 text-sm font-semibold text-slate-700">
                            <Icon kind=IconKind::Lock class="h-3.5 w-3.5" />
                            {format!("{why} ({})", items.len())}
                        </h2>
                        <PendingList groups=groups(now, items) nothing="" />
                    </section>
                }).collect_view()}
            </details>
        }
    });
    let followed_shown = followed.is_some();
    view! {
        {switch}
        {followed}
        <p class="mt-3 text-sm text-slate-700" data-testid="mine-counts">{format!("Waiting for you: {counts}")}</p>
        {env_links}
        <PendingList groups=groups(now, mine) nothing=if followed_shown { "Nothing else is waiting for you." } else { nothing } />
        {more}
        {folded}
    }
    .into_any()
}

/// The pending queue; each card is a live region of its own, so an open
/// decision panel stays as the viewer left it while the rest updates.
/// `nothing` is what an empty list says.
#[component]
fn PendingList(groups: Vec<Group>, nothing: &'static str) -> impl IntoView {
    if groups.is_empty() {
        return view! {
            <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600">
                {nothing}
            </p>
        }
        .into_any();
    }
    view! {
        <div class="mt-6 space-y-6">
            {groups.into_iter().map(|group| {
                let Group { heading, now, items, .. } = group;
                let count = format!("{} waiting", items.len());
                let label = heading.clone();
                view! {
                    <section aria-label=label>
                        <h2 class="flex items-baseline gap-2 text-sm font-semibold text-slate-900">
                            {heading}
                            <span class="text-xs font-normal text-slate-500">{count}</span>
                        </h2>
                        <ul class="mt-2 space-y-2">
                            {items.into_iter().map(|q| {
                                let id = format!("card-{}", q.item.id);
                                view! { <li id=id data-live=""><ApprovalCard q now refused=None /></li> }
                            }).collect_view()}
                        </ul>
                    </section>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn short(commit: &str) -> String {
    commit.chars().take(7).collect()
}

#[component]
fn ApprovalCard(
    q: QueueItem,
    now: DateTime<Utc>,
    /// Why the viewer's decision on it was refused (a form posted without
    /// JavaScript): said beside the form, the form open.
    refused: Option<String>,
) -> impl IntoView {
    let QueueItem {
        item,
        required,
        test_types,
        blocked,
        approve_blocked,
        author_unknown,
        hotfix_warnings,
        plan_blocked_on,
        needs_override,
    } = q;
    let plan_words = (!plan_blocked_on.is_empty())
        .then(|| crate::domain::deploy_dag::blocked_words(&plan_blocked_on));
    let override_words = plan_words.clone().filter(|_| needs_override);
    let title = format!("{} to {}", item.service_name, item.environment_name);
    let heading_id = format!("request-{}", item.id);
    let approvals: Vec<String> = item
        .votes
        .iter()
        .filter(|v| v.decision == Decision::Approve)
        .map(|v| v.display_name.clone())
        .collect();
    let progress = if approvals.is_empty() {
        format!("No approvals yet; {required} needed")
    } else {
        format!(
            "{} of {required} approvals: {}",
            approvals.len(),
            approvals.join(", ")
        )
    };
    let commit = short(&item.commit);
    let commit_link = match item.commit_url.clone() {
        Some(url) => {
            view! { <a class="font-mono text-xs text-indigo-700 underline" href=url>{commit}</a> }
                .into_any()
        }
        None => view! { <code class="font-mono text-xs">{commit}</code> }.into_any(),
    };
    let opened = refused.is_some();
    let (status, forms) = match blocked {
        Some(reason) => (
            view! {
                <p class="mt-0.5 flex items-center gap-1 text-xs text-slate-500 sm:justify-end" data-testid="blocked">
                    <Icon kind=IconKind::Lock class="h-3 w-3" />
                    {reason}
                </p>
            }
            .into_any(),
            None,
        ),
        None => (
            ().into_any(),
            Some(view! {
                <details class="group mt-2 border-t border-slate-100 pt-2" open=opened>
                    <summary class="cursor-pointer text-sm font-medium text-indigo-700 hover:text-indigo-600">
                        "Review and decide"
                    </summary>
                    <DecisionPanel request=item.id.clone() title=title.clone() tests=test_choices(&test_types) held=approve_blocked blocked_on=override_words refused />
                </details>
            }),
        ),
    };
    let labelled_by = heading_id.clone();
    let author = match (&item.author_name, &item.author_login) {
        (Some(name), Some(login)) if !name.is_empty() => format!("by {name} (@{login}) · "),
        (_, Some(login)) => format!("by @{login} · "),
        (Some(name), None) if !name.is_empty() => format!("by {name} · "),
        _ => String::new(),
    };
    // CodePipeline's token lasts 7 days; one about to expire says so in
    // words, up front.
    let soon = item.expires_soon(now).then(|| {
        let words = match until(now, item.expires_at).as_str() {
            "expired" => "CodePipeline's approval token has expired".to_owned(),
            left => format!("Expires {left}: decide before CodePipeline closes it"),
        };
        view! {
            <p class="mt-1 flex items-center gap-1 text-xs font-medium text-amber-800" data-testid="expiring">
                <Icon kind=IconKind::Clock class="h-3 w-3" />{words}
            </p>
        }
    });
    let meta = format!(
        "{author}Requested {} · expires {}",
        ago(now, item.requested_at),
        until(now, item.expires_at),
    );
    // On a phone a card is a few lines: the message cut to one, the
    // pipeline's id left to the wider screens (and the history).
    let pipeline = format!(" · {}", item.pipeline);
    view! {
        <article aria-labelledby=labelled_by class="rounded-lg border border-slate-200 px-4 py-2.5 hover:border-slate-300">
            <div class="flex flex-col gap-1 sm:flex-row sm:items-start sm:justify-between sm:gap-x-6">
                <div class="min-w-0 flex-1">
                    <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
                        <h3 id=heading_id class="text-sm font-semibold text-slate-900">{title.clone()}</h3>
                        {commit_link}
                        {item.branch.clone().map(|b| view! {
                            <code class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">{b}</code>
                        })}
                    </div>
                    <p class="mt-0.5 truncate text-sm text-slate-700">
                        {item.commit_message.clone().unwrap_or_else(|| "No commit message".into())}
                    </p>
                    <p class="text-xs text-slate-500">{meta}<span class="max-sm:hidden">{pipeline}</span></p>
                    {soon}
                    {author_unknown.then(|| view! {
                        <p class="mt-1 flex items-center gap-1 text-xs font-medium text-amber-800" data-testid="author-unknown">
                            <Icon kind=IconKind::Alert class="h-3 w-3" />
                            "Gatehouse cannot establish who wrote this commit, so one more approver than usual is needed."
                        </p>
                    })}
                    {plan_words.map(|w| view! {
                        <p class="mt-1 flex items-center gap-1 text-xs font-medium text-amber-800" data-testid="plan-blocked">
                            <Icon kind=IconKind::Lock class="h-3 w-3" />{w}
                            <a href="/prod-plan" class="lnk font-normal">"See the Prod plan"</a>
                        </p>
                    })}
                    {hotfix_warnings.into_iter().map(|w| view! {
                        <p class="mt-1 flex items-center gap-1 text-xs font-medium text-amber-800" data-testid="hotfix-warning">
                            <Icon kind=IconKind::Alert class="h-3 w-3" />{w}
                        </p>
                    }).collect_view()}
                </div>
                <div class="sm:text-right">
                    <p class="text-sm text-slate-700" data-testid="progress">{progress}</p>
                    {status}
                </div>
            </div>
            {forms}
        </article>
    }
}

fn test_choices(types: &[crate::domain::TestType]) -> Vec<TestChoice> {
    types
        .iter()
        .map(|t| TestChoice {
            value: t.as_str().to_owned(),
            label: t.label().to_owned(),
        })
        .collect()
}

fn outcome_words(item: &ApprovalRequest) -> String {
    match &item.delivery {
        None if item.state == RequestState::Closed => {
            item.closed_reason.clone().unwrap_or_default()
        }
        None => String::new(),
        Some(d) => match d.outcome {
            None => "Sending to CodePipeline…".into(),
            Some(DeliveryOutcome::Delivered) => "Delivered".into(),
            Some(outcome) => format!(
                "{}: {}",
                outcome.label(),
                d.aws_result.clone().unwrap_or_default()
            ),
        },
    }
}

#[component]
fn HistoryTable(
    items: Vec<ApprovalRequest>,
    now: DateTime<Utc>,
    may_rerun: Vec<String>,
) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600">
                "No decisions yet."
            </p>
        }
        .into_any();
    }
    view! {
        // On a phone each row reads as a card: the cells stack, each under
        // its column's name (`.stacked`), so nothing is cut off sideways.
        <div class="scroller stacked mt-6 rounded-lg border border-slate-200" tabindex="0" role="region" aria-label="Decided and closed approval requests, scrollable sideways">
            <table class="w-full text-left text-sm max-sm:block">
                <caption class="sr-only">"Decided and closed approval requests, newest first"</caption>
                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500 max-sm:sr-only">
                    <tr>
                        <th scope="col" class="px-3 py-2 font-medium">"Request"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"Decision"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"By"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"CodePipeline"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 max-sm:block">
                    {items.into_iter().map(|item| {
                        let can = may_rerun.contains(&item.id);
                        view! { <HistoryRow item now can_rerun=can /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn HistoryRow(item: ApprovalRequest, now: DateTime<Utc>, can_rerun: bool) -> impl IntoView {
    let rerun_form = can_rerun.then(|| {
        let rerun = ServerAction::<Rerun>::new();
        let id = item.id.clone();
        let label = format!("Start the new run of {}", item.pipeline);
        // Asked twice: "Run again…" opens what it will do and the button
        // that does it (no script needed).
        let what = format!(
            "Starts {} again from its source; this decision stays in the history.",
            item.pipeline
        );
        view! {
            <details class="mt-1" data-testid="run-again">
                <summary class="inline-flex min-h-6 cursor-pointer items-center rounded-md px-2 py-0.5 text-xs font-medium text-indigo-700 ring-1 ring-indigo-200 hover:bg-indigo-50 focus-visible:outline-2 focus-visible:outline-indigo-600">
                    "Run again\u{2026}"
                </summary>
                <ActionForm action=rerun>
                    <p class="mt-1 text-xs text-slate-600">{what}</p>
                    <input type="hidden" name="request" value=id />
                    <button
                        type="submit"
                        aria-label=label
                        class="mt-1 rounded-md bg-indigo-700 px-2 py-1 text-xs font-medium text-white hover:bg-indigo-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700 disabled:opacity-60"
                    >
                        "Start the new run"
                    </button>
                </ActionForm>
            </details>
        }
    });
    let (label, icon, tone) = match item.state {
        RequestState::Approved => ("Approved", IconKind::Check, "text-emerald-800"),
        RequestState::Rejected => ("Rejected", IconKind::Cross, "text-slate-700"),
        _ => ("Closed", IconKind::Minus, "text-slate-600"),
    };
    let by = item
        .votes
        .iter()
        .map(|v| {
            let marks: Vec<String> = v
                .sign_off
                .marks
                .iter()
                .map(|(t, m)| match m {
                    TestMark::Passed => format!("{} passed", t.label()),
                    TestMark::NotApplicable { reason } => format!("{} n/a ({reason})", t.label()),
                })
                .collect();
            let mut line = v.display_name.clone();
            if !v.comment.is_empty() {
                line.push_str(&format!(": \u{201c}{}\u{201d}", v.comment));
            }
            if !marks.is_empty() {
                line.push_str(&format!(" [{}]", marks.join(", ")));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("; ");
    // The evidence given at sign-off, as links.
    let evidence: Vec<String> = item
        .votes
        .iter()
        .flat_map(|v| v.sign_off.evidence.iter().cloned())
        .collect();
    let evidence = (!evidence.is_empty()).then(|| {
        view! {
            <ul class="mt-1 space-y-0.5 text-xs" aria-label="Evidence">
                {evidence.into_iter().map(|link| {
                    let shown: String = link.chars().take(60).collect();
                    view! { <li><a href=link rel="noopener noreferrer" class="break-all text-indigo-700 underline">{shown}</a></li> }
                }).collect_view()}
            </ul>
        }
    });
    let when = item.decided_at.map(|t| ago(now, t)).unwrap_or_default();
    view! {
        <tr class="max-sm:block max-sm:px-3 max-sm:py-2">
            <th scope="row" class="px-3 py-2 align-top font-normal max-sm:block max-sm:p-0">
                <span class="block font-medium text-slate-900">{format!("{} to {}", item.service_name, item.environment_name)}</span>
                <span class="block text-xs text-slate-500">
                    <code class="font-mono">{short(&item.commit)}</code>
                    {format!(" · {}", item.commit_message.clone().unwrap_or_default())}
                </span>
            </th>
            <td class=format!("px-3 py-2 align-top whitespace-nowrap max-sm:flex max-sm:items-baseline max-sm:gap-2 max-sm:px-0 max-sm:py-1 {tone}")>
                <span class="inline-flex items-center gap-1 font-medium"><Icon kind=icon class="h-3.5 w-3.5" />{label}</span>
                <span class="block text-xs text-slate-500">{when}</span>
            </td>
            <td class="px-3 py-2 align-top text-slate-700 max-sm:block max-sm:px-0 max-sm:py-0.5" data-label="By">{by}{evidence}</td>
            <td class="px-3 py-2 align-top text-slate-700 max-sm:block max-sm:px-0 max-sm:py-0.5" data-label="CodePipeline">{outcome_words(&item)}{rerun_form}</td>
        </tr>
    }
}
