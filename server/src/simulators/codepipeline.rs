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
    /// Kept exactly as PutApprovalResult sent it.
    summary: String,
    at: DateTime<Utc>,
    /// The caller's principal, shown as `lastUpdatedBy`.
    by: String,
}

#[derive(Debug, Clone)]
struct Approval {
    token: String,
    expires: DateTime<Utc>,
    answer: Option<Answer>,
}

/// One stage an execution entered: its action's run.
#[derive(Debug, Clone)]
struct StageRun {
    action_id: String,
    started: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Execution {
    id: String,
    commit: String,
    message: String,
    branch: String,
    started: DateTime<Utc>,
    /// The stage it runs in, or (with `waiting`) waits to enter;
    /// `stages.len()` once it has succeeded.
    stage: usize,
    /// Waiting at the inbound boundary of `stage`: it finished the stage
    /// before, and `stage` is still busy with an older execution.
    waiting: bool,
    /// When it entered `stage`, or arrived at its boundary.
    since: DateTime<Utc>,
    status: Status,
    summary: Option<String>,
    approval: Option<Approval>,
    /// One run per stage entered, in stage order.
    runs: Vec<StageRun>,
}

impl Execution {
    /// Whether it is running in stage `index` now (not merely waiting to).
    fn occupies(&self, index: usize) -> bool {
        self.status == Status::InProgress && !self.waiting && self.stage == index
    }

    /// When it last changed.
    fn updated(&self) -> DateTime<Utc> {
        self.runs
            .last()
            .map_or(self.since, |r| r.finished.unwrap_or(r.started))
            .max(self.since)
    }
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
    /// Only apply the faults above to this operation.
    pub operation: Option<String>,
}

struct World {
    settings: SimulatorSettings,
    pipelines: BTreeMap<String, Pipeline>,
    offset: Duration,
    faults: Faults,
    calls: BTreeMap<String, u64>,
    /// StartPipelineExecution's idempotency: (pipeline, clientRequestToken)
    /// to the execution it started.
    client_tokens: BTreeMap<(String, String), String>,
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
                client_tokens: BTreeMap::new(),
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

