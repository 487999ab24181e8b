//! Live updates without hydrating the page: the server renders every page;
//! this island follows `/events` and, when a topic the page shows changed,
//! fetches the page's HTML again and swaps in the regions marked
//! `data-live` (each with an `id`) whose HTML changed. A region the viewer
//! is using (focus inside, a field edited, a disclosure opened) is kept as
//! it is and the rest of its parent region is swapped around it, so nothing
//! they type or open is undone. Islands inside swapped-in HTML are hydrated.
//!
//! It also shows the dialogs an address opens (`dialog[data-dialog]`, open
//! without script as a panel) as modals, and opens a link marked
//! `data-dialog-open` in place: it fetches that page and shows its dialog
//! over this one instead of loading it.
//!
//! Rendered once per page, last in the body: when it hydrates, every island
//! before it has, so it also marks the page `data-hydrated` (for styles that
//! need JavaScript and for the browser tests).

use leptos::prelude::*;

/// The browser event that asks the updater to refetch now (an island that
/// changed something sends it).
pub const REFRESH_EVENT: &str = "gatehouse:refresh";

/// Follows `topics` (e.g. `["board", "approvals"]`) for the page it is on;
/// with no topics it only marks the page hydrated.
#[island]
pub fn LiveUpdates(topics: Vec<String>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::start(topics.clone()));
    #[cfg(not(feature = "hydrate"))]
    let _ = topics;
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::REFRESH_EVENT;
    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;
    use web_sys::{Document, Element};

    /// After a key or pointer press, swaps wait this long (the next step of
    /// what the viewer is doing follows).
    const QUIET_MS: f64 = 1_200.0;
    /// A burst of changes (a poll recording many approvals) makes one fetch.
    const GATHER_MS: i32 = 300;

    #[derive(Default)]
    struct State {
        /// A fetch is scheduled or running.
        scheduled: Cell<bool>,
        /// Another change arrived while fetching: fetch again after.
        again: Cell<bool>,
        last_input: Cell<f64>,
        /// The server HTML last swapped into each region, by id.
        shown: RefCell<HashMap<String, String>>,
    }

    pub fn start(topics: Vec<String>) {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
        menus();
        super::dialogs::start();
        if topics.is_empty() {
            return;
        }
        let state = Rc::new(State::default());
        // The server sends only these topics' changes (and resyncs).
        let Ok(source) = web_sys::EventSource::new(&format!("/events?topics={}", topics.join(",")))
        else {
            return;
        };
        let on_change = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let data = event.data().as_string().unwrap_or_default();
                let wanted = data.contains("\"resync\"")
                    || topics.iter().any(|t| data.contains(&format!("\"{t}\"")));
                if wanted {
                    schedule(&state, GATHER_MS);
                }
            })
        };
        let _ =
            source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        // A reconnected stream may have missed changes while it was down
        // (the first connection follows a page that is fresh already).
        let on_open = {
            let state = state.clone();
            let connections = Cell::new(0_u32);
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                connections.set(connections.get() + 1);
                if connections.get() > 1 {
                    schedule(&state, GATHER_MS);
                }
            })
        };
        let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
        let on_refresh = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| schedule(&state, 0))
        };
        let on_input = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                state.last_input.set(js_sys::Date::now());
            })
        };
        let win = window();
        let _ = win
            .add_event_listener_with_callback(REFRESH_EVENT, on_refresh.as_ref().unchecked_ref());
        let _ = win.add_event_listener_with_callback("keydown", on_input.as_ref().unchecked_ref());
        let _ =
            win.add_event_listener_with_callback("pointerdown", on_input.as_ref().unchecked_ref());
        // The page lives as long as the document: the listeners do too.
        on_change.forget();
        on_open.forget();
        on_refresh.forget();
        on_input.forget();
        std::mem::forget(source);
        // A page left open in a tab catches up once a minute even if the
        // stream was cut without the browser noticing.
        let every_minute = state.clone();
        let _ = set_interval_with_handle(
            move || schedule(&every_minute, 0),
            std::time::Duration::from_secs(60),
        );
    }

    /// The header's menus (`details.menu`, which open without script)
    /// close on a click outside them and on Escape; one opening closes the
    /// others.
    fn menus() {
        let on_click = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
            let inside = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("details.menu").ok().flatten());
            close_menus(inside.as_ref());
        });
        let on_key =
            Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(|event: web_sys::KeyboardEvent| {
                if event.key() == "Escape" {
                    close_menus(None);
                }
            });
        let doc = document();
        let _ = doc.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let _ = doc.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        on_click.forget();
        on_key.forget();
    }

    fn close_menus(keep: Option<&Element>) {
        let Ok(open) = document().query_selector_all("details.menu[open]") else {
            return;
        };
        for i in 0..open.length() {
            if let Some(menu) = open.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                if keep != Some(&menu) {
                    let _ = menu.remove_attribute("open");
                }
            }
        }
    }

    fn schedule(state: &Rc<State>, delay_ms: i32) {
        if state.scheduled.replace(true) {
            state.again.set(true);
            return;
        }
        let state = state.clone();
        set_timeout(
            move || leptos::task::spawn_local(run(state)),
            std::time::Duration::from_millis(u64::try_from(delay_ms).unwrap_or(0)),
        );
    }

    async fn run(state: Rc<State>) {
        loop {
            state.again.set(false);
            if let Some(fresh) = fetch_page().await {
                // Wait for a quiet moment before touching the page.
                while js_sys::Date::now() - state.last_input.get() < QUIET_MS {
                    sleep(300).await;
                }
                apply(&state, &fresh);
            }
            if !state.again.get() {
                break;
            }
        }
        state.scheduled.set(false);
    }

    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    /// The page as the server renders it now, parsed.
    async fn fetch_page() -> Option<Document> {
        fetch_html(&window().location().href().ok()?).await
    }

    /// The page at `href` as the server renders it, parsed.
    pub(super) async fn fetch_html(href: &str) -> Option<Document> {
        let init = web_sys::RequestInit::new();
        init.set_credentials(web_sys::RequestCredentials::SameOrigin);
        let headers = web_sys::Headers::new().ok()?;
        headers.set("Accept", "text/html").ok()?;
        init.set_headers(&headers);
        let response =
            wasm_bindgen_futures::JsFuture::from(window().fetch_with_str_and_init(href, &init))
                .await
                .ok()?
                .dyn_into::<web_sys::Response>()
                .ok()?;
        // A page that now redirects (signed out elsewhere) or fails is left
        // as it is; the next change tries again.
        if !response.ok() || response.redirected() {
            return None;
        }
        let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        web_sys::DomParser::new()
            .ok()?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)
            .ok()
    }

    fn elements(list: web_sys::NodeList) -> Vec<Element> {
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<Element>().ok())
            .collect()
    }

    /// Regions not inside another region.
    fn outermost(root: &Document) -> Vec<Element> {
        root.query_selector_all("[data-live][id]")
            .map(elements)
            .unwrap_or_default()
            .into_iter()
            .filter(|el| {
                el.parent_element()
                    .and_then(|p| p.closest("[data-live]").ok().flatten())
                    .is_none()
            })
            .collect()
    }

    fn apply(state: &State, fresh: &Document) {
        let doc = document();
        for new in outermost(fresh) {
            let id = new.id();
            let Some(old) = doc.get_element_by_id(&id) else {
                continue;
            };
            let html = new.outer_html();
            let unchanged = match state.shown.borrow().get(&id) {
                Some(shown) => *shown == html,
                None => old.outer_html() == html,
            };
            if unchanged {
                continue;
            }
            if swap(&doc, &old, &new) {
                state.shown.borrow_mut().insert(id, html);
            }
        }
        // The title can say how much waits ("Approvals (3)").
        if fresh.title() != doc.title() {
            doc.set_title(&fresh.title());
        }
    }

    /// Replaces `old` with `new`, keeping the regions inside `old` that the
    /// viewer is using. Returns false (and changes nothing) when what they
    /// use is `old` itself or is gone from the new page.
    fn swap(doc: &Document, old: &Element, new: &Element) -> bool {
        let kept = in_use(old);
        if kept.iter().any(|k| k == old) {
            return false;
        }
        let Ok(new) = doc.import_node_with_deep(new, true) else {
            return false;
        };
        let Ok(new) = new.dyn_into::<Element>() else {
            return false;
        };
        // A fold marked `data-reopen` (the queue's "requests you cannot
        // decide") is not kept as it was: its content updates, and it stays
        // open if the viewer opened it.
        for open in old
            .query_selector_all("details[open][data-reopen][id]")
            .map(elements)
            .unwrap_or_default()
        {
            let selector = format!("[id=\"{}\"]", open.id().replace('"', ""));
            if let Some(place) = new.query_selector(&selector).ok().flatten() {
                let _ = place.set_attribute("open", "");
            }
        }
        let mut places = Vec::new();
        for k in &kept {
            let selector = format!("[id=\"{}\"]", k.id().replace('"', ""));
            match new.query_selector(&selector).ok().flatten() {
                Some(place) => places.push((place, k.clone())),
                None => return false,
            }
        }
        // Islands in the new HTML that are not replaced by a kept region.
        let islands: Vec<Element> = new
            .query_selector_all("leptos-island")
            .map(elements)
            .unwrap_or_default()
            .into_iter()
            .filter(|island| !places.iter().any(|(place, _)| place.contains(Some(island))))
            .collect();
        for (place, k) in &places {
            let _ = place.replace_with_with_node_1(k);
        }
        if old.replace_with_with_node_1(&new).is_err() {
            return false;
        }
        hydrate(islands);
        true
    }

    /// The innermost regions holding what the viewer is using: the focus, a
    /// field whose value they changed, a disclosure they opened.
    fn in_use(root: &Element) -> Vec<Element> {
        let mut spots: Vec<Element> = Vec::new();
        if let Some(active) = document().active_element() {
            if root.contains(Some(&active)) {
                spots.push(active);
            }
        }
        let all = |sel: &str| {
            root.query_selector_all(sel)
                .map(elements)
                .unwrap_or_default()
        };
        spots.extend(all("details[open]:not([data-reopen])"));
        for el in all("input, textarea, select") {
            let edited = if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
                match input.type_().as_str() {
                    "checkbox" | "radio" => input.checked() != input.default_checked(),
                    "hidden" | "submit" | "button" => false,
                    _ => input.value() != input.default_value(),
                }
            } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                Ok(area.value()) != area.default_value()
            } else if let Some(select) = el.dyn_ref::<web_sys::HtmlSelectElement>() {
                select
                    .query_selector_all("option")
                    .map(elements)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok())
                    .any(|o| o.selected() != o.default_selected())
            } else {
                false
            };
            if edited {
                spots.push(el);
            }
        }
        let mut regions: Vec<Element> = Vec::new();
        for spot in spots {
            if let Some(region) = spot.closest("[data-live][id]").ok().flatten() {
                if !regions.contains(&region) {
                    regions.push(region);
                }
            }
        }
        regions
    }

    /// Hydrates islands that arrived with swapped-in HTML, through the hook
    /// Leptos's island loader leaves on `window`.
    fn hydrate(islands: Vec<Element>) {
        let Ok(hook) = js_sys::Reflect::get(&window(), &JsValue::from_str("__hydrateIsland"))
        else {
            return;
        };
        let Ok(hook) = hook.dyn_into::<js_sys::Function>() else {
            return;
        };
        for island in islands {
            if let Some(name) = island.get_attribute("data-component") {
                let _ = hook.call2(&JsValue::NULL, &island, &JsValue::from_str(&name));
            }
        }
    }
}

