//! The audit log's hash chain: the canonical form of a row and the walk
//! that verifies the chain (in the database here, in an export in
//! [`crate::http::audit_export`], which also writes the exports).
//!
//! Each row's `hash` is the SHA-256 (hex) of its canonical form: the tag
//! `gatehouse-audit-v1;`, then every field in [`FIELDS`] order as
//! `<UTF-8 byte length>:<value>;`, or `~;` for NULL; the roles field holds
//! each role in that same form. The last field is the previous row's hash
//! (64 zeros before the first row). The database computes it in
//! `audit_canonical` (see the migration); this module computes it again
//! independently to check.

use anyhow::Context;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::io::Write;

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Columns of a row as hashed and exported, in canonical order (then
/// `prev_hash`, then `hash`).
pub const FIELDS: &[&str] = &[
    "seq",
    "at",
    "event",
    "actor_id",
    "actor_name",
    "actor_roles",
    "request_id",
    "pipeline",
    "stage",
    "action",
    "execution_id",
    "revision",
    "decision",
    "comment",
    "sign_off",
    "aws_result",
    "team",
    "environment",
    "service",
    "subject",
    "summary",
    "details",
];

/// The SELECT list giving every field as the canonical form reads it.
pub const SELECT_ROW: &str = r#"seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
    event, actor_id::text AS actor_id, actor_name, actor_roles, request_id::text AS request_id,
    pipeline, stage, action, execution_id, revision, decision, comment, sign_off::text AS sign_off,
    aws_result, team, environment, service, subject, summary, details::text AS details, prev_hash, hash"#;

/// One row of the chain, every field as text exactly as hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct ChainRow {
    pub seq: i64,
    pub at: String,
    pub event: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_roles: Vec<String>,
    pub request_id: Option<String>,
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    pub action: Option<String>,
    pub execution_id: Option<String>,
    pub revision: Option<String>,
    pub decision: Option<String>,
    pub comment: Option<String>,
    pub sign_off: Option<String>,
    pub aws_result: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub service: Option<String>,
    pub subject: Option<String>,
    pub summary: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

fn field(out: &mut String, value: Option<&str>) {
    use std::fmt::Write as _;
    match value {
        None => out.push_str("~;"),
        Some(v) => {
            let _ = write!(out, "{}:{v};", v.len());
        }
    }
}

impl ChainRow {
    /// The [`FIELDS`] in order, then `prev_hash`, then `hash`, as text;
    /// `seq` and `roles` are given as the caller writes them.
    pub(crate) fn values<'a>(&'a self, seq: &'a str, roles: &'a str) -> [Option<&'a str>; 24] {
        [
            Some(seq),
            Some(self.at.as_str()),
            Some(self.event.as_str()),
            self.actor_id.as_deref(),
            self.actor_name.as_deref(),
            Some(roles),
            self.request_id.as_deref(),
            self.pipeline.as_deref(),
            self.stage.as_deref(),
            self.action.as_deref(),
            self.execution_id.as_deref(),
            self.revision.as_deref(),
            self.decision.as_deref(),
            self.comment.as_deref(),
            self.sign_off.as_deref(),
            self.aws_result.as_deref(),
            self.team.as_deref(),
            self.environment.as_deref(),
            self.service.as_deref(),
            self.subject.as_deref(),
            Some(self.summary.as_str()),
            Some(self.details.as_str()),
            Some(self.prev_hash.as_str()),
            Some(self.hash.as_str()),
        ]
    }

    /// The text hashed for this row: every value but the hash itself.
    pub fn canonical(&self) -> String {
        let mut out = String::with_capacity(256 + self.details.len() + self.summary.len());
        out.push_str("gatehouse-audit-v1;");
        let mut roles = String::new();
        for role in &self.actor_roles {
            field(&mut roles, Some(role));
        }
        let seq = self.seq.to_string();
        let values = self.values(&seq, &roles);
        for value in &values[..values.len() - 1] {
            field(&mut out, *value);
        }
        out
    }

    /// The SHA-256 of the canonical form, in lower-case hex.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

/// Where and why the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit row {seq}: {problem}")]
pub struct Broken {
    pub seq: i64,
    pub problem: String,
}

/// A walk along the chain, one row at a time in sequence order.
#[derive(Debug, Clone)]
pub struct Walk {
    next_seq: i64,
    previous: String,
    rows: u64,
}

impl Default for Walk {
    fn default() -> Self {
        Self::after(0, GENESIS)
    }
}

impl Walk {
    /// A walk that continues after row `seq` whose hash is `hash`.
    pub fn after(seq: i64, hash: &str) -> Self {
        Self {
            next_seq: seq + 1,
            previous: hash.to_owned(),
            rows: 0,
        }
    }

    /// Checks the next row: it must be the next number, carry the previous
    /// row's hash, and hash to its own.
    pub fn check(&mut self, row: &ChainRow) -> Result<(), Broken> {
        if row.seq > self.next_seq {
            let missing = if row.seq == self.next_seq + 1 {
                format!("row {} is missing (deleted)", self.next_seq)
            } else {
                format!(
                    "rows {} to {} are missing (deleted)",
                    self.next_seq,
                    row.seq - 1
                )
            };
            return Err(Broken {
                seq: self.next_seq,
                problem: missing,
            });
        }
        if row.seq < self.next_seq {
            return Err(Broken {
                seq: row.seq,
                problem: format!("out of order: expected row {} here", self.next_seq),
            });
        }
        if row.digest() != row.hash {
            return Err(Broken {
                seq: row.seq,
                problem:
                    "its content does not match its hash (edited, or moved from another place)"
                        .into(),
            });
        }
        if row.prev_hash != self.previous {
            return Err(Broken {
                seq: row.seq,
                problem: format!(
                    "it does not follow row {} (the previous hash differs): a row before it was replaced, inserted or reordered",
                    row.seq - 1
                ),
            });
        }
        self.previous.clone_from(&row.hash);
        self.next_seq += 1;
        self.rows += 1;
        Ok(())
    }

    /// The number and hash of the last row checked.
    pub fn last(&self) -> (i64, &str) {
        (self.next_seq - 1, &self.previous)
    }

    /// Rows checked.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The number the next row must have.
    pub fn expects(&self) -> i64 {
        self.next_seq
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub rows: u64,
    pub last_seq: i64,
    pub last_hash: String,
    pub broken: Option<Broken>,
}

/// Walks the database's chain after row `from` (0: from the start),
/// streaming, then checks that the chain's head and every earlier
/// verification's anchor agree with what it saw.
pub async fn verify_database(pool: &PgPool, from: i64) -> anyhow::Result<Verified> {
    // Rows archived and removed by an operator are not walked again: the
    // walk starts from the hash recorded for the last of them.
    let archived: Option<(i64, String)> =
        sqlx::query_as("SELECT up_to, hash FROM audit_archives ORDER BY up_to DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    let from = match &archived {
        Some((up_to, _)) if *up_to >= from => *up_to,
        _ => from,
    };
    // The lowest row an earlier verification's anchor is compared at: the
    // row the walk starts from too (its hash is taken on trust by the walk,
    // so a rewrite that reaches it must be caught here), unless that row
    // was archived and removed; never row 0, which no row is (a check of
    // the empty log anchors the genesis hash there).
    let anchors_from = match &archived {
        Some((up_to, _)) if *up_to == from => from + 1,
        _ => from,
    }
    .max(1);
    let mut walk = if from == 0 {
        Walk::default()
    } else if let Some((up_to, hash)) = archived.filter(|(up_to, _)| *up_to == from) {
        Walk::after(up_to, &hash)
    } else {
        let hash: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(from)
            .fetch_optional(pool)
            .await?;
        match hash {
            Some(h) => Walk::after(from, &h),
            None => {
                return Ok(Verified {
                    rows: 0,
                    last_seq: from,
                    last_hash: String::new(),
                    broken: Some(Broken {
                        seq: from,
                        problem: "the row the last verification ended on is missing (deleted)"
                            .into(),
                    }),
                })
            }
        }
    };
    let mut conn = pool.acquire().await?;
    let sql = format!("SELECT {SELECT_ROW} FROM audit_log WHERE seq > $1 ORDER BY seq");
    let mut rows = sqlx::query_as::<_, ChainRow>(&sql)
        .bind(from)
        .fetch(&mut *conn);
    let mut broken = None;
    while let Some(row) = rows.try_next().await? {
        if let Err(b) = walk.check(&row) {
            broken = Some(b);
            break;
        }
    }
    drop(rows);
    let (last_seq, last_hash) = walk.last();
    let last_hash = last_hash.to_owned();
    if broken.is_none() {
        // The serving role may not read the head's table; this function
        // answers it with the owner's rights.
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_chain_head_now()")
                .fetch_optional(&mut *conn)
                .await
                .context("cannot read the audit chain's head")?;
        match head {
            Some((seq, _)) if seq < last_seq => {
                broken = Some(Broken {
                    seq,
                    problem: format!(
                        "the chain's head says row {seq}, but rows go on to {last_seq}"
                    ),
                });
            }
            Some((seq, hash)) if seq == last_seq && hash != last_hash => {
                broken = Some(Broken {
                    seq,
                    problem: "the chain's head holds another hash for the last row".into(),
                });
            }
            Some((seq, _)) if seq > last_seq => {
                // Rows written since the walk started are fine; rows the
                // walk should have seen but did not exist are not.
                let exists: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_log WHERE seq = $1)")
                        .bind(last_seq + 1)
                        .fetch_one(&mut *conn)
                        .await?;
                if !exists {
                    broken = Some(Broken {
                        seq: last_seq + 1,
                        problem: format!(
                            "the chain's head says row {seq}, but the log ends at row {last_seq} (rows deleted)"
                        ),
                    });
                }
            }
            None => {
                broken = Some(Broken {
                    seq: 0,
                    problem: "the chain's head is missing".into(),
                })
            }
            _ => {}
        }
    }
    if broken.is_none() {
        // Every earlier verification saw a hash at the row it ended on; a
        // different hash there now means the chain was rewritten since.
        // The newest of them whose row now holds another hash (or none).
        let rewritten: Option<i64> = sqlx::query_scalar(
            "SELECT v.checked_to FROM (
                 SELECT DISTINCT ON (checked_to) checked_to, hash FROM audit_verifications
                 WHERE ok AND hash IS NOT NULL AND checked_to >= $2 AND checked_to <= $1
                 ORDER BY checked_to DESC, id DESC LIMIT 1000) v
             LEFT JOIN audit_log a ON a.seq = v.checked_to
             WHERE a.hash IS DISTINCT FROM v.hash
             ORDER BY v.checked_to DESC LIMIT 1",
        )
        .bind(last_seq)
        .bind(anchors_from)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(seq) = rewritten {
            broken = Some(Broken {
                seq,
                problem: "its hash differs from the one an earlier verification recorded: the chain was rewritten from here".into(),
            });
        }
    }
    Ok(Verified {
        rows: walk.rows(),
        last_seq,
        last_hash,
        broken,
    })
}

