//! A CodePipeline simulator for demo mode and tests. It speaks the service's
//! own wire protocol (awsJson1_1: `POST /` with `X-Amz-Target:
//! CodePipeline_20150709.<Operation>`, JSON bodies with the service's member
//! names, epoch-second timestamps, errors as `{"__type", "message"}`), so the
//! real aws-sdk-codepipeline client talks to it unchanged through its
//! endpoint URL.
//!
//! Each pipeline runs Source -> Build -> an approval stage -> Deploy.
//! Executions advance on the simulator's clock; approvals wait with a real
//! token (a UUID) until answered or expired. Under `/_sim/` an HTTP control
//! surface starts executions, moves the clock, answers approvals out of band
//! (as the AWS console would), scripts faults and counts calls.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

const TARGET_PREFIX: &str = "CodePipeline_20150709.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How a simulated pipeline behaves.
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    /// How long the Source, Build and Deploy stages each take.
    pub stage_duration: Duration,
    /// How long an approval waits before it expires (AWS: 7 days).
    pub approval_ttl: Duration,
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self {
            stage_duration: Duration::seconds(20),
            approval_ttl: Duration::days(7),
        }
    }
}

/// The shape of one simulated pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSpec {
    pub name: String,
    /// `owner/name` of the source repository.
    pub repository: String,
    /// The branch the source action watches.
    pub branch: String,
    /// The approval stage and action names; `None` for a pipeline that
    /// deploys without approval.
    pub approval: Option<(String, String)>,
}

/// A source revision an execution runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSpec {
    pub commit: String,
    pub message: String,
    /// Optional: overrides the pipeline's branch (e.g. a `release/*` trigger).
    pub branch: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Source,
    Build,
    Approval,
    Deploy,
}

impl Category {
    fn as_str(self) -> &'static str {
        match self {
            Category::Source => "Source",
            Category::Build => "Build",
            Category::Approval => "Approval",
            Category::Deploy => "Deploy",
        }
    }

    fn provider(self) -> &'static str {
        match self {
            Category::Source => "CodeStarSourceConnection",
            Category::Build => "CodeBuild",
            Category::Approval => "Manual",
            Category::Deploy => "CodeDeploy",
        }
    }
}

#[derive(Debug, Clone)]
struct StageDef {
    name: String,
    action: String,
    category: Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InProgress,
    Succeeded,
    Failed,
    Superseded,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Superseded => "Superseded",
        }
    }
}

#[derive(Debug, Clone)]
struct Answer {
    approved: bool,
    summary: String,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Approval {
    token: String,
    requested: DateTime<Utc>,
    expires: DateTime<Utc>,
    answer: Option<Answer>,
}

#[derive(Debug, Clone)]
struct Execution {
    id: String,
    commit: String,
    message: String,
    branch: String,
    started: DateTime<Utc>,
    /// Index of the stage running now; `stages.len()` once finished.
    stage: usize,
    stage_started: DateTime<Utc>,
    status: Status,
    summary: Option<String>,
    approval: Option<Approval>,
    /// One action execution id per stage reached.
    action_ids: Vec<String>,
}

#[derive(Debug, Clone)]
struct Pipeline {
    spec: PipelineSpec,
    created: DateTime<Utc>,
    stages: Vec<StageDef>,
    executions: Vec<Execution>,
}

/// Faults to inject into the next calls.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Answer this many calls with ThrottlingException.
    pub throttle: u32,
    /// Answer this many calls with HTTP 500.
    pub server_errors: u32,
    /// Delay every call by this many milliseconds.
    pub latency_ms: u64,
    /// Process the call, then wait this long before answering: the call
    /// takes effect even if the client gives up (a lost response).
    pub lost_response_ms: u64,
    /// Only apply `throttle` and `server_errors` to this operation.
    pub operation: Option<String>,
}

struct World {
    settings: SimulatorSettings,
    pipelines: BTreeMap<String, Pipeline>,
    offset: Duration,
    faults: Faults,
    calls: BTreeMap<String, u64>,
}

