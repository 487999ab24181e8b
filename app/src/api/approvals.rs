//! Server functions for approvals; what they return is in
//! [`crate::views::approvals`].

// The decide form's fields are one argument each, in the server function
// and in the client stub the macro writes.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use crate::domain::approval::{Decision, SignOff};
use crate::error::AppError;
use crate::views::approvals::*;
use leptos::prelude::*;

/// The queue and one page of the history (`before`: the cursor of the
/// page's older link; none for the newest decisions). `env` narrows the
/// queue to one environment; `request` makes sure that request is listed
/// (the board's "Review" links).
#[server(endpoint = "approvals")]
pub async fn approvals(
    #[server(default)] before: Option<String>,
    #[server(default)] env: Option<String>,
    #[server(default)] request: Option<String>,
) -> Result<ApprovalsView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            let notice = crate::ssr::session::take_notice().await?;
            let (before, env, request) = (before.as_deref(), env.as_deref(), request.as_deref());
            crate::ssr::approvals::view(&state, &caller, notice, before, env, request).await
        }
        .await,
    )
}

/// Starts a new run of a decided request's pipeline (after a rejection or
/// a failure), for those who may approve its environment, SRE and admins.
#[server(endpoint = "approvals/rerun")]
pub async fn rerun(request: String) -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        crate::ssr::approvals::rerun(&state, &caller, &request).await
    }
    .await;
    crate::ssr::forms::answer_form(result, "/approvals").await
}

/// Approves or rejects a request. The sign-off marks each test type in
/// `marks` (`marks[qa]=passed` or `not-applicable`, with `reasons[qa]`);
/// `passed` (types marked passed) and `not_applicable` (`type: reason`
/// lines) say the same in the older form. `evidence` is one link per line.
/// `override_reason` approves a Prod request the Prod plan blocks (its
/// dependencies have not reached Prod), where the plan is not strict.
#[server(endpoint = "approvals/decide")]
pub async fn decide(
    request: String,
    decision: String,
    #[server(default)] comment: String,
    #[server(default)] passed: Vec<String>,
    #[server(default)] not_applicable: String,
    #[server(default)] evidence: String,
    #[server(default)] marks: std::collections::BTreeMap<String, String>,
    #[server(default)] reasons: std::collections::BTreeMap<String, String>,
    #[server(default)] override_reason: String,
) -> Result<String, AppError> {
    let result = async {
        let decision = Decision::parse(&decision).map_err(|_| {
            let shown: String = decision.chars().take(40).collect();
            AppError::Invalid(format!(
                "Unknown decision \u{201c}{shown}\u{201d}: approve or reject."
            ))
        })?;
        let comment =
            crate::domain::limits::bounded("comment", &comment, crate::domain::limits::COMMENT_MAX)
                .map_err(AppError::Invalid)?;
        let sign_off = parse_sign_off(&passed, &not_applicable, &evidence, &marks, &reasons)?;
        let override_reason = crate::domain::limits::bounded(
            "reason to override the Prod plan",
            &override_reason,
            crate::domain::limits::COMMENT_MAX,
        )
        .map_err(AppError::Invalid)?;
        let (state, caller) = crate::ssr::session::asking().await?;
        crate::ssr::approvals::vote(
            &state,
            &caller,
            &request,
            decision,
            comment,
            sign_off,
            override_reason,
        )
        .await
    }
    .await;
    // Without JavaScript a refusal is said on the request's card, beside
    // its form (a request id is a UUID; anything else is said at the top).
    let form = (request.len() <= 64 && request.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        .then(|| format!("decide:{request}"));
    crate::ssr::forms::answer_form_at(result, "/approvals", form.as_deref(), Vec::new()).await
}

#[cfg(feature = "ssr")]
fn parse_sign_off(
    passed: &[String],
    not_applicable: &str,
    evidence: &str,
    per_type: &std::collections::BTreeMap<String, String>,
    reasons: &std::collections::BTreeMap<String, String>,
) -> Result<SignOff, AppError> {
    use crate::domain::approval::TestMark;
    use crate::domain::limits::{bounded, LINKS_MAX, LINK_MAX, REASON_MAX};
    use crate::domain::TestType;
    // A not-applicable mark with its reason, bounded.
    let not_applicable_mark = |t: TestType, reason: &str| -> Result<TestMark, AppError> {
        let reason = bounded(&format!("reason for {}", t.label()), reason, REASON_MAX)
            .map_err(AppError::Invalid)?;
        Ok(TestMark::NotApplicable {
            reason: reason.to_owned(),
        })
    };
    let mut marks = Vec::new();
    if passed.len() > TestType::ALL.len() {
        return Err(AppError::Invalid(format!(
            "A sign-off marks at most {} test types.",
            TestType::ALL.len()
        )));
    }
    for p in passed.iter().filter(|p| !p.is_empty()) {
        let t = TestType::parse(p).map_err(|e| AppError::Invalid(e.to_string()))?;
        marks.push((t, TestMark::Passed));
    }
    if per_type.len() > TestType::ALL.len() || reasons.len() > TestType::ALL.len() {
        return Err(AppError::Invalid(format!(
            "A sign-off marks at most {} test types.",
            TestType::ALL.len()
        )));
    }
    for (t, mark) in per_type {
        let t = TestType::parse(t.trim()).map_err(|e| AppError::Invalid(e.to_string()))?;
        match mark.as_str() {
            "passed" => marks.push((t, TestMark::Passed)),
            "not-applicable" => {
                let reason = reasons.get(t.as_str()).map_or("", |r| r.trim());
                if reason.is_empty() {
                    return Err(AppError::Invalid(format!(
                        "Say why {} testing does not apply: a reason is required.",
                        t.label()
                    )));
                }
                marks.push((t, not_applicable_mark(t, reason)?));
            }
            "" => {}
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(AppError::Invalid(format!(
                    "Mark {} testing passed or not applicable, not \u{201c}{shown}\u{201d}.",
                    t.label()
                )));
            }
        }
    }
    for line in not_applicable.lines().filter(|l| !l.trim().is_empty()) {
        let (t, reason) = line.split_once(':').ok_or_else(|| {
            AppError::Invalid(format!(
                "Write \u{201c}test: reason\u{201d}, not \u{201c}{line}\u{201d}."
            ))
        })?;
        let t = TestType::parse(t.trim()).map_err(|e| AppError::Invalid(e.to_string()))?;
        let mark = not_applicable_mark(t, reason)?;
        if marks.len() >= 2 * TestType::ALL.len() {
            return Err(AppError::Invalid(
                "Mark each test type once: passed, or not applicable with a reason.".into(),
            ));
        }
        marks.push((t, mark));
    }
    let links: Vec<&str> = evidence
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if links.len() > LINKS_MAX {
        return Err(AppError::Invalid(format!(
            "Give at most {LINKS_MAX} evidence links; this sign-off has {}.",
            links.len()
        )));
    }
    let evidence = links
        .into_iter()
        .map(|l| {
            let l = bounded("evidence link", l, LINK_MAX).map_err(AppError::Invalid)?;
            let shown: String = l.chars().take(80).collect();
            let parsed = url::Url::parse(l).ok().filter(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            match parsed {
                Some(_) => Ok(l.to_owned()),
                None => Err(AppError::Invalid(format!(
                    "Evidence must be links (http or https): \u{201c}{shown}\u{201d}."
                ))),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(SignOff { marks, evidence })
}
