//! The aws-sdk-codepipeline adapter against the simulator, over real HTTP.

use app::ssr::ports::{ApprovalTarget, PipelineError, Pipelines};
use chrono::Duration;
use server::adapters::codepipeline::{AwsSettings, CodePipelineAdapter};
use server::simulators::codepipeline::{
    Faults, PipelineSpec, RevisionSpec, Simulator, SimulatorSettings,
};

struct Rig {
    sim: Simulator,
    adapter: CodePipelineAdapter,
    target: ApprovalTarget,
}

const PIPELINE: &str = "orders-api-qa";

async fn rig() -> Rig {
    let sim = Simulator::new(SimulatorSettings {
        stage_duration: Duration::seconds(30),
        approval_ttl: Duration::days(7),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    sim.add_pipeline(PipelineSpec {
        name: PIPELINE.into(),
        repository: "acme-retail/orders-api".into(),
        branch: "release/2027.01".into(),
        approval: Some(("QA".into(), "QASignOff".into())),
    });
    let adapter = CodePipelineAdapter::new(&AwsSettings {
        region: "us-east-1".into(),
        endpoint_url: Some(url),
        max_attempts: 3,
        initial_backoff: std::time::Duration::from_millis(10),
        operation_timeout: std::time::Duration::from_secs(2),
        placeholder_credentials: true,
    })
    .await;
    let target = ApprovalTarget {
        pipeline: PIPELINE.into(),
        stage: "QA".into(),
        action: "QASignOff".into(),
    };
    Rig {
        sim,
        adapter,
        target,
    }
}

impl Rig {
    /// Asserts that nothing waits any more and that answering with `token`
    /// asks Gatehouse to reconcile.
    async fn assert_closed(&self, token: &str) {
        assert_eq!(self.adapter.pending_approval(&self.target).await, Ok(None));
        let late = self
            .adapter
            .put_approval_result(&self.target, token, true, "late")
            .await;
        assert!(matches!(late, Err(PipelineError::Reconcile(_))), "{late:?}");
    }

    /// The approval waiting at the target; panics if none is.
    async fn pending(&self) -> app::ssr::ports::PendingApproval {
        self.adapter
            .pending_approval(&self.target)
            .await
            .expect("call")
            .expect("waiting")
    }

    /// Starts an execution and runs it up to the approval.
    fn waiting_execution(&self, commit: &str) -> String {
        let id = self
            .sim
            .start_execution(
                PIPELINE,
                RevisionSpec {
                    commit: commit.into(),
                    message: "Fix rounding in totals".into(),
                    branch: None,
                },
            )
            .expect("pipeline exists");
        self.sim.advance_clock(Duration::seconds(61));
        id
    }
}

#[tokio::test]
async fn a_waiting_approval_is_found_with_its_token_and_revision() {
    let rig = rig().await;
    assert_eq!(
        rig.adapter.pending_approval(&rig.target).await,
        Ok(None),
        "nothing runs yet"
    );
    let execution = rig.waiting_execution("3f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39");
    let pending = rig.pending().await;
    assert_eq!(pending.execution_id, execution);
    assert!(
        uuid::Uuid::parse_str(&pending.token).is_ok(),
        "a real token"
    );

    let revision = rig
        .adapter
        .revision(PIPELINE, &execution)
        .await
        .expect("revision");
    assert_eq!(revision.commit, "3f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39");
    assert_eq!(revision.message.as_deref(), Some("Fix rounding in totals"));
    assert_eq!(revision.branch.as_deref(), Some("release/2027.01"));
    assert!(revision
        .url
        .expect("url")
        .ends_with("/acme-retail/orders-api/commit/3f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"));
}

#[tokio::test]
async fn approving_moves_the_pipeline_on_and_a_second_answer_must_reconcile() {
    let rig = rig().await;
    rig.waiting_execution("aaaaaaa");
    let pending = rig.pending().await;
    rig.adapter
        .put_approval_result(
            &rig.target,
            &pending.token,
            true,
            "Approved by Priya Raman (QA)",
        )
        .await
        .expect("approved");
    assert_eq!(
        rig.adapter.pending_approval(&rig.target).await,
        Ok(None),
        "no longer waiting"
    );

    let again = rig
        .adapter
        .put_approval_result(&rig.target, &pending.token, true, "again")
        .await;
    assert!(
        matches!(again, Err(PipelineError::Reconcile(ref m)) if m.contains("ApprovalAlreadyCompletedException")),
        "{again:?}"
    );
    assert_eq!(rig.sim.calls().get("PutApprovalResult"), Some(&2));
}

#[tokio::test]
async fn a_stale_or_unknown_token_asks_for_reconciliation() {
    let rig = rig().await;
    rig.waiting_execution("bbbbbbb");
    let stale = uuid::Uuid::new_v4().to_string();
    let result = rig
        .adapter
        .put_approval_result(&rig.target, &stale, false, "Rejected: broken login")
        .await;
    assert!(
        matches!(result, Err(PipelineError::Reconcile(ref m)) if m.contains("InvalidApprovalTokenException")),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_approval_answered_in_the_console_is_seen_as_not_waiting() {
    let rig = rig().await;
    rig.waiting_execution("ccccccc");
    let pending = rig.pending().await;
    assert!(rig
        .sim
        .answer_out_of_band(PIPELINE, false, "Rejected in the AWS console"));
    rig.assert_closed(&pending.token).await;
}

#[tokio::test]
async fn an_expired_approval_is_no_longer_waiting() {
    let rig = rig().await;
    rig.waiting_execution("ddddddd");
    let pending = rig.pending().await;
    rig.sim.advance_clock(Duration::days(8));
    rig.assert_closed(&pending.token).await;
}

#[tokio::test]
async fn missing_pipelines_stages_and_actions_are_configuration_errors() {
    let rig = rig().await;
    let token = uuid::Uuid::new_v4().to_string();
    let cases = [
        ApprovalTarget {
            pipeline: "nope".into(),
            ..rig.target.clone()
        },
        ApprovalTarget {
            stage: "Nope".into(),
            ..rig.target.clone()
        },
        ApprovalTarget {
            action: "Nope".into(),
            ..rig.target.clone()
        },
    ];
    for target in cases {
        let put = rig
            .adapter
            .put_approval_result(&target, &token, true, "x")
            .await;
        assert!(
            matches!(put, Err(PipelineError::Configuration(_))),
            "{target:?}: {put:?}"
        );
    }
    let read = rig
        .adapter
        .pending_approval(&ApprovalTarget {
            pipeline: "nope".into(),
            ..rig.target.clone()
        })
        .await;
    assert!(
        matches!(read, Err(PipelineError::Configuration(ref m)) if m.contains("PipelineNotFoundException")),
        "{read:?}"
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_reported() {
    let rig = rig().await;
    rig.sim.set_faults(Faults {
        throttle: 2,
        ..Faults::default()
    });
    assert_eq!(
        rig.adapter.pending_approval(&rig.target).await,
        Ok(None),
        "two throttles, then success"
    );
    assert_eq!(rig.sim.calls().get("GetPipelineState"), Some(&3));

    rig.sim.set_faults(Faults {
        throttle: 10,
        ..Faults::default()
    });
    let throttled = rig.adapter.pending_approval(&rig.target).await;
    assert!(
        matches!(throttled, Err(PipelineError::Unavailable(ref m)) if m.contains("throttled")),
        "{throttled:?}"
    );

    rig.sim.set_faults(Faults {
        server_errors: 10,
        ..Faults::default()
    });
    let failing = rig.adapter.pending_approval(&rig.target).await;
    assert!(
        matches!(failing, Err(PipelineError::Unavailable(_))),
        "{failing:?}"
    );

    rig.sim.set_faults(Faults {
        latency_ms: 3_000,
        ..Faults::default()
    });
    let slow = rig.adapter.pending_approval(&rig.target).await;
    assert!(
        matches!(slow, Err(PipelineError::Unavailable(ref m)) if m.contains("timed out")),
        "{slow:?}"
    );
}

#[tokio::test]
async fn pipelines_are_listed_described_and_started_through_the_sdk() {
    let rig = rig().await;
    rig.sim.add_pipeline(PipelineSpec {
        name: "orders-api-dev".into(),
        repository: "acme-retail/orders-api".into(),
        branch: "develop".into(),
        approval: None,
    });
    let mut names = rig.adapter.pipeline_names().await.expect("list");
    names.sort();
    assert_eq!(names, ["orders-api-dev", "orders-api-qa"]);
    let stages = rig.adapter.pipeline_stages(PIPELINE).await.expect("get");
    let summary: Vec<(String, Vec<(String, String)>)> = stages;
    assert_eq!(summary.len(), 4);
    assert_eq!(summary[0].1[0].1, "Source");
    assert_eq!(
        summary[2],
        (
            "QA".to_owned(),
            vec![("QASignOff".to_owned(), "Approval".to_owned())]
        )
    );
    assert_eq!(summary[3].1[0].1, "Deploy");
    assert!(matches!(
        rig.adapter.pipeline_stages("nope").await,
        Err(PipelineError::Configuration(_))
    ));

    // A pipeline that never ran has no revision to run again.
    assert!(matches!(
        rig.adapter.start_execution(PIPELINE, "first-try").await,
        Err(PipelineError::Rejected(m)) if m.contains("no source revision")
    ));
    rig.sim.start_execution(
        PIPELINE,
        RevisionSpec {
            commit: "3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3".into(),
            message: "Paginate the order history endpoint".into(),
            branch: None,
        },
    );
    let execution = rig
        .adapter
        .start_execution(PIPELINE, "rerun-1")
        .await
        .expect("start");
    assert_eq!(execution.len(), 36, "a UUID");
    assert_eq!(rig.sim.calls().get("StartPipelineExecution"), Some(&2));
    // The same client token (a retry, a double click) is the same run.
    let again = rig
        .adapter
        .start_execution(PIPELINE, "rerun-1")
        .await
        .expect("start again");
    assert_eq!(again, execution, "clientRequestToken is idempotent");
    let other = rig
        .adapter
        .start_execution(PIPELINE, "rerun-2")
        .await
        .expect("another run");
    assert_ne!(other, execution);
    assert!(matches!(
        rig.adapter.start_execution("nope", "rerun-3").await,
        Err(PipelineError::Configuration(_))
    ));
}

/// CodePipeline's SUPERSEDED mode: a stage runs one execution at a time. The
/// execution waiting for approval keeps its stage and its token; newer ones
/// wait at the stage's boundary, where the newest supersedes the others
/// (`simulator_model.rs` sees the superseded one's status).
#[tokio::test]
async fn a_waiting_approval_keeps_its_token_while_newer_executions_queue_behind_it() {
    let rig = rig().await;
    let first = rig.waiting_execution("1111111111111111111111111111111111111111");
    let waiting = rig.pending().await;
    assert_eq!(waiting.execution_id, first);
    let _second = rig.waiting_execution("2222222222222222222222222222222222222222");
    let third = rig.waiting_execution("3333333333333333333333333333333333333333");
    let still = rig.pending().await;
    assert_eq!(
        (still.execution_id.as_str(), still.token.as_str()),
        (first.as_str(), waiting.token.as_str()),
        "newer executions do not take the approval's stage or invalidate its token"
    );
    rig.adapter
        .put_approval_result(
            &rig.target,
            &waiting.token,
            true,
            "Approved in Gatehouse by Sam Okafor",
        )
        .await
        .expect("the token still answers");
    rig.sim.advance_clock(Duration::seconds(1));
    let next = rig.pending().await;
    assert_eq!(
        next.execution_id, third,
        "the newest queued execution moves up, the one before it was superseded"
    );
    assert_ne!(next.token, waiting.token);
}