    /// Starts an execution of `revision` (CodePipeline's SUPERSEDED mode:
    /// it queues behind a busy stage, and supersedes an older execution
    /// waiting at the same stage boundary). Returns the execution id.
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
        let runs = (0..p.stages.len())
            .map(|i| {
                let at = started + stage_duration * i32::try_from(i).unwrap_or(0);
                StageRun {
                    action_id: Uuid::new_v4().to_string(),
                    started: at,
                    finished: Some(at + stage_duration),
                }
            })
            .collect();
        p.executions.insert(
            0,
            Execution {
                id: id.clone(),
                commit: revision.commit,
                message: revision.message,
                branch: revision.branch.unwrap_or_else(|| p.spec.branch.clone()),
                started,
                stage: p.stages.len(),
                waiting: false,
                since: finished,
                status: Status::Succeeded,
                summary: None,
                approval: has_approval.then(|| Approval {
                    token: Uuid::new_v4().to_string(),
                    expires: started + Duration::days(7),
                    answer: Some(Answer {
                        approved: true,
                        summary: "Approved".into(),
                        at: finished - stage_duration,
                        by: CONSOLE_PRINCIPAL.into(),
                    }),
                }),
                runs,
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
                let index = p
                    .stages
                    .iter()
                    .position(|s| s.category == Category::Approval)?;
                p.executions
                    .iter_mut()
                    .find(|e| e.occupies(index))
                    .and_then(|e| e.approval.as_mut())
            })
            .filter(|a| a.answer.is_none())
            .map(|a| {
                a.answer = Some(Answer {
                    approved,
                    summary: summary.to_owned(),
                    at: now,
                    by: CONSOLE_PRINCIPAL.into(),
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

    /// Moves forward to `now` what a call with `input` reads or changes:
    /// the one pipeline it names, or every pipeline. Pipelines do not
    /// affect each other and a pipeline moved forward late ends where it
    /// would have ended moved forward often (events are taken in the order
    /// of their own times), so a call costs one pipeline's history, not
    /// the account's.
    fn advance_for(&mut self, input: &Value, now: DateTime<Utc>) {
        let named = ["pipelineName", "name"]
            .iter()
            .find_map(|field| input.get(*field).and_then(Value::as_str));
        match named.and_then(|name| self.pipelines.get_mut(name)) {
            Some(pipeline) => {
                let settings = self.settings.clone();
                advance_pipeline(pipeline, &settings, now);
            }
            None => self.advance(now),
        }
    }

    /// Moves every pipeline forward to `now`.
    fn advance(&mut self, now: DateTime<Utc>) {
        let settings = self.settings.clone();
        for pipeline in self.pipelines.values_mut() {
            advance_pipeline(pipeline, &settings, now);
        }
    }
}

/// Moves a pipeline's executions forward to `now`, stage by stage, the way
/// CodePipeline's SUPERSEDED mode does: a stage runs one execution at a
/// time; an execution that finished a stage waits at the next stage's
/// boundary while that stage is busy (an approval holds its stage until it
/// is answered or expires, keeping its token); a newer execution arriving
/// at a boundary supersedes the older one waiting there. An execution
/// waiting for approval is never superseded.
fn advance_pipeline(p: &mut Pipeline, settings: &SimulatorSettings, now: DateTime<Utc>) {
    let stages = p.stages.clone();
    // When each stage was last left, so a waiting execution enters then.
    let mut freed: Vec<Option<DateTime<Utc>>> = vec![None; stages.len()];
    for exec in &p.executions {
        for (i, run) in exec.runs.iter().enumerate() {
            if let Some(done) = run.finished {
                freed[i] = freed[i].max(Some(done));
            }
        }
    }
    loop {
        // The next thing that happens, in time order: an execution leaving
        // its stage, or entering a free one.
        let mut next: Option<(DateTime<Utc>, usize, bool)> = None;
        for (k, exec) in p.executions.iter().enumerate() {
            if exec.status != Status::InProgress || exec.stage >= stages.len() {
                continue;
            }
            let at = if exec.waiting {
                let busy = p.executions.iter().any(|o| o.occupies(exec.stage));
                if busy {
                    continue;
                }
                exec.since.max(freed[exec.stage].unwrap_or(exec.since))
            } else {
                match stage_done_at(exec, &stages[exec.stage], settings) {
                    Some(at) => at,
                    None => continue,
                }
            };
            if at <= now && next.is_none_or(|(t, _, _)| at < t) {
                next = Some((at, k, exec.waiting));
            }
        }
        let Some((at, k, entering)) = next else {
            return;
        };
        if entering {
            enter_stage(&mut p.executions[k], &stages, settings, at);
        } else {
            let index = p.executions[k].stage;
            leave_stage(&mut p.executions, k, &stages, at);
            freed[index] = Some(at);
        }
    }
}

/// When an execution running in `stage` is done with it: its duration, or
/// the approval's answer or expiry; `None` while an approval waits.
fn stage_done_at(
    exec: &Execution,
    stage: &StageDef,
    settings: &SimulatorSettings,
) -> Option<DateTime<Utc>> {
    if stage.category != Category::Approval {
        return Some(exec.since + settings.stage_duration);
    }
    let approval = exec.approval.as_ref()?;
    match &approval.answer {
        Some(answer) => Some(answer.at),
        None => Some(approval.expires),
    }
}

fn enter_stage(
    exec: &mut Execution,
    stages: &[StageDef],
    settings: &SimulatorSettings,
    at: DateTime<Utc>,
) {
    exec.waiting = false;
    exec.since = at;
    exec.runs.push(StageRun {
        action_id: Uuid::new_v4().to_string(),
        started: at,
        finished: None,
    });
    if stages[exec.stage].category == Category::Approval {
        exec.approval = Some(Approval {
            token: Uuid::new_v4().to_string(),
            expires: at + settings.approval_ttl,
            answer: None,
        });
    }
}

/// The execution at `k` finishes its stage at `at`: it succeeds, fails
/// (a rejection or an expired approval), or moves to the next boundary,
/// superseding an older execution waiting there.
fn leave_stage(executions: &mut [Execution], k: usize, stages: &[StageDef], at: DateTime<Utc>) {
    let exec = &mut executions[k];
    if let Some(run) = exec.runs.last_mut() {
        run.finished = Some(at);
    }
    if stages[exec.stage].category == Category::Approval {
        match exec.approval.as_ref().and_then(|a| a.answer.as_ref()) {
            Some(answer) if !answer.approved => {
                exec.status = Status::Failed;
                exec.summary = Some(answer.summary.clone());
                exec.since = at;
                return;
            }
            Some(_) => {}
            None => {
                exec.status = Status::Failed;
                exec.summary = Some("The approval expired before anyone answered it".into());
                exec.since = at;
                return;
            }
        }
    }
    exec.stage += 1;
    exec.since = at;
    if exec.stage >= stages.len() {
        exec.status = Status::Succeeded;
        return;
    }
    exec.waiting = true;
    let (boundary, started) = (exec.stage, exec.started);
    for older in executions.iter_mut() {
        if older.waiting
            && older.status == Status::InProgress
            && older.stage == boundary
            && older.started < started
        {
            older.status = Status::Superseded;
            older.waiting = false;
            older.summary = Some("Superseded by a newer execution".into());
        }
    }
}

/// The principal of an answer given in the console (simulated).
const CONSOLE_PRINCIPAL: &str = "arn:aws:iam::000000000000:user/console-reviewer";

/// The caller's principal as CodePipeline would record it: the access key
/// of the SigV4 `Authorization` header stands for its IAM user.
fn caller_principal(headers: &HeaderMap) -> String {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("anonymous");
    format!("arn:aws:iam::000000000000:user/{key}")
}

/// Dispatches one API call by its `X-Amz-Target`.
async fn api(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let Some(operation) = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(TARGET_PREFIX))
        .map(str::to_owned)
    else {
        return with_request_id(
            AwsError::new(
                "UnknownOperationException",
                "missing or unknown X-Amz-Target",
            )
            .into_response(),
            &request_id,
        );
    };
    let input: Value = match serde_json::from_slice(if body.is_empty() { b"{}" } else { &body }) {
        Ok(v) => v,
        Err(e) => {
            return with_request_id(
                AwsError::new("SerializationException", e.to_string()).into_response(),
                &request_id,
            )
        }
    };
    let (latency, lost_response) = {
        let mut world = sim.world();
        *world.calls.entry(operation.clone()).or_default() += 1;
        if world.faults.applies_to(&operation) {
            (world.faults.latency_ms, world.faults.lost_response_ms)
        } else {
            (0, 0)
        }
    };
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let caller = caller_principal(&headers);
    let result = {
        let mut world = sim.world();
        if let Some(fault) = world.injected_fault(&operation) {
            Err(fault)
        } else {
            let now = world.now();
            world.advance_for(&input, now);
            world.handle(&operation, &input, now, &caller)
        }
    };
    if lost_response > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(lost_response)).await;
    }
    let response = match result {
        Ok(output) => ([("content-type", CONTENT_TYPE)], output.to_string()).into_response(),
        Err(err) => err.into_response(),
    };
    with_request_id(response, &request_id)
}

/// Every CodePipeline response names its request, as AWS's do.
fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

impl Faults {
    /// Whether the scripted faults apply to `operation`.
    fn applies_to(&self, operation: &str) -> bool {
        self.operation.as_deref().is_none_or(|op| op == operation)
    }
}

impl World {
    /// Starts an execution: it arrives at the first stage's boundary and
    /// supersedes an older execution still waiting there.
    fn start_execution(
        &mut self,
        pipeline: &str,
        revision: RevisionSpec,
        now: DateTime<Utc>,
    ) -> Result<String, AwsError> {
        let settings = self.settings.clone();
        let p = self
            .pipelines
            .get_mut(pipeline)
            .ok_or_else(|| AwsError::new("PipelineNotFoundException", pipeline.to_owned()))?;
        for older in p
            .executions
            .iter_mut()
            .filter(|e| e.status == Status::InProgress && e.waiting && e.stage == 0)
        {
            older.status = Status::Superseded;
            older.waiting = false;
            older.summary = Some("Superseded by a newer execution".into());
        }
        let id = Uuid::new_v4().to_string();
        p.executions.push(Execution {
            id: id.clone(),
            commit: revision.commit,
            message: revision.message,
            branch: revision.branch.unwrap_or_else(|| p.spec.branch.clone()),
            started: now,
            stage: 0,
            waiting: true,
            since: now,
            status: Status::InProgress,
            summary: None,
            approval: None,
            runs: Vec::new(),
        });
        advance_pipeline(p, &settings, now);
        Ok(id)
    }

