//! A time shown in the org's zone and, once the browser knows the viewer's
//! own zone and it differs, also in theirs.

use leptos::prelude::*;

/// `at_ms` is the instant (ms since the epoch), `iso` its RFC 3339 form,
/// `label` how the server wrote it in the org's zone, `org_offset_minutes`
/// the org zone's offset from UTC at that instant.
#[island]
pub fn LocalTime(at_ms: i64, iso: String, label: String, org_offset_minutes: i32) -> impl IntoView {
    let yours = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            #[allow(clippy::cast_precision_loss)]
            let date = js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(at_ms as f64));
            // getTimezoneOffset is minutes behind UTC (positive west).
            #[allow(clippy::cast_possible_truncation)]
            let viewer = -(date.get_timezone_offset() as i32);
            if viewer != org_offset_minutes {
                yours.set(Some(format!(
                    "{:02}:{:02}",
                    date.get_hours(),
                    date.get_minutes()
                )));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (at_ms, org_offset_minutes);
    });
    view! {
        <time datetime=iso>{label}</time>
        {move || yours.get().map(|t| view! { <span class="text-slate-500">{format!(" · {t} yours")}</span> })}
    }
}
