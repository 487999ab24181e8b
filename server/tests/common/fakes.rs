//! In-memory stand-ins for every port, so that the app's services (the
//! approval flow above all) run without PostgreSQL, CodePipeline or GitHub.
//! They keep what the services write and answer from it, with the rules the
//! real stores enforce where the services rely on them: a vote commits only
//! against the votes it was counted on, one delivery per decided request,
//! a claimed delivery is not claimed again within its lease, an approval
//! token is answered once. Calls to CodePipeline are counted.

use app::domain::approval::Decision;
use app::domain::audit::{AuditEntry, AuditQuery, AuditVerification, Person};
use app::domain::notification::NotificationEvent;
use app::domain::request::{
    ApprovalRequest, DeliveryOutcome, DeliveryRecord, PipelineProblem, RequestState, VoteRecord,
};
use app::domain::{OrgModel, Persona, Role, SignInProvider, User};
use app::ssr::ports::*;
use app::ssr::{AppState, Mode};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The fakes behind one [`AppState`], for the test to look into.
#[derive(Clone)]
pub struct Fakes {
    pub approvals: Arc<MemApprovals>,
    pub pipelines: Arc<MemPipelines>,
    pub audit: Arc<MemAudit>,
    pub github: Arc<MemGitHub>,
}

/// An app state whose every port is in memory, for `org`.
pub fn state(org: OrgModel) -> (AppState, Fakes) {
    let fakes = Fakes {
        approvals: Arc::default(),
        pipelines: Arc::default(),
        audit: Arc::default(),
        github: Arc::default(),
    };
    let state = AppState {
        leptos_options: leptos::prelude::LeptosOptions::builder()
            .output_name("gatehouse")
            .build(),
        mode: Mode::Real,
        org: Arc::new(MemOrg(Arc::new(org))),
        users: Arc::new(MemUsers),
        approvals: fakes.approvals.clone(),
        audit: fakes.audit.clone(),
        pipelines: fakes.pipelines.clone(),
        calendar: Arc::new(MemCalendar),
        board: Arc::new(MemBoard),
        notifications: Arc::new(MemNotifications),
        inventory: Arc::new(MemInventory),
        notification_channels: Arc::default(),
        changes: Arc::default(),
        rendered: Arc::default(),
        identity: Arc::new(MemIdentity),
        github: fakes.github.clone(),
        refuse_unmerged_hotfix: true,
        github_web: "https://github.com".into(),
    };
    (state, fakes)
}

/// Someone with `roles` (e.g. `["sre"]`), known by `login`.
pub fn user(login: &str, roles: &[&str]) -> User {
    User {
        id: format!("id-{login}"),
        login: login.into(),
        display_name: app::domain::DisplayName::parse(login).expect("name"),
        roles: roles
            .iter()
            .map(|r| Role::parse(r).expect("role"))
            .collect(),
        person: format!("person-{login}"),
        github_id: Some(account_id(login)),
        emails: Vec::new(),
    }
}