/// Dialogs the address opens, as modals, and links that open them in place.
#[cfg(feature = "hydrate")]
mod dialogs {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    use std::cell::RefCell;
    use web_sys::{Element, HtmlDialogElement};

    thread_local! {
        /// The link that opened the dialog shown now: the focus returns to it.
        static OPENER: RefCell<Option<web_sys::HtmlElement>> = const { RefCell::new(None) };
    }

    pub fn start() {
        // A dialog the page came with (its address opens it).
        if let Some(dialog) = document()
            .query_selector("dialog[data-dialog][open]")
            .ok()
            .flatten()
            .and_then(|d| d.dyn_into::<HtmlDialogElement>().ok())
        {
            show(&dialog);
        }
        let on_click =
            Closure::<dyn FnMut(web_sys::MouseEvent)>::new(|event: web_sys::MouseEvent| {
                if event.default_prevented()
                    || event.button() != 0
                    || event.ctrl_key()
                    || event.meta_key()
                    || event.shift_key()
                    || event.alt_key()
                {
                    return;
                }
                let Some(target) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                    return;
                };
                if let Some(close) = target
                    .closest("dialog[data-dialog] a[data-dialog-close]")
                    .ok()
                    .flatten()
                {
                    if let Some(dialog) = close
                        .closest("dialog")
                        .ok()
                        .flatten()
                        .and_then(|d| d.dyn_into::<HtmlDialogElement>().ok())
                    {
                        event.prevent_default();
                        dialog.close();
                    }
                    return;
                }
                let Some(link) = target.closest("a[data-dialog-open][href]").ok().flatten() else {
                    return;
                };
                let Some(href) = link.get_attribute("href") else {
                    return;
                };
                event.prevent_default();
                OPENER.with(|o| *o.borrow_mut() = link.dyn_into::<web_sys::HtmlElement>().ok());
                leptos::task::spawn_local(open(href));
            });
        let _ =
            document().add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        on_click.forget();
    }

    /// Fetches `href` and shows its dialog over this page; loads it as a
    /// page when that fails.
    async fn open(href: String) {
        let fresh = super::browser::fetch_html(&href).await;
        let dialog = fresh
            .as_ref()
            .and_then(|doc| doc.query_selector("dialog[data-dialog]").ok().flatten())
            .and_then(|d| document().import_node_with_deep(&d, true).ok())
            .and_then(|d| d.dyn_into::<HtmlDialogElement>().ok());
        let Some(dialog) = dialog else {
            let _ = window().location().assign(&href);
            return;
        };
        if let Ok(old) = document().query_selector_all("dialog[data-dialog]") {
            for i in 0..old.length() {
                if let Some(el) = old.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    el.remove();
                }
            }
        }
        let Some(body) = document().body() else {
            return;
        };
        if body.append_child(&dialog).is_err() {
            return;
        }
        // The address names the dialog, so a reload (or a refused form,
        // which comes back to it) opens it again.
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &leptos::wasm_bindgen::JsValue::NULL,
                "",
                Some(&href),
            );
        }
        show(&dialog);
    }

    /// Shows `dialog` as a modal; closing it (Escape, Close) removes it,
    /// puts the address back and returns the focus to the link that opened it.
    fn show(dialog: &HtmlDialogElement) {
        let _ = dialog.remove_attribute("open");
        if dialog.show_modal().is_err() {
            let _ = dialog.set_attribute("open", "");
            return;
        }
        let leave = dialog
            .query_selector("a[data-dialog-close]")
            .ok()
            .flatten()
            .and_then(|a| a.get_attribute("href"));
        let on_close = {
            let dialog = dialog.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                dialog.remove();
                if let (Some(leave), Ok(history)) = (&leave, window().history()) {
                    let _ = history.replace_state_with_url(
                        &leptos::wasm_bindgen::JsValue::NULL,
                        "",
                        Some(leave),
                    );
                }
                if let Some(opener) = OPENER.with(|o| o.borrow_mut().take()) {
                    let _ = opener.focus();
                }
            })
        };
        let _ = dialog.add_event_listener_with_callback("close", on_close.as_ref().unchecked_ref());
        on_close.forget();
    }
}