/// Writes what a verification found, for the Audit page and the next walk.
pub async fn record(pool: &PgPool, verified: &Verified) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_verifications (checked_to, rows, ok, first_bad, problem, hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(verified.last_seq)
    .bind(i64::try_from(verified.rows).unwrap_or(i64::MAX))
    .bind(verified.broken.is_none())
    .bind(verified.broken.as_ref().map(|b| b.seq))
    .bind(verified.broken.as_ref().map(|b| b.problem.clone()))
    .bind((!verified.last_hash.is_empty()).then(|| verified.last_hash.clone()))
    .execute(pool)
    .await?;
    Ok(())
}

/// Advisory lock under which a replica records why a check could not run.
const COULD_NOT_RUN_LOCK: i64 = 0x6761_7465_0007;

/// Longest reason a verification that could not run keeps, in characters.
const COULD_NOT_RUN_CHARS: usize = 300;

/// Records that a verification could not run and why, unless the newest
/// record already says the same (a check failing every minute for one
/// reason is one record, not one a minute). Returns whether it recorded.
pub async fn record_could_not_run(pool: &PgPool, why: &str) -> anyhow::Result<bool> {
    let why: String = why.chars().take(COULD_NOT_RUN_CHARS).collect();
    // Every replica runs the check: one at a time decides whether the
    // newest record already says this.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(COULD_NOT_RUN_LOCK)
        .execute(&mut *tx)
        .await?;
    let recorded = sqlx::query(
        "INSERT INTO audit_verifications (checked_to, rows, ok, could_not_run)
         SELECT coalesce((SELECT checked_to FROM audit_verifications WHERE ok
                          ORDER BY id DESC LIMIT 1), 0), 0, false, $1
         WHERE (SELECT could_not_run FROM audit_verifications ORDER BY id DESC LIMIT 1)
               IS DISTINCT FROM $1",
    )
    .bind(&why)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(recorded.rows_affected() > 0)
}