/// A running simulator's state, shared by its HTTP handlers.
#[derive(Clone)]
pub struct Simulator {
    world: Arc<Mutex<World>>,
}

/// An error in the service's wire format.
struct AwsError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl AwsError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind,
            message: message.into(),
        }
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.kind, "message": self.message });
        (
            self.status,
            [
                ("content-type", CONTENT_TYPE),
                ("x-amzn-errortype", self.kind),
            ],
            body.to_string(),
        )
            .into_response()
    }
}

fn epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

impl Simulator {
    pub fn new(settings: SimulatorSettings) -> Self {
        Self {
            world: Arc::new(Mutex::new(World {
                settings,
                pipelines: BTreeMap::new(),
                offset: Duration::zero(),
                faults: Faults::default(),
                calls: BTreeMap::new(),
            })),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data; keep serving.
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or replaces) a pipeline.
    pub fn add_pipeline(&self, spec: PipelineSpec) {
        let mut world = self.world();
        let now = world.now();
        let mut stages = vec![
            StageDef {
                name: "Source".into(),
                action: "Source".into(),
                category: Category::Source,
            },
            StageDef {
                name: "Build".into(),
                action: "Build".into(),
                category: Category::Build,
            },
        ];
        if let Some((stage, action)) = &spec.approval {
            stages.push(StageDef {
                name: stage.clone(),
                action: action.clone(),
                category: Category::Approval,
            });
        }
        stages.push(StageDef {
            name: "Deploy".into(),
            action: "Deploy".into(),
            category: Category::Deploy,
        });
        world.pipelines.insert(
            spec.name.clone(),
            Pipeline {
                spec,
                created: now,
                stages,
                executions: Vec::new(),
            },
        );
    }

    /// Starts an execution of `revision`; an older one still before or at
    /// its approval is superseded. Returns the execution id.
    pub fn start_execution(&self, pipeline: &str, revision: RevisionSpec) -> Option<String> {
        let mut world = self.world();
        let now = world.now();
        world.advance(now);
        world.start_execution(pipeline, revision, now).ok()
    }

    /// Records an execution of `revision` that ran every stage (approved,
    /// where there is an approval) and finished at `finished`, older than
    /// any other: what the pipeline deployed before the demo or test began.
    pub fn add_past_execution(
        &self,
        pipeline: &str,
        revision: RevisionSpec,
        finished: DateTime<Utc>,
    ) -> Option<String> {
        let mut world = self.world();
        let stage_duration = world.settings.stage_duration;
        let p = world.pipelines.get_mut(pipeline)?;
        let stages = i32::try_from(p.stages.len()).unwrap_or(4);
        let started = finished - stage_duration * stages;
        let id = Uuid::new_v4().to_string();
        let has_approval = p.stages.iter().any(|s| s.category == Category::Approval);
        p.executions.insert(
            0,
            Execution {
                id: id.clone(),
                commit: revision.commit,
                message: revision.message,
                branch: revision.branch.unwrap_or_else(|| p.spec.branch.clone()),
                started,
                stage: p.stages.len(),
                stage_started: finished,
                status: Status::Succeeded,
                summary: None,
                approval: has_approval.then(|| Approval {
                    token: Uuid::new_v4().to_string(),
                    requested: started,
                    expires: started + Duration::days(7),
                    answer: Some(Answer {
                        approved: true,
                        summary: "Approved".into(),
                        at: finished - stage_duration,
                    }),
                }),
                action_ids: p
                    .stages
                    .iter()
                    .map(|_| Uuid::new_v4().to_string())
                    .collect(),
            },
        );
        Some(id)
    }

    /// Moves the simulator's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        let mut world = self.world();
        world.offset += by;
        let now = world.now();
        world.advance(now);
    }

    /// Scripts faults for the next calls.
    pub fn set_faults(&self, faults: Faults) {
        self.world().faults = faults;
    }

