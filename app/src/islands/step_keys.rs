//! Keys that step through a sequence of pages: the arrow keys turn the
//! calendar's months and a presentation's slides (a presenter's clicker
//! sends Page Up / Page Down, so slides take those too). The links do it
//! without JavaScript.

use leptos::prelude::*;

/// `previous` and `next` are the neighbouring pages' URLs (none at an
/// end); with `page_keys`, Page Up and Page Down step as well.
#[island]
pub fn StepKeys(previous: Option<String>, next: Option<String>, page_keys: bool) -> impl IntoView {
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
                "PageUp" if page_keys => &previous,
                "PageDown" if page_keys => &next,
                _ => return,
            };
            if let Some(to) = to {
                e.prevent_default();
                let _ = window().location().set_href(to);
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (previous, next, page_keys);
}
