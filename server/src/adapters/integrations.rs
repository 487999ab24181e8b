//! What Gatehouse needs outside itself in real mode (a sign-in provider, AWS
//! credentials and CodePipeline, a GitHub token and GitHub) and whether it
//! has it, said once per change of state in words that name the setting to
//! fix: in the log, on `/readyz` and by `gatehouse check-config`.
//!
//! The CodePipeline and GitHub ports are wrapped ([`ReportingPipelines`],
//! [`ReportingGitHub`]) so that every call, from a job or a person, tells
//! the registry whether the service answered; a pipeline or repository the
//! service answered about (a missing pipeline, an unknown commit) is the
//! caller's business, not the integration's.

use app::ssr::ports::{
    ApprovalNow, ApprovalTarget, BranchHead, CommitAuthor, Comparison, FinishedExecution, GitHub,
    GitHubError, IssueRef, LastAnswer, PendingApproval, PipelineError, PipelineStatus, Pipelines,
    SourceRevision, WorkflowRun,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The docs page that says how to set real mode up.
pub const REAL_MODE_DOCS: &str = "docs/operations/real-mode.md";

/// One thing Gatehouse depends on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Integration {
    /// A GitHub OAuth app or an OpenID Connect provider.
    SignIn,
    /// Credentials from AWS's standard chain.
    AwsCredentials,
    /// CodePipeline's API answering.
    CodePipeline,
    /// A GitHub token or GitHub App to read GitHub with.
    GitHubToken,
    /// GitHub's API answering.
    GitHub,
    /// A notification channel's sink (its webhook URL, or SMTP).
    Channel(String),
}

impl Integration {
    /// Its key on `/readyz`.
    pub fn key(&self) -> String {
        match self {
            Integration::SignIn => "sign_in".into(),
            Integration::AwsCredentials => "aws_credentials".into(),
            Integration::CodePipeline => "codepipeline".into(),
            Integration::GitHubToken => "github_token".into(),
            Integration::GitHub => "github".into(),
            Integration::Channel(id) => format!("notification_channel:{id}"),
        }
    }

    /// Its name in a sentence.
    pub fn label(&self) -> String {
        match self {
            Integration::SignIn => "Sign-in".into(),
            Integration::AwsCredentials => "AWS credentials".into(),
            Integration::CodePipeline => "CodePipeline".into(),
            Integration::GitHubToken => "GitHub token".into(),
            Integration::GitHub => "GitHub".into(),
            Integration::Channel(id) => format!("Notification channel {id}"),
        }
    }
}

/// Where an integration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Configured, and answering when last called.
    Ok,
    /// Not configured: a setting is missing.
    Missing,
    /// Configured, but the last call failed.
    Failing,
}

/// One integration's state and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    /// A sentence naming the setting or variable to fix; empty when ok.
    pub detail: String,
    /// When the state last changed.
    pub since: DateTime<Utc>,
}

/// A finding of a one-off check (at start, or by `check-config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub integration: Integration,
    pub state: State,
    pub detail: String,
}

/// The integrations' states in this process; clones share them.
#[derive(Clone, Default)]
pub struct Integrations {
    states: Arc<Mutex<BTreeMap<Integration, Status>>>,
}

