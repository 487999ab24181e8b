// The page's body is rendered on the server only (kept as HTML, see
// `body_html`); the browser build compiles the page but never renders it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::board::board;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::time::lasting;
use crate::error::AppError;
use crate::views::board::{BoardFilters, BoardView, Cell, CellStatus, Gap, Health, ServiceRow};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Links on the board (`.lnk` in style/tailwind.css: the board repeats it
/// hundreds of times).
const LINK: &str = "lnk";

/// `/board?team=&service=&waiting=1&down=1&failed=1&page=2`: for every team and
/// service, what runs in each environment, what waits to move, and whether
/// it is up. Complete without JavaScript; live with it (the page's regions
/// are swapped in place as the `board` and `approvals` topics change).
#[component]
pub fn BoardPage() -> impl IntoView {
    let query = use_query_map();
    let args = {
        let q = query.read_untracked();
        (
            q.get("team"),
            q.get("service"),
            q.get("waiting"),
            q.get("down"),
            q.get("failed"),
            q.get("page"),
            q.get("density").as_deref() == Some("compact"),
        )
    };
    let data = Resource::new(
        move || args.clone(),
        |(team, service, waiting, down, failed, page, compact)| {
            body_html([team, service, waiting, down, failed, page], compact)
        },
    );
    view! {
        <Title text="Board" />
        <h1 class="text-xl font-semibold tracking-tight">"Environment board"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "What runs where, what waits to move, and whether each environment is up. Updates live."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading the board…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(html) => view! { <div inner_html=html></div> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The board below its heading, as HTML: every viewer is shown the same
/// board for the same filters, so it is rendered once per change (and per
/// minute, for its "3 min ago"s) and copied after that.
async fn body_html(query: [Option<String>; 6], compact: bool) -> Result<String, AppError> {
    #[cfg(feature = "ssr")]
    {
        use crate::ssr::changes::Topic;
        let key = format!("/board {:?}", (&query, compact));
        let topics = [Topic::Org, Topic::Calendar, Topic::Board, Topic::Approvals];
        crate::ssr::kept_html(&topics, &key, async {
            let [team, service, waiting, down, failed, page] = query;
            let data = board(team, service, waiting, down, failed, page).await?;
            Ok((
                without_markers(view! { <BoardBody data compact /> }.to_html()),
                true,
            ))
        })
        .await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Pages are rendered on the server only (islands hydrate on their own).
        let _ = (query, compact);
        Err(AppError::Unavailable)
    }
}

/// HTML rendered for the page only, without the empty `<!>` comments that
/// mark where hydration would find its nodes: nothing hydrates it (the
/// page's own islands are outside it), and the board repeats them hundreds
/// of times. Text and attribute values are escaped, so `<!>` is only ever
/// such a mark.
#[cfg(feature = "ssr")]
pub(crate) fn without_markers(html: String) -> String {
    if html.contains("<!>") {
        html.replace("<!>", "")
    } else {
        html
    }
}

/// `density=compact` when the board is compact (else nothing), for links
/// that keep the density.
fn density_suffix(compact: bool) -> &'static str {
    if compact {
        "density=compact"
    } else {
        ""
    }
}

/// `/board?<query>` with `extra` (`key=value`, or empty) added.
fn board_href(query: &str, extra: &str) -> String {
    match (query.is_empty(), extra.is_empty()) {
        (true, true) => "/board".to_owned(),
        (true, false) => format!("/board?{extra}"),
        (false, true) => format!("/board?{query}"),
        (false, false) => format!("/board?{query}&{extra}"),
    }
}

#[component]
fn Filters(data: BoardView, compact: bool) -> impl IntoView {
    let f = data.filters.clone();
    let here = f.query(f.page);
    let link_class = format!("{LINK} aria-[current=page]:font-semibold aria-[current=page]:text-slate-900 aria-[current=page]:no-underline");
    let density = view! {
        <nav aria-label="Density" class="flex items-center gap-2 pb-1.5 text-sm text-slate-600 md:ml-auto">
            "Density:"
            <a href=board_href(&here, density_suffix(false)) class=link_class.clone() aria-current=(!compact).then_some("page")>"Comfortable"</a>
            <a href=board_href(&here, density_suffix(true)) class=link_class aria-current=compact.then_some("page")>"Compact"</a>
        </nav>
    };
    view! {
        <form method="get" action="/board" class="mt-4 flex flex-wrap items-end gap-3 print:hidden" aria-label="Filter the board">
            {compact.then(|| view! { <input type="hidden" name="density" value="compact" /> })}
            <label class="text-xs font-medium text-slate-700">
                "Team"
                <select name="team" class="mt-1 block rounded-md border border-slate-300 px-2 py-1.5 text-sm">
                    <option value="" selected=f.team.is_none()>"All teams"</option>
                    {data.teams.iter().map(|t| {
                        let selected = f.team.as_deref() == Some(t.id.as_str());
                        view! { <option value=t.id.to_string() selected=selected>{t.name.to_string()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="text-xs font-medium text-slate-700">
                "Service"
                <input
                    type="search"
                    name="service"
                    value=f.service.clone().unwrap_or_default()
                    placeholder="name or id"
                    class="mt-1 block w-44 rounded-md border border-slate-300 px-2 py-1.5 text-sm"
                />
            </label>
            <label class="flex items-center gap-1.5 pb-1.5 text-sm text-slate-700">
                <input type="checkbox" name="waiting" value="1" checked=f.waiting class="h-4 w-4 rounded border-slate-300" />
                "Only waiting"
            </label>
            <label class="flex items-center gap-1.5 pb-1.5 text-sm text-slate-700">
                <input type="checkbox" name="down" value="1" checked=f.down class="h-4 w-4 rounded border-slate-300" />
                "Only down"
            </label>
            <label class="flex items-center gap-1.5 pb-1.5 text-sm text-slate-700">
                <input type="checkbox" name="failed" value="1" checked=f.failed class="h-4 w-4 rounded border-slate-300" />
                "Only failed"
            </label>
            <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
                "Apply"
            </button>
            <a href=board_href("", density_suffix(compact)) class=format!("pb-1.5 text-sm {LINK}")>"Clear"</a>
            {density}
        </form>
    }
}

/// The cells that ask for someone, counted over every service the team
/// and service filters leave: each count is a filter (on: its services
/// only; again: off), so the board leads with the exception.
#[component]
fn Summary(data: BoardView, compact: bool) -> impl IntoView {
    let f = data.filters.clone();
    let c = data.counts;
    let items = [
        ("down", c.down, "down", "st down", f.down),
        ("failed", c.failed, "failed", "st fail", f.failed),
        ("waiting", c.waiting, "waiting", "st wait", f.waiting),
    ];
    view! {
        <nav aria-label="Summary" class="mt-4 flex flex-wrap items-center gap-2 text-sm" data-testid="board-summary">
            {items.into_iter().map(|(key, count, word, tone, on)| {
                let mut toggled = BoardFilters { page: 1, ..f.clone() };
                match key {
                    "down" => toggled.down = !on,
                    "failed" => toggled.failed = !on,
                    _ => toggled.waiting = !on,
                }
                let href = board_href(&toggled.query(1), density_suffix(compact));
                let tone = if count == 0 { "st none" } else { tone };
                view! {
                    <a
                        href=href
                        class="chip"
                        aria-current=on.then_some("true")
                        data-testid=format!("summary-{key}")
                    >
                        <span class=tone>{format!("{count} {word}")}</span>
                        {on.then(|| view! { <span class="sr-only">" (filter on; select to show every service)"</span> })}
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

#[component]
fn Pager(data: BoardView, compact: bool) -> impl IntoView {
    let summary = if data.matching == 0 {
        format!("No service matches (of {}).", data.total)
    } else {
        format!(
            "Services {}–{} of {}{}",
            data.first,
            data.last,
            data.matching,
            if data.matching < data.total {
                format!(" matching ({} in all)", data.total)
            } else {
                String::new()
            }
        )
    };
    let link = |page: u32, label: &'static str, rel: &'static str| {
        let href = board_href(&data.filters.query(page), density_suffix(compact));
        view! { <a href=href rel=rel class=format!("rounded-md px-2 py-1 text-sm ring-1 ring-slate-200 hover:bg-slate-50 {LINK}")>{label}</a> }
    };
    view! {
        <nav aria-label="Pages" class="mt-4 flex flex-wrap items-center gap-3 text-sm text-slate-600">
            <span data-testid="board-range">{summary}</span>
            {(data.pages > 1).then(|| view! {
                <span class="flex items-center gap-2">
                    {(data.page > 1).then(|| link(data.page - 1, "Previous", "prev"))}
                    <span>{format!("Page {} of {}", data.page, data.pages)}</span>
                    {(data.page < data.pages).then(|| link(data.page + 1, "Next", "next"))}
                </span>
            })}
        </nav>
    }
}

/// `compact` draws the board denser (the URL's `density=compact`), for
/// large orgs.
#[component]
fn BoardBody(data: BoardView, compact: bool) -> impl IntoView {
    // The server's clock, as sent; the browser never asks chrono for the
    // time (it has no clock on wasm32 without `wasmbind`).
    let now: DateTime<Utc> = data.now.parse().unwrap_or_default();
    let envs = data.environments.clone();
    let columns = envs.len() + 1;
    let empty = data.rows.is_empty();
    let recorded = data.recorded;
    view! {
        <Filters data=data.clone() compact />
        // The live region: a row the viewer has opened is kept as it is.
        <div id="board-live" data-live="">
        <Summary data=data.clone() compact />
        <Pager data=data.clone() compact />
        {(!recorded).then(|| view! {
            <p role="status" class="mt-4 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600">
                "Nothing recorded yet: the first pass over the pipelines fills the board within a poll interval."
            </p>
        })}
        {if empty {
            view! {
                <p class="mt-6 text-sm text-slate-600">"No service matches these filters. "<a href="/board" class=LINK>"Show every service"</a></p>
            }.into_any()
        } else {
            view! {
                <div class="scroller mt-3 rounded-lg border border-slate-200" tabindex="0" role="region" aria-label="The board, scrollable sideways">
                    <table class=format!(
                        "board w-full border-collapse text-left text-xs max-md:block md:table-fixed {}",
                        if compact { "compact md:min-w-[60rem]" } else { "md:min-w-[72rem]" }
                    )>
                        <caption class="sr-only">"Deployed revision, pipeline state, waiting approvals and health per service and environment"</caption>
                        <thead class="bg-slate-50 text-slate-600 max-md:sr-only">
                            <tr>
                                <th scope="col" class="sticky left-0 z-10 w-40 bg-slate-50 px-3 py-2 font-medium">"Service"</th>
                                {envs.iter().map(|(_, name)| view! { <th scope="col" class="px-3 py-2 font-medium">{name.clone()}</th> }).collect_view()}
                            </tr>
                        </thead>
                        {data.rows.into_iter().map(|team| view! {
                            <tbody aria-label=team.name.clone() class="max-md:block">
                                <tr class="border-t border-slate-200 bg-slate-100/70 max-md:block">
                                    <th scope="rowgroup" colspan=columns.to_string() class="px-3 py-1.5 text-xs font-semibold uppercase tracking-wide text-slate-700 max-md:block md:sticky md:left-0">{team.name.clone()}</th>
                                </tr>
                                {team.services.into_iter().map(|service| view! { <Row service now /> }).collect_view()}
                            </tbody>
                        }).collect_view()}
                    </table>
                </div>
            }.into_any()
        }}
        </div>
        <Legend />
    }
}

#[component]
fn Row(service: ServiceRow, now: DateTime<Utc>) -> impl IntoView {
    let name = service.name.clone();
    // On a phone the row is one line, its worst cell, until opened (a
    // checkbox and CSS: no script needed, and a live update keeps it open).
    let worst = service
        .cells
        .iter()
        .min_by_key(|c| c.status)
        .map(|c| (c.status, c.environment.clone()));
    let toggle = format!("envs-{}", service.id);
    let service_id = service.id.clone();
    view! {
        <tr id=format!("service-{}", service.id) data-live="" aria-label=name.clone() class="svc border-t border-slate-200 align-top max-md:block">
            <th scope="row" class="svc-h">
                <b>{name.clone()}</b>
                {worst.map(|(status, env)| {
                    let tone = status_tone(status);
                    view! {
                        <p class="phone-line">
                            <span data-testid="worst">
                                <span class=tone>{status.words()}</span>
                                <small>{format!(" in {env}")}</small>
                            </span>
                            <input type="checkbox" id=toggle.clone() class="envs" />
                            <label for=toggle.clone()>"All environments"<span class="sr-only">{format!(" of {}", name.clone())}</span></label>
                        </p>
                    }
                })}
                <a href=service.repository_url.clone() class="repo" title=service.repository.clone()>{service.repository.clone()}</a>
                {service.hotfixes.into_iter().map(|h| {
                    let unmerged = !h.missing.is_empty();
                    let tone = if unmerged { "text-amber-800" } else { "text-emerald-800" };
                    let words = if unmerged {
                        format!("not merged into {}", h.missing.join(" and "))
                    } else {
                        "merged back".to_owned()
                    };
                    view! {
                        <p class=format!("mt-1 flex items-start gap-1 text-xs {tone}") data-testid="hotfix">
                            <Icon kind=if unmerged { IconKind::Alert } else { IconKind::Branch } class="mt-0.5 h-3 w-3 shrink-0" />
                            <span>
                                <code class="font-mono">{h.branch.clone()}</code>
                                {format!(": {}in Release, {words}", if h.in_release { "" } else { "not " })}
                            </span>
                        </p>
                    }
                }).collect_view()}
            </th>
            {service.cells.into_iter().map(|cell| view! { <CellView cell service=name.clone() service_id=service_id.clone() now /> }).collect_view()}
        </tr>
    }
}

/// A status's tone: its colour and CSS-drawn glyph (`.st.*` in
/// style/tailwind.css); the word always follows.
pub(crate) fn status_tone(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Down => "st down",
        CellStatus::Failed => "st fail",
        CellStatus::Waiting => "st wait",
        CellStatus::Deploying => "st run",
        CellStatus::Up => "st ok",
        CellStatus::Checking | CellStatus::Deployed => "st none",
        CellStatus::NotDeployed => "st nd",
    }
}

/// The address of a cell's own page (Gatehouse's detail view).
pub(crate) fn cell_href(service_id: &str, environment_id: &str) -> String {
    format!("/board/{service_id}/{environment_id}")
}

/// One service in one environment: the version and one status word at a
/// glance (a down environment's ticket at the top, a waiting approval as
/// one line that opens it); the whole cell opens the cell's own page,
/// where its message, runs, missing commits and uptime are.
#[component]
fn CellView(cell: Cell, service: String, service_id: String, now: DateTime<Utc>) -> impl IntoView {
    let label = format!("{service} in {}", cell.environment);
    let status = cell.status;
    let tone = status_tone(status);
    let down = status == CellStatus::Down;
    let href = cell_href(&service_id, &cell.environment_id);
    let version = cell.tag.clone().or_else(|| cell.short_sha.clone());
    let down_head = down.then(|| {
        let ticket = cell.health.as_ref().and_then(|h| h.ticket.clone());
        // The cause first: the health check's answer ("HTTP 503").
        let cause = cell.health.as_ref().and_then(|h| h.detail.clone());
        let word = status_word(status, cell.health.as_ref(), now);
        view! {
            <p class="downhd" data-testid="health">
                {word}
                {cause.map(|c| view! { <small>{format!(" · {c}")}</small> })}
            </p>
            {ticket.map(|url| view! { <a href=url class="ticket" data-testid="ticket">"Critical ticket"</a> })}
        }
    });
    let gap_line = cell
        .behind
        .as_ref()
        .filter(|g| g.behind_by > 0)
        .map(gap_words);
    let waiting = cell.waiting.clone();
    // A waiting cell says so once, in its Review link (a cell whose run
    // failed or that is down says that, and its link asks for a review).
    let status_shown = !down && status != CellStatus::Waiting;
    // A waiting cell still says how its health check answers (a down one
    // is Down, not Waiting, so only "Up" is left to say).
    let health_up =
        status == CellStatus::Waiting && cell.health.as_ref().and_then(|h| h.up) == Some(true);
    let waiting_words = if status == CellStatus::Waiting {
        CellStatus::Waiting.words()
    } else {
        "Review"
    };
    view! {
        <td
            aria-label=label.clone()
            data-env-name=cell.environment.clone()
            data-status=status_key(status)
        >
            {down_head}
            <p class="cl">
                <a href=href class="open" data-testid="open">
                    <code>{version.unwrap_or_else(|| "—".to_owned())}</code>
                    <span class="sr-only">{format!(", open {label}")}</span>
                </a>
                {status_shown.then(|| view! { <span class=tone data-testid="status">{status.words()}</span> })}
                {health_up.then(|| view! { <span class=status_tone(CellStatus::Up) data-testid="health-word">{CellStatus::Up.words()}</span> })}
            </p>
            {gap_line.map(|g| view! { <p class="bh" data-testid="behind">{g}</p> })}
            {waiting.map(|w| {
                let blocked = (!w.blocked_on.is_empty()).then(|| view! {
                    <p class="blk" data-testid="plan-blocked">
                        <Icon kind=IconKind::Lock class="h-3 w-3 shrink-0" />
                        {crate::domain::deploy_dag::blocked_words(&w.blocked_on)}
                    </p>
                });
                view! {
                    <a href=format!("/approvals?request={}", w.request_id) class="wl" data-testid="waiting">
                        <span data-testid=(status == CellStatus::Waiting).then_some("status")>{waiting_words}</span>
                        <small>{format!(" · {} ({} of {})", w.commit, w.votes, w.needed)}</small>
                    </a>
                    {blocked}
                }
            })}
            {cell.problem.map(|p| view! {
                <p class="prob" role="note"><Icon kind=IconKind::Alert class="mt-0.5 h-3 w-3 shrink-0" />{p}</p>
            })}
        </td>
    }
}

/// A status as the summary strip and the cells name it in the page
/// (`data-status`), for styles and tests.
fn status_key(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Down => "down",
        CellStatus::Failed => "failed",
        CellStatus::Waiting => "waiting",
        CellStatus::Deploying => "deploying",
        CellStatus::Up => "up",
        CellStatus::Checking => "checking",
        CellStatus::Deployed => "deployed",
        CellStatus::NotDeployed => "not-deployed",
    }
}

/// "2 commits behind QA".
pub(crate) fn gap_words(g: &Gap) -> String {
    format!(
        "{} commit{} behind {}",
        g.behind_by,
        if g.behind_by == 1 { "" } else { "s" },
        g.of
    )
}

/// A status's word: "Down for 12 min" when the health check knows since
/// when.
pub(crate) fn status_word(
    status: CellStatus,
    health: Option<&Health>,
    now: DateTime<Utc>,
) -> String {
    match (status, health) {
        (CellStatus::Down, Some(h)) => h
            .since
            .as_deref()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|since| lasting(now, since))
            .map_or_else(|| "Down".to_owned(), |d| format!("Down for {d}")),
        _ => status.words().to_owned(),
    }
}

/// The commits an environment lacks: the first `shown`, then where the
/// rest are (the cell's page, or GitHub's comparison).
#[component]
pub(crate) fn GapList(
    gap: Gap,
    shown: usize,
    /// Where the rest are listed (the cell's page); else GitHub's comparison.
    #[prop(optional, into)]
    more_href: Option<String>,
    /// Whether to name each commit's author.
    #[prop(optional)]
    authors: bool,
) -> impl IntoView {
    let listed = gap.commits.len().min(shown);
    let more = (gap.behind_by as usize).saturating_sub(listed);
    let (more_href, more_words) = match more_href {
        Some(href) if listed < gap.commits.len() => (href, format!("{more} more")),
        _ => (
            gap.compare_url.clone(),
            format!("{more} more: compare on GitHub"),
        ),
    };
    view! {
        <ul class="gap">
            {gap.commits.into_iter().take(shown).map(|c| view! {
                <li>
                    <a href=c.url>{c.sha}</a>
                    " "{c.title}
                    {c.pull_request.map(|(n, url)| view! { " " <a href=url class=LINK>{format!("#{n}")}</a> })}
                    {c.author.filter(|_| authors).map(|a| view! { <i>{format!(" @{a}")}</i> })}
                </li>
            }).collect_view()}
            {(more > 0).then(|| view! { <li><a href=more_href class=LINK>{more_words}</a></li> })}
        </ul>
    }
}

/// The last 30 days as a bar, outages marked (at least 1.5 % wide, so a
/// short one stays visible in a narrow cell).
#[component]
pub(crate) fn Timeline(marks: Vec<(f64, f64)>) -> impl IntoView {
    let outages = marks.len();
    view! {
        <svg viewBox="0 0 1000 6" preserveAspectRatio="none" class="tl" role="img" aria-label=format!("{outages} outage{} in the last 30 days", if outages == 1 { "" } else { "s" })>
            <rect width="1000" height="6" class="fill-emerald-200"></rect>
            {marks.iter().map(|(offset, width)| view! {
                <rect x=format!("{:.0}", offset * 1000.0) width=format!("{:.0}", (width * 1000.0).max(15.0)) height="6" class="fill-rose-600"></rect>
            }).collect_view()}
        </svg>
    }
}

#[component]
fn Legend() -> impl IntoView {
    let entries = [
        CellStatus::Up,
        CellStatus::Deploying,
        CellStatus::Waiting,
        CellStatus::Failed,
        CellStatus::Down,
        CellStatus::Deployed,
        CellStatus::NotDeployed,
    ];
    view! {
        <p class="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
            {entries.into_iter().map(|status| {
                view! { <span class=status_tone(status)>{status.words()}</span> }
            }).collect_view()}
            <span>"Open a cell for its message, runs, missing commits and uptime."</span>
        </p>
    }
}
