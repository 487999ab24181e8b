//! The `Pipelines` port over aws-sdk-codepipeline.

use crate::metrics::Timed;
use app::ssr::ports::{
    ActionStatus, ApprovalNow, ApprovalTarget, FinishedExecution, LastAnswer, PendingApproval,
    PipelineError, PipelineStatus, Pipelines, SourceRevision,
};
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_codepipeline::config::http::HttpResponse;
use aws_sdk_codepipeline::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::types::{
    ActionExecution, ActionExecutionFilter, ActionExecutionStatus, ApprovalResult, ApprovalStatus,
    PipelineExecutionStatus, PipelineExecutionSummary,
};
use aws_sdk_codepipeline::Client;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How to reach CodePipeline.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub region: String,
    /// Another endpoint than AWS's, e.g. the simulator.
    pub endpoint_url: Option<String>,
    /// Attempts per call, the first included, for throttling and 5xx.
    pub max_attempts: u32,
    /// First retry delay; later ones back off exponentially with jitter.
    pub initial_backoff: Duration,
    /// Limit for one call, retries included.
    pub operation_timeout: Duration,
    /// Use fixed placeholder credentials (the simulator ignores signatures)
    /// instead of the standard AWS credential chain.
    pub placeholder_credentials: bool,
}

/// CodePipeline through the official SDK client.
#[derive(Clone)]
pub struct CodePipelineAdapter {
    client: Client,
    /// Where the client's credentials come from (AWS's standard chain, or
    /// the placeholder).
    credentials: Option<aws_sdk_codepipeline::config::SharedCredentialsProvider>,
}

impl CodePipelineAdapter {
    pub async fn new(settings: &AwsSettings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.max_attempts.max(1))
                    .with_initial_backoff(settings.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(settings.operation_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            );
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if settings.placeholder_credentials {
            loader = loader.credentials_provider(aws_sdk_codepipeline::config::Credentials::new(
                "GATEHOUSEDEMO",
                "gatehouse-demo-secret",
                None,
                None,
                "gatehouse-placeholder",
            ));
        }
        let config = loader.load().await;
        Self {
            client: Client::new(&config),
            credentials: config.credentials_provider(),
        }
    }

    /// Asks the credential chain for credentials once, within `within`;
    /// says in words why there are none.
    pub async fn check_credentials(&self, within: Duration) -> Result<(), String> {
        use aws_sdk_codepipeline::config::ProvideCredentials;
        let Some(provider) = &self.credentials else {
            return Err("no AWS credential provider is set up".into());
        };
        match tokio::time::timeout(within, provider.provide_credentials()).await {
            Err(_) => Err(format!(
                "AWS's credential chain gave none within {} s",
                within.as_secs()
            )),
            Ok(Ok(_)) => Ok(()),
            // CredentialsError::CredentialsNotLoaded: every source was
            // asked and none had any.
            Ok(Err(err)) if err.to_string() == "the credential provider was not enabled" => Err(
                "none of AWS's credential sources (environment variables, profile, web identity, ECS task role, EC2 instance metadata) gave any"
                    .into(),
            ),
            Ok(Err(err)) => {
                // Each cause's words, without the SDK's debug dump.
                let mut words = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    words.push_str(": ");
                    words.push_str(&cause.to_string());
                    source = cause.source();
                }
                Err(format!("AWS's credential chain failed: {words}"))
            }
        }
    }
}

/// Sorts an SDK error into what Gatehouse does next.
fn classify<E>(err: SdkError<E, HttpResponse>) -> PipelineError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError");
            let message = format!(
                "{code}: {}",
                service.err().message().unwrap_or("no message")
            );
            match code {
                "InvalidApprovalTokenException" | "ApprovalAlreadyCompletedException" => {
                    PipelineError::Reconcile(message)
                }
                "PipelineNotFoundException"
                | "StageNotFoundException"
                | "ActionNotFoundException"
                | "PipelineExecutionNotFoundException" => PipelineError::Configuration(message),
                "ThrottlingException" | "LimitExceededException" | "RequestLimitExceeded" => {
                    PipelineError::Unavailable(format!("throttled after retries ({message})"))
                }
                _ if service.raw().status().is_server_error() => {
                    PipelineError::Unavailable(message)
                }
                _ => PipelineError::Rejected(message),
            }
        }
        SdkError::TimeoutError(_) => PipelineError::Unavailable("timed out".into()),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PipelineError::Unavailable(detail)
        }
        _ => PipelineError::Rejected(detail),
    }
}

