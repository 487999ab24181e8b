// Rendered on the server; the mute form is a plain form, so the page needs
// no JavaScript (the live updater refreshes it when deliveries change).
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::notifications::notifications;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::components::note::NoticeView;
use crate::domain::notification::ChannelSummary;
use crate::views::notifications::{DeliveryRow, NotificationsView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/notifications`: the channels, the deliveries (`?failed=1`: only those
/// given up) and the viewer's mutes.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let failed = use_query_map().read_untracked().get("failed");
    let data = Resource::new(move || failed.clone(), notifications);
    view! {
        <Title text="Notifications" />
        <h1 class="text-xl font-semibold tracking-tight">"Notifications"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "What Gatehouse tells the people around the release train, where, and whether it arrived: waiting approvals, decisions, deliveries CodePipeline refused, outages, code freezes and release days."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading notifications…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <NotificationsBody data=view_data /> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotificationsBody(data: NotificationsView) -> impl IntoView {
    let NotificationsView {
        channels,
        events,
        deliveries,
        pending,
        sent,
        failed,
        recorded,
        failed_only,
        admin,
        signed_in,
        demo,
        notice,
    } = data;
    let recording = demo && channels.iter().any(|c| !c.live);
    let demo_note = recording.then(|| {
        view! {
            <p class="mt-4 flex items-start gap-2 rounded-lg border border-slate-200 bg-slate-50 px-4 py-2 text-sm text-slate-800" data-testid="demo-recorded">
                <Icon kind=IconKind::Box />
                "Demo mode: channels without a configured sink send nothing; what they would send is recorded below as \u{201c}Recorded\u{201d}."
            </p>
        }
    });
    let notice = notice
        .filter(|n| n.answers("mutes"))
        .map(|notice| view! { <NoticeView notice class="mt-3" /> });
    view! {
        {demo_note}
        <section aria-labelledby="channels-heading" class="mt-6">
            <h2 id="channels-heading" class="text-base font-semibold text-slate-900">"Channels"</h2>
            <Channels channels demo />
        </section>
        <section aria-labelledby="mutes-heading" class="mt-8">
            <h2 id="mutes-heading" class="text-base font-semibold text-slate-900">"Your e-mails"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Channels that e-mail people by role (for example, everyone who can approve a waiting request) skip the events you mute here. Webhooks and mailing lists are the team's and are not muted."
            </p>
            {notice}
            {(!signed_in).then(|| view! {
                <p class="mt-3 text-sm"><a class="font-medium text-indigo-700 underline" href="/demo/sign-in">"Sign in"</a>" to mute events for yourself."</p>
            })}
            <form hidden=!signed_in method="post" action="/api/notifications/mute" class="mt-3 rounded-lg border border-slate-200 bg-white p-4" data-testid="mute-form">
                <fieldset>
                    <legend class="text-sm font-medium text-slate-900">"Mute these events"</legend>
                    <ul class="mt-2 grid gap-2 sm:grid-cols-2">
                        {events.into_iter().map(|e| {
                            let id = format!("mute-{}", e.keyword);
                            view! {
                                <li class="flex items-center gap-2 text-sm">
                                    <input type="checkbox" id=id.clone() name="muted[]" value=e.keyword checked=e.muted class="h-4 w-4 rounded border-slate-400" />
                                    <label for=id>{e.label}</label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </fieldset>
                <button type="submit" class="mt-3 rounded-md bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 focus-visible:ring-offset-2">
                    "Save mutes"
                </button>
            </form>
        </section>
        <section aria-labelledby="deliveries-heading" class="mt-8">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="deliveries-heading" class="text-base font-semibold text-slate-900">
                    {if failed_only { "Deliveries given up, newest first" } else { "The newest deliveries" }}
                </h2>
                <p class="flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" data-testid="delivery-counts">
                    <span class="inline-flex items-center gap-1"><Icon kind=IconKind::Check />{format!("{sent} sent")}</span>
                    <span class="inline-flex items-center gap-1"><Icon kind=IconKind::Clock />{format!("{pending} waiting to send")}</span>
                    <span class="inline-flex items-center gap-1"><Icon kind=IconKind::Alert />{format!("{failed} given up")}</span>
                    {(recorded > 0).then(|| view! { <span class="inline-flex items-center gap-1"><Icon kind=IconKind::Dashed />{format!("{recorded} recorded")}</span> })}
                </p>
            </div>
            <p class="mt-1 text-sm">
                {if failed_only {
                    view! { <a class="font-medium text-indigo-700 underline" href="/notifications">"Show every delivery"</a> }.into_any()
                } else {
                    view! { <a class="font-medium text-indigo-700 underline" href="/notifications?failed=1" data-testid="only-failed">"Show only deliveries given up"</a> }.into_any()
                }}
            </p>
            <Deliveries deliveries admin failed_only />
        </section>
    }
}

#[component]
fn Channels(channels: Vec<ChannelSummary>, demo: bool) -> impl IntoView {
    if channels.is_empty() {
        return view! {
            <p class="mt-2 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-600" data-testid="no-channels">
                "No channels are configured: add [[notifications.channels]] to the org configuration."
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="mt-2 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Channels" data-testid="channels">
            {channels.into_iter().map(|c| {
                let limited: Vec<String> = c.teams.iter().chain(c.environments.iter()).cloned().collect();
                let events: Vec<&str> = c.events.iter().map(|e| e.label()).collect();
                let sending = if c.live {
                    view! { <span class="inline-flex items-center gap-1 text-emerald-800"><Icon kind=IconKind::Check />"Sends"</span> }.into_any()
                } else if demo {
                    view! { <span class="inline-flex items-center gap-1 text-slate-700"><Icon kind=IconKind::Dashed />"Records only"</span> }.into_any()
                } else {
                    view! { <span class="inline-flex items-center gap-1 text-rose-800"><Icon kind=IconKind::Alert />{format!("Not configured: {}", c.problem.clone().unwrap_or_default())}</span> }.into_any()
                };
                view! {
                    <li class="px-3 py-2 text-sm">
                        <div class="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
                            <p class="min-w-0">
                                <span class="font-mono font-medium text-slate-900">{c.id}</span>
                                <span class="ml-2 break-words text-slate-700 [overflow-wrap:anywhere]">{format!("{}: {}", c.kind.label(), c.audience)}</span>
                            </p>
                            <p class="shrink-0">{sending}</p>
                        </div>
                        <p class="mt-1 text-xs text-slate-600">
                            <span class="font-medium text-slate-700">"Events: "</span>{events.join("; ")}
                        </p>
                        <p class="mt-0.5 text-xs text-slate-600">
                            <span class="font-medium text-slate-700">"Limited to: "</span>
                            {if limited.is_empty() { "every team and environment".to_owned() } else { limited.join(", ") }}
                        </p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

fn state_words(state: &str) -> (IconKind, &'static str, &'static str) {
    match state {
        "sent" => (IconKind::Check, "Sent", "text-emerald-800"),
        "failed" => (IconKind::Alert, "Given up", "text-rose-800"),
        "recorded" => (IconKind::Dashed, "Recorded", "text-slate-700"),
        _ => (IconKind::Clock, "Waiting to send", "text-amber-800"),
    }
}

fn utc(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339()>{crate::components::time::stamp(at)}</time> }
}

#[component]
fn Deliveries(deliveries: Vec<DeliveryRow>, admin: bool, failed_only: bool) -> impl IntoView {
    if deliveries.is_empty() {
        return view! {
            <p class="mt-3 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600" data-testid="no-deliveries">
                {if failed_only {
                    "No delivery was given up."
                } else {
                    "Nothing has been sent yet. Waiting approvals, decisions, outages and calendar reminders appear here as they happen."
                }}
            </p>
        }
        .into_any();
    }
    view! {
        <ol class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Deliveries" data-testid="deliveries">
            {deliveries.into_iter().map(|d| {
                let (icon, words, tone) = state_words(&d.state);
                let title = match d.link.clone() {
                    Some(href) => view! { <a class="font-medium text-slate-900 underline decoration-slate-300 hover:decoration-slate-600" href=href>{d.title.clone()}</a> }.into_any(),
                    None => view! { <span class="font-medium text-slate-900">{d.title.clone()}</span> }.into_any(),
                };
                let to = match &d.recipient {
                    Some(address) => format!("{} \u{2192} {address}", d.channel),
                    None => d.channel.clone(),
                };
                let attempts = (d.attempts > 1 || d.state == "failed").then(|| format!(" after {} {}", d.attempts, if d.attempts == 1 { "attempt" } else { "attempts" }));
                let error = admin.then_some(d.last_error.clone()).flatten().map(|e| view! {
                    <p class="mt-1 text-xs text-rose-900" data-testid="delivery-error">{format!("Last error: {e}")}</p>
                });
                let next = d.next_attempt_at.filter(|_| d.attempts > 0).map(|at| view! {
                    <span class="text-slate-600">" · next try " {utc(at)}</span>
                });
                view! {
                    <li class="px-3 py-2 text-sm" data-testid="delivery" data-state=d.state.clone()>
                        <div class="flex flex-wrap items-baseline justify-between gap-x-3">
                            <p>{title}</p>
                            <p class=format!("inline-flex items-center gap-1 {tone}")><Icon kind=icon />{words}{attempts}</p>
                        </div>
                        <p class="mt-0.5 text-xs text-slate-600">
                            {d.event} " · " <span class="font-mono">{to}</span> " · " {utc(d.sent_at.unwrap_or(d.created_at))}
                            {next}
                        </p>
                        {error}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
