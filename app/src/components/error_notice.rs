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
    view! {
        <div role="alert" class="rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-900">
            <p class="font-semibold">{heading}</p>
            <p class="mt-0.5">{error.to_string()}</p>
        </div>
    }
}
