//! Status badges: colour, icon and words together.

use super::icon::{Icon, IconKind};
use crate::domain::{BranchPattern, DeployTrigger, DownPolicy};
use leptos::prelude::*;

const BADGE: &str = "inline-flex items-center gap-1 rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset whitespace-nowrap";

/// How deployments into an environment start.
#[component]
pub fn TriggerBadge(trigger: DeployTrigger) -> impl IntoView {
    let (icon, tone) = match trigger {
        DeployTrigger::OnCommit => (IconKind::Bolt, "bg-sky-50 text-sky-800 ring-sky-600/20"),
        DeployTrigger::OnCommitAfterFreeze => (
            IconKind::Snowflake,
            "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
        ),
        DeployTrigger::ManualApproval => (
            IconKind::Approval,
            "bg-violet-50 text-violet-800 ring-violet-600/20",
        ),
        DeployTrigger::ManualApprovalAfterFreeze => (
            IconKind::Snowflake,
            "bg-violet-50 text-violet-800 ring-violet-600/20",
        ),
        DeployTrigger::Manual => (
            IconKind::Hand,
            "bg-slate-100 text-slate-800 ring-slate-500/20",
        ),
    };
    view! {
        <span class=format!("{BADGE} {tone}") data-trigger=trigger.as_str()>
            <Icon kind=icon class="h-3.5 w-3.5" />
            {trigger.label()}
        </span>
    }
}

/// What happens when an environment is down.
#[component]
pub fn DownPolicyBadge(policy: DownPolicy) -> impl IntoView {
    let (icon, tone) = match policy {
        DownPolicy::MayBeDown => (
            IconKind::Dashed,
            "bg-slate-50 text-slate-700 ring-slate-500/20",
        ),
        DownPolicy::CalculateDowntime => (
            IconKind::Clock,
            "bg-slate-50 text-slate-700 ring-slate-500/20",
        ),
        // A policy is information: neutral, its icon and words tell it apart.
        DownPolicy::RaiseCritical => (
            IconKind::Alert,
            "bg-slate-50 text-slate-800 ring-slate-500/25",
        ),
    };
    view! {
        <span class=format!("{BADGE} {tone}") data-down-policy=policy.as_str()>
            <Icon kind=icon class="h-3.5 w-3.5" />
            {policy.label()}
        </span>
    }
}

/// A branch or tag pattern in monospace.
#[component]
pub fn BranchChip(pattern: BranchPattern) -> impl IntoView {
    let icon = if pattern.is_tag() {
        IconKind::Tag
    } else {
        IconKind::Branch
    };
    view! {
        <code class="inline-flex items-center gap-1 rounded-md bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800">
            <Icon kind=icon class="h-3 w-3 text-slate-500" />
            {pattern.to_string()}
        </code>
    }
}

/// Whether an environment takes deployments now, from the calendar.
#[component]
pub fn GateBadge(gate: crate::domain::calendar::Gate) -> impl IntoView {
    use crate::domain::calendar::Gate;
    let (icon, tone, label, key) = match gate {
        Gate::Open => (
            IconKind::Check,
            "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
            "Open",
            "open",
        ),
        Gate::HotfixOnly => (
            IconKind::Branch,
            "bg-amber-50 text-amber-800 ring-amber-600/25",
            "Hotfixes only",
            "hotfix-only",
        ),
        Gate::Closed => (
            IconKind::Lock,
            "bg-amber-50 text-amber-900 ring-amber-700/30",
            "Closed",
            "closed",
        ),
    };
    view! {
        <span class=format!("{BADGE} {tone}") data-gate=key>
            <Icon kind=icon class="h-3.5 w-3.5" />
            {label}
        </span>
    }
}
