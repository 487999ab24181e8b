//! The CodePipeline simulator against the service's own model: every
//! response of every operation it implements, in every state a demo or a
//! test reaches, is checked member by member against the output shape of
//! CodePipeline's published service model (botocore's copy, installed by
//! `scripts/setup.sh --test`): no member the model lacks, every required
//! member present, enum values, types, timestamps and lengths as the model
//! says; every error is one the operation may return; every response names
//! its request id. So drift between the simulator and AWS cannot come back.

use serde_json::{json, Value};
use server::simulators::codepipeline::{PipelineSpec, RevisionSpec, Simulator, SimulatorSettings};
use std::collections::BTreeSet;

/// CodePipeline's service model, as botocore ships it.
fn model() -> Value {
    let script = "import botocore.loaders, json, sys; \
                  json.dump(botocore.loaders.Loader().load_service_model('codepipeline', 'service-2'), sys.stdout)";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs (scripts/setup.sh --test installs it with botocore)");
    assert!(
        output.status.success(),
        "botocore's CodePipeline model is needed: run scripts/setup.sh --test ({})",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("model JSON")
}

/// Errors any AWS JSON service may answer, besides an operation's own.
const COMMON_ERRORS: &[&str] = &[
    "ThrottlingException",
    "InternalFailure",
    "ServiceUnavailable",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "SerializationException",
    "UnknownOperationException",
];

struct Checker<'a> {
    shapes: &'a serde_json::Map<String, Value>,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn check(&mut self, at: &str, shape_name: &str, value: &Value) {
        let Some(shape) = self.shapes.get(shape_name) else {
            self.problems
                .push(format!("{at}: the model has no shape {shape_name}"));
            return;
        };
        let kind = shape["type"].as_str().unwrap_or_default();
        match kind {
            "structure" => {
                let Some(object) = value.as_object() else {
                    self.problems
                        .push(format!("{at}: {shape_name} must be an object, got {value}"));
                    return;
                };
                let members = shape["members"].as_object().cloned().unwrap_or_default();
                for (name, member_value) in object {
                    match members.get(name) {
                        Some(member) => {
                            let target = member["shape"].as_str().unwrap_or_default();
                            self.check(&format!("{at}.{name}"), target, member_value);
                        }
                        None => self
                            .problems
                            .push(format!("{at}: {shape_name} has no member {name}")),
                    }
                }
                for required in shape["required"].as_array().into_iter().flatten() {
                    let required = required.as_str().unwrap_or_default();
                    if !object.contains_key(required) {
                        self.problems.push(format!(
                            "{at}: {shape_name} lacks its required member {required}"
                        ));
                    }
                }
            }
            "list" => match value.as_array() {
                Some(items) => {
                    let member = shape["member"]["shape"].as_str().unwrap_or_default();
                    self.bounds(at, shape, items.len());
                    for (i, item) in items.iter().enumerate() {
                        self.check(&format!("{at}[{i}]"), member, item);
                    }
                }
                None => self
                    .problems
                    .push(format!("{at}: {shape_name} must be a list")),
            },
            "map" => match value.as_object() {
                Some(entries) => {
                    let target = shape["value"]["shape"].as_str().unwrap_or_default();
                    for (k, v) in entries {
                        self.check(&format!("{at}.{k}"), target, v);
                    }
                }
                None => self
                    .problems
                    .push(format!("{at}: {shape_name} must be a map")),
            },
            "string" => match value.as_str() {
                Some(text) => {
                    if let Some(values) = shape["enum"].as_array() {
                        if !values.iter().any(|v| v.as_str() == Some(text)) {
                            self.problems.push(format!(
                                "{at}: {text:?} is not a {shape_name} (one of {values:?})"
                            ));
                        }
                    }
                    self.bounds(at, shape, text.chars().count());
                }
                None => self
                    .problems
                    .push(format!("{at}: {shape_name} must be a string")),
            },
            "integer" | "long" => {
                if !value.is_i64() && !value.is_u64() {
                    self.problems
                        .push(format!("{at}: {shape_name} must be an integer"));
                }
            }
            "boolean" => {
                if !value.is_boolean() {
                    self.problems
                        .push(format!("{at}: {shape_name} must be a boolean"));
                }
            }
            // awsJson1_1 writes timestamps as epoch seconds.
            "timestamp" => {
                if !value.is_number() {
                    self.problems
                        .push(format!("{at}: {shape_name} must be epoch seconds"));
                }
            }
            other => self.problems.push(format!(
                "{at}: {shape_name} has a type this test does not know: {other}"
            )),
        }
    }

    fn bounds(&mut self, at: &str, shape: &Value, length: usize) {
        if let Some(min) = shape["min"].as_u64() {
            if (length as u64) < min {
                self.problems.push(format!("{at}: shorter than {min}"));
            }
        }
        if let Some(max) = shape["max"].as_u64() {
            if length as u64 > max {
                self.problems.push(format!("{at}: longer than {max}"));
            }
        }
    }
}

