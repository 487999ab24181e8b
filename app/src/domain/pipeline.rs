//! How services and environments map to CodePipeline pipelines.

use super::{EnvironmentId, ParseError, ServiceId};
use serde::{Deserialize, Serialize};

/// Checks a CodePipeline name (pipeline, stage or action): 1 to 100 of
/// `A-Z a-z 0-9 . @ - _`.
fn check_aws_name(what: &'static str, value: &str) -> Result<(), ParseError> {
    if value.is_empty() || value.len() > 100 {
        return Err(ParseError::new(what, value, "must be 1 to 100 characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'))
    {
        return Err(ParseError::new(
            what,
            value,
            "may only contain letters, digits and . @ - _",
        ));
    }
    Ok(())
}

/// The naming rule from the org configuration: every service has one
/// pipeline per environment, and approvals wait in one stage and action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineMapping {
    template: String,
    approval_stage: String,
    approval_action: String,
}

impl PipelineMapping {
    /// `template` names a pipeline from `{service}` and `{environment}`.
    pub fn parse(
        template: &str,
        approval_stage: &str,
        approval_action: &str,
    ) -> Result<Self, ParseError> {
        if !template.contains("{service}") || !template.contains("{environment}") {
            return Err(ParseError::new(
                "pipeline name template",
                template,
                "must contain both {service} and {environment}",
            ));
        }
        let sample = template
            .replace("{service}", "s")
            .replace("{environment}", "e");
        check_aws_name("pipeline name template", &sample)
            .map_err(|e| ParseError::new(e.what, template, e.reason))?;
        check_aws_name("approval stage", approval_stage)?;
        check_aws_name("approval action", approval_action)?;
        Ok(Self {
            template: template.to_owned(),
            approval_stage: approval_stage.to_owned(),
            approval_action: approval_action.to_owned(),
        })
    }

    pub fn template(&self) -> &str {
        &self.template
    }

    pub fn approval_stage(&self) -> &str {
        &self.approval_stage
    }

    pub fn approval_action(&self) -> &str {
        &self.approval_action
    }

    /// The pipeline deploying `service` to `environment`.
    pub fn pipeline_name(&self, service: &ServiceId, environment: &EnvironmentId) -> String {
        self.template
            .replace("{service}", service.as_str())
            .replace("{environment}", environment.as_str())
    }
}

impl Default for PipelineMapping {
    fn default() -> Self {
        Self {
            template: "{service}-{environment}".into(),
            approval_stage: "Approval".into(),
            approval_action: "ManualApproval".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_names_are_built_from_service_and_environment() {
        let mapping =
            PipelineMapping::parse("acme-{service}-{environment}", "Approval", "ManualApproval")
                .expect("valid");
        let service = ServiceId::parse("orders-api").expect("valid");
        let env = EnvironmentId::parse("pre-prod").expect("valid");
        assert_eq!(
            mapping.pipeline_name(&service, &env),
            "acme-orders-api-pre-prod"
        );
        assert_eq!(
            PipelineMapping::default().pipeline_name(&service, &env),
            "orders-api-pre-prod"
        );
    }

    #[test]
    fn templates_and_names_outside_codepipeline_rules_are_rejected() {
        let reason =
            |t: &str, s: &str, a: &str| PipelineMapping::parse(t, s, a).expect_err(t).reason;
        assert!(reason("{service}", "A", "B").contains("both {service} and {environment}"));
        assert!(reason("{service} {environment}", "A", "B").contains("may only contain"));
        assert!(reason("{service}-{environment}", "", "B").contains("1 to 100"));
        assert!(reason("{service}-{environment}", "A", "Sign off").contains("may only contain"));
    }
}
