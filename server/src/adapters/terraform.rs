//! Terraform states, read for the Inventory page: from Terraform's HTTP
//! backend (conditional requests: `If-None-Match`, `If-Modified-Since`),
//! from S3 (`GetObject` with `If-None-Match`) or from a file, by the
//! inventory job's leader. Only what
//! [`app::domain::inventory::parse_state`] keeps is stored: resource
//! addresses and types, never attribute values. Demo mode serves its own
//! states from [`TerraformBackend`], over HTTP like a real backend.

use app::domain::inventory::{parse_state, StateSummary, STATE_LIMIT};
use app::domain::OrgModel;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where one environment's state is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSource {
    File(std::path::PathBuf),
    Http(String),
    /// `s3://bucket/key`, as Terraform's S3 backend stores it.
    S3 {
        bucket: String,
        key: String,
    },
}

impl StateSource {
    /// The source as the page shows it (an URL without its credentials).
    pub fn describe(&self) -> String {
        match self {
            StateSource::File(path) => path.display().to_string(),
            StateSource::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
            StateSource::Http(url) => match reqwest::Url::parse(url) {
                Ok(mut parsed) => {
                    let _ = parsed.set_username("");
                    let _ = parsed.set_password(None);
                    parsed.to_string()
                }
                Err(_) => url.clone(),
            },
        }
    }
}

/// `[terraform]`: the sources, and how often they are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformConfig {
    pub refresh: Duration,
    pub states: Vec<(String, StateSource)>,
    /// How S3 sources are reached.
    pub s3: S3Settings,
}

/// How S3 sources are reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// The buckets' region; AWS's default chain (`AWS_REGION`, profile)
    /// when unset.
    pub region: Option<String>,
    /// An S3-compatible server (MinIO, moto), addressed path-style; AWS's
    /// S3 when unset.
    pub endpoint: Option<String>,
    /// (access key id, secret access key); AWS's default chain (environment,
    /// profile, instance or task role) when unset.
    pub credentials: Option<(String, String)>,
}

/// The clients sources are read with.
#[derive(Clone)]
pub struct Readers {
    pub http: reqwest::Client,
    /// Only when a source is in S3.
    pub s3: Option<aws_sdk_s3::Client>,
}

impl Readers {
    /// The clients `config`'s sources need, with timeouts on every call.
    pub async fn for_config(config: &TerraformConfig) -> Self {
        let http = reqwest::Client::builder()
            .user_agent("gatehouse-inventory")
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        let s3 = if config
            .states
            .iter()
            .any(|(_, s)| matches!(s, StateSource::S3 { .. }))
        {
            Some(s3_client(&config.s3).await)
        } else {
            None
        };
        Self { http, s3 }
    }
}

/// An S3 client for `settings`: three attempts, 20 s per read.
pub async fn s3_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        );
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some((id, secret)) = &settings.credentials {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            id.clone(),
            secret.clone(),
            None,
            None,
            "gatehouse-terraform",
        ));
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared);
    if let Some(endpoint) = &settings.endpoint {
        config = config.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// What one refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshReport {
    /// States read and stored (new or changed).
    pub read: usize,
    /// Sources that answered "not modified".
    pub unchanged: usize,
    /// Sources that could not be read or parsed (the page says why).
    pub failed: usize,
}

