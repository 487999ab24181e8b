//! The segmented "All teams / FrontEnd / BackEnd / Mobile" filter, as links
//! so that it works without JavaScript and deep-links.

use crate::domain::{Team, TeamId};
use leptos::prelude::*;

/// Links to `path` with `team=<id>` (and `query` before it, if any), the
/// selected one marked as the current page.
#[component]
pub fn TeamFilter(
    teams: Vec<Team>,
    selected: Option<TeamId>,
    path: &'static str,
    /// Query parameters every link keeps, e.g. `month=2027-01`.
    #[prop(optional, into)]
    query: String,
    #[prop(optional, into)] class: String,
) -> impl IntoView {
    let href = move |team: Option<&TeamId>| match (query.is_empty(), team) {
        (true, None) => path.to_owned(),
        (true, Some(t)) => format!("{path}?team={t}"),
        (false, None) => format!("{path}?{query}"),
        (false, Some(t)) => format!("{path}?{query}&team={t}"),
    };
    let link = |href: String, label: String, current: bool| {
        view! {
            <a
                href=href
                aria-current=current.then_some("page")
                class="rounded-md px-2.5 py-1 text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:bg-white aria-[current=page]:text-slate-900 aria-[current=page]:shadow-sm aria-[current=page]:ring-1 aria-[current=page]:ring-slate-200"
            >
                {label}
            </a>
        }
    };
    view! {
        <nav aria-label="Team" class=format!("inline-flex flex-wrap gap-1 rounded-lg bg-slate-100 p-1 print:hidden {class}")>
            {link(href(None), "All teams".into(), selected.is_none())}
            {teams
                .into_iter()
                .map(|team| {
                    let current = selected.as_ref() == Some(&team.id);
                    link(href(Some(&team.id)), team.name.to_string(), current)
                })
                .collect_view()}
        </nav>
    }
}
