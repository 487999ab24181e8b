//! The checker every section is read with, and the checks they share.

use super::ConfigError;
use app::domain::ParseError;
use std::collections::HashSet;
use std::path::Path;

pub(super) struct Checker<'a> {
    pub(super) file: &'a Path,
}

impl Checker<'_> {
    pub(super) fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Parses one value, turning a domain parse error into one at `key`.
    pub(super) fn value<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
        input: &str,
    ) -> Result<T, ConfigError> {
        parse(input).map_err(|e| self.err(key, e.to_string()))
    }

    /// Parses a list, rejecting duplicates; `min` is the fewest items allowed.
    pub(super) fn list<T: Eq + std::hash::Hash + Clone>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ParseError>,
        inputs: &[String],
        min: usize,
    ) -> Result<Vec<T>, ConfigError> {
        if inputs.len() < min {
            return Err(self.err(key, format!("needs at least {min} item(s)")));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let item = self.value(&format!("{key}[{i}]"), &parse, input)?;
            if !seen.insert(item.clone()) {
                return Err(self.err(format!("{key}[{i}]"), format!("{input:?} is listed twice")));
            }
            out.push(item);
        }
        Ok(out)
    }

    pub(super) fn unique<'v>(
        &self,
        seen: &mut HashSet<&'v str>,
        key: String,
        what: &str,
        value: &'v str,
    ) -> Result<(), ConfigError> {
        if seen.insert(value) {
            Ok(())
        } else {
            Err(self.err(key, format!("{what} {value:?} is used twice")))
        }
    }

    pub(super) fn reference(
        &self,
        key: String,
        what: &str,
        value: &str,
        known: &[&str],
    ) -> Result<(), ConfigError> {
        if known.contains(&value) {
            Ok(())
        } else {
            Err(self.err(
                key,
                format!("there is no {what} {value:?}; known: {}", known.join(", ")),
            ))
        }
    }
}
