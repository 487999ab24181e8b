//! Live updates in the browser: one `EventSource` on `/events` per page that
//! asks for it, calling back when a topic it watches changed. Without
//! JavaScript pages are complete as served and nothing here runs.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Calls `on_change` whenever the server reports a change to one of
/// `topics` (or asks everyone to resync), for as long as the calling
/// component lives. The browser reconnects a dropped stream by itself.
pub fn use_live(
    topics: &'static [&'static str],
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new("/events") else {
            return;
        };
        let callback = on_change.clone();
        let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let data = event.data().as_string().unwrap_or_default();
                let wanted = data.contains("\"resync\"")
                    || topics.iter().any(|t| data.contains(&format!("\"{t}\"")));
                if wanted {
                    callback();
                }
            },
        );
        let _ = source.add_event_listener_with_callback("change", handler.as_ref().unchecked_ref());
        // A (re)connected stream may have missed changes while it was down.
        let reopened = on_change.clone();
        let opened = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| reopened());
        let _ = source.add_event_listener_with_callback("open", opened.as_ref().unchecked_ref());
        let held = send_wrapper::SendWrapper::new((source, handler, opened));
        on_cleanup(move || {
            let (source, handler, opened) = held.take();
            source.close();
            drop((handler, opened));
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (topics, on_change);
}