/// The commit message in a revision summary: GitHub-connected sources put a
/// JSON object there, others the message itself.
fn commit_message(summary: &str) -> String {
    serde_json::from_str::<serde_json::Value>(summary)
        .ok()
        .and_then(|v| {
            v.get("CommitMessage")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| summary.to_owned())
}

fn to_chrono(t: &aws_sdk_codepipeline::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// A finished execution as the board records it.
fn finished(exec: &PipelineExecutionSummary) -> FinishedExecution {
    let source = exec.source_revisions().first();
    let branch = exec
        .trigger()
        .and_then(|t| t.trigger_detail())
        .and_then(|d| d.strip_prefix("refs/heads/"))
        .map(str::to_owned);
    FinishedExecution {
        execution_id: exec.pipeline_execution_id().unwrap_or_default().to_owned(),
        revision: SourceRevision {
            commit: source
                .and_then(|s| s.revision_id())
                .unwrap_or_default()
                .to_owned(),
            message: source
                .and_then(|s| s.revision_summary())
                .map(commit_message),
            branch,
            url: source.and_then(|s| s.revision_url()).map(str::to_owned),
        },
        finished_at: exec
            .last_update_time()
            .and_then(to_chrono)
            .unwrap_or_else(Utc::now),
    }
}

impl CodePipelineAdapter {
    /// One page of a pipeline's executions, newest first
    /// (ListPipelineExecutions).
    async fn executions_page(
        &self,
        pipeline: &str,
        max: i32,
        next: Option<String>,
    ) -> Result<
        aws_sdk_codepipeline::operation::list_pipeline_executions::ListPipelineExecutionsOutput,
        PipelineError,
    > {
        self.client
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .max_results(max)
            .set_next_token(next)
            .send()
            .timed("ListPipelineExecutions")
            .await
            .map_err(classify)
    }

    /// The approval stage's latest execution id and the approval action's
    /// latest execution, from GetPipelineState.
    async fn approval_state(
        &self,
        target: &ApprovalTarget,
    ) -> Result<(Option<String>, Option<ActionExecution>), PipelineError> {
        let state = self
            .client
            .get_pipeline_state()
            .name(&target.pipeline)
            .send()
            .timed("GetPipelineState")
            .await
            .map_err(classify)?;
        let stage = state
            .stage_states()
            .iter()
            .find(|s| s.stage_name() == Some(target.stage.as_str()))
            .ok_or_else(|| {
                PipelineError::Configuration(format!(
                    "pipeline {} has no stage {}",
                    target.pipeline, target.stage
                ))
            })?;
        let action = stage
            .action_states()
            .iter()
            .find(|a| a.action_name() == Some(target.action.as_str()))
            .ok_or_else(|| {
                PipelineError::Configuration(format!(
                    "stage {} has no action {}",
                    target.stage, target.action
                ))
            })?;
        let execution_id = stage
            .latest_execution()
            .map(|e| e.pipeline_execution_id().to_owned());
        Ok((execution_id, action.latest_execution().cloned()))
    }
}

#[async_trait]
impl Pipelines for CodePipelineAdapter {
    async fn approval_now(&self, target: &ApprovalTarget) -> Result<ApprovalNow, PipelineError> {
        let (execution_id, latest) = self.approval_state(target).await?;
        let Some(latest) = latest else {
            return Ok(ApprovalNow::Idle);
        };
        let answered = |approved: bool| {
            execution_id.clone().map(|execution_id| {
                ApprovalNow::Answered(LastAnswer {
                    execution_id,
                    approved,
                    summary: latest.summary().map(str::to_owned),
                    updated_by: latest.last_updated_by().map(str::to_owned),
                })
            })
        };
        Ok(match (latest.status(), latest.token()) {
            (Some(ActionExecutionStatus::InProgress), Some(token)) => {
                let execution_id = execution_id.ok_or_else(|| {
                    PipelineError::Rejected(
                        "an approval is waiting but its stage has no execution".into(),
                    )
                })?;
                ApprovalNow::Waiting(PendingApproval {
                    target: target.clone(),
                    token: token.to_owned(),
                    execution_id,
                    requested_at: latest
                        .last_status_change()
                        .and_then(to_chrono)
                        .unwrap_or_else(Utc::now),
                })
            }
            (Some(ActionExecutionStatus::Succeeded), _) => {
                answered(true).unwrap_or(ApprovalNow::Idle)
            }
            (Some(ActionExecutionStatus::Failed), _) => {
                answered(false).unwrap_or(ApprovalNow::Idle)
            }
            _ => ApprovalNow::Idle,
        })
    }

    async fn revision(
        &self,
        pipeline: &str,
        execution_id: &str,
    ) -> Result<SourceRevision, PipelineError> {
        let execution = self
            .client
            .get_pipeline_execution()
            .pipeline_name(pipeline)
            .pipeline_execution_id(execution_id)
            .send()
            .timed("GetPipelineExecution")
            .await
            .map_err(classify)?;
        let artifact = execution
            .pipeline_execution()
            .and_then(|e| e.artifact_revisions().first())
            .ok_or_else(|| {
                PipelineError::Rejected(format!("execution {execution_id} has no source revision"))
            })?;
        let message = artifact.revision_summary().map(commit_message);
        let actions = self
            .client
            .list_action_executions()
            .pipeline_name(pipeline)
            .filter(
                ActionExecutionFilter::builder()
                    .pipeline_execution_id(execution_id)
                    .build(),
            )
            .send()
            .timed("ListActionExecutions")
            .await
            .map_err(classify)?;
        let branch = actions
            .action_execution_details()
            .iter()
            .filter_map(|d| d.output().and_then(|o| o.output_variables()))
            .find_map(|vars| vars.get("BranchName").cloned());
        Ok(SourceRevision {
            commit: artifact.revision_id().unwrap_or_default().to_owned(),
            message,
            branch,
            url: artifact.revision_url().map(str::to_owned),
        })
    }

    async fn pipeline_names(&self) -> Result<Vec<String>, PipelineError> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .list_pipelines()
                .set_next_token(next.take())
                .send()
                .timed("ListPipelines")
                .await
                .map_err(classify)?;
            names.extend(
                page.pipelines()
                    .iter()
                    .filter_map(|p| p.name().map(str::to_owned)),
            );
            match page.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => return Ok(names),
            }
        }
    }

    async fn pipeline_stages(
        &self,
        pipeline: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, PipelineError> {
        let output = self
            .client
            .get_pipeline()
            .name(pipeline)
            .send()
            .timed("GetPipeline")
            .await
            .map_err(classify)?;
        let stages = output
            .pipeline()
            .map(|p| p.stages())
            .unwrap_or_default()
            .iter()
            .map(|stage| {
                let actions = stage
                    .actions()
                    .iter()
                    .map(|a| {
                        let category = a
                            .action_type_id()
                            .map(|t| t.category().as_str().to_owned())
                            .unwrap_or_default();
                        (a.name().to_owned(), category)
                    })
                    .collect();
                (stage.name().to_owned(), actions)
            })
            .collect();
        Ok(stages)
    }

    async fn status(&self, pipeline: &str) -> Result<PipelineStatus, PipelineError> {
        let state = self
            .client
            .get_pipeline_state()
            .name(pipeline)
            .send()
            .timed("GetPipelineState")
            .await
            .map_err(classify)?;
        let mut actions = Vec::new();
        let mut latest_execution = None;
        for stage in state.stage_states() {
            let stage_name = stage.stage_name().unwrap_or_default();
            if let Some(exec) = stage.latest_execution() {
                // Stages are in order: the last one an execution reached
                // tells where the newest run is.
                latest_execution = Some((
                    exec.pipeline_execution_id().to_owned(),
                    exec.status().as_str().to_owned(),
                ));
            }
            for action in stage.action_states() {
                let latest = action.latest_execution();
                actions.push(ActionStatus {
                    stage: stage_name.to_owned(),
                    action: action.action_name().unwrap_or_default().to_owned(),
                    status: latest
                        .and_then(|l| l.status())
                        .map(|s| s.as_str().to_owned()),
                    summary: latest.and_then(|l| l.summary()).map(str::to_owned),
                    url: latest
                        .and_then(|l| l.external_execution_url())
                        .or(action.entity_url())
                        .map(str::to_owned),
                    execution_id: stage
                        .latest_execution()
                        .map(|e| e.pipeline_execution_id().to_owned()),
                });
            }
        }
        Ok(PipelineStatus {
            actions,
            latest_execution,
        })
    }

    async fn last_succeeded(
        &self,
        pipeline: &str,
    ) -> Result<Option<FinishedExecution>, PipelineError> {
        let mut next: Option<String> = None;
        // Newest first; a few pages reach far enough back for any board.
        for _ in 0..5 {
            let page = self.executions_page(pipeline, 50, next.take()).await?;
            if let Some(exec) = page
                .pipeline_execution_summaries()
                .iter()
                .find(|e| e.status() == Some(&PipelineExecutionStatus::Succeeded))
            {
                return Ok(Some(finished(exec)));
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(None)
    }

    async fn succeeded_since(
        &self,
        pipeline: &str,
        since: DateTime<Utc>,
        max_pages: usize,
    ) -> Result<Vec<FinishedExecution>, PipelineError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..max_pages {
            let page = self.executions_page(pipeline, 100, next.take()).await?;
            let mut older = false;
            for exec in page.pipeline_execution_summaries() {
                let started = exec.start_time().and_then(to_chrono);
                if started.is_some_and(|s| s < since) {
                    older = true;
                    break;
                }
                if exec.status() == Some(&PipelineExecutionStatus::Succeeded) {
                    out.push(finished(exec));
                }
            }
            match page.next_token() {
                Some(token) if !token.is_empty() && !older => next = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn start_execution(
        &self,
        pipeline: &str,
        client_token: &str,
    ) -> Result<String, PipelineError> {
        let output = self
            .client
            .start_pipeline_execution()
            .name(pipeline)
            .client_request_token(client_token)
            .send()
            .timed("StartPipelineExecution")
            .await
            .map_err(classify)?;
        output
            .pipeline_execution_id()
            .map(str::to_owned)
            .ok_or_else(|| PipelineError::Rejected("CodePipeline returned no execution id".into()))
    }

    async fn put_approval_result(
        &self,
        target: &ApprovalTarget,
        token: &str,
        approved: bool,
        summary: &str,
    ) -> Result<DateTime<Utc>, PipelineError> {
        let summary: String = summary.chars().take(512).collect();
        let result = ApprovalResult::builder()
            .status(if approved {
                ApprovalStatus::Approved
            } else {
                ApprovalStatus::Rejected
            })
            .summary(summary)
            .build()
            .map_err(|e| PipelineError::Rejected(e.to_string()))?;
        let output = self
            .client
            .put_approval_result()
            .pipeline_name(&target.pipeline)
            .stage_name(&target.stage)
            .action_name(&target.action)
            .token(token)
            .result(result)
            .send()
            .timed("PutApprovalResult")
            .await
            .map_err(classify)?;
        Ok(output
            .approved_at()
            .and_then(to_chrono)
            .unwrap_or_else(Utc::now))
    }
}
