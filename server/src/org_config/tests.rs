use super::*;
use app::domain::deploy_dag::CallKind;
use app::domain::notification::NotificationEvent;
use app::domain::GitRef;
use app::domain::{DeployTrigger, DownPolicy, PipelineMapping, RoleKind, TeamId, TestType};

const SHIPPED: &str = include_str!("../../../config/org.toml");

fn shipped() -> OrgModel {
    parse(Path::new("config/org.toml"), SHIPPED).expect("the shipped configuration is valid")
}

/// Replaces the first occurrence of `from` in the shipped file, parses it,
/// and returns the error.
fn broken(from: &str, to: &str) -> ConfigError {
    assert!(
        SHIPPED.contains(from),
        "test fixture: {from:?} not in config"
    );
    let text = SHIPPED.replacen(from, to, 1);
    parse(Path::new("org.toml"), &text).expect_err("configuration should be rejected")
}

#[test]
fn the_shipped_configuration_is_the_deployment_process_seed() {
    let org = shipped();
    let names: Vec<String> = org
        .environments
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(names, ["Dev", "Stage", "Release", "QA", "Pre-Prod", "Prod"]);
    let positions: Vec<u16> = org.environments.iter().map(|e| e.position).collect();
    assert_eq!(positions, [1, 2, 3, 4, 5, 6]);
    let teams: Vec<String> = org.teams.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(teams, ["FrontEnd", "BackEnd", "Mobile"]);
    for team in &org.teams {
        assert!(
            org.services_of(&team.id).count() >= 3,
            "{} has a few services",
            team.name
        );
    }

    let env = |id: &str| {
        org.environments
            .iter()
            .find(|e| e.id.as_str() == id)
            .expect(id)
    };
    assert_eq!(env("dev").trigger, DeployTrigger::OnCommit);
    assert_eq!(env("dev").down_policy, DownPolicy::MayBeDown);
    assert!(env("dev").accepts(&GitRef::Branch("feature/cart".into())));
    assert_eq!(env("stage").trigger, DeployTrigger::ManualApproval);
    assert_eq!(env("stage").down_policy, DownPolicy::CalculateDowntime);
    assert_eq!(env("release").trigger, DeployTrigger::OnCommitAfterFreeze);
    assert!(env("release").accepts(&GitRef::Branch("hotfix/login".into())));
    assert_eq!(env("qa").trigger, DeployTrigger::ManualApprovalAfterFreeze);
    assert_eq!(env("qa").test_types, [TestType::Qa]);
    assert_eq!(
        env("qa").stakeholders,
        [RoleKind::Sre, RoleKind::Qa, RoleKind::Developer]
    );
    assert!(env("prod").accepts(&GitRef::Tag("v2027.1.0".into())));
    for id in ["release", "qa", "pre-prod", "prod"] {
        assert_eq!(env(id).down_policy, DownPolicy::RaiseCritical, "{id}");
    }
    let rule = |id: &str| env(id).approval.clone();
    assert_eq!(rule("dev"), None);
    assert_eq!(rule("release"), None, "deploys on commit after the freeze");
    let stage = rule("stage").expect("stage needs approval");
    assert_eq!(
        (stage.approvers, stage.required),
        (vec![RoleKind::Developer, RoleKind::Sre], 1)
    );
    assert_eq!(rule("qa").expect("qa").approvers, [RoleKind::Qa]);
    let prod = rule("prod").expect("prod");
    assert_eq!(
        (prod.approvers, prod.required),
        (vec![RoleKind::Sre, RoleKind::Qa], 2)
    );
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let err = load(Path::new("/nonexistent/org.toml")).expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/org.toml"));
    assert!(err.message.contains("cannot read the file"));
}

#[test]
fn toml_syntax_errors_give_line_and_column() {
    let err = broken("name = \"Acme Retail\"", "name = \"Acme Retail");
    assert_eq!(err.file, PathBuf::from("org.toml"));
    let line = SHIPPED
        .lines()
        .position(|l| l == "name = \"Acme Retail\"")
        .expect("fixture")
        + 1;
    assert!(
        err.key.starts_with(&format!("line {line}, column")),
        "{}",
        err.key
    );
}