/// A GitHub account id per login, stable within a run.
pub fn account_id(login: &str) -> u64 {
    login.bytes().fold(1_000_u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// A request waiting in CodePipeline for `service` in `environment`, made
/// by the commit `sha` that `author` wrote, recorded as the poller records
/// it. Returns the request's id.
pub fn waiting_request(
    fakes: &Fakes,
    org: &OrgModel,
    service: &str,
    environment: &str,
    sha: &str,
    author: &str,
) -> String {
    let service = org.service(service).expect("service");
    let env = org.environment(environment).expect("environment");
    let target = ApprovalTarget {
        pipeline: org.pipelines.pipeline_name(&service.id, &env.id),
        stage: org.pipelines.approval_stage().to_owned(),
        action: org.pipelines.approval_action().to_owned(),
    };
    let n = fakes.approvals.count();
    let (id, execution, token) = (
        format!("request-{n}"),
        format!("execution-{n}"),
        format!("token-{n}"),
    );
    let now = Utc::now();
    fakes.pipelines.wait(PendingApproval {
        target: target.clone(),
        token: token.clone(),
        execution_id: execution.clone(),
        requested_at: now,
    });
    fakes.approvals.insert(
        ApprovalRequest {
            id: id.clone(),
            service_id: service.id.to_string(),
            service_name: service.name.to_string(),
            team_id: service.team.to_string(),
            team_name: org.team_name(&service.team),
            environment_id: env.id.to_string(),
            environment_name: env.name.to_string(),
            environment_position: 0,
            pipeline: target.pipeline.clone(),
            stage: target.stage.clone(),
            action: target.action.clone(),
            execution_id: execution,
            commit: sha.into(),
            commit_message: Some("A change".into()),
            branch: Some("master".into()),
            commit_url: None,
            author_login: Some(author.into()),
            author_name: Some(author.into()),
            author_github_id: Some(account_id(author)),
            author_email: None,
            author_checked: true,
            requested_at: now,
            expires_at: now + chrono::Duration::days(7),
            state: RequestState::Pending,
            closed_reason: None,
            decided_at: None,
            votes: Vec::new(),
            delivery: None,
        },
        token,
    );
    id
}

struct MemOrg(Arc<OrgModel>);

#[async_trait]
impl OrgStore for MemOrg {
    async fn load_org(&self) -> Result<Arc<OrgModel>, StoreError> {
        Ok(self.0.clone())
    }
}

/// One decided request's delivery, as the store keeps it.
#[derive(Debug, Clone)]
struct Delivery {
    approved: bool,
    summary: String,
    claimed_until: Option<Instant>,
    outcome: Option<DeliveryOutcome>,
}

#[derive(Debug, Default)]
struct Approvals {
    requests: BTreeMap<String, ApprovalRequest>,
    tokens: HashMap<String, String>,
    deliveries: HashMap<String, Delivery>,
    problems: Vec<PipelineProblem>,
    reruns: Vec<(String, String)>,
}

/// Approval requests, votes and deliveries in memory.
#[derive(Debug, Default)]
pub struct MemApprovals {
    inner: Mutex<Approvals>,
    /// Votes committed, and votes refused because others came first.
    pub committed: AtomicUsize,
    pub conflicts: AtomicUsize,
}

impl MemApprovals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Approvals> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn count(&self) -> usize {
        self.lock().requests.len()
    }

    fn insert(&self, request: ApprovalRequest, token: String) {
        let mut inner = self.lock();
        inner.tokens.insert(request.id.clone(), token);
        inner.requests.insert(request.id.clone(), request);
    }

    /// The request as stored now.
    pub fn get(&self, id: &str) -> ApprovalRequest {
        self.lock().requests.get(id).cloned().expect("request")
    }

    fn decide(inner: &mut Approvals, id: &str, decision: Decision, summary: &str) {
        if let Some(request) = inner.requests.get_mut(id) {
            request.state = RequestState::decided(decision);
            request.decided_at = Some(Utc::now());
            request.delivery = Some(DeliveryRecord {
                decision,
                outcome: None,
                aws_result: None,
            });
        }
        inner.deliveries.insert(
            id.to_owned(),
            Delivery {
                approved: decision == Decision::Approve,
                summary: summary.to_owned(),
                claimed_until: None,
                outcome: None,
            },
        );
    }
}

#[async_trait]
impl ApprovalStore for MemApprovals {
    async fn upsert_request(&self, new: &NewRequest) -> Result<bool, StoreError> {
        let known = self.is_known(&new.pending).await?;
        Ok(!known)
    }

    async fn set_author(
        &self,
        request_id: &str,
        author: Option<&CommitAuthor>,
    ) -> Result<(), StoreError> {
        if let Some(request) = self.lock().requests.get_mut(request_id) {
            request.author_checked = true;
            request.author_login = author.and_then(|a| a.login.clone());
            request.author_github_id = author.and_then(|a| a.id);
        }
        Ok(())
    }

    async fn is_known(&self, pending: &PendingApproval) -> Result<bool, StoreError> {
        let inner = self.lock();
        Ok(inner.requests.values().any(|r| {
            r.execution_id == pending.execution_id
                && inner.tokens.get(&r.id) == Some(&pending.token)
        }))
    }

    async fn recorded_waits(&self) -> Result<Vec<RecordedWait>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .requests
            .values()
            .filter(|r| r.state == RequestState::Pending)
            .map(|r| RecordedWait {
                target: ApprovalTarget {
                    pipeline: r.pipeline.clone(),
                    stage: r.stage.clone(),
                    action: r.action.clone(),
                },
                execution_id: r.execution_id.clone(),
                token: inner.tokens.get(&r.id).cloned().unwrap_or_default(),
            })
            .collect())
    }

    async fn close_missing(
        &self,
        target: &ApprovalTarget,
        keep_execution: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut closed = 0;
        for r in self.lock().requests.values_mut() {
            if r.state == RequestState::Pending
                && r.pipeline == target.pipeline
                && Some(r.execution_id.as_str()) != keep_execution
            {
                r.state = RequestState::Closed;
                closed += 1;
            }
        }
        Ok(closed)
    }

    async fn request(&self, id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        // A store answers after a while: others' votes interleave with this
        // one's read and commit, as with a database.
        tokio::task::yield_now().await;
        Ok(self.lock().requests.get(id).cloned())
    }

    async fn pending(&self) -> Result<Vec<ApprovalRequest>, StoreError> {
        Ok(self
            .lock()
            .requests
            .values()
            .filter(|r| r.state == RequestState::Pending)
            .cloned()
            .collect())
    }

    async fn history(
        &self,
        limit: i64,
        before: Option<(DateTime<Utc>, String)>,
    ) -> Result<Vec<ApprovalRequest>, StoreError> {
        let mut decided: Vec<ApprovalRequest> = self
            .lock()
            .requests
            .values()
            .filter(|r| r.state != RequestState::Pending)
            .filter(|r| {
                before.as_ref().is_none_or(|(at, id)| {
                    (r.decided_at.unwrap_or(r.requested_at), &r.id) < (*at, id)
                })
            })
            .cloned()
            .collect();
        decided.sort_by(|a, b| b.decided_at.cmp(&a.decided_at).then(b.id.cmp(&a.id)));
        decided.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(decided)
    }

    async fn commit_vote(
        &self,
        request_id: &str,
        actor: &Actor,
        expected_votes: usize,
        vote: &NewVote,
        decided: Option<(Decision, String)>,
    ) -> Result<VoteCommit, StoreError> {
        tokio::task::yield_now().await;
        let mut inner = self.lock();
        let Some(request) = inner.requests.get_mut(request_id) else {
            return Err(StoreError::Query("no such request".into()));
        };
        if request.state != RequestState::Pending || request.votes.len() != expected_votes {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
            return Ok(VoteCommit::Conflict);
        }
        request.votes.push(VoteRecord {
            user_id: actor.user_id.clone(),
            person: actor.person.clone(),
            author_unknown: vote.author_unknown,
            display_name: actor.display_name.clone(),
            decision: vote.decision,
            comment: vote.comment.clone(),
            sign_off: vote.sign_off.clone(),
            at: Utc::now(),
        });
        if let Some((decision, summary)) = decided {
            Self::decide(&mut inner, request_id, decision, &summary);
        }
        self.committed.fetch_add(1, Ordering::SeqCst);
        Ok(VoteCommit::Recorded)
    }

    async fn decide_pending(
        &self,
        request_id: &str,
        expected_votes: usize,
        decision: Decision,
        summary: &str,
    ) -> Result<VoteCommit, StoreError> {
        let mut inner = self.lock();
        let open = inner
            .requests
            .get(request_id)
            .is_some_and(|r| r.state == RequestState::Pending && r.votes.len() == expected_votes);
        if !open {
            return Ok(VoteCommit::Conflict);
        }
        Self::decide(&mut inner, request_id, decision, summary);
        Ok(VoteCommit::Recorded)
    }

    async fn claim_delivery(
        &self,
        request_id: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let mut inner = self.lock();
        let token = inner.tokens.get(request_id).cloned().unwrap_or_default();
        let Some(request) = inner.requests.get(request_id).cloned() else {
            return Ok(None);
        };
        let Some(delivery) = inner.deliveries.get_mut(request_id) else {
            return Ok(None);
        };
        let now = Instant::now();
        if delivery.outcome.is_some() || delivery.claimed_until.is_some_and(|until| until > now) {
            return Ok(None);
        }
        delivery.claimed_until = Some(now + lease);
        Ok(Some(ClaimedDelivery {
            request_id: request_id.to_owned(),
            target: ApprovalTarget {
                pipeline: request.pipeline,
                stage: request.stage,
                action: request.action,
            },
            token,
            execution_id: request.execution_id,
            commit: request.commit,
            approved: delivery.approved,
            summary: delivery.summary.clone(),
        }))
    }

    async fn finish_delivery(
        &self,
        request_id: &str,
        outcome: DeliveryOutcome,
        aws_result: &str,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(delivery) = inner.deliveries.get_mut(request_id) {
            if delivery.outcome.is_none() {
                delivery.outcome = Some(outcome);
                if let Some(record) = inner
                    .requests
                    .get_mut(request_id)
                    .and_then(|r| r.delivery.as_mut())
                {
                    record.outcome = Some(outcome);
                    record.aws_result = Some(aws_result.to_owned());
                }
            }
        }
        Ok(())
    }

    async fn release_delivery(&self, request_id: &str, aws_result: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(delivery) = inner.deliveries.get_mut(request_id) {
            delivery.claimed_until = None;
        }
        if let Some(record) = inner
            .requests
            .get_mut(request_id)
            .and_then(|r| r.delivery.as_mut())
        {
            record.aws_result = Some(aws_result.to_owned());
        }
        Ok(())
    }

    async fn undelivered(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .deliveries
            .iter()
            .filter(|(_, d)| d.outcome.is_none())
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn replace_pipeline_problems(
        &self,
        problems: &[PipelineProblem],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let changed = inner.problems != problems;
        inner.problems = problems.to_vec();
        Ok(changed)
    }

    async fn pipeline_problems(&self) -> Result<Vec<PipelineProblem>, StoreError> {
        Ok(self.lock().problems.clone())
    }

    async fn record_rerun(
        &self,
        request_id: &str,
        _actor: &Actor,
        execution_id: &str,
    ) -> Result<(), StoreError> {
        self.lock()
            .reruns
            .push((request_id.to_owned(), execution_id.to_owned()));
        Ok(())
    }
}

