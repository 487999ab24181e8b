//! How a server function answers a form: JSON for an island, or, for a
//! form posted without JavaScript, a notice on the page it came from.

use super::session;
use crate::error::AppError;
use crate::notice::Notice;

/// What a refused form's notice keeps at most: fields, characters each.
const KEPT_FIELDS: usize = 16;
const KEPT_CHARS: usize = 1_000;

/// Finishes a form submission: with JavaScript the result goes back as
/// JSON; without, it becomes a notice on `page` (the page the form
/// was on, with its query), which the browser is sent back to.
pub async fn answer_form(result: Result<String, AppError>, page: &str) -> Result<String, AppError> {
    answer_form_at(result, page, None, Vec::new()).await
}

/// As [`answer_form`], for one of several forms on `page`: without
/// JavaScript the notice names `form` (the page says it next to that form)
/// and, when the form was refused, keeps what it held (`kept`) so the page
/// can fill it in again.
pub async fn answer_form_at(
    result: Result<String, AppError>,
    page: &str,
    form: Option<&str>,
    kept: Vec<(String, String)>,
) -> Result<String, AppError> {
    answer_dialog_form(result, page, form, kept, &[]).await
}

/// As [`answer_form_at`], for a form in a dialog the address opens
/// (`?move=…`): accepted, the page comes back without the parameters in
/// `dialog` (the dialog closes and the notice is said on the page);
/// refused, with them (the dialog opens again with what was typed).
pub async fn answer_dialog_form(
    result: Result<String, AppError>,
    page: &str,
    form: Option<&str>,
    kept: Vec<(String, String)>,
    dialog: &[&str],
) -> Result<String, AppError> {
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| AppError::internal(&e))?;
    let plain_form = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !plain_form {
        return AppError::respond(result);
    }
    let mut notice = Notice::of(&result);
    notice.form = form.map(str::to_owned);
    if notice.error {
        // Kept in the session: bounded whatever was posted.
        notice.kept = kept
            .into_iter()
            .take(KEPT_FIELDS)
            .map(|(name, value)| (name, value.chars().take(KEPT_CHARS).collect()))
            .collect();
    }
    session::leave_notice(&notice).await?;
    // Back to the page the form was on (its query kept), if it is `page`.
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|pq| pq.as_str().to_owned()))
        .filter(|path| path == page || path.starts_with(&format!("{page}?")))
        .map(|path| {
            if notice.error {
                path
            } else {
                without_params(&path, dialog)
            }
        })
        .unwrap_or_else(|| page.to_owned());
    leptos_axum::redirect(&back);
    Ok(notice.text)
}

/// `path` (with its query) without the parameters named in `names`.
fn without_params(path: &str, names: &[&str]) -> String {
    let Some((page, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !pair.is_empty() && !names.contains(&name)
        })
        .collect();
    if kept.is_empty() {
        page.to_owned()
    } else {
        format!("{page}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::without_params;

    #[test]
    fn a_closed_dialog_leaves_the_rest_of_the_address() {
        let names = ["move", "edit"];
        assert_eq!(
            without_params(
                "/calendar?month=2027-01&move=2:code-freeze&team=mobile",
                &names
            ),
            "/calendar?month=2027-01&team=mobile"
        );
        assert_eq!(without_params("/calendar?edit=3", &names), "/calendar");
        assert_eq!(without_params("/calendar", &names), "/calendar");
        assert_eq!(
            without_params("/calendar?moved=1&edit", &names),
            "/calendar?moved=1"
        );
    }
}