#[test]
fn unknown_and_missing_fields_are_rejected() {
    let err = broken(
        "down_policy = \"may-be-down\"",
        "down_policy = \"may-be-down\"\nowner = \"x\"",
    );
    assert!(err.message.contains("unknown field `owner`"), "{err}");
    let err = broken("trigger = \"on-commit\"\n", "");
    assert!(err.message.contains("missing field `trigger`"), "{err}");
}

#[test]
fn each_invalid_value_is_reported_at_its_key() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "id = \"frontend\"",
            "id = \"Front End\"",
            "teams[0].id",
            "must start with a lowercase letter",
        ),
        (
            "name = \"BackEnd\"",
            "name = \"FrontEnd\"",
            "teams[1].name",
            "used twice",
        ),
        (
            "id = \"checkout-ui\"",
            "id = \"storefront-web\"",
            "services[1].id",
            "used twice",
        ),
        (
            "team = \"frontend\"",
            "team = \"web\"",
            "services[0].team",
            "there is no team \"web\"; known: frontend, backend, mobile",
        ),
        (
            "repository = \"acme-retail/storefront-web\"",
            "repository = \"storefront\"",
            "services[0].repository",
            "owner/name",
        ),
        (
            "id = \"stage\"",
            "id = \"dev\"",
            "environments[1].id",
            "used twice",
        ),
        (
            "name = \"Stage\"",
            "name = \"Dev\"",
            "environments[1].name",
            "used twice",
        ),
        (
            "branches = [\"develop\"]",
            "branches = []",
            "environments[1].branches",
            "at least 1",
        ),
        (
            "branches = [\"feature/*\", \"develop\"]",
            "branches = [\"feature/*\", \"dev elop\"]",
            "environments[0].branches[1]",
            "character git does not allow",
        ),
        (
            "branches = [\"feature/*\", \"develop\"]",
            "branches = [\"develop\", \"develop\"]",
            "environments[0].branches[1]",
            "listed twice",
        ),
        (
            "trigger = \"on-commit\"",
            "trigger = \"on-push\"",
            "environments[0].trigger",
            "is not one of: on-commit, manual-approval",
        ),
        (
            "down_policy = \"may-be-down\"",
            "down_policy = \"ignore\"",
            "environments[0].down_policy",
            "is not one of",
        ),
        (
            "test_types = [\"qa\"]",
            "test_types = [\"manual\"]",
            "environments[3].test_types[0]",
            "test type \"manual\"",
        ),
        (
            "stakeholders = [\"developer\"]",
            "stakeholders = [\"devs\"]",
            "environments[0].stakeholders[0]",
            "role \"devs\"",
        ),
        (
            "stakeholders = [\"developer\"]",
            "stakeholders = []",
            "environments[0].stakeholders",
            "at least 1",
        ),
        (
            "usage = \"QA tests the release branch and signs it off.\"",
            "usage = \"  \"",
            "environments[3].usage",
            "is empty",
        ),
        (
            "name = \"Acme Retail\"",
            "name = \"\"",
            "organisation.name",
            "is empty",
        ),
    ];
    for (from, to, key, message) in cases {
        let err = broken(from, to);
        assert_eq!(err.key, *key, "{from} -> {to}: {err}");
        assert!(
            err.message.contains(message),
            "{key}: expected {message:?} in {:?}",
            err.message
        );
    }
}

#[test]
fn the_codepipeline_section_names_pipelines_and_is_checked() {
    assert_eq!(shipped().pipelines, PipelineMapping::default());
    let text = SHIPPED
        .replace(
            "pipeline_name = \"{service}-{environment}\"",
            "pipeline_name = \"acme-{service}-{environment}\"",
        )
        .replace("approval_action = \"ManualApproval\"\n", "");
    let org = parse(Path::new("org.toml"), &text).expect("valid");
    assert_eq!(org.pipelines.template(), "acme-{service}-{environment}");
    assert_eq!(
        org.pipelines.approval_action(),
        "ManualApproval",
        "defaults fill the rest"
    );

    let err = broken(
        "pipeline_name = \"{service}-{environment}\"",
        "pipeline_name = \"{service}\"",
    );
    assert_eq!(err.key, "codepipeline.pipeline_name");
    assert!(
        err.message.contains("both {service} and {environment}"),
        "{err}"
    );
    let err = broken(
        "approval_stage = \"Approval\"",
        "approval_stage = \"QA sign-off\"",
    );
    assert_eq!(err.key, "codepipeline.approval_stage");
}

