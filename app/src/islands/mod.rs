//! The interactive parts of pages, hydrated on their own (Leptos islands):
//! everything else is HTML from the server. Islands take plain values and
//! keep working as plain forms and links without JavaScript.

pub mod decision_panel;
pub mod live;
pub mod local_time;
pub mod outcome;
pub mod step_keys;
