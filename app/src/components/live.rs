//! Live updates in the browser: one `EventSource` on `/events` per page that
//! asks for it, calling back when a topic it watches changed. New data
//! redraws the page, so it is fetched in the background and shown only
//! while the viewer is not typing in a field, has no decision panel open and
//! has not just clicked: nothing they are doing is undone. Without
//! JavaScript pages are complete as served and nothing here runs.

use leptos::prelude::*;

/// When the viewer last pressed a key or a pointer, in ms since the epoch.
#[cfg(feature = "hydrate")]
static LAST_INPUT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether the viewer is in the middle of something a redraw would undo:
/// typing in a field, a decision panel open, or a click or key press in the
/// last moment and a half (the next step of what they are doing follows).
#[cfg(feature = "hydrate")]
fn busy() -> bool {
    let now = js_sys::Date::now() as u64;
    if now.saturating_sub(LAST_INPUT.load(std::sync::atomic::Ordering::Relaxed)) < 1_500 {
        return true;
    }
    let doc = document();
    let typing = doc
        .active_element()
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    let deciding = doc
        .query_selector("main details[open]")
        .ok()
        .flatten()
        .is_some();
    typing || deciding
}

/// Runs `callback` now, or once the viewer is no longer busy; at most one
/// run waits at a time.
#[cfg(feature = "hydrate")]
fn when_idle(
    callback: std::sync::Arc<dyn Fn() + Send + Sync>,
    waiting: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    if busy() {
        if !waiting.swap(true, Ordering::SeqCst) {
            set_timeout(
                move || {
                    waiting.store(false, Ordering::SeqCst);
                    when_idle(callback, waiting);
                },
                std::time::Duration::from_secs(1),
            );
        }
    } else {
        callback();
    }
}

/// Calls `on_change` whenever the server reports a change to one of
/// `topics` (or asks everyone to resync), and whenever the stream
/// (re)connects, for as long as the calling component lives. The browser
/// reconnects a dropped stream by itself.
pub fn use_live(
    topics: &'static [&'static str],
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let Ok(source) = web_sys::EventSource::new("/events") else {
            return;
        };
        let callback: Arc<dyn Fn() + Send + Sync> = Arc::new(on_change.clone());
        let waiting = Arc::new(AtomicBool::new(false));
        let (on_message, waiting_message) = (callback.clone(), waiting.clone());
        let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let data = event.data().as_string().unwrap_or_default();
                let wanted = data.contains("\"resync\"")
                    || topics.iter().any(|t| data.contains(&format!("\"{t}\"")));
                if wanted {
                    when_idle(on_message.clone(), waiting_message.clone());
                }
            },
        );
        let _ = source.add_event_listener_with_callback("change", handler.as_ref().unchecked_ref());
        // A reconnected stream may have missed changes while it was down
        // (the first connection follows a page that is fresh already).
        let mut connections = 0_u32;
        let opened = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            connections += 1;
            if connections > 1 {
                when_idle(callback.clone(), waiting.clone());
            }
        });
        let note_input = |_: web_sys::Event| {
            LAST_INPUT.store(
                js_sys::Date::now() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        };
        let pointer = window_event_listener(leptos::ev::pointerdown, move |e| note_input(e.into()));
        let key = window_event_listener(leptos::ev::keydown, move |e| note_input(e.into()));
        on_cleanup(move || {
            pointer.remove();
            key.remove();
        });
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

/// Shows `fresh` in `data` once the viewer is not busy.
#[cfg(feature = "hydrate")]
fn show_when_idle<T: Send + Sync + 'static>(data: Resource<T>, fresh: T) {
    if busy() {
        set_timeout(
            move || show_when_idle(data, fresh),
            std::time::Duration::from_millis(700),
        );
    } else {
        data.set(Some(fresh));
    }
}

/// Keeps `data` live: on a change to one of `topics`, `fetch` runs in the
/// background and its answer replaces `data` when the viewer is not busy.
pub fn use_live_data<T, F, Fut>(topics: &'static [&'static str], data: Resource<T>, fetch: F)
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        // A burst of changes (a poll recording many approvals) makes one
        // fetch, 400 ms after the first.
        let scheduled = std::sync::Arc::new(AtomicBool::new(false));
        use_live(topics, move || {
            if scheduled.swap(true, Ordering::SeqCst) {
                return;
            }
            let (fetch, scheduled) = (fetch.clone(), scheduled.clone());
            set_timeout(
                move || {
                    scheduled.store(false, Ordering::SeqCst);
                    leptos::task::spawn_local(async move {
                        let fresh = fetch().await;
                        show_when_idle(data, fresh);
                    });
                },
                std::time::Duration::from_millis(400),
            );
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (topics, data, fetch);
}
