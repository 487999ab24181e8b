//! An error, said in words.

use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::passing_failure_shown();
    let heading = match &error {
        AppError::Unauthenticated => "Sign-in needed",
        AppError::Forbidden(_) => "Not allowed",
        AppError::NotFound(_) => "Not found",
        AppError::Invalid(_) | AppError::BadRequest(_) => "That did not work",
        AppError::Conflict(_) => "Already changed",
        AppError::TooMany(_) => "Too many at once",
        AppError::Unavailable | AppError::Dependency(_) => "Temporarily unavailable",
        AppError::Internal(_) | AppError::Transport(_) => "Something went wrong",
    };
    // Red is for what failed; being asked to sign in, or not being
    // allowed, is information (neutral) and a refusal in words.
    let tone = match &error {
        AppError::Unauthenticated | AppError::Forbidden(_) | AppError::NotFound(_) => {
            "border-slate-300 bg-slate-50 text-slate-900"
        }
        AppError::Invalid(_)
        | AppError::BadRequest(_)
        | AppError::Conflict(_)
        | AppError::TooMany(_) => "border-amber-300 bg-amber-50 text-amber-950",
        _ => "border-rose-200 bg-rose-50 text-rose-900",
    };
    view! {
        <div role="alert" class=format!("rounded-lg border px-4 py-3 text-sm {tone}")>
            <p class="font-semibold">{heading}</p>
            <p class="mt-0.5">{error.to_string()}</p>
        </div>
    }
}
