use crate::api::calendar::{
    calendar, AddBlackout, EditReleaseDates, MoveMilestone, RotateFeedToken,
};
use crate::components::badges::GateBadge;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::note::NoticeView;
use crate::components::team_filter::TeamFilter;
use crate::components::time::ago;
use crate::domain::calendar::{MilestoneKind, ReleaseState};
use crate::domain::{Team, TeamId};
use crate::islands::local_time::LocalTime;
use crate::islands::step_keys::StepKeys;
use crate::notice::Notice;
use crate::views::calendar::{
    CalendarChange, CalendarEvent, CalendarView, CurrentRelease, DayCell, DaySpan, EditTarget,
    EnvironmentAllowance, MoveTarget, ReleaseSummary,
};
use chrono::{DateTime, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
const BUTTON: &str = "inline-flex items-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 disabled:opacity-60";

/// `/calendar?month=2027-01&team=mobile`: the bimonthly release train, what
/// each environment allows today, and managers' changes to the plan.
#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let args = {
        let q = query.read_untracked();
        (q.get("month"), q.get("team"), q.get("move"), q.get("edit"))
    };
    let data = Resource::new(
        move || args.clone(),
        |(month, team, moving, editing)| calendar(month, team, moving, editing),
    );
    view! {
        <Title text="Calendar" />
        <h1 class="text-xl font-semibold tracking-tight">"Calendar"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "The bimonthly release train: each release's milestones per team, blackouts, hotfix windows, and what each environment allows today."
        </p>
        <Suspense fallback=CalendarSkeleton>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <CalendarBody data=view_data /> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CalendarSkeleton() -> impl IntoView {
    view! {
        <div aria-busy="true" aria-label="Loading the calendar" class="mt-6 space-y-2">
            <div class="h-8 w-64 animate-pulse rounded bg-slate-100"></div>
            <div class="h-96 animate-pulse rounded-lg bg-slate-100"></div>
        </div>
    }
}

fn calendar_href(month: &str, team: Option<&TeamId>) -> String {
    match team {
        Some(t) => format!("/calendar?month={month}&team={t}"),
        None => format!("/calendar?month={month}"),
    }
}

/// The page with the Move dialog open on one milestone of one release.
fn move_href(month: &str, team: Option<&TeamId>, release: u32, kind: MilestoneKind) -> String {
    format!(
        "{}&move={release}:{}",
        calendar_href(month, team),
        kind.as_str()
    )
}

/// The page with the Edit dates dialog open on one release.
fn edit_href(month: &str, team: Option<&TeamId>, release: u32) -> String {
    format!("{}&edit={release}", calendar_href(month, team))
}

/// A chip that informs (no status): neutral, its icon and word tell it.
const NEUTRAL_CHIP: &str = "bg-slate-50 text-slate-800 ring-slate-500/25";

/// How a milestone looks: colour, icon and words.
fn milestone_style(kind: MilestoneKind) -> (IconKind, &'static str) {
    match kind {
        // Information: one neutral tone, told apart by icon and word
        // (colours are kept for status: amber marks a blackout).
        MilestoneKind::DevelopmentStart => (IconKind::Branch, NEUTRAL_CHIP),
        MilestoneKind::CodeFreeze => (IconKind::Snowflake, NEUTRAL_CHIP),
        MilestoneKind::ReleaseDemo => (IconKind::People, NEUTRAL_CHIP),
        MilestoneKind::QaSignOff => (IconKind::Flask, NEUTRAL_CHIP),
        MilestoneKind::PreProd => (IconKind::Box, NEUTRAL_CHIP),
        MilestoneKind::ProdRelease => (IconKind::Gate, NEUTRAL_CHIP),
    }
}

fn state_style(state: ReleaseState) -> (IconKind, &'static str) {
    match state {
        ReleaseState::Planning => (
            IconKind::Dashed,
            "bg-slate-50 text-slate-700 ring-slate-500/20",
        ),
        ReleaseState::InDevelopment => (IconKind::Branch, NEUTRAL_CHIP),
        ReleaseState::Frozen => (IconKind::Snowflake, NEUTRAL_CHIP),
        ReleaseState::InQa => (IconKind::Flask, NEUTRAL_CHIP),
        ReleaseState::Released => (
            IconKind::Check,
            "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        ),
    }
}

#[component]
fn EventChip(event: CalendarEvent, compact: bool) -> impl IntoView {
    let (icon, tone) = milestone_style(event.kind);
    let flagged = event.in_blackout.is_some();
    let ring = if flagged {
        "bg-amber-50 text-amber-950 ring-amber-600/40"
    } else {
        tone
    };
    let teams = (!event.teams.is_empty()).then(|| format!(" · {}", event.teams.join(", ")));
    let title = {
        let mut t = format!("{} · release {}", event.kind.label(), event.release);
        if let Some(teams) = &teams {
            t.push_str(teams);
        }
        if let Some(time) = &event.time {
            t.push_str(&format!(" · {time}"));
        }
        if let Some(b) = &event.in_blackout {
            t.push_str(&format!(" · falls in blackout {b}"));
        }
        if let Some(r) = &event.moved_because {
            t.push_str(&format!(" · moved: {r}"));
        }
        t
    };
    let moved = (event.moves > 0).then(|| view! { <span class="sr-only">" (moved)"</span><span aria-hidden="true" class="font-semibold">"*"</span> });
    let flag = event.in_blackout.clone().map(|b| {
        view! {
            <span class="inline-flex items-center gap-0.5 font-semibold text-amber-800">
                <Icon kind=IconKind::Alert class="h-3 w-3" />
                {if compact { "blackout".to_owned() } else { format!("in blackout: {b}") }}
            </span>
        }
    });
    view! {
        <span
            class=format!("flex min-w-0 flex-wrap items-center gap-x-1 rounded px-1 py-0.5 text-xs leading-tight ring-1 ring-inset {ring}")
            title=title
            data-milestone=event.kind.as_str()
            data-flagged=flagged.then_some("true")
        >
            <Icon kind=icon class="h-3 w-3" />
            <span class="font-medium">{event.kind.label()}</span>
            {moved}
            <span class="text-current/80">{event.release.clone()}</span>
            {teams.map(|t| view! { <span>{t}</span> })}
            {flag}
        </span>
    }
}

#[component]
fn CalendarBody(data: CalendarView) -> impl IntoView {
    let CalendarView {
        now,
        today,
        zone,
        zone_abbreviation,
        month,
        month_title,
        previous_month,
        next_month,
        this_month,
        teams,
        team,
        weeks,
        agenda,
        spans,
        next_releases,
        allowances,
        history,
        can_manage,
        environments,
        notice,
        current,
        moving,
        editing,
        feed_link,
    } = data;
    let previous_href = calendar_href(&previous_month, team.as_ref());
    let next_href = calendar_href(&next_month, team.as_ref());
    let today_href = calendar_href(&this_month, team.as_ref());
    let selected_name = team
        .as_ref()
        .and_then(|id| teams.iter().find(|t| &t.id == id))
        .map(|t| t.name.to_string());
    let feed_path = match &team {
        Some(t) => format!("/calendar/{t}.ics"),
        None => "/calendar.ics".to_owned(),
    };
    // The secret link is shown once, in the view after it is made (only
    // its hash is kept); other views link the feed itself, which a
    // signed-in browser (or anyone, in demo mode) can open.
    let fresh = feed_link.as_ref().and_then(|l| l.fresh_token.clone());
    let feed = match &fresh {
        Some(token) => format!("{feed_path}?token={token}"),
        None => feed_path,
    };
    let feed_controls = feed_link.map(|link| {
        let rotate = ServerAction::<RotateFeedToken>::new();
        let (said, button, title) = match (&link.fresh_token, &link.made) {
            (Some(_), _) => (
                "This is your new secret link, shown only this once: copy it or subscribe with it. ".to_owned(),
                "Replace link",
                "Makes another link; subscriptions using this one stop updating",
            ),
            (None, Some(made)) => (
                format!("Your secret link for calendar apps was made {made}; Gatehouse shows a link only when it makes it. "),
                "Replace link",
                "Makes a new link, shown once; subscriptions using the current one stop updating",
            ),
            (None, None) => (
                String::new(),
                "Make a link for calendar apps",
                "Calendar apps cannot sign in: they read the feed with a secret link, shown once",
            ),
        };
        view! {
            <ActionForm action=rotate attr:class="flex items-center gap-1 text-xs text-slate-500 print:hidden">
                {said}
                <button
                    type="submit"
                    class="text-xs font-medium text-slate-600 underline hover:text-slate-900"
                    title=title
                >
                    {button}
                </button>
            </ActionForm>
        }
    });
    let feed_label = match (&selected_name, fresh.is_some()) {
        (Some(n), true) => format!("Subscribe to {n}'s calendar with your new link (ICS)"),
        (None, true) => "Subscribe to the calendar with your new link (ICS)".to_owned(),
        (Some(n), false) => format!("Subscribe to {n}'s calendar (ICS)"),
        (None, false) => "Subscribe to the calendar (ICS)".to_owned(),
    };
    // A refused form's answer is said in that form (a dialog's opens it
    // again); the rest at the top, where the page opens.
    let (form_notice, notice) = match notice {
        Some(n)
            if n.answers("blackout") || (n.error && (n.answers("move") || n.answers("edit"))) =>
        {
            (Some(n), None)
        }
        other => (None, other),
    };
    let notice = notice.map(|notice| view! { <NoticeView notice class="mt-4 print:hidden" /> });
    let manage_link = {
        let month = month.clone();
        let team = team.clone();
        move |release: u32, kind: MilestoneKind| {
            can_manage.then(|| move_href(&month, team.as_ref(), release, kind))
        }
    };
    let edit_link = {
        let month = month.clone();
        let team = team.clone();
        move |release: u32| can_manage.then(|| edit_href(&month, team.as_ref(), release))
    };
    let month_for_filter = month.clone();
    let is_this_month = month == this_month;
    view! {
        // With JavaScript, the arrow keys turn the months.
        <StepKeys previous=Some(previous_href.clone()) next=Some(next_href.clone()) page_keys=false />
        {notice}
        <div class="mt-4 flex flex-wrap items-center justify-between gap-3">
            <TeamFilter teams=teams.clone() selected=team.clone() path="/calendar" query=format!("month={month_for_filter}") />
            <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
                <p class="text-xs text-slate-500">
                    {format!("Times in {zone} ({zone_abbreviation}) · ")}
                    <a href=feed class="font-medium text-indigo-700 hover:underline print:hidden">{feed_label}</a>
                </p>
                {feed_controls}
            </div>
        </div>
        {current.map(|current| {
            let link = manage_link.clone();
            view! { <div id="calendar-timeline-live" data-live=""><Timeline current move_link=link /></div> }
        })}
        // Live regions: the month, what is allowed today, the next releases
        // and the history follow managers' changes.
        <div id="calendar-live" data-live="" class="mt-4 grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
            <section aria-labelledby="month-heading" class="min-w-0">
                <div class="flex flex-wrap items-center gap-2">
                    <h2 id="month-heading" class="mr-auto text-lg font-semibold tracking-tight">{month_title.clone()}</h2>
                    <nav aria-label="Months" class="flex items-center gap-1 print:hidden">
                        <a href=previous_href class="rounded-md px-2 py-1 text-sm ring-1 ring-slate-300 hover:bg-slate-50" aria-keyshortcuts="ArrowLeft" aria-label="Previous month">
                            <span aria-hidden="true">"←"</span><span class="hidden sm:inline">" Previous"</span>
                        </a>
                        <a href=today_href class="rounded-md px-2 py-1 text-sm ring-1 ring-slate-300 hover:bg-slate-50" aria-current=is_this_month.then_some("date")>
                            "Today"
                        </a>
                        <a href=next_href class="rounded-md px-2 py-1 text-sm ring-1 ring-slate-300 hover:bg-slate-50" aria-keyshortcuts="ArrowRight" aria-label="Next month">
                            <span class="hidden sm:inline">"Next "</span><span aria-hidden="true">"→"</span>
                        </a>
                    </nav>
                </div>
                <p class="mt-1 hidden text-xs text-slate-500 md:block print:hidden">
                    "Keys ← and → change the month. * marks a moved milestone; a dashed amber top edge marks a hotfix window; hatched days are blackouts."
                </p>
                <MonthGrid weeks month_title=month_title.clone() />
                <Agenda agenda spans month_title />
            </section>
            <aside class="space-y-6">
                <AllowancePanel allowances today=today.format("%-d %b %Y").to_string() />
            </aside>
        </div>
        <div id="calendar-releases-live" data-live=""><NextReleases releases=next_releases team_name=selected_name edit_link /></div>
        {can_manage.then(|| {
            let leave = calendar_href(&month, team.as_ref());
            let (dialog_notice, blackout_notice) = match form_notice {
                Some(n) if n.answers("blackout") => (None, Some(n)),
                other => (other, None),
            };
            let dialog = match (moving, editing) {
                (Some(target), _) => Some(view! {
                    <MoveDialog target teams=teams.clone() team=team.clone() notice=dialog_notice leave=leave.clone() />
                }.into_any()),
                (None, Some(target)) => Some(view! {
                    <EditDialog target notice=dialog_notice leave=leave.clone() />
                }.into_any()),
                (None, None) => None,
            };
            view! {
                <ManageForms environments notice=blackout_notice />
                {dialog}
            }
        })}
        <div id="calendar-history-live" data-live=""><History history now /></div>
    }
}

#[component]
fn MonthGrid(weeks: Vec<Vec<DayCell>>, month_title: String) -> impl IntoView {
    const DAYS: [(&str, &str); 7] = [
        ("Mon", "Monday"),
        ("Tue", "Tuesday"),
        ("Wed", "Wednesday"),
        ("Thu", "Thursday"),
        ("Fri", "Friday"),
        ("Sat", "Saturday"),
        ("Sun", "Sunday"),
    ];
    view! {
        <div class="mt-3 hidden overflow-hidden rounded-lg border border-slate-200 md:block print:block">
            <table class="w-full table-fixed border-collapse text-left">
                <caption class="sr-only">{format!("Milestones in {month_title}")}</caption>
                <thead>
                    <tr class="bg-slate-50 text-xs font-medium text-slate-500">
                        {DAYS.iter().map(|(short, long)| view! {
                            <th scope="col" class="border-b border-slate-200 px-2 py-1.5 font-medium"><abbr title=*long class="no-underline">{*short}</abbr></th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {weeks.into_iter().map(|week| view! {
                        <tr>{week.into_iter().map(|day| view! { <DayView day /> }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn DayView(day: DayCell) -> impl IntoView {
    let blackout = !day.blackouts.is_empty();
    let mut class =
        String::from("h-28 border-b border-r border-slate-200 p-1 align-top last:border-r-0");
    if !day.in_month {
        // Dimmer than this month's days, still 4.5:1 against the cell.
        class.push_str(" bg-slate-50/70 text-slate-500");
    }
    if blackout {
        class.push_str(" bg-[repeating-linear-gradient(135deg,var(--color-amber-100)_0_5px,transparent_5px_11px)]");
    }
    if day.hotfix_window {
        class.push_str(" border-t-2 border-t-amber-400 border-dashed");
    }
    let number = day.date.format("%-d").to_string();
    let label = day.date.format("%A %-d %B %Y").to_string();
    let today = day.today;
    let blackouts = day.blackouts.join(", ");
    view! {
        <td class=class aria-current=today.then_some("date") data-date=day.date.to_string()>
            <div class="flex items-center justify-between gap-1">
                <time
                    datetime=day.date.to_string()
                    aria-label=label
                    class=if today { "inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-indigo-600 px-1 text-xs font-semibold text-white" } else { "text-xs font-medium" }
                >
                    {number}
                </time>
                {today.then(|| view! { <span class="text-xs font-semibold uppercase tracking-wide text-indigo-700">"Today"</span> })}
            </div>
            {blackout.then(|| view! { <p class="mt-0.5 truncate text-xs font-medium text-amber-800" title=blackouts.clone()>{format!("Blackout: {blackouts}")}</p> })}
            {day.hotfix_window.then(|| view! { <span class="sr-only">"Hotfix window"</span> })}
            <ul class="mt-0.5 space-y-0.5">
                {day.events.into_iter().map(|event| view! { <li><EventChip event compact=true /></li> }).collect_view()}
            </ul>
        </td>
    }
}

#[component]
fn Agenda(agenda: Vec<CalendarEvent>, spans: Vec<DaySpan>, month_title: String) -> impl IntoView {
    let empty = agenda.is_empty() && spans.is_empty();
    view! {
        <section aria-labelledby="agenda-heading" class="mt-6">
            <h3 id="agenda-heading" class="text-sm font-semibold text-slate-900">{format!("Agenda · {month_title}")}</h3>
            {empty.then(|| view! {
                <p class="mt-2 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-500">
                    "No milestones, blackouts or hotfix windows this month."
                </p>
            })}
            {(!spans.is_empty()).then(|| view! {
                <ul class="mt-2 space-y-1" aria-label="Blackouts and hotfix windows">
                    {spans.into_iter().map(|s| {
                        let blackout = s.name.starts_with("Blackout");
                        let (icon, tone) = if blackout { (IconKind::Lock, "text-amber-800") } else { (IconKind::Branch, "text-amber-800") };
                        view! {
                            <li class="flex flex-wrap items-baseline gap-x-2 text-sm">
                                <span class=format!("inline-flex items-center gap-1 font-medium {tone}")><Icon kind=icon class="h-3.5 w-3.5" />{s.name}</span>
                                <span class="text-slate-700">{format!("{} – {}", s.first_day.format("%-d %b"), s.last_day.format("%-d %b %Y"))}</span>
                                <span class="text-slate-500">{s.detail}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <ol class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 empty:hidden" aria-label="Milestones">
                {agenda.into_iter().map(|e| {
                    let date = e.date.format("%a %-d %b").to_string();
                    let time = match e.time.clone() {
                        Some(label) => view! { <LocalTime at_ms=e.at.timestamp_millis() iso=e.at.to_rfc3339() label org_offset_minutes=e.offset_minutes /> }.into_any(),
                        None => view! { <span>"All day"</span> }.into_any(),
                    };
                    let why = e.moved_because.clone().map(|r| view! { <span class="block text-xs text-slate-500">{format!("Moved: {r}")}</span> });
                    view! {
                        <li class="grid grid-cols-[6.5rem_minmax(0,1fr)] gap-2 px-3 py-2 text-sm sm:grid-cols-[7.5rem_8rem_minmax(0,1fr)]">
                            <time datetime=e.date.to_string() class="font-medium text-slate-700">{date}</time>
                            <span class="text-slate-600 sm:order-none">{time}</span>
                            <span class="col-span-2 min-w-0 sm:col-span-1"><EventChip event=e.clone() compact=false />{why}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn AllowancePanel(allowances: Vec<EnvironmentAllowance>, today: String) -> impl IntoView {
    view! {
        <section aria-labelledby="allowed-heading" class="rounded-lg border border-slate-200 p-4">
            <h2 id="allowed-heading" class="text-sm font-semibold text-slate-900">"What each environment allows today, "<span class="whitespace-nowrap">{today}</span></h2>
            <ul class="mt-3 space-y-3">
                {allowances.into_iter().map(|a| view! {
                    <li aria-label=a.environment.clone() data-environment=a.environment_id.clone()>
                        <p class="text-sm font-medium text-slate-900">{a.environment.clone()}</p>
                        <ul class="mt-1 space-y-1">
                            {a.lines.into_iter().map(|(team, gate, sentence)| view! {
                                <li class="flex flex-wrap items-center gap-x-2 gap-y-0.5 text-sm text-slate-700">
                                    <GateBadge gate />
                                    {team.map(|t| view! { <span class="font-medium">{format!("{t}:")}</span> })}
                                    <span>{sentence}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The current release's milestones in one row (a column on a phone),
/// each with its date and whether it has passed; managers can move each.
#[component]
fn Timeline<F>(current: CurrentRelease, move_link: F) -> impl IntoView
where
    F: Fn(u32, MilestoneKind) -> Option<String> + 'static,
{
    let (state_icon, state_tone) = state_style(current.state);
    let next = current.steps.iter().position(|s| !s.passed);
    let number = current.number;
    view! {
        <section aria-labelledby="timeline-heading" class="mt-4 rounded-lg border border-slate-200 p-4">
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                <h2 id="timeline-heading" class="text-base font-semibold tracking-tight">{format!("This cycle: release {}", current.name)}</h2>
                <span class=format!("inline-flex items-center gap-1 rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset {state_tone}")>
                    <Icon kind=state_icon class="h-3.5 w-3.5" />{current.state.label()}
                </span>
            </div>
            <ol class="mt-3 grid gap-2 sm:grid-cols-5" aria-label=format!("Milestones of release {}", current.name)>
                {current.steps.into_iter().enumerate().map(|(i, step)| {
                    let (icon, tone) = milestone_style(step.kind);
                    let (mark, mark_icon, frame) = if step.passed {
                        ("Done", IconKind::Check, "border-slate-200 bg-slate-50")
                    } else if Some(i) == next {
                        ("Next", IconKind::Clock, "border-indigo-300 bg-white ring-1 ring-indigo-300")
                    } else {
                        ("Later", IconKind::Dashed, "border-slate-200 bg-white")
                    };
                    let href = move_link(number, step.kind);
                    let label = step.kind.label();
                    view! {
                        <li class=format!("flex flex-col gap-1 rounded-md border px-3 py-2 {frame}") aria-current=(Some(i) == next).then_some("step") data-milestone=step.kind.as_str()>
                            <span class=format!("inline-flex w-fit items-center gap-1 rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>
                                <Icon kind=icon class="h-3.5 w-3.5" />{label}
                            </span>
                            <span class="text-base font-semibold text-slate-900">{step.words}</span>
                            <span class="text-xs text-slate-600">{step.detail.unwrap_or_else(|| "Differs by team".to_owned())}</span>
                            <span class="flex flex-wrap items-center gap-x-2 text-xs">
                                <span class="inline-flex items-center gap-1 font-medium text-slate-700"><Icon kind=mark_icon class="h-3.5 w-3.5" />{mark}</span>
                                {step.in_blackout.map(|b| view! { <span class="inline-flex items-center gap-1 font-semibold text-amber-800"><Icon kind=IconKind::Alert class="h-3.5 w-3.5" />{format!("In blackout: {b}")}</span> })}
                                {href.map(|href| view! {
                                    <a href=href data-dialog-open="" class="ml-auto inline-flex min-h-6 items-center font-medium text-indigo-700 underline print:hidden" aria-label=format!("Move {label} of release {}", current.name)>"Move"</a>
                                })}
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn NextReleases<F>(
    releases: Vec<ReleaseSummary>,
    team_name: Option<String>,
    edit_link: F,
) -> impl IntoView
where
    F: Fn(u32) -> Option<String> + 'static,
{
    let heading = match team_name {
        Some(n) => format!("The next six releases · {n}"),
        None => "The next six releases".to_owned(),
    };
    view! {
        <section aria-labelledby="next-heading" class="mt-8">
            <h2 id="next-heading" class="text-lg font-semibold tracking-tight">{heading}</h2>
            <p class="mt-1 text-sm text-slate-600">"Approvals count the requests CodePipeline raised during each release's cycle. ⚠ marks a milestone inside a blackout."</p>
            // Scrolls sideways on narrow screens: focusable, so the keyboard
            // can scroll it too.
            <div class="scroller mt-3 rounded-lg border border-slate-200" tabindex="0" role="region" aria-labelledby="next-heading">
                <table class="w-full min-w-[48rem] text-left text-sm">
                    <thead class="bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
                        <tr>
                            <th scope="col" class="px-3 py-2">"Release"</th>
                            <th scope="col" class="px-3 py-2">"State"</th>
                            {MilestoneKind::ALL.iter().map(|k| view! { <th scope="col" class="px-3 py-2">{k.label()}</th> }).collect_view()}
                            <th scope="col" class="px-3 py-2">"Approvals"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {releases.into_iter().map(|r| {
                            let (icon, tone) = state_style(r.state);
                            let edit = edit_link(r.number).map(|href| {
                                let label = format!("Edit dates of release {}", r.name);
                                view! {
                                    <a href=href data-dialog-open="" class="block w-fit text-xs font-medium font-sans text-indigo-700 underline print:hidden" aria-label=label>"Edit dates"</a>
                                }
                            });
                            view! {
                                <tr aria-label=format!("Release {}", r.name) id=format!("release-{}", r.number)>
                                    <th scope="row" class="whitespace-nowrap px-3 py-2 font-mono font-medium">{r.name.clone()}{edit}</th>
                                    <td class="px-3 py-2">
                                        <span class=format!("inline-flex items-center gap-1 whitespace-nowrap rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset {tone}") data-state=r.state.label()>
                                            <Icon kind=icon class="h-3.5 w-3.5" />{r.state.label()}
                                        </span>
                                    </td>
                                    {r.milestones.into_iter().map(|(_, words, flag)| view! {
                                        <td class="whitespace-nowrap px-3 py-2 text-slate-700">
                                            {words}
                                            {flag.map(|b| view! { <span class="block text-xs font-semibold text-amber-800" title=format!("Falls in blackout {b}")>{format!("⚠ {b}")}</span> })}
                                        </td>
                                    }).collect_view()}
                                    <td class="whitespace-nowrap px-3 py-2 text-slate-700">
                                        {format!("{} done · {} pending", r.approvals_done, r.approvals_pending)}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The page's dialog over the calendar: open without script (a panel the
/// page opens with), shown as a modal with it. `leave` is the page without
/// the dialog: the Close link, and where Escape goes.
#[component]
fn Sheet(id: &'static str, title: String, leave: String, children: Children) -> impl IntoView {
    view! {
        <dialog open=true id=id class="sheet" aria-labelledby=format!("{id}-title") data-dialog="">
            <div class="flex items-start justify-between gap-3">
                <h2 id=format!("{id}-title") class="text-base font-semibold tracking-tight">{title}</h2>
                <a href=leave data-dialog-close="" class="inline-flex min-h-6 items-center gap-1 rounded-md px-2 py-1 text-sm text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">
                    <span aria-hidden="true">"✕"</span>"Close"
                </a>
            </div>
            {children()}
        </dialog>
    }
}

/// Moves one milestone of one release (`?move=<release>:<milestone>`).
#[component]
fn MoveDialog(
    target: MoveTarget,
    teams: Vec<Team>,
    team: Option<TeamId>,
    notice: Option<Notice>,
    leave: String,
) -> impl IntoView {
    // A plain form: the server answers with this page; refused, the dialog
    // opens again with the refusal and what was typed; accepted, the page
    // says so at the top with the dialog closed.
    let move_action = ServerAction::<MoveMilestone>::new();
    let kept = |field: &str| -> Option<String> {
        notice
            .as_ref()
            .filter(|n| n.error)
            .and_then(|n| n.kept(field))
            .map(str::to_owned)
    };
    let chosen_team = kept("team")
        .or_else(|| team.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let date = kept("date").unwrap_or(target.date.clone());
    let time = kept("time").unwrap_or(target.time.clone());
    let reason = kept("reason").unwrap_or_default();
    let title = format!(
        "Move {} of release {}",
        target.kind.label(),
        target.release_name
    );
    view! {
        <Sheet id="move-dialog" title leave>
            <ActionForm action=move_action attr:id="move-form" attr:class="mt-2" attr:aria-label="Move a milestone">
                {notice.map(|notice| view! { <NoticeView notice class="mt-2" /> })}
                <div class="mt-2 text-sm text-slate-700" data-testid="milestone-now">
                    <p class="font-medium">"Now:"</p>
                    <ul class="mt-0.5">
                        {target.now.into_iter().map(|(who, words)| view! {
                            <li>{match who { Some(w) => format!("{w}: {words}"), None => format!("Every team: {words}") }}</li>
                        }).collect_view()}
                    </ul>
                </div>
                <input type="hidden" name="release" value=target.release.to_string() />
                <input type="hidden" name="milestone" value=target.kind.as_str() />
                <div class="mt-3 grid gap-3 sm:grid-cols-3">
                    <label class="block text-sm text-slate-700">"Team"
                        <select name="team" class=FIELD>
                            <option value="" selected=chosen_team.is_empty()>"Every team"</option>
                            {teams.into_iter().map(|t| { let selected = chosen_team == t.id.as_str(); view! { <option value=t.id.to_string() selected=selected>{t.name.to_string()}</option> } }).collect_view()}
                        </select>
                    </label>
                    <label class="block text-sm text-slate-700">"New date"
                        <input type="date" name="date" required value=date autofocus=true class=FIELD />
                    </label>
                    <label class="block text-sm text-slate-700">"Time (empty: all day)"
                        <input type="time" name="time" value=time class=FIELD />
                    </label>
                </div>
                <label class="mt-3 block text-sm text-slate-700">"Why (required)"
                    <textarea name="reason" rows="2" required maxlength="500" class=FIELD>{reason}</textarea>
                </label>
                <div class="mt-3 flex flex-wrap items-center gap-3">
                    <button type="submit" class=format!("{BUTTON} bg-indigo-600 text-white hover:bg-indigo-500 focus-visible:outline-indigo-600")>
                        "Move milestone"
                    </button>
                </div>
            </ActionForm>
        </Sheet>
    }
}

/// Every milestone of one release at once (`?edit=<release>`), for the
/// page's team or every team; only the dates changed are moved.
#[component]
fn EditDialog(target: EditTarget, notice: Option<Notice>, leave: String) -> impl IntoView {
    let edit_action = ServerAction::<EditReleaseDates>::new();
    let kept = |field: &str| -> Option<String> {
        notice
            .as_ref()
            .filter(|n| n.error)
            .and_then(|n| n.kept(field))
            .map(str::to_owned)
    };
    let reason = kept("reason").unwrap_or_default();
    let scope = match &target.team_name {
        Some(name) => format!("For {name} only. "),
        None => {
            "For every team; to change one team's dates, choose that team on the calendar first. "
                .to_owned()
        }
    };
    let differs = target.rows.iter().any(|r| r.differs);
    let title = format!("Edit dates of release {}", target.release_name);
    let rows = target
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let key = row.kind.as_str();
            let date = kept(&format!("date:{key}")).unwrap_or(row.date.clone());
            let time = kept(&format!("time:{key}")).unwrap_or(row.time.clone());
            let (icon, tone) = milestone_style(row.kind);
            let label = row.kind.label();
            let now = row
                .now
                .iter()
                .map(|(who, words)| match who {
                    Some(w) if row.differs => format!("{w}: {words}"),
                    _ => words.clone(),
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let now_id = format!("edit-now-{key}");
            let first = i == 0;
            view! {
                <li class="grid grid-cols-2 gap-2 py-2 sm:grid-cols-[minmax(0,1fr)_10rem_8.5rem] sm:items-end" data-milestone=key>
                    <div class="col-span-2 min-w-0 sm:col-span-1">
                        <span class=format!("inline-flex w-fit items-center gap-1 rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>
                            <Icon kind=icon class="h-3.5 w-3.5" />{label}
                        </span>
                        <p id=now_id.clone() class="mt-0.5 text-xs text-slate-600">
                            {format!("Now: {now}")}
                            {row.differs.then(|| view! { <span class="font-medium text-slate-800">" (differs by team)"</span> })}
                        </p>
                    </div>
                    <input type="hidden" name="milestones[]" value=key />
                    <label class="block text-xs text-slate-700"><span class="sr-only">{format!("{label}: ")}</span>"Date"
                        <input type="date" name="dates[]" required value=date autofocus=first aria-describedby=now_id.clone() class=FIELD />
                    </label>
                    <label class="block text-xs text-slate-700"><span class="sr-only">{format!("{label}: ")}</span>"Time"
                        <input type="time" name="times[]" value=time aria-describedby=now_id class=FIELD />
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <Sheet id="edit-dialog" title leave>
            <ActionForm action=edit_action attr:id="edit-form" attr:class="mt-1" attr:aria-label="Edit the release's dates">
                {notice.map(|notice| view! { <NoticeView notice class="mt-2" /> })}
                <p class="mt-1 text-sm text-slate-600">
                    {scope}
                    "Only the dates you change move; an empty time makes the milestone all day."
                    {differs.then_some(" Where teams differ, the fields start at the first team's date; leave them to keep each team's.")}
                </p>
                <input type="hidden" name="release" value=target.release.to_string() />
                <input type="hidden" name="team" value=target.team.map(|t| t.to_string()).unwrap_or_default() />
                <ol class="mt-2 divide-y divide-slate-100" aria-label=format!("Milestones of release {}", target.release_name)>
                    {rows}
                </ol>
                <label class="mt-3 block text-sm text-slate-700">"Why (required)"
                    <textarea name="reason" rows="2" required maxlength="500" class=FIELD>{reason}</textarea>
                </label>
                <div class="mt-3 flex flex-wrap items-center gap-3">
                    <button type="submit" class=format!("{BUTTON} bg-indigo-600 text-white hover:bg-indigo-500 focus-visible:outline-indigo-600")>
                        "Save dates"
                    </button>
                </div>
            </ActionForm>
        </Sheet>
    }
}

/// Managers' other change to the plan: a blackout.
#[component]
fn ManageForms(environments: Vec<(String, String, bool)>, notice: Option<Notice>) -> impl IntoView {
    let blackout_action = ServerAction::<AddBlackout>::new();
    let blackout_notice = notice;
    let refused = |n: &Option<Notice>, field: &str| -> Option<String> {
        n.as_ref()
            .filter(|n| n.error)
            .and_then(|n| n.kept(field))
            .map(str::to_owned)
    };
    let kept_envs: Option<Vec<String>> = blackout_notice.as_ref().filter(|n| n.error).map(|n| {
        n.kept
            .iter()
            .filter(|(k, _)| k == "environments")
            .map(|(_, v)| v.clone())
            .collect()
    });
    let name = refused(&blackout_notice, "name").unwrap_or_default();
    let first_day = refused(&blackout_notice, "first_day").unwrap_or_default();
    let last_day = refused(&blackout_notice, "last_day").unwrap_or_default();
    let blackout_reason = refused(&blackout_notice, "reason").unwrap_or_default();
    view! {
        <section aria-labelledby="manage-heading" class="mt-8 print:hidden">
            <h2 id="manage-heading" class="text-lg font-semibold tracking-tight">"Change the plan"</h2>
            <p class="mt-1 text-sm text-slate-600">"Managers only. Every change keeps who made it, what it was before, and why."</p>
            <p class="mt-1 text-sm text-slate-600">"To move milestones, choose Move on this cycle's timeline or Edit dates on a release above."</p>
            <div class="mt-3 grid items-start gap-4 lg:grid-cols-2">
                <ActionForm action=blackout_action attr:class="rounded-lg border border-slate-200 p-4" attr:aria-label="Add a blackout">
                    <h3 class="text-sm font-semibold">"Add a blackout"</h3>
                    {blackout_notice.map(|notice| view! { <NoticeView notice class="mt-2" /> })}
                    <div class="mt-2 grid gap-3 sm:grid-cols-3">
                        <label class="block text-sm text-slate-700 sm:col-span-3">"Name"
                            <input type="text" name="name" required maxlength="80" placeholder="Year-end holidays" value=name class=FIELD />
                        </label>
                        <label class="block text-sm text-slate-700">"First day"
                            <input type="date" name="first_day" required value=first_day class=FIELD />
                        </label>
                        <label class="block text-sm text-slate-700">"Last day"
                            <input type="date" name="last_day" required value=last_day class=FIELD />
                        </label>
                    </div>
                    <fieldset class="mt-3">
                        <legend class="text-sm text-slate-700">"Closes"</legend>
                        <div class="mt-1 flex flex-wrap gap-x-4 gap-y-1">
                            {environments.into_iter().map(|(id, name, default)| {
                                let checked = match &kept_envs {
                                    Some(kept) => kept.contains(&id),
                                    None => default,
                                };
                                view! {
                                    <label class="inline-flex min-h-6 items-center gap-1.5 text-sm">
                                        <input type="checkbox" name="environments[]" value=id checked=checked class="h-4 w-4 rounded border-slate-300" />
                                        {name}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </fieldset>
                    <label class="mt-3 block text-sm text-slate-700">"Why (required)"
                        <textarea name="reason" rows="2" required maxlength="500" class=FIELD>{blackout_reason}</textarea>
                    </label>
                    <button type="submit" class=format!("{BUTTON} mt-3 bg-indigo-600 text-white hover:bg-indigo-500 focus-visible:outline-indigo-600")>
                        "Add blackout"
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn History(history: Vec<CalendarChange>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <section aria-labelledby="history-heading" class="mt-8">
            <h2 id="history-heading" class="text-lg font-semibold tracking-tight">"Calendar history"</h2>
            {if history.is_empty() {
                view! {
                    <p class="mt-2 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-500">
                        "No changes yet: the calendar is as configured."
                    </p>
                }.into_any()
            } else {
                view! {
                    <ol class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Calendar changes">
                        {history.into_iter().map(|c| view! {
                            <li class="px-4 py-2.5 text-sm">
                                <p class="text-slate-900">{c.summary}</p>
                                <p class="mt-0.5 text-slate-600">{format!("Why: {}", c.reason)}</p>
                                <p class="mt-0.5 text-xs text-slate-500">
                                    {format!("{} ({}) · ", c.actor_name, c.actor_roles.join(", "))}
                                    <time datetime=c.at.to_rfc3339() title=crate::components::time::stamp(c.at)>{ago(now, c.at)}</time>
                                </p>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}
