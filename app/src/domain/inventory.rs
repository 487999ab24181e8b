//! The Terraform inventory of an environment: what its state (format
//! version 4) manages, by AWS service in the seed's vocabulary, and the
//! drift between two environments. Only each resource's address and type
//! are read: attribute values (where secrets live) are never kept.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest state read, in bytes.
pub const STATE_LIMIT: usize = 50 * 1024 * 1024;

/// One managed resource instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TfResource {
    /// `module.network.aws_subnet.private[0]`, as `terraform state list`
    /// writes it.
    pub address: String,
    /// `aws_subnet`.
    pub kind: String,
}

/// What one state says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSummary {
    pub serial: u64,
    pub lineage: String,
    pub terraform_version: String,
    /// Managed resources only (data sources are reads, not inventory),
    /// sorted by address.
    pub resources: Vec<TfResource>,
}

/// Why a state could not be read, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError(pub String);

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Deserialize)]
struct RawState {
    version: u64,
    #[serde(default)]
    terraform_version: String,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

/// An instance's attributes are not declared: serde skips them unread
/// into anything kept.
#[derive(Deserialize)]
struct RawInstance {
    #[serde(default)]
    index_key: Option<serde_json::Value>,
}

/// Reads a Terraform state (format version 4).
pub fn parse_state(text: &str) -> Result<StateSummary, StateError> {
    if text.len() > STATE_LIMIT {
        return Err(StateError(format!(
            "the state is {} MB; Gatehouse reads states up to {} MB",
            text.len() / (1024 * 1024),
            STATE_LIMIT / (1024 * 1024)
        )));
    }
    let probe: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| StateError(format!("the state is not JSON: {e}")))?;
    match probe.get("version").and_then(serde_json::Value::as_u64) {
        Some(4) => {}
        Some(v) => {
            return Err(StateError(format!(
                "the state's format version is {v}; Gatehouse reads version 4 (Terraform 0.12 and later)"
            )))
        }
        None => return Err(StateError("the state has no format version".into())),
    }
    drop(probe);
    let raw: RawState = serde_json::from_str(text)
        .map_err(|e| StateError(format!("the state is not a Terraform state: {e}")))?;
    debug_assert_eq!(raw.version, 4);
    let mut resources = Vec::new();
    for r in raw.resources.into_iter().filter(|r| r.mode == "managed") {
        let prefix = r.module.map(|m| format!("{m}.")).unwrap_or_default();
        let base = format!("{prefix}{}.{}", r.kind, r.name);
        if r.instances.is_empty() {
            continue;
        }
        for instance in r.instances {
            let address = match instance.index_key {
                None | Some(serde_json::Value::Null) => base.clone(),
                Some(serde_json::Value::Number(n)) => format!("{base}[{n}]"),
                Some(serde_json::Value::String(s)) => format!("{base}[{}]", hcl_quoted(&s)),
                Some(other) => format!("{base}[{other}]"),
            };
            resources.push(TfResource {
                address,
                kind: r.kind.clone(),
            });
        }
    }
    resources.sort();
    resources.dedup();
    Ok(StateSummary {
        serial: raw.serial,
        lineage: raw.lineage,
        terraform_version: raw.terraform_version,
        resources,
    })
}

/// A `for_each` key as Terraform writes it in an address (`terraform state
/// list`, `-target`): an HCL quoted string, with `"` and `\` escaped, new
/// lines, returns and tabs as `\n`, `\r`, `\t`, other characters Go's
/// `unicode.IsPrint` rejects as `\uXXXX` (`\UXXXXXXXX` above U+FFFF), and
/// a `$` or `%` before `{` doubled so it does not start a template.
pub fn hcl_quoted(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' => {
                out.push(c);
                if chars.peek() == Some(&'{') {
                    out.push(c);
                }
            }
            c if !go_printable(c) => {
                let code = u32::from(c);
                if code < 0x1_0000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space; not other spaces, controls, format characters,
/// private use or unassigned code points.
fn go_printable(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    c == ' '
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter
                | GeneralCategoryGroup::Mark
                | GeneralCategoryGroup::Number
                | GeneralCategoryGroup::Punctuation
                | GeneralCategoryGroup::Symbol
        )
}

