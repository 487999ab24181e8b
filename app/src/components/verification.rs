//! The audit chain's last check, in words: the Audit page and an admin's
//! home say it the same way.

use crate::components::icon::{Icon, IconKind};
use crate::components::time::stamp_seconds;
use crate::domain::audit::AuditVerification;
use leptos::prelude::*;

/// One line: verified up to which row and when, broken where, or why the
/// check could not run.
#[component]
pub fn VerificationLine(verification: Option<AuditVerification>) -> impl IntoView {
    let (icon, class, words) = match &verification {
        None => (
            IconKind::Clock,
            "border-slate-200 bg-slate-50 text-slate-700",
            "The chain has not been verified yet; the background check runs every minute.".to_owned(),
        ),
        Some(AuditVerification {
            could_not_run: Some(why),
            at,
            ..
        }) => (
            IconKind::Alert,
            "border-amber-300 bg-amber-50 text-amber-950",
            format!(
                "The chain check could not run (last tried {}): {why}. Until it runs, tampering goes unnoticed.",
                stamp_seconds(*at),
            ),
        ),
        Some(v) if v.ok => (
            IconKind::Check,
            "border-emerald-200 bg-emerald-50 text-emerald-900",
            format!(
                "Chain verified: intact up to row {} (last check {}, {} new rows).",
                v.checked_to,
                stamp_seconds(v.at),
                v.rows
            ),
        ),
        Some(v) => (
            IconKind::Alert,
            "border-rose-300 bg-rose-50 text-rose-900",
            format!(
                "Chain broken at row {}: {} (checked {}). Run gatehouse audit verify and compare with the last export.",
                v.first_bad.unwrap_or_default(),
                v.problem.clone().unwrap_or_default(),
                stamp_seconds(v.at),
            ),
        ),
    };
    view! {
        <p class=format!("mt-4 flex items-start gap-2 rounded-lg border px-3 py-2 text-sm {class}") data-testid="verification">
            <Icon kind=icon />
            <span>{words}</span>
        </p>
    }
}