#[test]
fn empty_teams_or_environments_are_rejected() {
    let path = Path::new("org.toml");
    let err = parse(path, "[organisation]\nname = \"A\"\n").expect_err("no teams");
    assert_eq!(err.key, "teams");
    let err = parse(
        path,
        "[organisation]\nname = \"A\"\n[[teams]]\nid = \"a\"\nname = \"A\"\n",
    )
    .expect_err("no envs");
    assert_eq!(err.key, "environments");
}

#[test]
fn the_shipped_health_and_hotfix_settings_are_read() {
    let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
    assert!(ops.refuse_unmerged_hotfix);
    let health = ops.health.expect("health");
    assert_eq!(health.environments.len(), 6);
    assert_eq!(health.interval, std::time::Duration::from_secs(30));
    assert_eq!(
        health.url_for("orders-api", "qa"),
        "https://orders-api.qa.acme-retail.internal/healthz"
    );
}

#[test]
fn health_settings_that_cannot_work_are_refused_with_their_key() {
    let bad = |from: &str, to: &str| {
        let text = SHIPPED.replacen(from, to, 1);
        parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
    };
    let err = bad(
        "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
        "url = \"ftp://health\"",
    );
    assert_eq!(err.key, "health.url");
    let err = bad("interval_secs = 30", "interval_secs = 0");
    assert_eq!(err.key, "health.interval_secs");
    let err = bad(
        "reopen_within_minutes = 60",
        "reopen_within_minutes = 60\nenvironments = [\"qa\", \"moon\"]",
    );
    assert_eq!(err.key, "health.environments[1]");
    let off = parse_operations(
        Path::new("org.toml"),
        &SHIPPED.replacen(
            "refuse_prod_when_unmerged = true",
            "refuse_prod_when_unmerged = false",
            1,
        ),
    )
    .expect("valid");
    assert!(!off.refuse_unmerged_hotfix);
}

#[test]
fn one_check_reports_a_problem_in_every_section_that_has_one() {
    let text = SHIPPED
        .replacen(
            "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
            "url = \"not a url\"",
            1,
        )
        .replacen(
            "events = [\"approval-waiting\"]",
            "events = [\"approval-wating\"]",
            1,
        )
        .replacen(
            "environment = \"prod\"\nsource",
            "environment = \"prood\"\nsource",
            1,
        );
    let errors = parse_file(Path::new("org.toml"), &text).expect_err("three problems");
    let keys: Vec<&str> = errors.0.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "health.url",
            "notifications.channels[1].events[0]",
            "terraform.states[5].environment"
        ]
    );
    let said = errors.to_string();
    assert!(
        said.contains("\"not a url\" is not an http:// or https:// URL"),
        "{said}"
    );
    assert!(said.contains("there is no environment \"prood\""), "{said}");
    // The readers of one section see the same first problem.
    assert_eq!(
        parse_operations(Path::new("org.toml"), &text)
            .expect_err("refused")
            .key,
        "health.url"
    );
    // A template whose host is a placeholder is a URL once filled in.
    let fine = SHIPPED.replacen(
        "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
        "url = \"http://{service}:8080/{environment}/health\"",
        1,
    );
    assert!(parse_file(Path::new("org.toml"), &fine).is_ok());
    let hostless = SHIPPED.replacen(
        "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
        "url = \"http://:8080/healthz\"",
        1,
    );
    assert_eq!(
        parse_file(Path::new("org.toml"), &hostless)
            .expect_err("no host")
            .0[0]
            .key,
        "health.url"
    );
}

#[test]
fn the_shipped_notification_channels_are_read() {
    let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
    let ids: Vec<&str> = ops.notifications.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["release-train", "approvers", "sre-on-call"]);
    let train = &ops.notifications[0];
    assert_eq!(train.events.len(), NotificationEvent::ALL.len());
    assert_eq!(
        train.sink,
        ChannelSink::Webhook {
            url_env: "GATEHOUSE_WEBHOOK_RELEASE_TRAIN".into()
        }
    );
    assert_eq!(
        ops.notifications[1].sink,
        ChannelSink::Email {
            to: Vec::new(),
            to_roles: vec![RoleTarget::Approvers]
        }
    );
    assert_eq!(ops.notifications[2].environments, ["pre-prod", "prod"]);
}