enum Read {
    Unchanged,
    Changed {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
        modified_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// Reads an S3 object unless its ETag is still `etag`.
async fn read_s3(
    s3: Option<&aws_sdk_s3::Client>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
) -> Result<Read, String> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let shown = format!("s3://{bucket}/{key}");
    let Some(s3) = s3 else {
        return Err(format!("{shown}: no S3 client was set up"));
    };
    let mut request = s3.get_object().bucket(bucket).key(key);
    if let Some(e) = etag {
        request = request.if_none_match(e);
    }
    let output = match request.send().await {
        Ok(output) => output,
        Err(err) => {
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 304)
            {
                return Ok(Read::Unchanged);
            }
            let status = err.raw_response().map(|r| r.status().as_u16());
            return Err(match (err.code(), status) {
                (Some("NoSuchBucket"), _) => format!("{shown}: there is no bucket {bucket}"),
                (Some("NoSuchKey"), _) | (None, Some(404)) => format!("{shown} does not exist"),
                (Some("AccessDenied"), _) | (_, Some(403)) => {
                    format!(
                        "{shown}: S3 refused access (check the credentials and the bucket policy)"
                    )
                }
                (Some(code), _) => format!("{shown} could not be read: {code}"),
                (None, Some(s)) => format!("{shown} could not be read: S3 answered HTTP {s}"),
                (None, None) => format!(
                    "{shown} could not be read: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&err)
                ),
            });
        }
    };
    if output
        .content_length()
        .is_some_and(|n| n > i64::try_from(STATE_LIMIT).unwrap_or(i64::MAX))
    {
        return Err(format!(
            "{shown} is over {} MB",
            STATE_LIMIT / (1024 * 1024)
        ));
    }
    let etag = output.e_tag().map(str::to_owned);
    let modified_at = output
        .last_modified()
        .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
    let mut body = output.body;
    let mut bytes = Vec::new();
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| format!("{shown} broke off: {e}"))?
    {
        bytes = within_limit(bytes, &chunk, &shown)?;
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not text"))?;
    Ok(Read::Changed {
        text,
        etag,
        last_modified: None,
        modified_at,
    })
}

/// `bytes` with `chunk` added, or why reading stops: the state would be
/// over [`STATE_LIMIT`].
fn within_limit(mut bytes: Vec<u8>, chunk: &[u8], shown: &str) -> Result<Vec<u8>, String> {
    if bytes.len() + chunk.len() > STATE_LIMIT {
        return Err(format!(
            "{shown} sent more than {} MB, so Gatehouse stopped reading it there; it reads states up to {} MB",
            STATE_LIMIT / (1024 * 1024),
            STATE_LIMIT / (1024 * 1024)
        ));
    }
    bytes.extend_from_slice(chunk);
    Ok(bytes)
}

async fn read(
    source: &StateSource,
    etag: Option<&str>,
    last_modified: Option<&str>,
    readers: &Readers,
) -> Result<Read, String> {
    let client = &readers.http;
    match source {
        StateSource::S3 { bucket, key } => read_s3(readers.s3.as_ref(), bucket, key, etag).await,
        StateSource::File(path) => {
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if meta.len() > STATE_LIMIT as u64 {
                return Err(format!(
                    "{} is over {} MB",
                    path.display(),
                    STATE_LIMIT / (1024 * 1024)
                ));
            }
            let modified = meta
                .modified()
                .ok()
                .map(chrono::DateTime::<chrono::Utc>::from);
            let stamp = format!(
                "file:{}:{}",
                modified
                    .map(|m| m.timestamp_nanos_opt().unwrap_or_default())
                    .unwrap_or_default(),
                meta.len()
            );
            if etag == Some(stamp.as_str()) {
                return Ok(Read::Unchanged);
            }
            // Bounded even if the file grew since its size was read.
            let mut bytes = Vec::new();
            {
                use tokio::io::AsyncReadExt;
                tokio::fs::File::open(path)
                    .await
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                    .take(STATE_LIMIT as u64 + 1)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            }
            if bytes.len() > STATE_LIMIT {
                return Err(format!(
                    "{} is over {} MB",
                    path.display(),
                    STATE_LIMIT / (1024 * 1024)
                ));
            }
            let text =
                String::from_utf8(bytes).map_err(|_| format!("{} is not text", path.display()))?;
            Ok(Read::Changed {
                text,
                etag: Some(stamp),
                last_modified: None,
                modified_at: modified,
            })
        }
        StateSource::Http(url) => {
            let mut request = client.get(url);
            if let Some(e) = etag {
                request = request.header(header::IF_NONE_MATCH, e);
            }
            if let Some(m) = last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, m);
            }
            let shown = StateSource::Http(url.clone()).describe();
            let response = request.send().await.map_err(|e| {
                if e.is_timeout() {
                    format!("{shown} did not answer within 20 s")
                } else {
                    format!("{shown} could not be reached: {e}")
                }
            })?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Read::Unchanged);
            }
            if !status.is_success() {
                return Err(format!("{shown} answered HTTP {status}"));
            }
            if response
                .content_length()
                .is_some_and(|n| n > STATE_LIMIT as u64)
            {
                return Err(format!(
                    "{shown} sent a state over {} MB",
                    STATE_LIMIT / (1024 * 1024)
                ));
            }
            let header_text = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let etag = header_text(header::ETAG);
            let last_modified = header_text(header::LAST_MODIFIED);
            let modified_at = last_modified
                .as_deref()
                .and_then(|m| chrono::DateTime::parse_from_rfc2822(m).ok())
                .map(|m| m.with_timezone(&chrono::Utc));
            // Read chunk by chunk and given up at the limit: a body without
            // Content-Length is never held whole before it is measured.
            let mut response = response;
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("{shown} broke off: {e}"))?
            {
                bytes = within_limit(bytes, &chunk, &shown)?;
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{shown} sent something that is not text"))?;
            Ok(Read::Changed {
                text,
                etag,
                last_modified,
                modified_at,
            })
        }
    }
}