/// CodePipeline's approval actions in memory: each waits for one token
/// until it is answered once. Every call is counted.
#[derive(Debug, Default)]
pub struct MemPipelines {
    actions: Mutex<HashMap<String, ApprovalNow>>,
    /// PutApprovalResult calls, and GetPipelineState calls.
    pub puts: AtomicUsize,
    pub reads: AtomicUsize,
    /// The next this many reads fail as if CodePipeline were unreachable.
    pub unreachable_reads: AtomicUsize,
}

impl MemPipelines {
    fn wait(&self, pending: PendingApproval) {
        self.lock().insert(
            pending.target.pipeline.clone(),
            ApprovalNow::Waiting(pending),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ApprovalNow>> {
        self.actions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The approval action of `pipeline` now.
    pub fn now(&self, pipeline: &str) -> ApprovalNow {
        self.lock()
            .get(pipeline)
            .cloned()
            .unwrap_or(ApprovalNow::Idle)
    }
}

#[async_trait]
impl Pipelines for MemPipelines {
    async fn approval_now(&self, target: &ApprovalTarget) -> Result<ApprovalNow, PipelineError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .unreachable_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(PipelineError::Unavailable("connection refused".into()));
        }
        Ok(self.now(&target.pipeline))
    }

    async fn revision(
        &self,
        _pipeline: &str,
        execution_id: &str,
    ) -> Result<SourceRevision, PipelineError> {
        Ok(SourceRevision {
            commit: format!("{execution_id:0>40}"),
            message: None,
            branch: None,
            url: None,
        })
    }

    async fn pipeline_names(&self) -> Result<Vec<String>, PipelineError> {
        Ok(self.lock().keys().cloned().collect())
    }

    async fn pipeline_stages(
        &self,
        _pipeline: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, PipelineError> {
        Ok(Vec::new())
    }

    async fn status(&self, _pipeline: &str) -> Result<PipelineStatus, PipelineError> {
        Ok(PipelineStatus {
            actions: Vec::new(),
            latest_execution: None,
        })
    }

    async fn last_succeeded(
        &self,
        _pipeline: &str,
    ) -> Result<Option<FinishedExecution>, PipelineError> {
        Ok(None)
    }

    async fn succeeded_since(
        &self,
        _pipeline: &str,
        _since: DateTime<Utc>,
        _max_pages: usize,
    ) -> Result<Vec<FinishedExecution>, PipelineError> {
        Ok(Vec::new())
    }

    async fn start_execution(
        &self,
        pipeline: &str,
        client_token: &str,
    ) -> Result<String, PipelineError> {
        Ok(format!("{pipeline}-{client_token}"))
    }

    async fn put_approval_result(
        &self,
        target: &ApprovalTarget,
        token: &str,
        approved: bool,
        summary: &str,
    ) -> Result<DateTime<Utc>, PipelineError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        let mut actions = self.lock();
        match actions.get(&target.pipeline) {
            Some(ApprovalNow::Waiting(p)) if p.token == token => {
                let execution_id = p.execution_id.clone();
                actions.insert(
                    target.pipeline.clone(),
                    ApprovalNow::Answered(LastAnswer {
                        execution_id,
                        approved,
                        summary: Some(summary.to_owned()),
                        updated_by: Some("gatehouse".into()),
                    }),
                );
                Ok(Utc::now())
            }
            _ => Err(PipelineError::Reconcile(
                "ApprovalAlreadyCompletedException".into(),
            )),
        }
    }
}

/// The audit log as a list of what was appended.
#[derive(Debug, Default)]
pub struct MemAudit {
    pub appended: Mutex<Vec<NewAudit>>,
}

impl MemAudit {
    /// The kinds of rows appended, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.appended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|a| a.kind)
            .collect()
    }
}

