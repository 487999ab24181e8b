use crate::components::coming_soon::ComingSoon;
use leptos::prelude::*;

/// `/audit`: the append-only record of decisions.
#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <ComingSoon
            title="Audit"
            summary="Every approval decision and what AWS answered, in order."
            items=&[
                "Who decided, in which role, when, on which pipeline, stage, action and revision.",
                "The comment and QA sign-off sent with each decision, and CodePipeline's response.",
                "Calendar changes: who moved a milestone or added a blackout, and why.",
            ]
        />
    }
}