#[test]
fn notification_channels_that_cannot_work_are_refused_with_their_key() {
    let bad = |from: &str, to: &str| {
        let text = SHIPPED.replacen(from, to, 1);
        assert_ne!(text, SHIPPED, "{from}");
        parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
    };
    let err = bad("id = \"approvers\"", "id = \"release-train\"");
    assert_eq!(err.key, "notifications.channels[1].id");
    assert!(err.message.contains("another channel"), "{}", err.message);
    let err = bad(
        "url_env = \"GATEHOUSE_WEBHOOK_RELEASE_TRAIN\"",
        "url_env = \"https://hooks.slack.com/services/T0/B0/secret\"",
    );
    assert_eq!(err.key, "notifications.channels[0].url_env");
    let err = bad("to_roles = [\"approvers\"]", "to_roles = [\"approver\"]");
    assert_eq!(err.key, "notifications.channels[1].to_roles[0]");
    let err = bad(
        "to = [\"sre-on-call@acme-retail.example\"]",
        "to = [\"sre on call\"]",
    );
    assert_eq!(err.key, "notifications.channels[2].to[0]");
    let err = bad(
        "events = [\"approval-waiting\"]",
        "events = [\"approval_waiting\"]",
    );
    assert_eq!(err.key, "notifications.channels[1].events[0]");
    let err = bad(
        "environments = [\"release\", \"qa\", \"pre-prod\", \"prod\"]",
        "environments = [\"release\", \"moon\"]",
    );
    assert_eq!(err.key, "notifications.channels[1].environments[1]");
    let err = bad("kind = \"webhook\"", "kind = \"pager\"");
    assert_eq!(err.key, "notifications.channels[0].kind");
}

#[test]
fn terraform_sources_are_urls_or_files_one_per_environment() {
    let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
    let terraform = ops.terraform.expect("terraform");
    assert_eq!(terraform.states.len(), 6);
    assert_eq!(terraform.refresh, std::time::Duration::from_secs(300));
    let bad = |from: &str, to: &str| {
        let text = SHIPPED.replacen(from, to, 1);
        assert_ne!(text, SHIPPED, "{from}");
        parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
    };
    let err = bad(
        "source = \"https://terraform.acme-retail.internal/state/dev\"",
        "source = \"s3://acme-tf\"",
    );
    assert_eq!(err.key, "terraform.states[0].source");
    assert!(err.message.contains("s3://bucket/"), "{}", err.message);
    let s3 = parse_operations(
        Path::new("org.toml"),
        &SHIPPED.replacen(
            "source = \"https://terraform.acme-retail.internal/state/dev\"",
            "source = \"s3://acme-tf/env/dev/terraform.tfstate\"",
            1,
        ),
    )
    .expect("an S3 source")
    .terraform
    .expect("terraform");
    assert_eq!(
        s3.states[0].1,
        crate::adapters::terraform::StateSource::S3 {
            bucket: "acme-tf".into(),
            key: "env/dev/terraform.tfstate".into()
        }
    );
    let err = bad(
        "environment = \"stage\"\nsource",
        "environment = \"dev\"\nsource",
    );
    assert_eq!(err.key, "terraform.states[1].environment");
    let file = parse_operations(
        Path::new("org.toml"),
        &SHIPPED.replacen(
            "source = \"https://terraform.acme-retail.internal/state/dev\"",
            "source = \"/srv/terraform/dev.tfstate\"",
            1,
        ),
    )
    .expect("a file source");
    assert_eq!(
        file.terraform.expect("terraform").states[0].1,
        crate::adapters::terraform::StateSource::File("/srv/terraform/dev.tfstate".into())
    );
}

fn with_overrides(overrides: &str) -> Result<OrgModel, ConfigError> {
    parse(Path::new("org.toml"), &format!("{SHIPPED}\n{overrides}"))
}

#[test]
fn overrides_apply_to_their_team_only() {
    let org = with_overrides(
        "[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\nbranches = [\"tags/v*\"]\n",
    )
    .expect("valid override");
    let mobile = TeamId::parse("mobile").expect("valid");
    let backend = TeamId::parse("backend").expect("valid");
    let prod = |team: &TeamId| {
        org.environments_for(team)
            .into_iter()
            .find(|e| e.id.as_str() == "prod")
            .expect("prod")
    };
    assert!(!prod(&mobile).accepts(&GitRef::Branch("master".into())));
    assert!(prod(&backend).accepts(&GitRef::Branch("master".into())));
}