impl Integrations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `integration`'s state; logs it when the state changed (not
    /// when only the wording did): a warning naming the fix when it is
    /// missing or failing, a line when it works again. Returns whether the
    /// state changed.
    pub fn set(&self, integration: &Integration, state: State, detail: impl Into<String>) -> bool {
        self.record(integration, state, detail.into(), true)
    }

    /// As [`Integrations::set`], without logging (what another part has
    /// logged already).
    pub fn set_quietly(&self, integration: &Integration, state: State, detail: impl Into<String>) {
        self.record(integration, state, detail.into(), false);
    }

    fn record(&self, integration: &Integration, state: State, detail: String, log: bool) -> bool {
        let previous = {
            let mut states = self
                .states
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let previous = states.get(integration).map(|s| s.state);
            let since = match states.get(integration) {
                Some(s) if s.state == state => s.since,
                _ => Utc::now(),
            };
            states.insert(
                integration.clone(),
                Status {
                    state,
                    detail: detail.clone(),
                    since,
                },
            );
            previous
        };
        if previous == Some(state) {
            return false;
        }
        if log {
            let name = integration.key();
            match (state, previous) {
                (State::Ok, None) => {
                    tracing::debug!(integration = %name, "{}: working", integration.label())
                }
                (State::Ok, Some(_)) => {
                    tracing::info!(integration = %name, "{}: working again", integration.label())
                }
                (State::Missing | State::Failing, _) => {
                    tracing::warn!(integration = %name, "{detail}")
                }
            }
        }
        true
    }

    /// Records a one-off check's finding.
    pub fn found(&self, finding: &Finding) {
        self.set(&finding.integration, finding.state, finding.detail.clone());
    }

    /// The state of `integration`, if it was reported.
    pub fn get(&self, integration: &Integration) -> Option<Status> {
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(integration)
            .cloned()
    }

    /// Whether `integration` failed when last called.
    pub fn is_failing(&self, integration: &Integration) -> bool {
        self.get(integration)
            .is_some_and(|s| s.state == State::Failing)
    }

    /// Every reported integration, as `/readyz` shows them.
    pub fn to_json(&self) -> serde_json::Value {
        let states = self
            .states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = serde_json::Map::new();
        for (integration, status) in states.iter() {
            let mut entry = serde_json::json!({
                "state": status.state,
                "since": status.since,
            });
            if !status.detail.is_empty() {
                entry["detail"] = serde_json::Value::String(status.detail.clone());
            }
            out.insert(integration.key(), entry);
        }
        serde_json::Value::Object(out)
    }
}

/// Whether anyone can sign in: a GitHub OAuth app or an OIDC client.
pub fn sign_in_finding(auth: &crate::config::AuthSettings) -> Finding {
    let (state, detail) = if auth.github.is_some() || auth.oidc.is_some() {
        (State::Ok, String::new())
    } else {
        (
            State::Missing,
            format!(
                "Nobody can sign in: no sign-in provider is configured. Set GATEHOUSE_GITHUB_CLIENT_ID and GATEHOUSE_GITHUB_CLIENT_SECRET (a GitHub OAuth app), or GATEHOUSE_OIDC_CLIENT_ID with GATEHOUSE_OIDC_ISSUER (single sign-on); see {REAL_MODE_DOCS}."
            ),
        )
    };
    Finding {
        integration: Integration::SignIn,
        state,
        detail,
    }
}

/// Whether GitHub is read with a token or as a GitHub App.
pub fn github_token_finding(auth: &crate::config::AuthSettings) -> Finding {
    let (state, detail) = if auth.github_token.is_some() || auth.github_app.is_some() {
        (State::Ok, String::new())
    } else {
        (
            State::Missing,
            format!(
                "No GitHub token: set GATEHOUSE_GITHUB_TOKEN (or a GitHub App: GATEHOUSE_GITHUB_APP_ID, GATEHOUSE_GITHUB_APP_KEY_FILE and GATEHOUSE_GITHUB_APP_INSTALLATION_ID). Without one GitHub answers 60 requests an hour and no private repository, so commit authors, the board and Critical tickets fall behind; see {REAL_MODE_DOCS}."
            ),
        )
    };
    Finding {
        integration: Integration::GitHubToken,
        state,
        detail,
    }
}

/// Whether AWS's standard credential chain gives credentials (checked once,
/// within 15 s).
pub async fn aws_credentials_finding(
    pipelines: &crate::adapters::codepipeline::CodePipelineAdapter,
) -> Finding {
    let (state, detail) = match pipelines.check_credentials(std::time::Duration::from_secs(15)).await {
        Ok(()) => (State::Ok, String::new()),
        Err(why) => (
            State::Missing,
            format!(
                "No AWS credentials: {}. CodePipeline cannot be read or answered until Gatehouse has some from AWS's standard chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (with ~/.aws/config), or an IAM role (ECS task role, EC2 instance profile, web identity); see {REAL_MODE_DOCS}.",
                why.trim_end_matches('.')
            ),
        ),
    };
    Finding {
        integration: Integration::AwsCredentials,
        state,
        detail,
    }
}