/// Reads every configured state once and stores what changed.
pub async fn refresh(
    pool: &PgPool,
    config: &TerraformConfig,
    readers: &Readers,
) -> Result<RefreshReport, sqlx::Error> {
    let mut report = RefreshReport::default();
    for (environment, source) in &config.states {
        let prior: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT etag, last_modified, error FROM terraform_states WHERE environment_id = $1",
        )
        .bind(environment)
        .fetch_optional(pool)
        .await?;
        let (etag, last_modified, prior_error) = prior.unwrap_or_default();
        let shown = source.describe();
        let outcome = match read(source, etag.as_deref(), last_modified.as_deref(), readers).await {
            Ok(Read::Unchanged) => Ok(None),
            Ok(Read::Changed {
                text,
                etag,
                last_modified,
                modified_at,
            }) => parse_state(&text)
                .map(|summary| Some((summary, etag, last_modified, modified_at)))
                .map_err(|e| format!("{shown}: {e}")),
            Err(why) => Err(why),
        };
        if outcome.is_ok() && prior_error.is_some() {
            tracing::info!(environment, "Terraform state read again");
        }
        match outcome {
            Ok(None) => {
                sqlx::query(
                    "UPDATE terraform_states SET fetched_at = now(), error = NULL, source = $2 WHERE environment_id = $1",
                )
                .bind(environment)
                .bind(&shown)
                .execute(pool)
                .await?;
                report.unchanged += 1;
            }
            Ok(Some((summary, etag, last_modified, modified_at))) => {
                store(
                    pool,
                    environment,
                    &shown,
                    &summary,
                    etag,
                    last_modified,
                    modified_at,
                )
                .await?;
                report.read += 1;
            }
            Err(why) => {
                // Said once per change: the same failure again, every
                // refresh, is only recorded.
                let stored: String = why.chars().take(1000).collect();
                if prior_error.as_deref() == Some(stored.as_str()) {
                    tracing::debug!(environment, error = %why, "Terraform state still not read");
                } else {
                    tracing::warn!(environment, error = %why, "Terraform state not read");
                }
                sqlx::query(
                    "INSERT INTO terraform_states (environment_id, source, fetched_at, error)
                     VALUES ($1, $2, now(), left($3, 1000))
                     ON CONFLICT (environment_id) DO UPDATE
                        SET source = EXCLUDED.source, fetched_at = now(), error = EXCLUDED.error",
                )
                .bind(environment)
                .bind(&shown)
                .bind(&why)
                .execute(pool)
                .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

async fn store(
    pool: &PgPool,
    environment: &str,
    source: &str,
    summary: &StateSummary,
    etag: Option<String>,
    last_modified: Option<String>,
    modified_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), sqlx::Error> {
    let resources = serde_json::to_value(&summary.resources).unwrap_or_default();
    sqlx::query(
        "INSERT INTO terraform_states
             (environment_id, source, serial, lineage, terraform_version, resources, etag, last_modified,
              applied_at, fetched_at, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()), now(), NULL)
         ON CONFLICT (environment_id) DO UPDATE SET
             source = EXCLUDED.source,
             applied_at = CASE WHEN terraform_states.serial IS DISTINCT FROM EXCLUDED.serial
                                 OR terraform_states.lineage IS DISTINCT FROM EXCLUDED.lineage
                               THEN EXCLUDED.applied_at ELSE terraform_states.applied_at END,
             serial = EXCLUDED.serial, lineage = EXCLUDED.lineage,
             terraform_version = EXCLUDED.terraform_version, resources = EXCLUDED.resources,
             etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
             fetched_at = now(), error = NULL",
    )
    .bind(environment)
    .bind(source)
    .bind(i64::try_from(summary.serial).unwrap_or(i64::MAX))
    .bind(&summary.lineage)
    .bind(&summary.terraform_version)
    .bind(resources)
    .bind(etag)
    .bind(last_modified)
    .bind(modified_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Demo mode's Terraform HTTP backend: one state per environment at
/// `GET /state/<environment>`, with an `ETag` (its serial) and
/// `Last-Modified`, answering 304 to a matching conditional request.
/// A served state: its serial, its text, and when it was put.
type Served = (u64, String, chrono::DateTime<chrono::Utc>);

#[derive(Clone, Default)]
pub struct TerraformBackend {
    states: Arc<Mutex<BTreeMap<String, Served>>>,
    /// Requests answered, by status (for tests).
    answered: Arc<Mutex<BTreeMap<u16, u64>>>,
}

impl TerraformBackend {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `text` as `environment`'s state from now on.
    pub fn put(&self, environment: &str, text: String) {
        let serial = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("serial").and_then(serde_json::Value::as_u64))
            .unwrap_or(0);
        if let Ok(mut states) = self.states.lock() {
            states.insert(environment.to_owned(), (serial, text, chrono::Utc::now()));
        }
    }

    /// How many requests were answered with `status`.
    pub fn answered(&self, status: u16) -> u64 {
        self.answered
            .lock()
            .ok()
            .and_then(|a| a.get(&status).copied())
            .unwrap_or(0)
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/state/{environment}", get(serve_state))
            .with_state(self.clone())
    }

    fn count(&self, status: StatusCode) {
        if let Ok(mut a) = self.answered.lock() {
            *a.entry(status.as_u16()).or_insert(0) += 1;
        }
    }
}

async fn serve_state(
    State(backend): State<TerraformBackend>,
    Path(environment): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = backend
        .states
        .lock()
        .ok()
        .and_then(|s| s.get(&environment).cloned());
    let Some((serial, text, at)) = found else {
        backend.count(StatusCode::NOT_FOUND);
        return (StatusCode::NOT_FOUND, "no such state").into_response();
    };
    let etag = format!("\"{serial}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        backend.count(StatusCode::NOT_MODIFIED);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    backend.count(StatusCode::OK);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
            (
                header::LAST_MODIFIED,
                at.to_rfc2822().replace("+0000", "GMT"),
            ),
        ],
        text,
    )
        .into_response()
}

/// A demo state for `environment` of `org`: a network module, an EKS
/// cluster, and per service what its team's services use (a database and
/// queue for the backend, a bucket and CDN for the front end, functions for
/// mobile), with a little drift between environments: Dev and Stage try a
/// queue the later environments lack, and only Pre-Prod and Prod have a WAF
/// and a search domain. Secrets sit in attributes, as in real states.
pub fn demo_state(org: &OrgModel, environment: &str, serial: u64) -> String {
    let mut resources: Vec<serde_json::Value> = Vec::new();
    let provider = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    let mut add = |module: Option<&str>, kind: &str, name: &str, keys: Vec<serde_json::Value>| {
        let instances: Vec<serde_json::Value> = if keys.is_empty() {
            vec![
                serde_json::json!({ "schema_version": 0, "attributes": { "id": format!("{environment}-{name}"), "tags": { "env": environment } } }),
            ]
        } else {
            keys.into_iter()
                .map(|k| serde_json::json!({ "index_key": k, "schema_version": 0, "attributes": { "id": format!("{environment}-{name}-{k}") } }))
                .collect()
        };
        let mut r = serde_json::json!({ "mode": "managed", "type": kind, "name": name, "provider": provider, "instances": instances });
        if let Some(m) = module {
            r["module"] = serde_json::Value::String(m.to_owned());
        }
        resources.push(r);
    };
    let n = |i: i64| serde_json::json!(i);
    add(Some("module.network"), "aws_vpc", "main", vec![]);
    add(
        Some("module.network"),
        "aws_subnet",
        "private",
        vec![n(0), n(1), n(2)],
    );
    add(
        Some("module.network"),
        "aws_subnet",
        "public",
        vec![n(0), n(1), n(2)],
    );
    add(
        Some("module.network"),
        "aws_nat_gateway",
        "egress",
        vec![n(0)],
    );
    add(
        Some("module.network"),
        "aws_security_group",
        "cluster",
        vec![],
    );
    add(Some("module.cluster"), "aws_eks_cluster", "main", vec![]);
    add(
        Some("module.cluster"),
        "aws_eks_node_group",
        "general",
        vec![],
    );
    add(None, "aws_lb", "ingress", vec![]);
    add(None, "aws_kms_key", "data", vec![]);
    add(None, "aws_elasticache_cluster", "sessions", vec![]);
    add(None, "aws_msk_cluster", "events", vec![]);
    add(None, "aws_route53_zone", "internal", vec![]);
    if matches!(environment, "dev" | "stage") {
        add(None, "aws_sqs_queue", "experiments", vec![]);
    }
    if matches!(environment, "pre-prod" | "prod") {
        add(None, "aws_wafv2_web_acl", "edge", vec![]);
        add(None, "aws_opensearch_domain", "catalog", vec![]);
    }
    for service in &org.services {
        let id = service.id.as_str();
        let key = serde_json::json!(id);
        add(None, "aws_ecr_repository", "service", vec![key.clone()]);
        add(
            None,
            "aws_cloudwatch_log_group",
            "service",
            vec![key.clone()],
        );
        add(None, "aws_route53_record", "service", vec![key.clone()]);
        match service.team.as_str() {
            "backend" => {
                add(None, "aws_db_instance", "service", vec![key.clone()]);
                add(None, "aws_sqs_queue", "service", vec![key]);
            }
            "frontend" => {
                add(None, "aws_s3_bucket", "assets", vec![key.clone()]);
                add(None, "aws_cloudfront_distribution", "assets", vec![key]);
            }
            _ => {
                add(None, "aws_lambda_function", "push", vec![key.clone()]);
                add(None, "aws_dynamodb_table", "devices", vec![key]);
            }
        }
    }
    // A secret, as real states hold them: never read into the inventory.
    resources.push(serde_json::json!({
        "mode": "managed", "type": "random_password", "name": "db", "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
        "instances": [ { "schema_version": 3, "attributes": { "result": format!("demo-secret-{environment}") }, "sensitive_attributes": [ [ { "type": "get_attr", "value": "result" } ] ] } ]
    }));
    serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": serial,
        "lineage": format!("acme-retail-{environment}"),
        "outputs": {},
        "resources": resources,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_shown_without_its_credentials() {
        assert_eq!(
            StateSource::Http("https://user:secret@tf.example/state/prod".into()).describe(),
            "https://tf.example/state/prod"
        );
        assert_eq!(
            StateSource::Http("https://tf.example/state/prod".into()).describe(),
            "https://tf.example/state/prod"
        );
        assert_eq!(
            StateSource::File("/srv/tf/prod.tfstate".into()).describe(),
            "/srv/tf/prod.tfstate"
        );
    }

    #[test]
    fn the_demo_states_parse_and_drift_between_environments() {
        let org = crate::org_config::parse(
            std::path::Path::new("org.toml"),
            include_str!("../../../config/org.toml"),
        )
        .expect("org");
        let stage = parse_state(&demo_state(&org, "stage", 3)).expect("stage");
        let prod = parse_state(&demo_state(&org, "prod", 9)).expect("prod");
        assert_eq!(prod.serial, 9);
        let d = app::domain::inventory::drift(&stage, &prod);
        assert_eq!(
            d.only_in_first
                .iter()
                .map(|r| r.address.as_str())
                .collect::<Vec<_>>(),
            ["aws_sqs_queue.experiments"]
        );
        assert_eq!(d.only_in_second.len(), 2);
        assert!(!format!("{prod:?}").contains("demo-secret"));
        let counts = app::domain::inventory::by_service(&prod.resources);
        assert_eq!(counts.get("EKS"), Some(&2));
        assert_eq!(
            counts.get("RDS"),
            Some(&4),
            "one database per backend service"
        );
    }
}
