use crate::components::coming_soon::ComingSoon;
use leptos::prelude::*;

/// `/approvals`: the CodePipeline manual approval queue.
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    view! {
        <ComingSoon
            title="Approvals"
            summary="CodePipeline manual approvals waiting for a decision, and who decided what."
            items=&[
                "Pending approvals grouped by environment and team, with the commit, its author and time to expiry.",
                "Approve and reject with a comment; QA sign-off of each required test type.",
                "Approval rules: who may approve which environment, four-eyes and N-of-M.",
            ]
        />
    }
}
