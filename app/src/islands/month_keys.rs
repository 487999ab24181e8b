//! The arrow keys turn the calendar's months (the links do without
//! JavaScript).

use leptos::prelude::*;

/// `previous` and `next` are the months' URLs.
#[island]
pub fn MonthKeys(previous: String, next: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |e| {
            if e.alt_key() || e.ctrl_key() || e.meta_key() || e.shift_key() {
                return;
            }
            let typing = e
                .target()
                .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                        || el.closest("[contenteditable]").ok().flatten().is_some()
                });
            if typing {
                return;
            }
            let to = match e.key().as_str() {
                "ArrowLeft" => &previous,
                "ArrowRight" => &next,
                _ => return,
            };
            e.prevent_default();
            let _ = window().location().set_href(to);
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (previous, next);
}
