use crate::api::approvals::{
    approvals, ApprovalItem, ApprovalsView, Decide, PipelineProblem, QueueItem, RequestState, Rerun,
};
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::note::Note;
use crate::components::time::{ago, until};
use crate::domain::approval::{Decision, TestMark};
use chrono::{DateTime, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/approvals` (pending) and `/approvals?tab=history`: CodePipeline manual
/// approvals waiting for a decision, and the decisions made.
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = use_query_map();
    let decide = ServerAction::<Decide>::new();
    let rerun = ServerAction::<Rerun>::new();
    let before = move || query.read().get("before");
    let data = Resource::new(
        move || (decide.version().get(), rerun.version().get(), before()),
        |(_, _, before)| approvals(before),
    );
    // With JavaScript, the queue follows every change as it is committed
    // (server-sent events), and refetches once a minute in case a stream
    // was cut.
    crate::components::live::use_live_data(&["approvals"], data, move || {
        approvals(query.get_untracked().get("before"))
    });
    Effect::new(move |_| {
        let handle =
            set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(60))
                .ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    let history = move || query.read().get("tab").as_deref() == Some("history");
    // After a decision the outcome takes the focus, so a keyboard user
    // hears it and goes on from there instead of from the page's top.
    let outcome = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let decided = decide.value().get().is_some() || rerun.value().get().is_some();
        if decided {
            // After the queue has redrawn (the decided card goes away).
            set_timeout(
                move || {
                    if let Some(el) = outcome.get_untracked() {
                        let _ = el.focus();
                    }
                },
                std::time::Duration::from_millis(100),
            );
        }
    });
    view! {
        <Title text="Approvals" />
        <h1 class="text-xl font-semibold tracking-tight">"Approvals"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "CodePipeline manual approvals waiting for a decision. Gatehouse answers CodePipeline once, when the last required approval arrives."
        </p>
        <nav aria-label="Approvals" class="mt-4 flex gap-1 border-b border-slate-200">
            <TabLink href="/approvals" label="Pending" current=Signal::derive(move || !history()) />
            <TabLink href="/approvals?tab=history" label="History" current=Signal::derive(history) />
        </nav>
        <div node_ref=outcome tabindex="-1" role="status" aria-live="polite" class="empty:hidden mt-4 focus:outline-none">
            {move || decide.value().get().and_then(Result::ok).map(|text| view! { <Note error=false text /> })}
            {move || rerun.value().get().and_then(Result::ok).map(|text| view! { <Note error=false text /> })}
            {move || decide.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
            {move || rerun.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        </div>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading approvals…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <ApprovalsBody data=view_data history=history() rerun /> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
            // The queue itself is keyed by request: a live update redraws
            // only the cards that changed, so an open decision form stays
            // as the viewer left it.
            <Show when=move || !history()>
                <PendingList data decide />
            </Show>
        </Transition>
    }
}

#[component]
fn TabLink(href: &'static str, label: &'static str, current: Signal<bool>) -> impl IntoView {
    view! {
        <a
            href=href
            aria-current=move || current.get().then_some("page")
            class="-mb-px border-b-2 border-transparent px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:border-indigo-600 aria-[current=page]:text-slate-900"
        >
            {label}
        </a>
    }
}

#[component]
fn ApprovalsBody(data: ApprovalsView, history: bool, rerun: ServerAction<Rerun>) -> impl IntoView {
    let ApprovalsView {
        now,
        pending: _,
        history: decided,
        older,
        signed_in,
        notice,
        problems,
        may_rerun,
    } = data;
    let notice = notice.map(|n| view! { <div class="mt-4" role=if n.error { "alert" } else { "status" }><Note error=n.error text=n.text /></div> });
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
    let body =
        history.then(|| view! { <HistoryTable items=decided now may_rerun rerun /> {older} });
    view! { {notice} {hint} {problems} {body} }
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

/// The queue grouped by environment (promotion order), then team, newest
/// first within a group.
fn groups(now: DateTime<Utc>, mut items: Vec<QueueItem>) -> Vec<Group> {
    items.sort_by(|a, b| {
        (
            a.item.environment_position,
            &a.item.team_name,
            std::cmp::Reverse(a.item.requested_at),
        )
            .cmp(&(
                b.item.environment_position,
                &b.item.team_name,
                std::cmp::Reverse(b.item.requested_at),
            ))
    });
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

/// What makes a card redraw: its request, votes, state and what blocks the
/// viewer.
fn card_key(q: &QueueItem) -> (String, usize, Option<String>) {
    (q.item.id.clone(), q.item.votes.len(), q.blocked.clone())
}

#[component]
fn PendingList(
    data: Resource<Result<ApprovalsView, crate::error::AppError>>,
    decide: ServerAction<Decide>,
) -> impl IntoView {
    let all = Memo::new(move |_| {
        data.get()
            .and_then(Result::ok)
            .map(|v| groups(v.now, v.pending))
    });
    let items_of = move |key: String| {
        all.with(|g| {
            g.as_ref()
                .and_then(|g| g.iter().find(|x| x.key == key))
                .map(|x| x.items.clone())
                .unwrap_or_default()
        })
    };
    let empty = move || all.with(|g| g.as_ref().is_some_and(Vec::is_empty));
    view! {
        <Show when=empty>
            <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600">
                "Nothing is waiting for approval. New requests appear here as pipelines reach their approval stage."
            </p>
        </Show>
        <div class="mt-6 space-y-6 empty:hidden">
            <For each=move || all.get().unwrap_or_default() key=|g| g.key.clone() let:group>
                {
                    let key = group.key.clone();
                    let count_key = key.clone();
                    let now = group.now;
                    let heading = group.heading.clone();
                    view! {
                        <section aria-label=group.heading.clone()>
                            <h2 class="flex items-baseline gap-2 text-sm font-semibold text-slate-900">
                                {heading}
                                <span class="text-xs font-normal text-slate-500">
                                    {move || format!("{} waiting", items_of(count_key.clone()).len())}
                                </span>
                            </h2>
                            <ul class="mt-2 space-y-2">
                                <For each=move || items_of(key.clone()) key=card_key let:q>
                                    <li><ApprovalCard q now decide /></li>
                                </For>
                            </ul>
                        </section>
                    }
                }
            </For>
        </div>
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(7).collect()
}

#[component]
fn ApprovalCard(q: QueueItem, now: DateTime<Utc>, decide: ServerAction<Decide>) -> impl IntoView {
    let QueueItem {
        item,
        required,
        test_types,
        blocked,
        author_unknown,
        hotfix_warnings,
    } = q;
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
                <details class="group mt-2 border-t border-slate-100 pt-2">
                    <summary class="cursor-pointer text-sm font-medium text-indigo-700 hover:text-indigo-600">
                        "Review and decide"
                    </summary>
                    <DecisionForms id=item.id.clone() title=title.clone() test_types decide />
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
    let meta = format!(
        "{author}Requested {} · expires {} · {}",
        ago(now, item.requested_at),
        until(now, item.expires_at),
        item.pipeline
    );
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
                    <p class="mt-0.5 text-sm text-slate-700 sm:truncate">
                        {item.commit_message.clone().unwrap_or_else(|| "No commit message".into())}
                    </p>
                    <p class="text-xs text-slate-500">{meta}</p>
                    {author_unknown.then(|| view! {
                        <p class="mt-1 flex items-center gap-1 text-xs font-medium text-amber-800" data-testid="author-unknown">
                            <Icon kind=IconKind::Alert class="h-3 w-3" />
                            "Gatehouse cannot establish who wrote this commit, so one more approver than usual is needed."
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

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500";
const BUTTON: &str = "rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 disabled:opacity-60";

#[component]
fn DecisionForms(
    id: String,
    title: String,
    test_types: Vec<crate::domain::TestType>,
    decide: ServerAction<Decide>,
) -> impl IntoView {
    let pending = decide.pending();
    let (approve_id, reject_id) = (id.clone(), id);
    let (approve_label, reject_label) = (format!("Approve {title}"), format!("Reject {title}"));
    let sign_off = (!test_types.is_empty()).then(|| {
        view! {
            <fieldset class="mt-2">
                <legend class="text-sm font-medium text-slate-800">"Sign-off"</legend>
                <div class="mt-1 flex flex-wrap gap-x-4 gap-y-1">
                    {test_types
                        .iter()
                        .map(|t| view! {
                            <label class="inline-flex items-center gap-1.5 text-sm">
                                <input type="checkbox" name="passed[]" value=t.as_str() class="h-4 w-4 rounded border-slate-300" />
                                {format!("{} testing passed", t.label())}
                            </label>
                        })
                        .collect_view()}
                </div>
                <label class="mt-2 block text-sm text-slate-700">
                    "Not applicable (one per line, as "<code class="font-mono text-xs">"test: reason"</code>")"
                    <textarea name="not_applicable" rows="1" class=FIELD></textarea>
                </label>
                <label class="mt-2 block text-sm text-slate-700">
                    "Evidence links (one per line)"
                    <textarea name="evidence" rows="1" class=FIELD placeholder="https://"></textarea>
                </label>
            </fieldset>
        }
    });
    view! {
        <div class="mt-3 grid gap-3 md:grid-cols-2">
            <ActionForm action=decide>
                <input type="hidden" name="request" value=approve_id />
                <input type="hidden" name="decision" value="approve" />
                {sign_off}
                <label class="mt-2 block text-sm text-slate-700">
                    "Comment (optional)"
                    <textarea name="comment" rows="1" class=FIELD></textarea>
                </label>
                <button
                    type="submit"
                    class=format!("{BUTTON} mt-2 bg-emerald-700 text-white hover:bg-emerald-600 focus-visible:outline-emerald-700")
                    aria-label=approve_label
                    disabled=move || pending.get()
                >
                    "Approve"
                </button>
            </ActionForm>
            <details class="rounded-md border border-slate-200 px-3 py-2 open:bg-slate-50">
                <summary class="cursor-pointer text-sm font-medium text-rose-800">"Reject…"</summary>
                <ActionForm action=decide>
                    <input type="hidden" name="request" value=reject_id />
                    <input type="hidden" name="decision" value="reject" />
                    <label class="mt-2 block text-sm text-slate-700">
                        "Why (required, sent to CodePipeline)"
                        <textarea name="comment" rows="2" required class=FIELD></textarea>
                    </label>
                    <button
                        type="submit"
                        class=format!("{BUTTON} mt-2 bg-rose-700 text-white hover:bg-rose-600 focus-visible:outline-rose-700")
                        aria-label=reject_label
                        disabled=move || pending.get()
                    >
                        "Reject"
                    </button>
                </ActionForm>
            </details>
        </div>
    }
}

fn outcome_words(item: &ApprovalItem) -> String {
    match &item.delivery {
        None if item.state == RequestState::Closed => {
            item.closed_reason.clone().unwrap_or_default()
        }
        None => String::new(),
        Some(d) => match d.outcome.as_deref() {
            None => "Sending to CodePipeline…".into(),
            Some("delivered") => "Delivered".into(),
            Some("reconciled") => {
                format!("Reconciled: {}", d.aws_result.clone().unwrap_or_default())
            }
            Some(_) => format!("Failed: {}", d.aws_result.clone().unwrap_or_default()),
        },
    }
}

#[component]
fn HistoryTable(
    items: Vec<ApprovalItem>,
    now: DateTime<Utc>,
    may_rerun: Vec<String>,
    rerun: ServerAction<Rerun>,
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
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Decided and closed approval requests, newest first"</caption>
                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2 font-medium">"Request"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"Decision"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"By"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"CodePipeline"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200">
                    {items.into_iter().map(|item| {
                        let can = may_rerun.contains(&item.id);
                        view! { <HistoryRow item now can_rerun=can rerun /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn HistoryRow(
    item: ApprovalItem,
    now: DateTime<Utc>,
    can_rerun: bool,
    rerun: ServerAction<Rerun>,
) -> impl IntoView {
    let rerun_form = can_rerun.then(|| {
        let id = item.id.clone();
        let label = format!("Run again: start a new run of {}", item.pipeline);
        view! {
            <ActionForm action=rerun>
                <input type="hidden" name="request" value=id />
                <button
                    type="submit"
                    aria-label=label
                    class="mt-1 rounded-md px-2 py-1 text-xs font-medium text-indigo-700 ring-1 ring-indigo-200 hover:bg-indigo-50 disabled:opacity-60"
                    disabled=move || rerun.pending().get()
                >
                    "Run again"
                </button>
            </ActionForm>
        }
    });
    let (label, icon, tone) = match item.state {
        RequestState::Approved => ("Approved", IconKind::Check, "text-emerald-800"),
        RequestState::Rejected => ("Rejected", IconKind::Cross, "text-rose-800"),
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
        <tr>
            <th scope="row" class="px-3 py-2 align-top font-normal">
                <span class="block font-medium text-slate-900">{format!("{} to {}", item.service_name, item.environment_name)}</span>
                <span class="block text-xs text-slate-500">
                    <code class="font-mono">{short(&item.commit)}</code>
                    {format!(" · {}", item.commit_message.clone().unwrap_or_default())}
                </span>
            </th>
            <td class=format!("px-3 py-2 align-top whitespace-nowrap {tone}")>
                <span class="inline-flex items-center gap-1 font-medium"><Icon kind=icon class="h-3.5 w-3.5" />{label}</span>
                <span class="block text-xs text-slate-500">{when}</span>
            </td>
            <td class="px-3 py-2 align-top text-slate-700">{by}{evidence}</td>
            <td class="px-3 py-2 align-top text-slate-700">{outcome_words(&item)}{rerun_form}</td>
        </tr>
    }
}