    /// How many times each operation has been called.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.world().calls.clone()
    }

    /// Answers the waiting approval of `pipeline` as if in the AWS console.
    pub fn answer_out_of_band(&self, pipeline: &str, approved: bool, summary: &str) -> bool {
        let mut world = self.world();
        let now = world.now();
        world.advance(now);
        let answered = world
            .pipelines
            .get_mut(pipeline)
            .and_then(|p| {
                p.executions
                    .iter_mut()
                    .rev()
                    .find_map(|e| e.approval.as_mut())
            })
            .filter(|a| a.answer.is_none())
            .map(|a| {
                a.answer = Some(Answer {
                    approved,
                    summary: summary.to_owned(),
                    at: now,
                })
            })
            .is_some();
        world.advance(now);
        answered
    }

    /// The simulator as an axum router: the CodePipeline API on `POST /`
    /// and the control surface under `/_sim/`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(api))
            .route("/_sim/pipelines", post(sim_add_pipeline))
            .route(
                "/_sim/pipelines/{name}/executions",
                post(sim_start_execution),
            )
            .route("/_sim/pipelines/{name}/answer", post(sim_answer))
            .route("/_sim/pipelines/{name}/deployed", post(sim_past_execution))
            .route("/_sim/clock", post(sim_clock))
            .route("/_sim/faults", post(sim_faults))
            .route("/_sim/calls", get(sim_calls))
            .with_state(self.clone())
    }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// Moves every running execution forward to `now`.
    fn advance(&mut self, now: DateTime<Utc>) {
        let settings = self.settings.clone();
        for pipeline in self.pipelines.values_mut() {
            let stages = pipeline.stages.clone();
            for exec in pipeline
                .executions
                .iter_mut()
                .filter(|e| e.status == Status::InProgress)
            {
                advance_execution(exec, &stages, &settings, now);
            }
        }
    }
}

fn enter_next_stage(exec: &mut Execution, stages: &[StageDef], at: DateTime<Utc>) {
    exec.stage += 1;
    exec.stage_started = at;
    if exec.stage >= stages.len() {
        exec.status = Status::Succeeded;
        exec.summary = None;
    } else {
        exec.action_ids.push(Uuid::new_v4().to_string());
    }
}

fn advance_execution(
    exec: &mut Execution,
    stages: &[StageDef],
    settings: &SimulatorSettings,
    now: DateTime<Utc>,
) {
    while exec.status == Status::InProgress && exec.stage < stages.len() {
        match stages[exec.stage].category {
            Category::Approval => {
                let approval = exec.approval.get_or_insert_with(|| Approval {
                    token: Uuid::new_v4().to_string(),
                    requested: exec.stage_started,
                    expires: exec.stage_started + settings.approval_ttl,
                    answer: None,
                });
                match approval.answer.clone() {
                    Some(Answer {
                        approved: true, at, ..
                    }) => enter_next_stage(exec, stages, at),
                    Some(Answer {
                        approved: false,
                        summary,
                        ..
                    }) => {
                        exec.status = Status::Failed;
                        exec.summary = Some(format!("Rejected: {summary}"));
                    }
                    None if now >= approval.expires => {
                        exec.status = Status::Failed;
                        exec.summary = Some("Approval expired".into());
                    }
                    None => return,
                }
            }
            _ => {
                let done_at = exec.stage_started + settings.stage_duration;
                if now < done_at {
                    return;
                }
                enter_next_stage(exec, stages, done_at);
            }
        }
    }
}

/// Dispatches one API call by its `X-Amz-Target`.
async fn api(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(operation) = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(TARGET_PREFIX))
        .map(str::to_owned)
    else {
        return AwsError::new(
            "UnknownOperationException",
            "missing or unknown X-Amz-Target",
        )
        .into_response();
    };
    let input: Value = match serde_json::from_slice(if body.is_empty() { b"{}" } else { &body }) {
        Ok(v) => v,
        Err(e) => return AwsError::new("SerializationException", e.to_string()).into_response(),
    };
    let latency = {
        let mut world = sim.world();
        *world.calls.entry(operation.clone()).or_default() += 1;
        world.faults.latency_ms
    };
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let result = {
        let mut world = sim.world();
        if let Some(fault) = world.injected_fault(&operation) {
            Err(fault)
        } else {
            let now = world.now();
            world.advance(now);
            world.handle(&operation, &input, now)
        }
    };
    let lost_response = sim.world().faults.lost_response_ms;
    if lost_response > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(lost_response)).await;
    }
    match result {
        Ok(output) => ([("content-type", CONTENT_TYPE)], output.to_string()).into_response(),
        Err(err) => err.into_response(),
    }
}