/// Why a verification could not run, in words for the Audit page and the
/// log: what failed and what to do about it.
pub fn could_not_run_words(err: &anyhow::Error) -> String {
    let denied = err.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .is_some_and(|db| db.code().as_deref() == Some("42501"))
    });
    if denied {
        format!(
            "the database role may not read what verification needs ({}); start Gatehouse once with GATEHOUSE_MIGRATION_DATABASE_URL set to the owner's URL so it grants the serving role its rights",
            err.root_cause()
        )
    } else {
        format!("{err:#}")
    }
}

/// Verifies the rows written since the last good verification (all rows
/// the first time) and records the result.
pub async fn verify_new_rows(pool: &PgPool) -> anyhow::Result<Verified> {
    let from: Option<i64> = sqlx::query_scalar(
        "SELECT checked_to FROM audit_verifications WHERE ok ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let verified = verify_database(pool, from.unwrap_or(0)).await?;
    record(pool, &verified).await?;
    Ok(verified)
}

/// Changes a diff lists in an audit row's details.
pub const DIFF_ENTRIES: usize = 100;
/// Longest value a diff entry keeps, in characters.
const DIFF_VALUE_CHARS: usize = 300;

/// One difference between two JSON documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where: `teams[frontend].name`, `calendar.cycle_days`.
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn shown(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if text.chars().count() > DIFF_VALUE_CHARS {
        let mut cut: String = text.chars().take(DIFF_VALUE_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    })
}

fn id_of(value: &serde_json::Value) -> Option<String> {
    value
        .get("id")
        .and_then(|id| id.as_str())
        .map(str::to_owned)
}

/// Lists where `after` differs from `before`: objects field by field,
/// arrays of objects with an `id` by id, other arrays by position.
pub fn json_diff(
    before: &serde_json::Value,
    after: &serde_json::Value,
    path: &str,
    out: &mut Vec<Change>,
) {
    use serde_json::Value;
    if before == after || out.len() > 10 * DIFF_ENTRIES {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                json_diff(
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    &join(key),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.iter().chain(b).all(|v| id_of(v).is_some()) => {
            let mut ids: Vec<String> = a.iter().chain(b).filter_map(id_of).collect();
            ids.dedup();
            let mut seen = std::collections::BTreeSet::new();
            for id in ids {
                if !seen.insert(id.clone()) {
                    continue;
                }
                let find = |list: &[Value]| {
                    list.iter()
                        .find(|v| id_of(v).as_deref() == Some(id.as_str()))
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                json_diff(&find(a), &find(b), &format!("{path}[{id}]"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                json_diff(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(Change {
            path: if path.is_empty() {
                "(all)".into()
            } else {
                path.to_owned()
            },
            before: shown(before),
            after: shown(after),
        }),
    }
}

/// Prints a verification's result; an error names the first bad row.
pub fn report(verified: &Verified, out: &mut impl Write) -> anyhow::Result<()> {
    match &verified.broken {
        None => {
            writeln!(
                out,
                "audit chain verified: {} rows, up to row {} (hash {})",
                verified.rows, verified.last_seq, verified.last_hash,
            )?;
            Ok(())
        }
        Some(b) => anyhow::bail!("audit chain broken at row {}: {}", b.seq, b.problem),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A row of a chain for tests, hashed: `seq` after `prev`, voted by
    /// `name` with `comment`.
    pub(crate) fn test_row(seq: i64, prev: &str, name: &str, comment: Option<&str>) -> ChainRow {
        let mut r = ChainRow {
            seq,
            at: "2026-12-02T09:30:00.000000Z".into(),
            event: "vote".into(),
            actor_id: Some("7f1c0a52-1111-4d43-9c35-0d2d5a1c2e10".into()),
            actor_name: Some(name.into()),
            actor_roles: vec!["qa".into(), "developer:mobile".into()],
            request_id: None,
            pipeline: Some("orders-api-qa".into()),
            stage: None,
            action: None,
            execution_id: None,
            revision: None,
            decision: Some("approve".into()),
            comment: comment.map(str::to_owned),
            sign_off: None,
            aws_result: None,
            team: Some("backend".into()),
            environment: Some("qa".into()),
            service: Some("orders-api".into()),
            subject: None,
            summary: "Priya approved – ✓".into(),
            details: r#"{"a": 1}"#.into(),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        r.hash = r.digest();
        r
    }

    fn row(seq: i64, prev: &str) -> ChainRow {
        test_row(seq, prev, "Priya \"QA\" Raman;\nsecond line", Some(""))
    }

    #[test]
    fn null_and_empty_hash_differently_and_lengths_count_bytes() {
        let a = row(1, GENESIS);
        let mut b = a.clone();
        b.comment = None;
        assert_ne!(a.digest(), b.digest());
        assert!(a.canonical().contains(&format!(
            "{}:Priya approved – ✓;",
            "Priya approved – ✓".len()
        )));
        assert!(a
            .canonical()
            .starts_with("gatehouse-audit-v1;1:1;27:2026-12-02T09:30:00.000000Z;"));
    }

    #[test]
    fn a_walk_names_the_first_edited_deleted_or_swapped_row() {
        let mut rows = vec![row(1, GENESIS)];
        for seq in 2..=5 {
            let prev = rows.last().expect("row").hash.clone();
            rows.push(row(seq, &prev));
        }
        let walk = |rows: &[ChainRow]| {
            let mut w = Walk::default();
            rows.iter().try_for_each(|r| w.check(r))
        };
        assert_eq!(walk(&rows), Ok(()));

        let mut edited = rows.clone();
        edited[2].summary = "changed".into();
        assert_eq!(walk(&edited).expect_err("edited").seq, 3);

        let mut deleted = rows.clone();
        deleted.remove(2);
        let b = walk(&deleted).expect_err("deleted");
        assert_eq!(b.seq, 3);
        assert!(b.problem.contains("missing"), "{b}");

        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert_eq!(walk(&swapped).expect_err("swapped").seq, 2);
    }

    #[test]
    fn a_diff_names_what_changed_by_id_not_position() {
        let before = serde_json::json!({"teams": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}], "n": 1});
        let after = serde_json::json!({"teams": [{"id": "z", "name": "Z"}, {"id": "a", "name": "A"}, {"id": "b", "name": "Bee"}], "n": 1});
        let mut out = Vec::new();
        json_diff(&before, &after, "", &mut out);
        let paths: Vec<&str> = out.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["teams[b].name", "teams[z]"]);
        assert_eq!(out[0].before.as_deref(), Some("B"));
        assert_eq!(out[0].after.as_deref(), Some("Bee"));
        assert_eq!(out[1].before, None);
    }
}
