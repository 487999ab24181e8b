// Rendered on the server, a table and lists: no JavaScript needed (the
// live updater refreshes it when a state changes).
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]

use crate::api::inventory::inventory;
use crate::components::error_notice::ErrorNotice;
use crate::components::icon::{Icon, IconKind};
use crate::views::inventory::{DriftView, EnvironmentState, InventoryView, ServiceRow};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/inventory`: each environment's Terraform state by AWS service, and
/// what neighbouring environments do not share.
#[component]
pub fn InventoryPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| inventory());
    view! {
        <Title text="Inventory" />
        <h1 class="text-xl font-semibold tracking-tight">"Inventory"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "What Terraform manages in each environment, by AWS service, read from each environment's state; and what one environment has that the next lacks. Only resource addresses and types are read, never their values."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading the inventory…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <InventoryBody data=view_data /> }.into_any(),
                    Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn utc(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339()>{crate::components::time::stamp(at)}</time> }
}

#[component]
fn InventoryBody(data: InventoryView) -> impl IntoView {
    let InventoryView {
        environments,
        services,
        drifts,
    } = data;
    if environments.iter().all(|e| e.source.is_none()) {
        return view! {
            <p class="mt-6 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600" data-testid="no-states">
                "No Terraform state has been read yet. Add [terraform] with a state source per environment to the org configuration; states are read every few minutes."
            </p>
        }
        .into_any();
    }
    let names: Vec<String> = environments.iter().map(|e| e.name.clone()).collect();
    view! {
        <section aria-labelledby="states-heading" class="mt-6">
            <h2 id="states-heading" class="text-base font-semibold text-slate-900">"States"</h2>
            <ul class="mt-2 grid gap-2 sm:grid-cols-2 lg:grid-cols-3" data-testid="states">
                {environments.into_iter().map(|e| view! { <StateCard e /> }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="services-heading" class="mt-8">
            <h2 id="services-heading" class="text-base font-semibold text-slate-900">"Resources by AWS service"</h2>
            <div class="scroller mt-2 rounded-lg border border-slate-200 bg-white" tabindex="0" role="region" aria-labelledby="services-heading">
                <table class="min-w-full text-sm" data-testid="by-service">
                    <caption class="sr-only">"Resources each environment's state manages, by AWS service"</caption>
                    <thead class="bg-slate-50 text-xs text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2 text-left font-medium">"Service"</th>
                            {names.iter().map(|n| view! { <th scope="col" class="px-3 py-2 text-right font-medium">{n.clone()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {services.into_iter().map(|row| view! { <ServiceLine row /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section aria-labelledby="drift-heading" class="mt-8">
            <h2 id="drift-heading" class="text-base font-semibold text-slate-900">"Drift between neighbouring environments"</h2>
            {if drifts.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"Two neighbouring environments' states are needed to compare them."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 space-y-2" data-testid="drifts">
                        {drifts.into_iter().map(|d| view! { <DriftItem d /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn StateCard(e: EnvironmentState) -> impl IntoView {
    let status = match (&e.error, e.serial) {
        (Some(error), _) => view! {
            <p class="mt-1 flex items-start gap-1 text-xs text-rose-900" role="status"><Icon kind=IconKind::Alert />{format!("Last read failed: {error}")}</p>
        }
        .into_any(),
        (None, Some(_)) => view! {
            <p class="mt-1 flex items-center gap-1 text-xs text-emerald-800"><Icon kind=IconKind::Check />"Read"</p>
        }
        .into_any(),
        (None, None) => view! {
            <p class="mt-1 flex items-center gap-1 text-xs text-slate-600"><Icon kind=IconKind::Dashed />"Not read yet"</p>
        }
        .into_any(),
    };
    view! {
        <li class="rounded-lg border border-slate-200 bg-white px-3 py-2 text-sm" data-testid="state">
            <div class="flex items-baseline justify-between gap-2">
                <h3 class="font-medium text-slate-900">{e.name.clone()}</h3>
                <span class="text-slate-700">{format!("{} resources", e.resources)}</span>
            </div>
            {e.serial.map(|serial| view! {
                <p class="mt-0.5 text-xs text-slate-600">
                    {format!("Serial {serial} · lineage {} · Terraform {}", e.lineage.clone().unwrap_or_default(), e.terraform_version.clone().unwrap_or_default())}
                </p>
            })}
            {e.applied_at.map(|at| view! { <p class="text-xs text-slate-600">"Last apply seen " {utc(at)}</p> })}
            {status}
            {e.source.map(|s| view! { <p class="mt-0.5 truncate font-mono text-xs text-slate-500" title=s.clone()>{s.clone()}</p> })}
        </li>
    }
}

#[component]
fn ServiceLine(row: ServiceRow) -> impl IntoView {
    view! {
        <tr>
            <th scope="row" class="px-3 py-1.5 text-left font-medium text-slate-900"><abbr title=row.title class="no-underline">{row.service}</abbr></th>
            {row.counts.into_iter().map(|c| view! {
                <td class="px-3 py-1.5 text-right tabular-nums text-slate-700">
                    {match c { Some(0) => "–".to_owned(), Some(n) => n.to_string(), None => "not read".to_owned() }}
                </td>
            }).collect_view()}
        </tr>
    }
}

#[component]
fn DriftItem(d: DriftView) -> impl IntoView {
    let same = d.only_in_first.is_empty() && d.only_in_second.is_empty();
    let side = |owner: &str, other: &str, list: Vec<String>, more: usize| {
        (!list.is_empty()).then(|| {
            let label = format!("In {owner}, not in {other} ({})", list.len() + more);
            view! {
                <div class="mt-1">
                    <p class="text-xs font-medium text-slate-700">{label}</p>
                    <ul class="mt-0.5 space-y-0.5 font-mono text-xs text-slate-700 [overflow-wrap:anywhere]">
                        {list.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                        {(more > 0).then(|| view! { <li class="font-sans text-slate-500">{format!("and {more} more")}</li> })}
                    </ul>
                </div>
            }
        })
    };
    view! {
        <li class="rounded-lg border border-slate-200 bg-white px-3 py-2 text-sm" data-testid="drift">
            <h3 class="font-medium text-slate-900">{format!("{} and {}", d.first, d.second)}</h3>
            {if same {
                view! { <p class="mt-1 flex items-center gap-1 text-xs text-emerald-800"><Icon kind=IconKind::Check />"The same resources"</p> }.into_any()
            } else {
                view! {
                    <div>
                        {side(&d.first, &d.second, d.only_in_first.clone(), d.more_in_first)}
                        {side(&d.second, &d.first, d.only_in_second.clone(), d.more_in_second)}
                    </div>
                }.into_any()
            }}
        </li>
    }
}