impl World {
    /// Starts an execution; an older one still before or at its approval is
    /// superseded (CodePipeline's SUPERSEDED execution mode).
    fn start_execution(
        &mut self,
        pipeline: &str,
        revision: RevisionSpec,
        now: DateTime<Utc>,
    ) -> Result<String, AwsError> {
        let p = self
            .pipelines
            .get_mut(pipeline)
            .ok_or_else(|| AwsError::new("PipelineNotFoundException", pipeline.to_owned()))?;
        let approval_index = p
            .stages
            .iter()
            .position(|s| s.category == Category::Approval);
        for old in p
            .executions
            .iter_mut()
            .filter(|e| e.status == Status::InProgress)
        {
            if approval_index.is_none_or(|i| old.stage <= i) {
                old.status = Status::Superseded;
                old.summary = Some("Superseded by a newer execution".into());
            }
        }
        let id = Uuid::new_v4().to_string();
        p.executions.push(Execution {
            id: id.clone(),
            commit: revision.commit,
            message: revision.message,
            branch: revision.branch.unwrap_or_else(|| p.spec.branch.clone()),
            started: now,
            stage: 0,
            stage_started: now,
            status: Status::InProgress,
            summary: None,
            approval: None,
            action_ids: vec![Uuid::new_v4().to_string()],
        });
        Ok(id)
    }

