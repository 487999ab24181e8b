//! Where the outcome of an action taken in an island is said: a status
//! region that takes the focus, so a keyboard user hears the outcome and
//! goes on from there. Without JavaScript the server's notice says it.

use leptos::prelude::*;

/// The browser event an island sends with `{"error": bool, "text": "…"}`.
pub const OUTCOME_EVENT: &str = "gatehouse:outcome";

/// What an outcome event carries.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub error: bool,
    pub text: String,
}

/// Says `outcome` in the page's outcome region (from any island).
#[cfg(feature = "hydrate")]
pub fn announce(outcome: &Outcome) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&leptos::wasm_bindgen::JsValue::from_str(
        &serde_json::to_string(outcome).unwrap_or_default(),
    ));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(OUTCOME_EVENT, &init) {
        let _ = window().dispatch_event(&event);
    }
}

/// The region; one per page that has actions in islands.
#[island]
pub fn OutcomeRegion() -> impl IntoView {
    let said = RwSignal::new(None::<Outcome>);
    let region = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener_untyped(OUTCOME_EVENT, move |event| {
            use leptos::wasm_bindgen::JsCast;
            let Some(event) = event.dyn_ref::<web_sys::CustomEvent>() else {
                return;
            };
            let outcome = event
                .detail()
                .as_string()
                .and_then(|d| serde_json::from_str::<Outcome>(&d).ok());
            said.set(outcome);
            // Once the words are in (an empty region is hidden and cannot
            // take the focus).
            set_timeout(
                move || {
                    if let Some(el) = region.get_untracked() {
                        let _ = el.focus();
                    }
                },
                std::time::Duration::from_millis(30),
            );
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <div node_ref=region tabindex="-1" role="status" aria-live="polite" class="empty:hidden mt-4 focus:outline-none">
            {move || said.get().map(|o| view! { <crate::components::note::Note error=o.error text=o.text /> })}
        </div>
    }
}
