//! The `[terraform]` section: where each environment's state is read.

use super::checks::Checker;
use super::raw::RawTerraform;
use super::ConfigError;
use app::domain::OrgModel;

/// Checks `[terraform]`: one source per known environment, each a file path
/// or an http(s) URL.
pub(super) fn terraform(
    checker: &Checker<'_>,
    org: &OrgModel,
    raw: RawTerraform,
) -> Result<crate::adapters::terraform::TerraformConfig, ConfigError> {
    use crate::adapters::terraform::StateSource;
    let env_ids: Vec<&str> = org.environments.iter().map(|e| e.id.as_str()).collect();
    let refresh = match raw.refresh_secs {
        Some(0) => return Err(checker.err("terraform.refresh_secs", "must be at least 1")),
        Some(s) => s,
        None => 300,
    };
    let mut states: Vec<(String, StateSource)> = Vec::new();
    for (i, s) in raw.states.into_iter().enumerate() {
        checker.reference(
            format!("terraform.states[{i}].environment"),
            "environment",
            &s.environment,
            &env_ids,
        )?;
        if states.iter().any(|(e, _)| *e == s.environment) {
            return Err(checker.err(
                format!("terraform.states[{i}].environment"),
                format!("{} has another state source above", s.environment),
            ));
        }
        let source = s.source.trim();
        let parsed = if source.starts_with("https://") || source.starts_with("http://") {
            StateSource::Http(source.to_owned())
        } else if let Some(rest) = source.strip_prefix("s3://") {
            match rest.split_once('/') {
                Some((bucket, key))
                    if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') =>
                {
                    StateSource::S3 {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    }
                }
                _ => {
                    return Err(checker.err(
                        format!("terraform.states[{i}].source"),
                        "give an S3 object as s3://bucket/path/to/terraform.tfstate",
                    ))
                }
            }
        } else if source.is_empty() || source.contains("://") {
            return Err(checker.err(
                format!("terraform.states[{i}].source"),
                "give an http(s):// URL (Terraform's HTTP backend) or a file path",
            ));
        } else {
            StateSource::File(std::path::PathBuf::from(source))
        };
        states.push((s.environment, parsed));
    }
    Ok(crate::adapters::terraform::TerraformConfig {
        refresh: std::time::Duration::from_secs(refresh),
        states,
        s3: crate::adapters::terraform::S3Settings {
            region: raw.s3_region.filter(|r| !r.trim().is_empty()),
            endpoint: match raw.s3_endpoint.map(|e| e.trim().to_owned()) {
                Some(e) if e.starts_with("http://") || e.starts_with("https://") => Some(e),
                Some(e) if e.is_empty() => None,
                Some(_) => {
                    return Err(checker.err(
                        "terraform.s3_endpoint",
                        "give the S3-compatible server's http(s):// address",
                    ))
                }
                None => None,
            },
            credentials: None,
        },
    })
}