    fn injected_fault(&mut self, operation: &str) -> Option<AwsError> {
        if !self.faults.applies_to(operation) {
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
        caller: &str,
    ) -> Result<Value, AwsError> {
        match operation {
            "ListPipelines" => Ok(self.list_pipelines(input)),
            "GetPipeline" => self.get_pipeline(input),
            "GetPipelineState" => self.get_pipeline_state(input),
            "GetPipelineExecution" => self.get_pipeline_execution(input),
            "ListActionExecutions" => self.list_action_executions(input),
            "ListPipelineExecutions" => self.list_pipeline_executions(input),
            "PutApprovalResult" => self.put_approval_result(input, now, caller),
            "StartPipelineExecution" => self.start_pipeline_execution(input, now),
            other => Err(AwsError::new(
                "UnknownOperationException",
                format!("the simulator does not implement {other}"),
            )),
        }
    }

    /// StartPipelineExecution on the latest source revision. The SDK sends
    /// a `clientRequestToken` (one per call, reused by its retries): a token
    /// seen before answers with the execution it started, and starts none.
    fn start_pipeline_execution(
        &mut self,
        input: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, AwsError> {
        let pipeline = self.pipeline(input, "name")?;
        let name = pipeline.spec.name.clone();
        let token = input
            .get("clientRequestToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(token) = &token {
            let valid = !token.is_empty()
                && token.len() <= 128
                && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(AwsError::new(
                    "ValidationException",
                    "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-]+$",
                ));
            }
            if let Some(id) = self.client_tokens.get(&(name.clone(), token.clone())) {
                return Ok(json!({ "pipelineExecutionId": id }));
            }
        }
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
        let id = self.start_execution(&name, revision, now)?;
        if let Some(token) = token {
            self.client_tokens.insert((name, token), id.clone());
        }
        Ok(json!({ "pipelineExecutionId": id }))
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
                "artifactStore": { "type": "S3", "location": "codepipeline-us-east-1-000000000000" },
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
                let mut state = json!({
                    "stageName": stage.name,
                    "inboundTransitionState": { "enabled": true },
                    "actionStates": [{ "actionName": stage.action }],
                });
                // The newest execution that entered this stage.
                let exec = p
                    .executions
                    .iter()
                    .filter(|e| e.runs.len() > i)
                    .max_by_key(|e| e.runs[i].started);
                if let Some(exec) = exec {
                    let view = action_view(exec, i, stage);
                    let mut latest = json!({
                        "actionExecutionId": exec.runs[i].action_id,
                        "status": view.status,
                        "lastStatusChange": epoch(view.changed),
                    });
                    if let Some(summary) = view.summary {
                        latest["summary"] = json!(summary);
                    }
                    if let Some(token) = view.token {
                        latest["token"] = json!(token);
                    }
                    if let Some(by) = view.by {
                        latest["lastUpdatedBy"] = json!(by);
                    }
                    if let Some(url) = console_url(&p.spec.name, stage, &exec.runs[i].action_id) {
                        latest["externalExecutionUrl"] = json!(url);
                    }
                    state["actionStates"][0]["latestExecution"] = latest;
                    if stage.category == Category::Source {
                        state["actionStates"][0]["currentRevision"] =
                            json!({ "revisionId": exec.commit, "revisionChangeId": exec.commit, "created": epoch(exec.started) });
                    }
                    // StageExecutionStatus: a stage is InProgress, Failed or
                    // Succeeded here (Abandoned is an action status only).
                    let stage_status = if exec.occupies(i) {
                        "InProgress"
                    } else if exec.stage == i && exec.status == Status::Failed {
                        "Failed"
                    } else {
                        "Succeeded"
                    };
                    state["latestExecution"] = json!({ "pipelineExecutionId": exec.id, "status": stage_status });
                }
                let inbound: Vec<Value> = p
                    .executions
                    .iter()
                    .filter(|e| e.status == Status::InProgress && e.waiting && e.stage == i)
                    .map(|e| json!({ "pipelineExecutionId": e.id, "status": "InProgress" }))
                    .collect();
                if let Some(first) = inbound.first() {
                    state["inboundExecution"] = first.clone();
                    state["inboundExecutions"] = json!(inbound);
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
                    "lastUpdateTime": epoch(exec.updated()),
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
            for (i, stage) in p.stages.iter().enumerate().take(exec.runs.len()).rev() {
                let run = &exec.runs[i];
                let view = action_view(exec, i, stage);
                let mut detail = json!({
                    "pipelineExecutionId": exec.id, "actionExecutionId": run.action_id, "pipelineVersion": 1,
                    "stageName": stage.name, "actionName": stage.action, "startTime": epoch(run.started),
                    "lastUpdateTime": epoch(view.changed), "status": view.status,
                    "input": { "actionTypeId": { "category": stage.category.as_str(), "owner": "AWS", "provider": stage.category.provider(), "version": "1" } },
                });
                if let Some(by) = &view.by {
                    detail["updatedBy"] = json!(by);
                }
                if let Some(summary) = view.summary {
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
        caller: &str,
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
        let waiting = exec.occupies(index);
        let approval = exec
            .approval
            .as_mut()
            .ok_or_else(|| AwsError::new("InvalidApprovalTokenException", "no approval"))?;
        if approval.answer.is_some() || !waiting {
            return Err(AwsError::new(
                "ApprovalAlreadyCompletedException",
                "The approval request already received a response or has expired",
            ));
        }
        // CodePipeline keeps the reviewer's summary as given (the API
        // reference documents no prefix: ActionExecution.summary is "a
        // summary of the run of the action"), and names the caller in
        // lastUpdatedBy. Gatehouse recognises its own answer from these.
        approval.answer = Some(Answer {
            approved,
            summary,
            at: now,
            by: caller.to_owned(),
        });
        advance_pipeline(pipeline, &settings, now);
        Ok(json!({ "approvedAt": epoch(now) }))
    }
}

/// Where the AWS console shows an action's run: the CodeBuild build or the
/// CodeDeploy deployment.
fn console_url(pipeline: &str, stage: &StageDef, action_id: &str) -> Option<String> {
    let short: String = action_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(9)
        .collect();
    match stage.category {
        Category::Build => Some(format!(
            "https://console.aws.amazon.com/codesuite/codebuild/projects/{pipeline}/build/{pipeline}:{action_id}/?region=us-east-1"
        )),
        Category::Deploy => Some(format!(
            "https://console.aws.amazon.com/codesuite/codedeploy/deployments/d-{}?region=us-east-1",
            short.to_uppercase()
        )),
        _ => None,
    }
}

/// How one stage's action looks for an execution that entered the stage.
struct ActionView {
    /// An ActionExecutionStatus: InProgress, Succeeded or Failed.
    status: &'static str,
    summary: Option<String>,
    /// Only while an approval waits.
    token: Option<String>,
    changed: DateTime<Utc>,
    /// Who answered an approval.
    by: Option<String>,
}

fn action_view(exec: &Execution, index: usize, stage: &StageDef) -> ActionView {
    let run = &exec.runs[index];
    let answer = (stage.category == Category::Approval)
        .then(|| exec.approval.as_ref().and_then(|a| a.answer.as_ref()))
        .flatten();
    if exec.occupies(index) {
        return ActionView {
            status: "InProgress",
            summary: None,
            token: (stage.category == Category::Approval)
                .then(|| exec.approval.as_ref().map(|a| a.token.clone()))
                .flatten(),
            changed: run.started,
            by: None,
        };
    }
    let failed_here = exec.stage == index && exec.status == Status::Failed;
    ActionView {
        status: if failed_here { "Failed" } else { "Succeeded" },
        summary: answer
            .map(|a| a.summary.clone())
            .or_else(|| failed_here.then(|| exec.summary.clone()).flatten()),
        token: None,
        changed: run.finished.unwrap_or(run.started),
        by: answer.map(|a| a.by.clone()),
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