#[test]
fn invalid_overrides_are_rejected() {
    let cases = [
        ("[[overrides]]\nteam = \"web\"\nenvironment = \"prod\"\ntrigger = \"manual\"\n", "overrides[0].team", "no team"),
        ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"uat\"\ntrigger = \"manual\"\n", "overrides[0].environment", "no environment"),
        ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\n", "overrides[0]", "changes nothing"),
        ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\ntrigger = \"sometimes\"\n", "overrides[0].trigger", "is not one of"),
        (
            "[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\ntrigger = \"manual\"\n[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\nbranches = [\"master\"]\n",
            "overrides[1]",
            "already overrides",
        ),
    ];
    for (text, key, message) in cases {
        let err = with_overrides(text).expect_err(key);
        assert_eq!(err.key, key, "{err}");
        assert!(err.message.contains(message), "{err}");
        assert!(
            err.to_string()
                .starts_with("invalid org configuration org.toml: "),
            "{err}"
        );
    }
}

/// The shipped file with `from` replaced by `to` (once, must exist).
fn replaced(from: &str, to: &str) -> Result<OrgModel, ConfigError> {
    assert!(SHIPPED.contains(from), "{from}");
    parse(Path::new("org.toml"), &SHIPPED.replacen(from, to, 1))
}

#[test]
fn the_shipped_services_call_each_other_as_a_dag_with_kinds() {
    let org = shipped();
    let orders = org.service("orders-api").expect("orders-api");
    let called: Vec<(&str, CallKind)> = orders
        .calls
        .iter()
        .map(|c| (c.service.as_str(), c.kind))
        .collect();
    assert_eq!(
        called,
        [
            ("payments-service", CallKind::Grpc),
            ("inventory-service", CallKind::Queue),
            ("identity-service", CallKind::Grpc)
        ]
    );
    assert!(org
        .service("identity-service")
        .expect("identity")
        .calls
        .is_empty());
    assert_eq!(
        org.service("ios-app").expect("ios").calls[0].kind,
        CallKind::Http
    );
    assert!(!org.prod_plan.strict);
    let strict =
        replaced("[prod_plan]\nstrict = false", "[prod_plan]\nstrict = true").expect("valid");
    assert!(strict.prod_plan.strict);
}

#[test]
fn unknown_calls_and_cycles_are_refused_with_their_key() {
    let unknown = replaced(
        "calls = [\"mobile-bff\"]",
        "calls = [\"mobile-bff\", \"ledger\"]",
    )
    .expect_err("unknown service");
    assert_eq!(unknown.key, "services[7].calls[1]");
    assert!(
        unknown.message.contains("there is no service \"ledger\""),
        "{unknown}"
    );

    let kind = replaced("kind = \"queue\"", "kind = \"smoke-signal\"").expect_err("kind");
    assert_eq!(kind.key, "services[3].calls[1].kind");
    assert!(kind.message.contains("http, grpc, queue"), "{kind}");

    let itself =
        replaced("calls = [\"mobile-bff\"]", "calls = [\"ios-app\"]").expect_err("self call");
    assert_eq!(itself.key, "services[7].calls[0]");
    assert!(itself.message.contains("cannot call itself"), "{itself}");

    // Identity service calls Checkout UI, which calls Orders API, which
    // calls Identity service: a cycle, spelled out.
    let cycle = replaced(
        "repository = \"acme-retail/identity-service\"\n",
        "repository = \"acme-retail/identity-service\"\ncalls = [\"checkout-ui\"]\n",
    )
    .expect_err("cycle");
    assert_eq!(cycle.key, "services[1].calls");
    assert!(
        cycle
            .message
            .contains("checkout-ui -> identity-service -> checkout-ui")
            || cycle.message.contains("checkout-ui -> "),
        "{cycle}"
    );
    assert!(cycle.to_string().starts_with("invalid org configuration org.toml: services[1].calls: these services call each other in a cycle: checkout-ui -> "), "{cycle}");
    assert!(
        cycle.message.ends_with("one of these calls must go"),
        "{cycle}"
    );
}
