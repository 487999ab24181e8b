//! The decision panel of one approval request: the QA sign-off checklist,
//! approve with an optional comment, reject with a required one. Without
//! JavaScript the same forms post to the server, which answers with the
//! Approvals page and a notice. With it, the island posts the same form
//! itself (a plain `fetch`, not the server-function client, which would
//! bring a query-string codec into the page's WASM for one form) and says
//! the answer where the page says outcomes.

use crate::api::approvals::Decide;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

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
/// plan and asks for the reason), `refused` why the server refused the
/// last decision (said beside the form).
#[island]
pub fn DecisionPanel(
    request: String,
    title: String,
    tests: Vec<TestChoice>,
    held: Option<String>,
    blocked_on: Option<String>,
    /// Why the server refused the last decision (a form posted without
    /// JavaScript comes back with it).
    refused: Option<String>,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    // Why the server refused, said beside the form (an alert), not at the
    // top of the page.
    let refusal = RwSignal::new(refused);
    let refusal_id = format!("refusal-{request}");
    let panel = NodeRef::<leptos::html::Div>::new();
    // Posts the form, says the outcome where the page says outcomes; once
    // decided, the card closes and the queue redraws without it.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            ev.prevent_default();
            // A second click while the first is on its way sends nothing.
            if pending.get_untracked() {
                return;
            }
            pending.set(true);
            leptos::task::spawn_local(async move {
                let result = post(&form).await;
                pending.set(false);
                said(result, panel, refusal);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, panel, refusal);
    };
    let alert = {
        let id = refusal_id.clone();
        move || {
            view! {
                <div id=id.clone() role="alert" class="empty:hidden mt-2" data-testid="refusal">
                    {move || refusal.get().map(|text| view! { <crate::components::note::Note error=true text /> })}
                </div>
            }
        }
    };
    let request_again = request.clone();
    let (approve_label, reject_label) = (format!("Approve {title}"), format!("Reject {title}"));
    // Each test type is marked on its own: passed, or not applicable with
    // a reason (the reason field shows once "Not applicable" is chosen; the
    // server refuses one without a reason either way).
    let sign_off = (!tests.is_empty()).then(|| {
        view! {
            <fieldset class="mt-2" aria-describedby=refusal_id.clone()>
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
                                        <input type="radio" name=mark.clone() value="passed" required class="h-4 w-4 border-slate-300" />
                                        "Passed"
                                    </label>
                                    <label class="inline-flex min-h-6 items-center gap-1.5 text-sm">
                                        <input type="radio" name=mark value="not-applicable" required class="h-4 w-4 border-slate-300" />
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
    let held_alert = held.is_some().then(alert.clone());
    // A refusal said inside "Reject…" (a held request) opens it.
    let reject_open = held.is_some() && refusal.get_untracked().is_some();
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
                <form method="post" action=Decide::PATH on:submit=submit>
                    <input type="hidden" name="request" value=request_again />
                    <input type="hidden" name="decision" value="approve" />
                    {sign_off}
                    {alert()}
                    {override_field}
                    <label class="mt-2 block text-sm text-slate-700">
                        "Comment (optional)"
                        <textarea name="comment" rows="1" class=FIELD></textarea>
                    </label>
                    <button
                        type="submit"
                        class=format!("{BUTTON} mt-2 bg-indigo-600 text-white hover:bg-indigo-500 focus-visible:outline-indigo-600")
                        aria-label=approve_label
                        disabled=move || pending.get()
                    >
                        {if overriding { "Approve anyway" } else { "Approve" }}
                    </button>
                </form>
            }
            .into_any()
        }
    };
    view! {
        <div node_ref=panel class="mt-3 grid gap-3 md:grid-cols-2">
            {approve}
            <details class="self-start rounded-md border border-slate-200 px-3 py-2 open:bg-slate-50" open=reject_open>
                <summary class="cursor-pointer text-sm font-medium text-slate-700">"Reject…"</summary>
                <form method="post" action=Decide::PATH on:submit=submit>
                    <input type="hidden" name="request" value=request />
                    <input type="hidden" name="decision" value="reject" />
                    <label class="mt-2 block text-sm text-slate-700">
                        "Why (required, sent to CodePipeline)"
                        <textarea name="comment" rows="2" required class=FIELD></textarea>
                    </label>
                    <button
                        type="submit"
                        class=format!("{BUTTON} mt-2 bg-slate-800 text-white hover:bg-slate-700 focus-visible:outline-slate-800")
                        aria-label=reject_label
                        disabled=move || pending.get()
                    >
                        "Reject"
                    </button>
                </form>
                {held_alert}
            </details>
        </div>
    }
}

/// Posts `form` as the browser would, asking for the answer as JSON: the
/// server's sentence, or its error (a category and a sentence).
#[cfg(feature = "hydrate")]
async fn post(form: &web_sys::HtmlFormElement) -> Result<String, crate::error::AppError> {
    use crate::error::AppError;
    use leptos::wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let lost = |_| {
        AppError::Transport(
            "Gatehouse could not be reached; check the connection and try again.".into(),
        )
    };
    let data = web_sys::FormData::new_with_form(form).map_err(lost)?;
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).map_err(lost)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    init.set_body(&body);
    let headers = web_sys::Headers::new().map_err(lost)?;
    headers.set("Accept", "application/json").map_err(lost)?;
    init.set_headers(&headers);
    let response = JsFuture::from(window().fetch_with_str_and_init(Decide::PATH, &init))
        .await
        .map_err(lost)?
        .dyn_into::<web_sys::Response>()
        .map_err(lost)?;
    let text = JsFuture::from(response.text().map_err(lost)?)
        .await
        .map_err(lost)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return serde_json::from_str::<String>(&text).map_err(|_| {
            AppError::Transport(
                "Gatehouse answered in a way this page does not understand; reload the page."
                    .into(),
            )
        });
    }
    // A refusal from in front of the server function (too many votes, too
    // large a form) is a sentence, not JSON.
    Err(serde_json::from_str::<AppError>(&text).unwrap_or_else(|_| {
        let sentence: String = text.trim().chars().take(300).collect();
        AppError::Transport(if sentence.is_empty() {
            format!("Gatehouse answered {}; try again.", response.status())
        } else {
            sentence
        })
    }))
}

/// Says the answer to a posted decision: a refusal beside the form, as an
/// alert; a decision where the page says outcomes, the card taken out of
/// the list at once and the queue asked for again.
#[cfg(feature = "hydrate")]
fn said(
    result: Result<String, crate::error::AppError>,
    panel: NodeRef<leptos::html::Div>,
    refusal: RwSignal<Option<String>>,
) {
    use crate::islands::outcome::{announce, Outcome};
    let text = match result {
        Err(err) => {
            refusal.set(Some(err.to_string()));
            return;
        }
        Ok(text) => text,
    };
    refusal.set(None);
    announce(&Outcome { error: false, text });
    // The card is done with: closed, its fields as served, and hidden
    // until the next live update takes it away.
    if let Some(card) = panel
        .get_untracked()
        .and_then(|el| el.closest("[data-live]").ok().flatten())
    {
        reset(&card);
        let _ = card.set_attribute("hidden", "");
    }
    if let Ok(event) = web_sys::Event::new(crate::islands::live::REFRESH_EVENT) {
        let _ = window().dispatch_event(&event);
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