/// Serves the simulator's API on a free local port; its URL.
async fn serve(sim: &Simulator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// One CodePipeline call as the SDK sends it (JSON 1.1, signed).
async fn post(
    client: &reqwest::Client,
    url: &str,
    operation: &str,
    input: &Value,
) -> reqwest::Response {
    client
        .post(url)
        .header("x-amz-target", format!("CodePipeline_20150709.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDMODELTEST/20261130/us-east-1/codepipeline/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(input.to_string())
        .send()
        .await
        .expect("POST")
}

struct Caller {
    client: reqwest::Client,
    url: String,
    model: Value,
    problems: Vec<String>,
    seen: BTreeSet<String>,
}

impl Caller {
    /// Calls `operation`, checks its answer against the model, returns it.
    async fn call(&mut self, operation: &str, input: Value) -> (u16, Value) {
        self.seen.insert(operation.to_owned());
        let response = post(&self.client, &self.url, operation, &input).await;
        let status = response.status().as_u16();
        if response.headers().get("x-amzn-requestid").is_none() {
            self.problems
                .push(format!("{operation}: no x-amzn-RequestId header"));
        }
        let body: Value = response.json().await.expect("JSON body");
        let op = &self.model["operations"][operation];
        if op.is_null() {
            self.problems
                .push(format!("{operation} is not a CodePipeline operation"));
            return (status, body);
        }
        let shapes = self.model["shapes"].as_object().expect("shapes").clone();
        let mut checker = Checker {
            shapes: &shapes,
            problems: Vec::new(),
        };
        if status == 200 {
            if let Some(output) = op["output"]["shape"].as_str() {
                checker.check(operation, output, &body);
            }
        } else {
            let kind = body["__type"].as_str().unwrap_or_default().to_owned();
            let declared = op["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["shape"].as_str() == Some(kind.as_str()));
            if !declared && !COMMON_ERRORS.contains(&kind.as_str()) {
                checker
                    .problems
                    .push(format!("{operation}: may not answer {kind} ({body})"));
            }
            if body["message"].as_str().is_none_or(str::is_empty) {
                checker
                    .problems
                    .push(format!("{operation}: {kind} without a message"));
            }
        }
        self.problems.append(&mut checker.problems);
        (status, body)
    }
}

fn revision(commit: &str) -> RevisionSpec {
    RevisionSpec {
        commit: commit
            .repeat(40 / commit.len().max(1))
            .chars()
            .take(40)
            .collect(),
        message: format!("Change {commit}"),
        branch: None,
    }
}

/// Every state the simulator shows, every operation it implements.
#[tokio::test]
async fn every_simulator_response_matches_codepipeline_s_service_model() {
    let model = model();
    let sim = Simulator::new(SimulatorSettings::default());
    for (name, approval) in [
        ("model-orders-prod", true),
        ("model-orders-dev", false),
        ("model-expiry", true),
    ] {
        sim.add_pipeline(PipelineSpec {
            name: name.into(),
            repository: "acme-retail/orders-api".into(),
            branch: "master".into(),
            approval: approval.then(|| ("Approval".into(), "ManualApproval".into())),
        });
    }
    sim.add_past_execution(
        "model-orders-prod",
        revision("a1"),
        chrono::Utc::now() - chrono::Duration::days(2),
    );
    let url = serve(&sim).await;
    let mut caller = Caller {
        client: reqwest::Client::new(),
        url,
        model,
        problems: Vec::new(),
        seen: BTreeSet::new(),
    };
    let prod = json!({ "name": "model-orders-prod" });

    // A waits for approval; B queues at the stage's boundary; C supersedes B.
    sim.start_execution("model-orders-prod", revision("b2"))
        .expect("A");
    sim.advance_clock(chrono::Duration::seconds(60));
    sim.start_execution("model-orders-prod", revision("c3"))
        .expect("B");
    sim.advance_clock(chrono::Duration::seconds(60));
    sim.start_execution("model-orders-prod", revision("d4"))
        .expect("C");
    sim.advance_clock(chrono::Duration::seconds(60));
    sim.start_execution("model-orders-dev", revision("e5"))
        .expect("dev");
    sim.advance_clock(chrono::Duration::seconds(10));
    let (_, state) = caller.call("GetPipelineState", prod.clone()).await;
    let approval_stage = state["stageStates"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stageName"] == "Approval")
        .expect("approval stage")
        .clone();
    let token = approval_stage["actionStates"][0]["latestExecution"]["token"]
        .as_str()
        .expect("a waiting approval has a token")
        .to_owned();
    assert!(
        approval_stage["inboundExecutions"]
            .as_array()
            .is_some_and(|i| i.len() == 1),
        "C waits at the approval stage's boundary: {approval_stage}"
    );
    caller
        .call("GetPipelineState", json!({ "name": "model-orders-dev" }))
        .await;
    caller.call("ListPipelines", json!({})).await;
    caller
        .call("ListPipelines", json!({ "maxResults": 1 }))
        .await;
    caller.call("GetPipeline", prod.clone()).await;
    let (_, executions) = caller
        .call(
            "ListPipelineExecutions",
            json!({ "pipelineName": "model-orders-prod" }),
        )
        .await;
    let statuses: BTreeSet<String> = executions["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .map(|e| e["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(statuses.contains("Superseded"), "{statuses:?}");
    assert!(statuses.contains("InProgress"), "{statuses:?}");
    assert!(statuses.contains("Succeeded"), "{statuses:?}");
    caller
        .call(
            "ListPipelineExecutions",
            json!({ "pipelineName": "model-orders-prod", "maxResults": 1 }),
        )
        .await;
    let ids: Vec<String> = executions["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .filter_map(|e| e["pipelineExecutionId"].as_str().map(str::to_owned))
        .collect();
    for id in &ids {
        caller
            .call(
                "GetPipelineExecution",
                json!({ "pipelineName": "model-orders-prod", "pipelineExecutionId": id }),
            )
            .await;
        caller
            .call("ListActionExecutions", json!({ "pipelineName": "model-orders-prod", "filter": { "pipelineExecutionId": id } }))
            .await;
    }
    caller
        .call(
            "ListActionExecutions",
            json!({ "pipelineName": "model-orders-dev" }),
        )
        .await;

    // A rejected (the summary kept as sent), then C approved and deployed.
    let answer = |token: &str, status: &str, summary: &str| {
        json!({ "pipelineName": "model-orders-prod", "stageName": "Approval", "actionName": "ManualApproval",
                "token": token, "result": { "status": status, "summary": summary } })
    };
    let (status, _) = caller
        .call(
            "PutApprovalResult",
            answer(
                &token,
                "Rejected",
                "Rejected in Gatehouse by Priya Raman (qa): flaky checkout",
            ),
        )
        .await;
    assert_eq!(status, 200);
    let (status, stale) = caller
        .call("PutApprovalResult", answer(&token, "Approved", "again"))
        .await;
    assert_eq!(
        (status, stale["__type"].as_str()),
        (400, Some("ApprovalAlreadyCompletedException"))
    );
    let (_, state) = caller.call("GetPipelineState", prod.clone()).await;
    let approval = state["stageStates"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stageName"] == "Approval")
        .expect("stage")["actionStates"][0]["latestExecution"]
        .clone();
    let next_token = approval["token"].as_str().expect("C now waits").to_owned();
    assert_ne!(next_token, token);
    caller
        .call(
            "PutApprovalResult",
            answer(
                &next_token,
                "Approved",
                "Approved in Gatehouse by Sam Okafor, Priya Raman (qa)",
            ),
        )
        .await;
    sim.advance_clock(chrono::Duration::seconds(60));
    caller.call("GetPipelineState", prod.clone()).await;
    let (_, executions) = caller
        .call(
            "ListPipelineExecutions",
            json!({ "pipelineName": "model-orders-prod" }),
        )
        .await;
    for e in executions["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
    {
        let id = e["pipelineExecutionId"].as_str().expect("id");
        caller
            .call("ListActionExecutions", json!({ "pipelineName": "model-orders-prod", "filter": { "pipelineExecutionId": id } }))
            .await;
    }

    // An approval nobody answers expires after seven days.
    sim.start_execution("model-expiry", revision("f6"))
        .expect("expiry");
    sim.advance_clock(chrono::Duration::days(8));
    caller
        .call("GetPipelineState", json!({ "name": "model-expiry" }))
        .await;
    caller
        .call(
            "ListPipelineExecutions",
            json!({ "pipelineName": "model-expiry" }),
        )
        .await;
    caller
        .call(
            "ListActionExecutions",
            json!({ "pipelineName": "model-expiry" }),
        )
        .await;

    // Starting runs, idempotently, and the errors each operation may give.
    let start = json!({ "name": "model-orders-prod", "clientRequestToken": "model-test-1" });
    let (_, first) = caller.call("StartPipelineExecution", start.clone()).await;
    let (_, again) = caller.call("StartPipelineExecution", start).await;
    assert_eq!(first, again, "one clientRequestToken, one execution");
    caller
        .call(
            "StartPipelineExecution",
            json!({ "name": "model-orders-prod", "clientRequestToken": "not valid!" }),
        )
        .await;
    caller
        .call("StartPipelineExecution", json!({ "name": "nope" }))
        .await;
    caller
        .call("GetPipelineState", json!({ "name": "nope" }))
        .await;
    caller.call("GetPipeline", json!({ "name": "nope" })).await;
    caller.call("GetPipelineExecution", json!({ "pipelineName": "model-orders-prod", "pipelineExecutionId": "00000000-0000-0000-0000-000000000000" })).await;
    caller
        .call(
            "PutApprovalResult",
            answer("00000000-0000-0000-0000-000000000000", "Approved", "x"),
        )
        .await;
    caller
        .call("PutApprovalResult", answer("not-a-token", "Approved", "x"))
        .await;
    caller.call("PutApprovalResult", json!({ "pipelineName": "model-orders-prod", "stageName": "Nope", "actionName": "ManualApproval", "token": next_token, "result": { "status": "Approved", "summary": "x" } })).await;
    caller
        .call("ListActionExecutions", json!({ "pipelineName": "nope" }))
        .await;
    caller
        .call("ListPipelineExecutions", json!({ "pipelineName": "nope" }))
        .await;

    let implemented: BTreeSet<String> = [
        "GetPipeline",
        "GetPipelineExecution",
        "GetPipelineState",
        "ListActionExecutions",
        "ListPipelineExecutions",
        "ListPipelines",
        "PutApprovalResult",
        "StartPipelineExecution",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(
        caller.seen, implemented,
        "every implemented operation was checked"
    );
    assert!(
        caller.problems.is_empty(),
        "the simulator drifted from CodePipeline's model:\n{}",
        caller.problems.join("\n")
    );
}

/// A call moves forward only the pipeline it names: a pipeline nobody
/// asked about for seconds must then show exactly what one asked about
/// every few milliseconds shows (the same executions superseded, expired
/// at its approval, waiting), or the shortcut would change what AWS is
/// said to do.
#[tokio::test]
async fn a_pipeline_moved_forward_late_ends_where_one_moved_often_does() {
    let sim = Simulator::new(SimulatorSettings {
        stage_duration: chrono::Duration::milliseconds(120),
        approval_ttl: chrono::Duration::milliseconds(700),
    });
    for name in ["often", "late"] {
        sim.add_pipeline(PipelineSpec {
            name: name.into(),
            repository: "acme-retail/orders-api".into(),
            branch: "master".into(),
            approval: Some(("Approval".into(), "ManualApproval".into())),
        });
    }
    let url = serve(&sim).await;
    let client = reqwest::Client::new();
    let call = |operation: &'static str, input: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            post(&client, &url, operation, &input)
                .await
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    // The same four changes pushed to both, 100 ms apart: the first waits
    // at the approval, the later ones queue at its boundary and supersede
    // each other there.
    for commit in ["a1", "b2", "c3", "d4"] {
        for name in ["often", "late"] {
            sim.start_execution(name, revision(commit))
                .expect("started");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Only "often" is asked about, until both approvals have expired.
    let until = std::time::Instant::now() + std::time::Duration::from_millis(2500);
    let mut asked = 0;
    while std::time::Instant::now() < until {
        call("GetPipelineState", json!({ "name": "often" })).await;
        asked += 1;
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    assert!(asked > 50, "{asked} calls");
    let history = |executions: Value| -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = executions["pipelineExecutionSummaries"]
            .as_array()
            .expect("summaries")
            .iter()
            .map(|e| {
                (
                    e["sourceRevisions"][0]["revisionId"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(2)
                        .collect(),
                    e["status"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let often = history(call("ListPipelineExecutions", json!({ "pipelineName": "often" })).await);
    let late = history(call("ListPipelineExecutions", json!({ "pipelineName": "late" })).await);
    assert_eq!(often.len(), 4, "{often:?}");
    assert!(
        often.iter().any(|(_, s)| s == "Superseded") && often.iter().any(|(_, s)| s == "Failed"),
        "the run reached supersession and expiry: {often:?}"
    );
    assert_eq!(late, often);
}