#[async_trait]
impl AuditStore for MemAudit {
    async fn append(&self, entry: &NewAudit) -> Result<(), StoreError> {
        self.appended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry.clone());
        Ok(())
    }

    async fn page(&self, _query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(Vec::new())
    }

    async fn last_verification(&self) -> Result<Option<AuditVerification>, StoreError> {
        Ok(None)
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        Ok(Vec::new())
    }
}

/// GitHub with no repositories beyond commit authors; every author read
/// is counted.
#[derive(Debug, Default)]
pub struct MemGitHub {
    pub author_reads: AtomicUsize,
}

#[async_trait]
impl GitHub for MemGitHub {
    async fn commit_author(
        &self,
        _repo: &str,
        _sha: &str,
    ) -> Result<Option<CommitAuthor>, GitHubError> {
        self.author_reads.fetch_add(1, Ordering::SeqCst);
        Ok(None)
    }

    async fn branches(&self, _repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        Ok(Vec::new())
    }

    async fn compare(
        &self,
        _repo: &str,
        _base: &str,
        _head: &str,
    ) -> Result<Option<Comparison>, GitHubError> {
        Ok(None)
    }

    async fn open_issue(
        &self,
        _repo: &str,
        _title: &str,
        _body: &str,
        _labels: &[&str],
    ) -> Result<IssueRef, GitHubError> {
        Err(GitHubError::Unavailable("404 Not Found".into()))
    }