/// The AWS service a resource type belongs to, short and long, in the
/// seed's vocabulary; `None` for another provider's resource.
pub fn aws_service(kind: &str) -> Option<(&'static str, &'static str)> {
    const BY_PREFIX: &[(&str, &str, &str)] = &[
        ("aws_eks_", "EKS", "Amazon Elastic Kubernetes Service"),
        ("aws_ecs_", "ECS", "Amazon Elastic Container Service"),
        ("aws_ecr_", "ECR", "Amazon EC2 Container Registry (ECR)"),
        ("aws_db_", "RDS", "Amazon Relational Database Service"),
        ("aws_rds_", "RDS", "Amazon Relational Database Service"),
        ("aws_s3_", "S3", "Amazon Simple Storage Service"),
        ("aws_efs_", "EFS", "Amazon Elastic File System"),
        ("aws_opensearch_", "OpenSearch", "Amazon OpenSearch Service"),
        (
            "aws_elasticsearch_",
            "OpenSearch",
            "Amazon OpenSearch Service",
        ),
        ("aws_elasticache_", "ElastiCache", "Amazon ElastiCache"),
        (
            "aws_msk_",
            "MSK",
            "Amazon Managed Streaming for Apache Kafka",
        ),
        (
            "aws_media_convert_",
            "MediaConvert",
            "AWS Elemental MediaConvert",
        ),
        ("aws_medialive_", "MediaLive", "AWS Elemental MediaLive"),
        ("aws_cloudfront_", "CloudFront", "Amazon CloudFront"),
        ("aws_cloudwatch_", "CloudWatch", "Amazon CloudWatch"),
        ("aws_lb", "ELB", "Elastic Load Balancing"),
        ("aws_alb", "ELB", "Elastic Load Balancing"),
        ("aws_elb", "ELB", "Elastic Load Balancing"),
        ("aws_lambda_", "Lambda", "AWS Lambda"),
        ("aws_ses_", "SES", "Amazon Simple Email Service"),
        ("aws_sesv2_", "SES", "Amazon Simple Email Service"),
        ("aws_workspaces_", "WorkSpaces", "Amazon WorkSpaces"),
        ("aws_dynamodb_", "DynamoDB", "Amazon DynamoDB"),
        ("aws_sqs_", "SQS", "Amazon Simple Queue Service"),
        ("aws_route53domains_", "Registrar", "Amazon Registrar"),
        ("aws_route53_", "Route 53", "Amazon Route 53"),
        ("aws_api_gateway_", "API Gateway", "Amazon API Gateway"),
        ("aws_apigatewayv2_", "API Gateway", "Amazon API Gateway"),
        ("aws_codebuild_", "CodeBuild", "AWS CodeBuild"),
        ("aws_codepipeline", "CodePipeline", "AWS CodePipeline"),
        ("aws_codedeploy_", "CodeDeploy", "AWS CodeDeploy"),
        ("aws_wafv2_", "WAF", "AWS WAF"),
        ("aws_waf_", "WAF", "AWS WAF"),
        ("aws_kms_", "KMS", "AWS Key Management Service"),
        ("aws_iam_", "IAM", "AWS Identity and Access Management"),
        ("aws_sns_", "SNS", "Amazon Simple Notification Service"),
        (
            "aws_secretsmanager_",
            "Secrets Manager",
            "AWS Secrets Manager",
        ),
        ("aws_vpc", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_subnet", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_route_table", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_route", "VPC", "Amazon Virtual Private Cloud"),
        (
            "aws_internet_gateway",
            "VPC",
            "Amazon Virtual Private Cloud",
        ),
        ("aws_nat_gateway", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_security_group", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_network_acl", "VPC", "Amazon Virtual Private Cloud"),
        ("aws_eip", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_instance", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_launch_template", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_autoscaling_", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_ebs_", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_key_pair", "EC2", "Amazon Elastic Compute Cloud"),
        ("aws_ami", "EC2", "Amazon Elastic Compute Cloud"),
    ];
    if !kind.starts_with("aws_") {
        return None;
    }
    Some(
        BY_PREFIX
            .iter()
            .find(|(prefix, _, _)| kind.starts_with(prefix))
            .map_or(("Other AWS", "Other AWS resources"), |(_, short, long)| {
                (*short, *long)
            }),
    )
}

/// Resources counted by service (short name; another provider's resources
/// under its type's provider prefix, `kubernetes`, `random`, ...), sorted
/// by service.
pub fn by_service(resources: &[TfResource]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in resources {
        let service = match aws_service(&r.kind) {
            Some((short, _)) => short.to_owned(),
            None => r.kind.split('_').next().unwrap_or("other").to_owned(),
        };
        *out.entry(service).or_insert(0) += 1;
    }
    out
}

/// What one environment has that the other lacks, by address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drift {
    pub only_in_first: Vec<TfResource>,
    pub only_in_second: Vec<TfResource>,
}

/// The drift between two states (each resource by its address; both
/// sorted).
pub fn drift(first: &StateSummary, second: &StateSummary) -> Drift {
    let in_second = |r: &TfResource| {
        second
            .resources
            .binary_search_by(|x| x.address.cmp(&r.address))
            .is_ok()
    };
    let in_first = |r: &TfResource| {
        first
            .resources
            .binary_search_by(|x| x.address.cmp(&r.address))
            .is_ok()
    };
    Drift {
        only_in_first: first
            .resources
            .iter()
            .filter(|r| !in_second(r))
            .cloned()
            .collect(),
        only_in_second: second
            .resources
            .iter()
            .filter(|r| !in_first(r))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 4 state with a module, `count`, `for_each`, a data
    /// source, and secrets in attributes and outputs.
    const STAGE: &str = r#"{
      "version": 4,
      "terraform_version": "1.9.8",
      "serial": 42,
      "lineage": "3f5d8c1e-0000-4000-8000-000000000001",
      "outputs": { "db_password": { "value": "hunter2-output", "type": "string", "sensitive": true } },
      "resources": [
        { "mode": "data", "type": "aws_caller_identity", "name": "current", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
          "instances": [ { "schema_version": 0, "attributes": { "account_id": "123456789012" } } ] },
        { "mode": "managed", "type": "aws_db_instance", "name": "orders", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
          "instances": [ { "schema_version": 2, "attributes": { "id": "orders-stage", "password": "hunter2" },
                           "sensitive_attributes": [ [ { "type": "get_attr", "value": "password" } ] ] } ] },
        { "module": "module.network", "mode": "managed", "type": "aws_subnet", "name": "private", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
          "instances": [ { "index_key": 0, "attributes": { "id": "subnet-a" } }, { "index_key": 1, "attributes": { "id": "subnet-b" } } ] },
        { "mode": "managed", "type": "aws_sqs_queue", "name": "events", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
          "instances": [ { "index_key": "orders", "attributes": { "id": "https://sqs/orders" } }, { "index_key": "payments", "attributes": {} } ] },
        { "module": "module.cluster", "mode": "managed", "type": "aws_eks_cluster", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
          "instances": [ { "attributes": { "certificate_authority": [ { "data": "LS0tLS1CRUdJTi1zZWNyZXQ=" } ] } } ] },
        { "mode": "managed", "type": "random_password", "name": "db", "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
          "instances": [ { "attributes": { "result": "hunter2" }, "sensitive_attributes": [] } ] }
      ]
    }"#;

    #[test]
    fn a_version_4_state_lists_managed_instances_by_address() {
        let state = parse_state(STAGE).expect("state");
        assert_eq!(state.serial, 42);
        assert_eq!(state.terraform_version, "1.9.8");
        let addresses: Vec<&str> = state.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "aws_db_instance.orders",
                "aws_sqs_queue.events[\"orders\"]",
                "aws_sqs_queue.events[\"payments\"]",
                "module.cluster.aws_eks_cluster.main",
                "module.network.aws_subnet.private[0]",
                "module.network.aws_subnet.private[1]",
                "random_password.db",
            ]
        );
    }

    #[test]
    fn nothing_from_attributes_or_outputs_is_kept() {
        let state = parse_state(STAGE).expect("state");
        let kept = format!("{state:?}");
        for secret in [
            "hunter2",
            "LS0tLS1CRUdJTi1zZWNyZXQ",
            "subnet-a",
            "123456789012",
        ] {
            assert!(!kept.contains(secret), "{secret} was kept: {kept}");
        }
    }

    #[test]
    fn resources_are_counted_by_aws_service_in_the_seed_s_words() {
        let state = parse_state(STAGE).expect("state");
        let counts = by_service(&state.resources);
        let expected: BTreeMap<String, usize> = [
            ("EKS", 1),
            ("RDS", 1),
            ("SQS", 2),
            ("VPC", 2),
            ("random", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(counts, expected);
        assert_eq!(
            aws_service("aws_route53domains_registered_domain").map(|s| s.0),
            Some("Registrar")
        );
        assert_eq!(
            aws_service("aws_route53_record").map(|s| s.0),
            Some("Route 53")
        );
        assert_eq!(aws_service("aws_lb_listener").map(|s| s.0), Some("ELB"));
        assert_eq!(
            aws_service("aws_something_new").map(|s| s.0),
            Some("Other AWS")
        );
        assert_eq!(aws_service("google_compute_instance"), None);
    }

    #[test]
    fn drift_names_what_each_environment_lacks() {
        let stage = parse_state(STAGE).expect("stage");
        let prod_text = STAGE.replace("\"serial\": 42", "\"serial\": 7").replace(
            r#"{ "index_key": "payments", "attributes": {} }"#,
            r#"{ "index_key": "refunds", "attributes": {} }"#,
        );
        let prod = parse_state(&prod_text).expect("prod");
        let d = drift(&stage, &prod);
        assert_eq!(
            d.only_in_first
                .iter()
                .map(|r| r.address.as_str())
                .collect::<Vec<_>>(),
            ["aws_sqs_queue.events[\"payments\"]"]
        );
        assert_eq!(
            d.only_in_second
                .iter()
                .map(|r| r.address.as_str())
                .collect::<Vec<_>>(),
            ["aws_sqs_queue.events[\"refunds\"]"]
        );
        assert_eq!(drift(&stage, &stage), Drift::default());
    }

    #[test]
    fn other_formats_are_refused_in_words() {
        let v3 = parse_state(r#"{"version": 3, "modules": []}"#).expect_err("v3");
        assert!(v3.0.contains("version is 3"), "{v3}");
        assert!(parse_state("not json")
            .expect_err("text")
            .0
            .contains("not JSON"));
        assert!(parse_state("{}")
            .expect_err("empty")
            .0
            .contains("no format version"));
        let wrong = parse_state(r#"{"version": 4, "resources": [{"mode": "managed"}]}"#)
            .expect_err("no type");
        assert!(wrong.0.contains("not a Terraform state"), "{wrong}");
        let empty = parse_state(r#"{"version": 4, "serial": 1, "lineage": "x", "resources": []}"#)
            .expect("empty state");
        assert!(empty.resources.is_empty());
    }

    #[test]
    fn for_each_keys_are_written_as_terraform_state_list_writes_them() {
        let keys = [
            ("orders", r#""orders""#),
            ("${var.env}", r#""$${var.env}""#),
            ("%{if x}y%{endif}", r#""%%{if x}y%%{endif}""#),
            ("$5 and 100%", r#""$5 and 100%""#),
            ("$${x}", r#""$$${x}""#),
            ("say \"hi\"\\now", r#""say \"hi\"\\now""#),
            ("a\nb\rc\td", r#""a\nb\rc\td""#),
            ("bell\u{7}", r#""bell\u0007""#),
            ("nbsp\u{a0}zwsp\u{200b}", r#""nbsp\u00a0zwsp\u200b""#),
            ("private\u{f0000}", r#""private\U000f0000""#),
            ("café ü 東京 🚀", r#""café ü 東京 🚀""#),
            ("", r#""""#),
        ];
        for (key, written) in keys {
            assert_eq!(hcl_quoted(key), written, "{key:?}");
        }
        let state = format!(
            r#"{{"version": 4, "serial": 1, "lineage": "x", "resources": [
                {{ "mode": "managed", "type": "aws_ssm_parameter", "name": "p", "instances": [
                    {{ "index_key": {} }}, {{ "index_key": 2 }} ] }} ]}}"#,
            serde_json::Value::String("${var.env}\u{7}".into())
        );
        let addresses: Vec<String> = parse_state(&state)
            .expect("state")
            .resources
            .into_iter()
            .map(|r| r.address)
            .collect();
        assert_eq!(
            addresses,
            [
                r#"aws_ssm_parameter.p["$${var.env}\u0007"]"#,
                "aws_ssm_parameter.p[2]"
            ]
        );
    }
}
