// The page is rendered on the server; its rows expand with <details>, so
// it needs no JavaScript at all.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::audit::audit;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::time::stamp_seconds;
use crate::components::verification::VerificationLine;
use crate::domain::audit::{kind_words, AuditEntry, AuditQuery, ALL_KINDS, KINDS};
use crate::views::audit::{href, AuditView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/audit`: everything that matters, newest first, filtered from the
/// address (`?person=&team=&environment=&service=&kind=&from=&to=`) and
/// paged by row number (`&before=`).
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let q = query.read_untracked();
    let args = (
        q.get("person"),
        q.get("team"),
        q.get("environment"),
        q.get("service"),
        q.get("kind"),
        q.get("from"),
        q.get("to"),
        q.get("before"),
    );
    drop(q);
    let data = Resource::new(
        move || args.clone(),
        |(person, team, environment, service, kind, from, to, before)| {
            audit(person, team, environment, service, kind, from, to, before)
        },
    );
    view! {
        <Title text="Audit" />
        <h1 class="text-xl font-semibold tracking-tight">"Audit"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "Who approved what, when, under which rule, and what CodePipeline answered; calendar changes, sign-ins, tickets and configuration. Append-only, and each row is chained to the one before by its hash."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <AuditBody data=view_data /> }.into_any(),
                    Err(error) => {
                        refused_status(&error);
                        view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A refused viewer or address gets the refusal's status with its words
/// (401 to sign in, 403 for a stakeholder, 400 for a filter out of bounds),
/// not a 200.
fn refused_status(error: &crate::error::AppError) {
    #[cfg(feature = "ssr")]
    {
        use crate::error::AppError;
        if matches!(
            error,
            AppError::Unauthenticated | AppError::Forbidden(_) | AppError::BadRequest(_)
        ) {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = axum::http::StatusCode::from_u16(error.status().as_u16()) {
                    response.set_status(status);
                }
            }
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

#[component]
fn AuditBody(data: AuditView) -> impl IntoView {
    let AuditView {
        query,
        rows,
        next,
        people,
        teams,
        environments,
        services,
        service_names,
        verification,
        is_admin,
        limited_to,
    } = data;
    let names = Names {
        services: service_names,
        environments: environments.clone(),
    };
    let verification = is_admin.then(|| view! { <VerificationLine verification /> });
    let limited = limited_to.map(|teams| {
        view! {
            <p class="mt-3 text-sm text-slate-600" data-testid="limited-to">
                "You see your team's rows: " {teams.join(", ")} "."
            </p>
        }
    });
    let filtered = !query.filters().is_empty();
    // Without a kind chosen the page leaves sign-ins out, and says so.
    let routine_hidden = query.kind.is_none().then(|| {
        let everything = href(&query, "/audit", &[("kind", ALL_KINDS.to_owned())]);
        view! {
            <span class="text-slate-600" data-testid="sign-ins-hidden">
                "Sign-ins and sign-outs are left out; "
                <a href=everything class="font-medium text-indigo-700 underline">"show everything"</a>
                "."
            </span>
        }
    });
    let csv = href(&query, "/audit/export.csv", &[]);
    let jsonl = href(&query, "/audit/export.jsonl", &[]);
    let newest = (query.before.is_some()).then(|| href(&query, "/audit", &[]));
    let older = next.map(|cursor| href(&query, "/audit", &[("before", cursor.to_string())]));
    let count = rows.len();
    let list = if rows.is_empty() {
        view! {
            <div class="mt-4 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600" data-testid="audit-empty">
                {if filtered { "No audit rows match these filters." } else { "No decisions or changes yet (sign-ins are left out)." }}
            </div>
        }
        .into_any()
    } else {
        view! {
            <ol class="mt-4 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Audit rows, newest first" data-testid="audit-rows">
                {rows.into_iter().map(|row| {
                    let sentence = names.sentence(&row);
                    view! { <AuditRow row sentence /> }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        {verification}
        {limited}
        <Filters query=query.clone() people teams environments services />
        <div class="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm">
            <p class="text-slate-600" aria-live="polite">
                {if count == 0 { String::new() } else {
                    format!("{count} {} shown, newest first{}. ", if count == 1 { "row" } else { "rows" }, if filtered { ", filtered" } else { "" })
                }}
                {routine_hidden}
            </p>
            <p class="flex gap-3">
                <a class="inline-flex items-center gap-1 font-medium text-indigo-700 underline" href=csv download="" data-testid="export-csv">"Download CSV"</a>
                <a class="inline-flex items-center gap-1 font-medium text-indigo-700 underline" href=jsonl download="" data-testid="export-jsonl">"Download JSON Lines"</a>
            </p>
        </div>
        {list}
        <nav aria-label="Audit pages" class="mt-3 flex justify-between text-sm">
            {newest.map(|href| view! { <a class="font-medium text-indigo-700 underline" href=href>"\u{2190} Newest rows"</a> })}
            <span></span>
            {older.map(|href| view! { <a class="font-medium text-indigo-700 underline" href=href rel="next" data-testid="older">"Older rows \u{2192}"</a> })}
        </nav>
    }
}

#[component]
fn Filters(
    query: AuditQuery,
    people: Vec<crate::domain::audit::Person>,
    teams: Vec<(String, String)>,
    environments: Vec<(String, String)>,
    services: Vec<String>,
) -> impl IntoView {
    let select = |name: &'static str,
                  label: &'static str,
                  any: &'static str,
                  options: Vec<(String, String)>,
                  chosen: Option<String>| {
        let id = format!("audit-{name}");
        view! {
            <div class="min-w-0">
                <label for=id.clone() class="block text-xs font-medium text-slate-700">{label}</label>
                <select id=id name=name class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
                    <option value="">{any}</option>
                    {options.into_iter().map(|(value, words)| {
                        let selected = chosen.as_deref() == Some(value.as_str());
                        view! { <option value=value selected=selected>{words}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let date = |name: &'static str, label: &'static str, value: Option<String>| {
        let id = format!("audit-{name}");
        view! {
            <div class="min-w-0">
                <label for=id.clone() class="block text-xs font-medium text-slate-700">{label}</label>
                <input id=id type="date" name=name value=value class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm" />
            </div>
        }
    };
    view! {
        <form method="get" action="/audit" class="mt-4 rounded-lg border border-slate-200 bg-slate-50 p-3" aria-label="Filter the audit log">
            <div class="grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-7">
                {select("person", "Person", "Anyone", people.into_iter().map(|p| (p.id, p.name)).collect(), query.person.clone())}
                {select("team", "Team", "Any team", teams, query.team.clone())}
                {select("environment", "Environment", "Any environment", environments, query.environment.clone())}
                {select("service", "Service", "Any service", services.into_iter().map(|s| (s.clone(), s)).collect(), query.service.clone())}
                {select("kind", "Kind", "Any but sign-ins", std::iter::once((ALL_KINDS.to_owned(), "Everything, sign-ins too".to_owned())).chain(KINDS.iter().map(|(k, w)| ((*k).to_owned(), (*w).to_owned()))).collect(), query.kind.clone())}
                {date("from", "From (UTC)", query.from.map(|d| d.to_string()))}
                {date("to", "To (UTC)", query.to.map(|d| d.to_string()))}
            </div>
            <div class="mt-3 flex items-center gap-3">
                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">"Filter"</button>
                <a href="/audit" class="text-sm text-slate-700 underline">"Clear filters"</a>
            </div>
        </form>
    }
}

fn kind_icon(kind: &str) -> IconKind {
    match kind {
        "vote" | "decision" | "requested" => IconKind::Approval,
        "aws_delivered" | "aws_reconciled" => IconKind::Check,
        "aws_failed" | "aws_error" | "sign_in_refused" | "author_unknown" | "pipeline_problem" => {
            IconKind::Alert
        }
        "closed" => IconKind::Minus,
        "rerun" => IconKind::Bolt,
        "override" => IconKind::Lock,
        "calendar_move" | "calendar_blackout" => IconKind::Clock,
        "sign_in" | "sign_out" | "roles_changed" => IconKind::People,
        "ticket_opened" | "ticket_closed" | "ticket_adopted" => IconKind::Tag,
        "org_config" => IconKind::Box,
        _ => IconKind::Dashed,
    }
}

/// Services' and environments' names by id, for rows' sentences.
struct Names {
    services: Vec<(String, String)>,
    environments: Vec<(String, String)>,
}

impl Names {
    fn of<'a>(list: &'a [(String, String)], id: Option<&'a str>) -> Option<&'a str> {
        let id = id?;
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, name)| name.as_str())
    }

    /// The row's sentence, the pipeline's id in it read as the service
    /// and environment it deploys ("Identity service in QA approved
    /// (Priya Raman decided)"); the stored summary, which the chain's hash
    /// covers, is kept as it is and shown under it.
    fn sentence(&self, row: &AuditEntry) -> Option<String> {
        let pipeline = row.pipeline.as_deref().filter(|p| !p.is_empty())?;
        let service = Self::of(&self.services, row.service.as_deref())?;
        let place = match Self::of(&self.environments, row.environment.as_deref()) {
            Some(env) => format!("{service} in {env}"),
            None => service.to_owned(),
        };
        row.summary
            .contains(pipeline)
            .then(|| row.summary.replacen(pipeline, &place, 1))
    }
}

#[component]
fn AuditRow(row: AuditEntry, sentence: Option<String>) -> impl IntoView {
    let links = row.links();
    let who = row
        .actor_name
        .clone()
        .unwrap_or_else(|| "Gatehouse (system)".into());
    let at = stamp_seconds(row.at);
    let iso = row.at.to_rfc3339();
    let mut subject: Vec<(&'static str, String)> = Vec::new();
    for (name, value) in [
        ("Team", &row.team),
        ("Environment", &row.environment),
        ("Service", &row.service),
        ("Pipeline", &row.pipeline),
        ("Request", &row.request_id),
        ("Subject", &row.subject),
    ] {
        if let Some(v) = value {
            subject.push((name, v.clone()));
        }
    }
    let words = kind_words(&row.kind).to_owned();
    view! {
        <li id=format!("audit-{}", row.seq) data-testid="audit-row" data-kind=row.kind.clone()>
            <details class="group">
                <summary class="flex cursor-pointer list-none flex-wrap items-baseline gap-x-3 gap-y-1 px-3 py-2 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                    <span aria-hidden="true" class="inline-block shrink-0 text-xs text-slate-500 transition-transform group-open:rotate-90">"\u{25b8}"</span>
                    <span class="w-16 shrink-0 font-mono text-xs text-slate-500">{format!("#{}", row.seq)}</span>
                    <time class="shrink-0 text-xs text-slate-600" datetime=iso>{at}</time>
                    <span class="inline-flex shrink-0 items-center gap-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-800">
                        <Icon kind=kind_icon(&row.kind) />
                        {words}
                    </span>
                    <span class="min-w-0 flex-1 basis-64 break-words text-sm text-slate-900">
                        {match sentence {
                            Some(words) => view! {
                                <span data-testid="audit-sentence">{words}</span>
                                <span class="block font-mono text-xs text-slate-500">{row.pipeline.clone().unwrap_or_default()}</span>
                            }.into_any(),
                            None => view! { <span data-testid="audit-sentence">{row.summary.clone()}</span> }.into_any(),
                        }}
                    </span>
                    <span class="shrink-0 text-xs text-slate-600">{who}</span>
                </summary>
                <div class="border-t border-slate-100 bg-slate-50 px-3 py-2 text-sm">
                    <dl class="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
                        {subject.into_iter().map(|(name, value)| view! {
                            <dt class="text-slate-600">{name}</dt>
                            <dd class="min-w-0 break-words font-mono text-xs leading-5">{value}</dd>
                        }).collect_view()}
                        {row.details.into_iter().map(|(name, value)| view! {
                            <dt class="text-slate-600">{name}</dt>
                            <dd class="min-w-0 whitespace-pre-wrap break-words text-xs leading-5">{value}</dd>
                        }).collect_view()}
                        <dt class="text-slate-600">"Hash"</dt>
                        <dd class="min-w-0 break-all font-mono text-xs leading-5" data-testid="row-hash">{row.hash.clone()}</dd>
                        <dt class="text-slate-600">"Previous"</dt>
                        <dd class="min-w-0 break-all font-mono text-xs leading-5">{row.prev_hash.clone()}</dd>
                    </dl>
                    {(!links.is_empty()).then(|| view! {
                        <p class="mt-2 flex flex-wrap gap-x-4 gap-y-1">
                            {links.into_iter().map(|(href, label)| view! {
                                <a class="font-medium text-indigo-700 underline" href=href>{format!("Open the {label}")}</a>
                            }).collect_view()}
                        </p>
                    })}
                </div>
            </details>
        </li>
    }
}