    async fn comment_issue(
        &self,
        _repo: &str,
        _number: u64,
        _body: &str,
    ) -> Result<(), GitHubError> {
        Err(GitHubError::Unavailable("404 Not Found".into()))
    }

    async fn close_issue(&self, _repo: &str, _number: u64) -> Result<(), GitHubError> {
        Err(GitHubError::Unavailable("404 Not Found".into()))
    }

    async fn find_open_issue(
        &self,
        _repo: &str,
        _title: &str,
        _label: &str,
    ) -> Result<Option<IssueRef>, GitHubError> {
        Ok(None)
    }

    async fn reopen_issue(&self, _repo: &str, _number: u64) -> Result<(), GitHubError> {
        Err(GitHubError::Unavailable("404 Not Found".into()))
    }

    async fn tags(&self, _repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        Ok(Vec::new())
    }

    async fn workflow_runs(
        &self,
        _repo: &str,
        _branch: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        Ok(Vec::new())
    }
}

/// No calendar changes: the configured calendar.
struct MemCalendar;

#[async_trait]
impl CalendarStore for MemCalendar {
    async fn edits(&self) -> Result<Vec<StoredCalendarEdit>, StoreError> {
        Ok(Vec::new())
    }

    async fn record_edits(
        &self,
        _actor: &Actor,
        _reason: &str,
        _edits: &[CalendarEdit],
    ) -> Result<(), StoreError> {
        Err(StoreError::Query("the calendar is read-only here".into()))
    }

    async fn approval_times(
        &self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, bool)>, StoreError> {
        Ok(Vec::new())
    }
}

/// A board the jobs have not read yet.
struct MemBoard;

#[async_trait]
impl BoardStore for MemBoard {
    async fn snapshot(&self, _since: DateTime<Utc>) -> Result<Arc<BoardSnapshot>, StoreError> {
        Ok(Arc::default())
    }