    fn injected_fault(&mut self, operation: &str) -> Option<AwsError> {
        let applies = self
            .faults
            .operation
            .as_deref()
            .is_none_or(|op| op == operation);
        if !applies {
            return None;
        }
        if self.faults.throttle > 0 {
            self.faults.throttle -= 1;
            return Some(AwsError::new("ThrottlingException", "Rate exceeded"));
        }
        if self.faults.server_errors > 0 {
            self.faults.server_errors -= 1;
            return Some(AwsError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                kind: "InternalFailure",
                message: "The simulator was told to fail this call".into(),
            });
        }
        None
    }

    fn pipeline(&self, input: &Value, field: &str) -> Result<&Pipeline, AwsError> {
        let name = str_field(input, field)?;
        self.pipelines.get(name).ok_or_else(|| {
            AwsError::new(
                "PipelineNotFoundException",
                format!("Account does not have a pipeline with name '{name}'"),
            )
        })
    }

    fn handle(
        &mut self,
        operation: &str,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, AwsError> {
        match operation {
            "ListPipelines" => Ok(self.list_pipelines(input)),
            "GetPipeline" => self.get_pipeline(input),
            "GetPipelineState" => self.get_pipeline_state(input),
            "GetPipelineExecution" => self.get_pipeline_execution(input),
            "ListActionExecutions" => self.list_action_executions(input),
            "ListPipelineExecutions" => self.list_pipeline_executions(input),
            "PutApprovalResult" => self.put_approval_result(input, now),
            "StartPipelineExecution" => {
                let pipeline = self.pipeline(input, "name")?;
                let last = pipeline.executions.last().ok_or_else(|| {
                    AwsError::new(
                        "ValidationException",
                        "the pipeline has no source revision to run yet",
                    )
                })?;
                let revision = RevisionSpec {
                    commit: last.commit.clone(),
                    message: last.message.clone(),
                    branch: Some(last.branch.clone()),
                };
                let name = pipeline.spec.name.clone();
                self.start_execution(&name, revision, now)
                    .map(|id| json!({ "pipelineExecutionId": id }))
            }
            other => Err(AwsError::new(
                "UnknownOperationException",
                format!("the simulator does not implement {other}"),
            )),
        }
    }

    fn list_pipelines(&self, input: &Value) -> Value {
        let max = input
            .get("maxResults")
            .and_then(Value::as_u64)
            .unwrap_or(100)
            .clamp(1, 1000) as usize;
        let start = input
            .get("nextToken")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let names: Vec<&Pipeline> = self.pipelines.values().collect();
        let page: Vec<Value> = names
            .iter()
            .skip(start)
            .take(max)
            .map(|p| {
                json!({
                    "name": p.spec.name, "version": 1, "pipelineType": "V2", "executionMode": "SUPERSEDED",
                    "created": epoch(p.created), "updated": epoch(p.created)
                })
            })
            .collect();
        let mut out = json!({ "pipelines": page });
        if start + max < names.len() {
            out["nextToken"] = json!((start + max).to_string());
        }
        out
    }

    fn get_pipeline(&self, input: &Value) -> Result<Value, AwsError> {
        let p = self.pipeline(input, "name")?;
        let stages: Vec<Value> = p
            .stages
            .iter()
            .map(|s| {
                let mut configuration = serde_json::Map::new();
                if s.category == Category::Source {
                    configuration.insert("FullRepositoryId".into(), json!(p.spec.repository));
                    configuration.insert("BranchName".into(), json!(p.spec.branch));
                }
                json!({
                    "name": s.name,
                    "actions": [{
                        "name": s.action,
                        "actionTypeId": { "category": s.category.as_str(), "owner": "AWS", "provider": s.category.provider(), "version": "1" },
                        "runOrder": 1,
                        "configuration": configuration,
                    }]
                })
            })
            .collect();
        Ok(json!({
            "pipeline": {
                "name": p.spec.name, "roleArn": format!("arn:aws:iam::000000000000:role/{}", p.spec.name),
                "stages": stages, "version": 1, "executionMode": "SUPERSEDED", "pipelineType": "V2"
            },
            "metadata": {
                "pipelineArn": format!("arn:aws:codepipeline:us-east-1:000000000000:{}", p.spec.name),
                "created": epoch(p.created), "updated": epoch(p.created)
            }
        }))
    }

    fn get_pipeline_state(&self, input: &Value) -> Result<Value, AwsError> {
        let p = self.pipeline(input, "name")?;
        let stage_states: Vec<Value> = p
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                // The newest execution that reached this stage.
                let exec = p.executions.iter().rev().find(|e| e.stage >= i || e.action_ids.len() > i);
                let mut state = json!({
                    "stageName": stage.name,
                    "inboundTransitionState": { "enabled": true },
                    "actionStates": [{ "actionName": stage.action }],
                });
                if let Some(exec) = exec {
                    let (status, summary, token, changed) = action_view(exec, i, stage);
                    let mut latest = json!({
                        "actionExecutionId": exec.action_ids.get(i).cloned().unwrap_or_default(),
                        "status": status,
                        "lastStatusChange": epoch(changed),
                    });
                    if let Some(summary) = summary {
                        latest["summary"] = json!(summary);
                    }
                    if let Some(token) = token {
                        latest["token"] = json!(token);
                    }
                    if let Some(url) = console_url(&p.spec.name, stage, exec.action_ids.get(i)) {
                        latest["externalExecutionUrl"] = json!(url);
                    }
                    state["actionStates"][0]["latestExecution"] = latest;
                    if stage.category == Category::Source {
                        state["actionStates"][0]["currentRevision"] =
                            json!({ "revisionId": exec.commit, "revisionChangeId": exec.commit, "created": epoch(exec.started) });
                    }
                    let stage_status = if exec.stage == i && exec.status == Status::InProgress { "InProgress" } else { status };
                    state["latestExecution"] = json!({ "pipelineExecutionId": exec.id, "status": stage_status });
                }
                state
            })
            .collect();
        Ok(json!({
            "pipelineName": p.spec.name, "pipelineVersion": 1, "stageStates": stage_states,
            "created": epoch(p.created), "updated": epoch(p.created)
        }))
    }

    fn execution<'a>(&'a self, input: &Value) -> Result<(&'a Pipeline, &'a Execution), AwsError> {
        let p = self.pipeline(input, "pipelineName")?;
        let id = str_field(input, "pipelineExecutionId")?;
        let exec = p.executions.iter().find(|e| e.id == id).ok_or_else(|| {
            AwsError::new(
                "PipelineExecutionNotFoundException",
                format!("Pipeline execution {id} not found"),
            )
        })?;
        Ok((p, exec))
    }

    fn get_pipeline_execution(&self, input: &Value) -> Result<Value, AwsError> {
        let (p, exec) = self.execution(input)?;
        let summary =
            json!({ "ProviderType": "GitHub", "CommitMessage": exec.message }).to_string();
        let mut execution = json!({
            "pipelineName": p.spec.name, "pipelineVersion": 1, "pipelineExecutionId": exec.id,
            "status": exec.status.as_str(), "executionMode": "SUPERSEDED", "executionType": "STANDARD",
            "artifactRevisions": [{
                "name": "SourceArtifact", "revisionId": exec.commit, "revisionChangeIdentifier": exec.commit,
                "revisionSummary": summary, "created": epoch(exec.started),
                "revisionUrl": format!("https://github.com/{}/commit/{}", p.spec.repository, exec.commit)
            }],
            "trigger": { "triggerType": "Webhook", "triggerDetail": format!("refs/heads/{}", exec.branch) }
        });
        if let Some(summary) = &exec.summary {
            execution["statusSummary"] = json!(summary);
        }
        Ok(json!({ "pipelineExecution": execution }))
    }

    fn list_pipeline_executions(&self, input: &Value) -> Result<Value, AwsError> {
        let p = self.pipeline(input, "pipelineName")?;
        let max = input
            .get("maxResults")
            .and_then(Value::as_u64)
            .map_or(100, |m| usize::try_from(m).unwrap_or(100))
            .clamp(1, 100);
        let skip: usize = input
            .get("nextToken")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let newest_first: Vec<&Execution> = p.executions.iter().rev().collect();
        let summaries: Vec<Value> = newest_first
            .iter()
            .skip(skip)
            .take(max)
            .map(|exec| {
                let summary =
                    json!({ "ProviderType": "GitHub", "CommitMessage": exec.message }).to_string();
                let mut out = json!({
                    "pipelineExecutionId": exec.id,
                    "status": exec.status.as_str(),
                    "startTime": epoch(exec.started),
                    "lastUpdateTime": epoch(exec.stage_started),
                    "sourceRevisions": [{
                        "actionName": "Source", "revisionId": exec.commit,
                        "revisionSummary": summary,
                        "revisionUrl": format!("https://github.com/{}/commit/{}", p.spec.repository, exec.commit)
                    }],
                    "trigger": { "triggerType": "Webhook", "triggerDetail": format!("refs/heads/{}", exec.branch) },
                    "executionMode": "SUPERSEDED"
                });
                if let Some(summary) = &exec.summary {
                    out["statusSummary"] = json!(summary);
                }
                out
            })
            .collect();
        let mut out = json!({ "pipelineExecutionSummaries": summaries });
        if skip + max < newest_first.len() {
            out["nextToken"] = json!((skip + max).to_string());
        }
        Ok(out)
    }

    fn list_action_executions(&self, input: &Value) -> Result<Value, AwsError> {
        let p = self.pipeline(input, "pipelineName")?;
        let wanted = input
            .pointer("/filter/pipelineExecutionId")
            .and_then(Value::as_str);
        let mut details = Vec::new();
        for exec in p
            .executions
            .iter()
            .rev()
            .filter(|e| wanted.is_none_or(|w| w == e.id))
        {
            for (i, stage) in p
                .stages
                .iter()
                .enumerate()
                .take(exec.action_ids.len())
                .rev()
            {
                let (status, summary, _, changed) = action_view(exec, i, stage);
                let mut detail = json!({
                    "pipelineExecutionId": exec.id, "actionExecutionId": exec.action_ids[i], "pipelineVersion": 1,
                    "stageName": stage.name, "actionName": stage.action, "startTime": epoch(exec.started),
                    "lastUpdateTime": epoch(changed), "status": status,
                    "input": { "actionTypeId": { "category": stage.category.as_str(), "owner": "AWS", "provider": stage.category.provider(), "version": "1" } },
                });
                if let Some(summary) = summary {
                    detail["output"] =
                        json!({ "executionResult": { "externalExecutionSummary": summary } });
                }
                if stage.category == Category::Source {
                    detail["output"] = json!({ "outputVariables": {
                        "BranchName": exec.branch, "CommitId": exec.commit, "CommitMessage": exec.message,
                        "FullRepositoryName": p.spec.repository, "AuthorDate": exec.started.to_rfc3339()
                    }});
                }
                details.push(detail);
            }
        }
        Ok(json!({ "actionExecutionDetails": details }))
    }

    fn put_approval_result(
        &mut self,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, AwsError> {
        let stage_name = str_field(input, "stageName")?.to_owned();
        let action_name = str_field(input, "actionName")?.to_owned();
        let token = str_field(input, "token")?.to_owned();
        let status = input
            .pointer("/result/status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let summary = input
            .pointer("/result/summary")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let approved = match status {
            "Approved" => true,
            "Rejected" => false,
            other => {
                return Err(AwsError::new(
                    "ValidationException",
                    format!("result.status {other:?} is not Approved or Rejected"),
                ))
            }
        };
        if summary.chars().count() > 512 {
            return Err(AwsError::new(
                "ValidationException",
                "result.summary is longer than 512 characters",
            ));
        }
        if Uuid::parse_str(&token).is_err() {
            return Err(AwsError::new(
                "ValidationException",
                "token does not match the pattern of a UUID",
            ));
        }
        let name = self.pipeline(input, "pipelineName")?.spec.name.clone();
        let settings = self.settings.clone();
        let pipeline = self
            .pipelines
            .get_mut(&name)
            .ok_or_else(|| AwsError::new("PipelineNotFoundException", name.clone()))?;
        let Some(index) = pipeline.stages.iter().position(|s| s.name == stage_name) else {
            return Err(AwsError::new(
                "StageNotFoundException",
                format!("Stage {stage_name} not found in pipeline {name}"),
            ));
        };
        if pipeline.stages[index].action != action_name
            || pipeline.stages[index].category != Category::Approval
        {
            return Err(AwsError::new(
                "ActionNotFoundException",
                format!("Approval action {action_name} not found in stage {stage_name}"),
            ));
        }
        let stages = pipeline.stages.clone();
        let exec = pipeline
            .executions
            .iter_mut()
            .find(|e| e.approval.as_ref().is_some_and(|a| a.token == token))
            .ok_or_else(|| {
                AwsError::new(
                    "InvalidApprovalTokenException",
                    format!("The token {token} is not valid for {stage_name}/{action_name}"),
                )
            })?;
        let approval = exec
            .approval
            .as_mut()
            .ok_or_else(|| AwsError::new("InvalidApprovalTokenException", "no approval"))?;
        if approval.answer.is_some() || exec.status != Status::InProgress {
            return Err(AwsError::new(
                "ApprovalAlreadyCompletedException",
                "The approval request already received a response or has expired",
            ));
        }
        approval.answer = Some(Answer {
            approved,
            summary,
            at: now,
        });
        advance_execution(exec, &stages, &settings, now);
        Ok(json!({ "approvedAt": epoch(now) }))
    }
}

/// Where the AWS console shows an action's run: the CodeBuild build or the
/// CodeDeploy deployment.
fn console_url(pipeline: &str, stage: &StageDef, action_id: Option<&String>) -> Option<String> {
    let id = action_id?;
    let short: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(9)
        .collect();
    match stage.category {
        Category::Build => Some(format!(
            "https://console.aws.amazon.com/codesuite/codebuild/projects/{pipeline}/build/{pipeline}:{id}/?region=us-east-1"
        )),
        Category::Deploy => Some(format!(
            "https://console.aws.amazon.com/codesuite/codedeploy/deployments/d-{}?region=us-east-1",
            short.to_uppercase()
        )),
        _ => None,
    }
}

/// How one stage's action looks for an execution: status, summary, token
/// (only while an approval waits) and when it last changed.
fn action_view(
    exec: &Execution,
    index: usize,
    stage: &StageDef,
) -> (&'static str, Option<String>, Option<String>, DateTime<Utc>) {
    let running_here = exec.stage == index;
    if index < exec.stage {
        let summary = (stage.category == Category::Approval)
            .then(|| {
                exec.approval
                    .as_ref()
                    .and_then(|a| a.answer.as_ref())
                    .map(|a| a.summary.clone())
            })
            .flatten();
        let changed = exec
            .approval
            .as_ref()
            .and_then(|a| a.answer.as_ref())
            .map_or(exec.stage_started, |a| a.at);
        return ("Succeeded", summary, None, changed);
    }
    match (running_here, exec.status) {
        (true, Status::InProgress) => {
            let token = (stage.category == Category::Approval)
                .then(|| exec.approval.as_ref().map(|a| a.token.clone()))
                .flatten();
            let requested = exec
                .approval
                .as_ref()
                .map_or(exec.stage_started, |a| a.requested);
            ("InProgress", None, token, requested)
        }
        (true, Status::Failed) => ("Failed", exec.summary.clone(), None, exec.stage_started),
        (true, Status::Superseded) => ("Abandoned", exec.summary.clone(), None, exec.stage_started),
        _ => ("Succeeded", None, None, exec.stage_started),
    }
}

fn str_field<'a>(input: &'a Value, field: &str) -> Result<&'a str, AwsError> {
    input
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsError::new("ValidationException", format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must not be null")))
}

