use crate::components::coming_soon::ComingSoon;
use leptos::prelude::*;

/// `/calendar`: the bimonthly release train.
#[component]
pub fn CalendarPage() -> impl IntoView {
    view! {
        <ComingSoon
            title="Calendar"
            summary="The bimonthly release cycle and where the train is today."
            items=&[
                "Each release's milestones: development start, code freeze, Release demo, QA sign-off, Pre-Prod and Prod.",
                "Per-team tracks for FrontEnd, BackEnd and Mobile, blackout periods and hotfix windows.",
                "What each environment allows right now, and calendar feeds for Google Calendar and Outlook.",
            ]
        />
    }
}
