//! The decision panel of one approval request: the QA sign-off checklist,
//! approve with an optional comment, reject with a required one. Without
//! JavaScript the same forms post to the server, which answers with the
//! Approvals page and a notice.

use crate::api::approvals::Decide;
use leptos::form::ActionForm;
use leptos::prelude::*;

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500";
const BUTTON: &str = "rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 disabled:opacity-60";

/// One test type of the sign-off: its form value and its label.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestChoice {
    pub value: String,
    pub label: String,
}

/// `request` is the request's id, `title` what it deploys where ("Orders
/// API to QA"), `tests` the sign-off's test types (none outside QA), `held`
/// why approving must wait (then only rejecting is offered), `blocked_on`
/// the services the Prod plan says go first (then approving overrides the
/// plan and asks for the reason).
#[island]
pub fn DecisionPanel(
    request: String,
    title: String,
    tests: Vec<TestChoice>,
    held: Option<String>,
    blocked_on: Option<String>,
) -> impl IntoView {
    let decide = ServerAction::<Decide>::new();
    let pending = decide.pending();
    let panel = NodeRef::<leptos::html::Div>::new();
    // Says the outcome where the page says outcomes; once decided, the card
    // closes and the queue redraws without it.
    Effect::new(move |_| {
        let Some(result) = decide.value().get() else {
            return;
        };
        #[cfg(feature = "hydrate")]
        {
            use crate::islands::outcome::{announce, Outcome};
            let decided = result.is_ok();
            announce(&match result {
                Ok(text) => Outcome { error: false, text },
                Err(err) => Outcome {
                    error: true,
                    text: err.to_string(),
                },
            });
            if decided {
                // The card is done with: closed and its fields as served,
                // so the next live update takes it away.
                if let Some(card) = panel
                    .get_untracked()
                    .and_then(|el| el.closest("[data-live]").ok().flatten())
                {
                    reset(&card);
                }
                if let Ok(event) = web_sys::Event::new(crate::islands::live::REFRESH_EVENT) {
                    let _ = window().dispatch_event(&event);
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = result;
    });
    let request_again = request.clone();
    let (approve_label, reject_label) = (format!("Approve {title}"), format!("Reject {title}"));
    // Each test type is marked on its own: passed, or not applicable with
    // a reason (the reason field shows once "Not applicable" is chosen; the
    // server refuses one without a reason either way).
    let sign_off = (!tests.is_empty()).then(|| {
        view! {
            <fieldset class="mt-2">
                <legend class="text-sm font-medium text-slate-800">"Sign-off: mark every test type"</legend>
                <div class="mt-1 divide-y divide-slate-100 rounded-md border border-slate-200">
                    {tests
                        .into_iter()
                        .map(|t| {
                            let mark = format!("marks[{}]", t.value);
                            let reason = format!("reasons[{}]", t.value);
                            view! {
                                <fieldset class="test-mark flex flex-wrap items-center gap-x-4 gap-y-1 px-2 py-1.5">
                                    <legend class="sr-only">{format!("{} testing", t.label)}</legend>
                                    <span class="w-28 text-sm font-medium text-slate-700" aria-hidden="true">{t.label.clone()}</span>
                                    <label class="inline-flex min-h-6 items-center gap-1.5 text-sm">
                                        <input type="radio" name=mark.clone() value="passed" class="h-4 w-4 border-slate-300" />
                                        "Passed"
                                    </label>
                                    <label class="inline-flex min-h-6 items-center gap-1.5 text-sm">
                                        <input type="radio" name=mark value="not-applicable" class="h-4 w-4 border-slate-300" />
                                        "Not applicable"
                                    </label>
                                    <label class="na-reason w-full text-sm text-slate-700">
                                        {format!("Why {} testing does not apply", t.label)}
                                        <input type="text" name=reason maxlength=crate::domain::limits::REASON_MAX class=FIELD />
                                    </label>
                                </fieldset>
                            }
                        })
                        .collect_view()}
                </div>
                <label class="mt-2 block text-sm text-slate-700">
                    "Evidence links (one per line, http or https)"
                    <textarea name="evidence" rows="1" class=FIELD placeholder="https://"></textarea>
                </label>
            </fieldset>
        }
    });
    let approve = match held {
        Some(reason) => view! {
            <p class="flex items-start gap-1.5 self-start rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="approve-held">
                <span aria-hidden="true">"\u{26a0}"</span>
                <span><strong class="font-semibold">"Approving waits. "</strong>{reason}</span>
            </p>
        }
        .into_any(),
        None => {
            let overriding = blocked_on.is_some();
            let override_field = blocked_on.map(|words| view! {
                <div class="mt-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="override">
                    <p><strong class="font-semibold">{format!("{words}. ")}</strong>"Their changes have not reached Prod yet; approving now overrides the Prod plan."</p>
                    <label class="mt-1 block text-sm text-amber-950">
                        "Reason to override the Prod plan (required, audited)"
                        <textarea name="override_reason" rows="2" required maxlength=crate::domain::limits::COMMENT_MAX class=FIELD></textarea>
                    </label>
                </div>
            });
            view! {
                <ActionForm action=decide>
                    <input type="hidden" name="request" value=request_again />
                    <input type="hidden" name="decision" value="approve" />
                    {sign_off}
                    {override_field}
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
                        {if overriding { "Approve anyway" } else { "Approve" }}
                    </button>
                </ActionForm>
            }
            .into_any()
        }
    };
    view! {
        <div node_ref=panel class="mt-3 grid gap-3 md:grid-cols-2">
            {approve}
            <details class="self-start rounded-md border border-slate-200 px-3 py-2 open:bg-slate-50">
                <summary class="cursor-pointer text-sm font-medium text-rose-800">"Reject…"</summary>
                <ActionForm action=decide>
                    <input type="hidden" name="request" value=request />
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

#[cfg(feature = "hydrate")]
fn reset(card: &web_sys::Element) {
    use leptos::wasm_bindgen::JsCast;
    let all = |sel: &str| {
        card.query_selector_all(sel)
            .map(|list| {
                (0..list.length())
                    .filter_map(|i| list.item(i))
                    .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for form in all("form") {
        if let Some(form) = form.dyn_ref::<web_sys::HtmlFormElement>() {
            form.reset();
        }
    }
    for details in all("details[open]") {
        let _ = details.remove_attribute("open");
    }
}