async fn sim_add_pipeline(
    State(sim): State<Simulator>,
    Json(spec): Json<PipelineSpec>,
) -> StatusCode {
    sim.add_pipeline(spec);
    StatusCode::CREATED
}

async fn sim_start_execution(
    State(sim): State<Simulator>,
    Path(name): Path<String>,
    Json(rev): Json<RevisionSpec>,
) -> Response {
    match sim.start_execution(&name, rev) {
        Some(id) => (
            StatusCode::CREATED,
            Json(json!({ "pipelineExecutionId": id })),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, format!("no pipeline {name}")).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PastExecution {
    #[serde(flatten)]
    revision: RevisionSpec,
    /// How long ago it finished.
    finished_seconds_ago: i64,
}

async fn sim_past_execution(
    State(sim): State<Simulator>,
    Path(name): Path<String>,
    Json(past): Json<PastExecution>,
) -> Response {
    let finished = sim.world().now() - Duration::seconds(past.finished_seconds_ago);
    match sim.add_past_execution(&name, past.revision, finished) {
        Some(id) => (
            StatusCode::CREATED,
            Json(json!({ "pipelineExecutionId": id })),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, format!("no pipeline {name}")).into_response(),
    }
}

#[derive(Deserialize)]
struct OutOfBand {
    approved: bool,
    summary: String,
}

async fn sim_answer(
    State(sim): State<Simulator>,
    Path(name): Path<String>,
    Json(body): Json<OutOfBand>,
) -> StatusCode {
    if sim.answer_out_of_band(&name, body.approved, &body.summary) {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Clock {
    advance_seconds: i64,
}

async fn sim_clock(State(sim): State<Simulator>, Json(clock): Json<Clock>) -> StatusCode {
    sim.advance_clock(Duration::seconds(clock.advance_seconds));
    StatusCode::OK
}

async fn sim_faults(State(sim): State<Simulator>, Json(faults): Json<Faults>) -> StatusCode {
    sim.set_faults(faults);
    StatusCode::OK
}

async fn sim_calls(State(sim): State<Simulator>) -> Json<BTreeMap<String, u64>> {
    Json(sim.calls())
}