    async fn hotfixes(&self, _service_id: &str) -> Result<Vec<HotfixRecord>, StoreError> {
        Ok(Vec::new())
    }

    async fn deployment_history(
        &self,
        _environment_id: &str,
        _since: DateTime<Utc>,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        Ok(Vec::new())
    }

    async fn outage_history(
        &self,
        _environment_id: &str,
        _since: DateTime<Utc>,
    ) -> Result<Vec<OutageRecord>, StoreError> {
        Ok(Vec::new())
    }
}

struct MemUsers;

#[async_trait]
impl UserStore for MemUsers {
    async fn user(&self, _id: &str) -> Result<Option<User>, StoreError> {
        Ok(None)
    }

    async fn personas(&self) -> Result<Vec<Persona>, StoreError> {
        Ok(Vec::new())
    }

    async fn persona_user(&self, _login: &str) -> Result<Option<User>, StoreError> {
        Ok(None)
    }

    async fn upsert_external(&self, _identity: &ExternalIdentity) -> Result<User, StoreError> {
        Err(StoreError::Query("no sign-in here".into()))
    }

    async fn set_roles(&self, _id: &str, _roles: &[Role]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn feed_link_made(&self, _user_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(None)
    }

    async fn rotate_feed_token(&self, _user_id: &str) -> Result<String, StoreError> {
        Err(StoreError::Query("no feeds here".into()))
    }

    async fn feed_user(&self, _token: &str) -> Result<Option<User>, StoreError> {
        Ok(None)
    }

    async fn create_token(
        &self,
        _user_id: &str,
        _name: &str,
        _scopes: &[app::domain::token::Scope],
        _expires_at: DateTime<Utc>,
        _link: Option<&app::domain::token::ProviderLink>,
    ) -> Result<Option<(app::domain::token::ApiToken, String)>, StoreError> {
        Err(StoreError::Query("no tokens here".into()))
    }

    async fn tokens(
        &self,
        _user_id: &str,
    ) -> Result<Vec<app::domain::token::ApiToken>, StoreError> {
        Ok(Vec::new())
    }

    async fn token(&self, _id: &str) -> Result<Option<app::domain::token::ApiToken>, StoreError> {
        Ok(None)
    }

    async fn revoke_token(
        &self,
        _id: &str,
        _by_user: &str,
    ) -> Result<Option<app::domain::token::ApiToken>, StoreError> {
        Ok(None)
    }

    async fn token_user(
        &self,
        _secret: &str,
    ) -> Result<Option<app::domain::token::TokenHolder>, StoreError> {
        Ok(None)
    }

    async fn token_roles_checked(&self, _id: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn revoke_tokens_of(&self, _user_id: &str) -> Result<u64, StoreError> {
        Ok(0)
    }
}

struct MemNotifications;

#[async_trait]
impl NotificationStore for MemNotifications {
    async fn recent_deliveries(
        &self,
        _limit: i64,
        _failed_only: bool,
    ) -> Result<Vec<app::ssr::ports::DeliveryRecord>, StoreError> {
        Ok(Vec::new())
    }

    async fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        Ok(DeliveryCounts::default())
    }

    async fn mutes(&self, _person: &str) -> Result<Vec<NotificationEvent>, StoreError> {
        Ok(Vec::new())
    }

    async fn set_mutes(
        &self,
        _person: &str,
        _events: &[NotificationEvent],
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

struct MemInventory;

#[async_trait]
impl InventoryStore for MemInventory {
    async fn states(&self) -> Result<Vec<StoredState>, StoreError> {
        Ok(Vec::new())
    }
}

/// No sign-in providers: people are made by [`user`].
struct MemIdentity;

#[async_trait]
impl Identity for MemIdentity {
    fn providers(&self) -> Vec<SignInProvider> {
        Vec::new()
    }

    fn refresh_interval(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn session_max_age(&self) -> Duration {
        Duration::from_secs(12 * 3600)
    }

    fn seal(&self, token: &str) -> String {
        token.to_owned()
    }

    fn open(&self, sealed: &str) -> Option<String> {
        Some(sealed.to_owned())
    }

    async fn current_roles(
        &self,
        _provider: &str,
        _subject: &str,
        _token: &str,
    ) -> Result<Vec<Role>, IdentityError> {
        Err(IdentityError::Revoked("no providers here".into()))
    }
}