/// The notification channels that cannot send, from the notifier's own
/// account of them.
pub fn channel_findings(summaries: &[app::domain::notification::ChannelSummary]) -> Vec<Finding> {
    summaries
        .iter()
        .map(|c| Finding {
            integration: Integration::Channel(c.id.clone()),
            state: if c.live { State::Ok } else { State::Missing },
            detail: c
                .problem
                .as_ref()
                .map(|p| {
                    format!(
                        "Notification channel {} cannot send: {p}; its deliveries are recorded as failed.",
                        c.id
                    )
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// An SDK error's words without the debug dump the SDK appends in
/// parentheses (`… (DispatchFailure(DispatchFailure { … }))`).
fn without_debug(text: &str) -> &str {
    let mut from = 0;
    while let Some(at) = text[from..].find(" (") {
        let start = from + at;
        let rest = &text[start + 2..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if rest.starts_with(|c: char| c.is_ascii_uppercase())
            && rest[name_len..].starts_with(['(', ' ', '{'])
            && rest[name_len..].trim_start().starts_with(['(', '{'])
        {
            return text[..start].trim_end();
        }
        from = start + 2;
    }
    text
}

/// At most `max` characters of `text`.
fn clipped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// CodePipeline wrapped so that every call reports whether it answered.
pub struct ReportingPipelines {
    inner: Arc<dyn Pipelines>,
    status: Integrations,
    /// Where CodePipeline is reached, in words.
    place: String,
}

impl ReportingPipelines {
    pub fn new(
        inner: Arc<dyn Pipelines>,
        status: Integrations,
        settings: &crate::adapters::codepipeline::AwsSettings,
    ) -> Self {
        let place = match &settings.endpoint_url {
            Some(url) => format!("{url} (GATEHOUSE_CODEPIPELINE_ENDPOINT)"),
            None => format!("AWS in {} (GATEHOUSE_AWS_REGION)", settings.region),
        };
        Self {
            inner,
            status,
            place,
        }
    }

    fn seen<T>(&self, result: Result<T, PipelineError>) -> Result<T, PipelineError> {
        match &result {
            Ok(_) => {
                self.status.set(&Integration::CodePipeline, State::Ok, "");
                // An answer needs credentials: they are there now.
                if self
                    .status
                    .get(&Integration::AwsCredentials)
                    .is_some_and(|s| s.state != State::Ok)
                {
                    self.status.set(&Integration::AwsCredentials, State::Ok, "");
                }
            }
            Err(err) => {
                if let Some(detail) = pipeline_failure(err, &self.place) {
                    self.status
                        .set(&Integration::CodePipeline, State::Failing, detail);
                } else {
                    self.status.set(&Integration::CodePipeline, State::Ok, "");
                }
            }
        }
        result
    }
}

/// Refusals that are about who is calling, not about what was asked.
const AWS_AUTH_CODES: &[&str] = &[
    "AccessDenied",
    "UnrecognizedClient",
    "InvalidClientTokenId",
    "ExpiredToken",
    "InvalidSignature",
    "SignatureDoesNotMatch",
    "MissingAuthenticationToken",
];

/// What a failed CodePipeline call says about the integration: `None`
/// when CodePipeline answered (about a pipeline, an approval), else the
/// sentence to report.
pub fn pipeline_failure(err: &PipelineError, place: &str) -> Option<String> {
    match err {
        PipelineError::Unavailable(m) if m.to_ascii_lowercase().contains("credential") => Some(format!(
            "CodePipeline cannot be called without AWS credentials ({}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an IAM role; approvals wait meanwhile. See {REAL_MODE_DOCS}.",
            clipped(without_debug(m), 300)
        )),
        PipelineError::Unavailable(m) => Some(format!(
            "CodePipeline cannot be reached at {place}: {}. Check that setting, the network and AWS's status; approvals wait meanwhile.",
            clipped(without_debug(m), 300)
        )),
        PipelineError::Rejected(m) if AWS_AUTH_CODES.iter().any(|c| m.contains(c)) => {
            Some(format!(
                "AWS refused Gatehouse's credentials for CodePipeline ({}). Check the IAM policy (docs/operations/aws.md) and that the credentials belong to the pipelines' account and have not expired.",
                clipped(without_debug(m), 300)
            ))
        }
        _ => None,
    }
}

#[async_trait]
impl Pipelines for ReportingPipelines {
    async fn approval_now(&self, target: &ApprovalTarget) -> Result<ApprovalNow, PipelineError> {
        self.seen(self.inner.approval_now(target).await)
    }
    async fn pending_approval(
        &self,
        target: &ApprovalTarget,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        self.seen(self.inner.pending_approval(target).await)
    }
    async fn last_answer(
        &self,
        target: &ApprovalTarget,
    ) -> Result<Option<LastAnswer>, PipelineError> {
        self.seen(self.inner.last_answer(target).await)
    }
    async fn revision(
        &self,
        pipeline: &str,
        execution_id: &str,
    ) -> Result<SourceRevision, PipelineError> {
        self.seen(self.inner.revision(pipeline, execution_id).await)
    }
    async fn pipeline_names(&self) -> Result<Vec<String>, PipelineError> {
        self.seen(self.inner.pipeline_names().await)
    }
    async fn pipeline_stages(
        &self,
        pipeline: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, PipelineError> {
        self.seen(self.inner.pipeline_stages(pipeline).await)
    }
    async fn status(&self, pipeline: &str) -> Result<PipelineStatus, PipelineError> {
        self.seen(self.inner.status(pipeline).await)
    }
    async fn last_succeeded(
        &self,
        pipeline: &str,
    ) -> Result<Option<FinishedExecution>, PipelineError> {
        self.seen(self.inner.last_succeeded(pipeline).await)
    }
    async fn succeeded_since(
        &self,
        pipeline: &str,
        since: DateTime<Utc>,
        max_pages: usize,
    ) -> Result<Vec<FinishedExecution>, PipelineError> {
        self.seen(self.inner.succeeded_since(pipeline, since, max_pages).await)
    }
    async fn start_execution(
        &self,
        pipeline: &str,
        client_token: &str,
    ) -> Result<String, PipelineError> {
        self.seen(self.inner.start_execution(pipeline, client_token).await)
    }
    async fn put_approval_result(
        &self,
        target: &ApprovalTarget,
        token: &str,
        approved: bool,
        summary: &str,
    ) -> Result<DateTime<Utc>, PipelineError> {
        self.seen(
            self.inner
                .put_approval_result(target, token, approved, summary)
                .await,
        )
    }
}

/// GitHub wrapped so that every call reports whether it answered.
pub struct ReportingGitHub {
    inner: Arc<dyn GitHub>,
    status: Integrations,
    /// The API address, for the sentence.
    api_url: String,
    /// Whether a token or GitHub App is configured.
    authenticated: bool,
}

impl ReportingGitHub {
    pub fn new(
        inner: Arc<dyn GitHub>,
        status: Integrations,
        api_url: &str,
        authenticated: bool,
    ) -> Self {
        Self {
            inner,
            status,
            api_url: api_url.to_owned(),
            authenticated,
        }
    }

    fn seen<T>(&self, result: Result<T, GitHubError>) -> Result<T, GitHubError> {
        let failure = match &result {
            Ok(_) => None,
            Err(err) => github_failure(err, &self.api_url, self.authenticated),
        };
        match failure {
            None => self.status.set(&Integration::GitHub, State::Ok, ""),
            Some(detail) => self
                .status
                .set(&Integration::GitHub, State::Failing, detail),
        };
        result
    }
}

/// What a failed GitHub call says about the integration: `None` when
/// GitHub answered about the thing asked (a 404, a 422), else the sentence
/// to report.
pub fn github_failure(err: &GitHubError, api_url: &str, authenticated: bool) -> Option<String> {
    if !err.is_service_failure() {
        return None;
    }
    match err {
        GitHubError::RateLimited(at) if authenticated => Some(format!(
            "GitHub's rate limit is used up until {at}; the board and commit authors wait until then."
        )),
        GitHubError::RateLimited(at) => Some(format!(
            "GitHub's rate limit is used up until {at}: without GATEHOUSE_GITHUB_TOKEN (or a GitHub App) GitHub answers 60 requests an hour. Set one; see {REAL_MODE_DOCS}."
        )),
        GitHubError::Unavailable(m) => {
            match err.status() {
                Some(401) => Some(
                    "GitHub refused Gatehouse's credentials (401 Bad credentials): check GATEHOUSE_GITHUB_TOKEN, or the GitHub App's GATEHOUSE_GITHUB_APP_ID, key file and installation id.".to_owned(),
                ),
                Some(_) => Some(format!(
                    "GitHub at {api_url} answers with server errors ({}); the board and commit authors wait until it recovers.",
                    clipped(m, 300)
                )),
                None => Some(format!(
                    "GitHub cannot be reached at {api_url}: {}. Check GATEHOUSE_GITHUB_API_URL and the network.",
                    clipped(m, 300)
                )),
            }
        }
    }
}

#[async_trait]
impl GitHub for ReportingGitHub {
    async fn commit_author(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<Option<CommitAuthor>, GitHubError> {
        self.seen(self.inner.commit_author(repo, sha).await)
    }
    async fn branches(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        self.seen(self.inner.branches(repo).await)
    }
    async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Option<Comparison>, GitHubError> {
        self.seen(self.inner.compare(repo, base, head).await)
    }
    async fn contains(
        &self,
        repo: &str,
        container: &str,
        head: &str,
    ) -> Result<Option<bool>, GitHubError> {
        self.seen(self.inner.contains(repo, container, head).await)
    }
    async fn open_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<IssueRef, GitHubError> {
        self.seen(self.inner.open_issue(repo, title, body, labels).await)
    }
    async fn comment_issue(&self, repo: &str, number: u64, body: &str) -> Result<(), GitHubError> {
        self.seen(self.inner.comment_issue(repo, number, body).await)
    }
    async fn close_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError> {
        self.seen(self.inner.close_issue(repo, number).await)
    }
    async fn find_open_issue(
        &self,
        repo: &str,
        title: &str,
        label: &str,
    ) -> Result<Option<IssueRef>, GitHubError> {
        self.seen(self.inner.find_open_issue(repo, title, label).await)
    }
    async fn reopen_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError> {
        self.seen(self.inner.reopen_issue(repo, number).await)
    }
    async fn tags(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        self.seen(self.inner.tags(repo).await)
    }
    async fn workflow_runs(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        self.seen(self.inner.workflow_runs(repo, branch).await)
    }
}

/// `gatehouse check-config`: checks the org configuration file with the
/// checker `serve` starts with, and the settings `serve` would refuse
/// (sign-in, GitHub, notifications), without a database; writes what the
/// file describes to `out`. In real mode it also says what is missing
/// (sign-in provider, AWS credentials, GitHub token, notification
/// channels that cannot send), which does not fail the check: `serve`
/// starts without them. An error is what `serve` would stop on.
pub async fn check_config(
    settings: &crate::config::Settings,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let path = &settings.org_config;
    let file = crate::org_config::load_file(path)?;
    let org = &file.org;
    writeln!(
        out,
        "{}: {} teams, {} services, {} environments ({}), {} team overrides",
        path.display(),
        org.teams.len(),
        org.services.len(),
        org.environments.len(),
        org.environments
            .iter()
            .map(|e| e.name.to_string())
            .collect::<Vec<_>>()
            .join(" -> "),
        org.overrides.len(),
    )?;
    let access = &file.access;
    writeln!(
        out,
        "  access: {} admins, {} teams or groups mapped to roles, {} people with linked identities",
        access.admins.len(),
        access.teams.len(),
        access.people.len()
    )?;
    let ops = &file.operations;
    match &ops.health {
        Some(h) => writeln!(
            out,
            "  health: {} environments probed every {} s at {}",
            h.environments.len(),
            h.interval.as_secs(),
            h.url
        )?,
        None => writeln!(out, "  health: nothing probed (no [health] url)")?,
    }
    writeln!(
        out,
        "  hotfixes: {}",
        if ops.refuse_unmerged_hotfix {
            "a Prod approval is refused while a hotfix is not merged back"
        } else {
            "unmerged hotfixes are shown, not refused"
        }
    )?;
    writeln!(
        out,
        "  notifications: {} channels{}",
        ops.notifications.len(),
        if ops.notifications.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                ops.notifications
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )?;
    match &ops.terraform {
        Some(t) => writeln!(
            out,
            "  terraform: {} states, read every {} s",
            t.states.len(),
            t.refresh.as_secs()
        )?,
        None => writeln!(out, "  terraform: no states read")?,
    }

    // The settings `serve` refuses to start with.
    let auth = settings
        .auth
        .clone()
        .into_settings()
        .map_err(anyhow::Error::msg)?;
    crate::adapters::github::GitHubAdapter::new(&crate::adapters::github::GitHubSettings {
        api_url: auth
            .github_api_url
            .clone()
            .unwrap_or_else(|| crate::config::GITHUB_API.to_owned()),
        token: auth.github_token.clone(),
        app: auth.github_app.clone(),
    })
    .map_err(|why| anyhow::anyhow!("invalid GitHub settings: {why}"))?;
    let real = settings.mode == crate::config::ModeArg::Real;
    // The notifier checks SMTP, the sender and the webhook URLs; it opens
    // no connection to build.
    let no_database = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://check-config@127.0.0.1/unused")?;
    let public_url = auth
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    let notifier = crate::adapters::notify::Notifier::new(
        no_database,
        &ops.notifications,
        &settings.notification_settings(),
        &public_url,
        !real,
    )?;
    if !real {
        return Ok(());
    }

    let mut findings = vec![sign_in_finding(&auth), github_token_finding(&auth)];
    let codepipeline =
        crate::adapters::codepipeline::CodePipelineAdapter::new(&settings.aws_settings()).await;
    findings.push(aws_credentials_finding(&codepipeline).await);
    findings.extend(channel_findings(&notifier.summaries()));
    let missing: Vec<&Finding> = findings.iter().filter(|f| f.state != State::Ok).collect();
    if missing.is_empty() {
        writeln!(
            out,
            "real mode: sign-in, AWS credentials, the GitHub token and every notification channel are configured"
        )?;
    } else {
        writeln!(
            out,
            "real mode: {} missing (gatehouse serve starts without them):",
            missing.len()
        )?;
        for f in missing {
            writeln!(out, "  - {}", f.detail)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_reported_once_until_it_changes() {
        let status = Integrations::new();
        let gh = Integration::GitHub;
        assert!(status.set(&gh, State::Failing, "GitHub cannot be reached: one"));
        assert!(!status.set(&gh, State::Failing, "GitHub cannot be reached: two"));
        assert_eq!(
            status.get(&gh).expect("reported").detail,
            "GitHub cannot be reached: two",
            "the wording stays current"
        );
        assert!(status.set(&gh, State::Ok, ""));
        assert!(!status.set(&gh, State::Ok, ""));
        let json = status.to_json();
        assert_eq!(json["github"]["state"], "ok");
        assert!(json["github"].get("detail").is_none());
    }

    #[test]
    fn only_failures_of_the_service_itself_count_against_it() {
        let place = "AWS in eu-west-1 (GATEHOUSE_AWS_REGION)";
        assert!(pipeline_failure(
            &PipelineError::Configuration("PipelineNotFoundException: x".into()),
            place
        )
        .is_none());
        assert!(pipeline_failure(
            &PipelineError::Rejected("ValidationException: bad token".into()),
            place
        )
        .is_none());
        let denied = pipeline_failure(
            &PipelineError::Rejected("AccessDeniedException: not authorized".into()),
            place,
        )
        .expect("a refusal of the caller");
        assert!(denied.contains("IAM policy"), "{denied}");
        let creds = pipeline_failure(
            &PipelineError::Unavailable(
                "dispatch failure: other: no credentials in the provider chain".into(),
            ),
            place,
        )
        .expect("no credentials");
        assert!(creds.contains("AWS_ACCESS_KEY_ID"), "{creds}");
        let down = pipeline_failure(&PipelineError::Unavailable("timed out".into()), place)
            .expect("unreachable");
        assert!(down.contains("GATEHOUSE_AWS_REGION"), "{down}");

        let api = "https://api.github.com";
        assert!(
            github_failure(&GitHubError::Unavailable("404 Not Found".into()), api, true).is_none()
        );
        let limited = github_failure(&GitHubError::RateLimited("14:05 UTC".into()), api, false)
            .expect("limited");
        assert!(limited.contains("GATEHOUSE_GITHUB_TOKEN"), "{limited}");
        let refused = github_failure(
            &GitHubError::Unavailable("401 Unauthorized Bad credentials".into()),
            api,
            true,
        )
        .expect("bad token");
        assert!(refused.contains("GATEHOUSE_GITHUB_TOKEN"), "{refused}");
        let unreachable = github_failure(
            &GitHubError::Unavailable("error sending request".into()),
            api,
            true,
        )
        .expect("unreachable");
        assert!(
            unreachable.contains("GATEHOUSE_GITHUB_API_URL"),
            "{unreachable}"
        );
    }

    #[test]
    fn the_sdk_s_debug_dump_is_left_out_of_a_sentence() {
        assert_eq!(
            without_debug(
                "dispatch failure: other: an error occurred while loading credentials (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None) } }))"
            ),
            "dispatch failure: other: an error occurred while loading credentials"
        );
        assert_eq!(
            without_debug("timed out (after 10 s) and gave up"),
            "timed out (after 10 s) and gave up"
        );
    }

    #[test]
    fn real_mode_without_providers_or_tokens_says_what_to_set() {
        let auth = crate::config::AuthSettings::default();
        let sign_in = sign_in_finding(&auth);
        assert_eq!(sign_in.state, State::Missing);
        assert!(
            sign_in.detail.starts_with("Nobody can sign in"),
            "{}",
            sign_in.detail
        );
        assert!(sign_in.detail.contains(REAL_MODE_DOCS));
        let token = github_token_finding(&auth);
        assert_eq!(token.state, State::Missing);
        assert!(token.detail.contains("GATEHOUSE_GITHUB_TOKEN"));
    }
}
