//! Notifications out: the outbox, routed to the channels subscribed to
//! each event and sent with retries.
//!
//! Triggers write `notification_outbox` rows in the transactions that
//! record what happened (see the migration `notifications`); the reminder
//! pass adds code-freeze and release-day rows under unique keys. One
//! process at a time (the notifier's leader) then, each pass:
//! 1. routes every unrouted outbox row: renders its message, finds the
//!    channels (and, for e-mail, the addresses) it goes to, and inserts one
//!    delivery per channel and address, unique, in the transaction that
//!    marks the row routed;
//! 2. sends the deliveries that are due, each under a lease: a webhook is
//!    POSTed as Slack-compatible JSON with an `Idempotency-Key`, an e-mail
//!    goes over SMTP with a `Message-ID`, both naming the delivery, so a
//!    receiver can drop the one duplicate a crash between sending and
//!    recording could cause; a failure is tried again later
//!    ([`retry_after`]) and given up after [`MAX_ATTEMPTS`] (admins see it
//!    on the Notifications page, without any URL: a webhook's URL is its
//!    secret). Channels are sent to independently, a few at a time, each
//!    its deliveries in order, so a slow receiver delays only its own; an
//!    attempt is counted when a delivery is sent, not when it is claimed.
//!
//! Text sent to a webhook is Slack `mrkdwn`: every piece of it that came
//! from people or configuration (names, comments, reasons) has `&`, `<`
//! and `>` escaped ([`slack_escape`]), so it cannot ping a channel or
//! disguise a link; Gatehouse's own link is written as `<url|label>`.
//! Every link is absolute, from the public URL.
//!
//! A channel with no sink configured (its webhook URL unset, or no SMTP
//! server) sends nothing: in demo mode its deliveries are recorded (the
//! Notifications page shows what would have gone out), otherwise they are
//! recorded as failed, with the reason, for admins to see.

use crate::adapters::db::store_error;
use crate::org_config::{ChannelConfig, ChannelSink, RoleTarget};
use app::domain::notification::{
    retry_after, webhook_answer, without_urls, ChannelKind, ChannelSummary, NotificationEvent,
    WebhookAnswer, MAX_ATTEMPTS,
};
use app::domain::{OrgModel, Role, RoleKind};
use app::ssr::ports::StoreError;
use app::ssr::AppState;
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::time::Duration;

/// Outbox rows routed per pass, and deliveries sent per pass (at most
/// [`CHANNEL_BATCH`] of them to one channel).
const ROUTE_BATCH: i64 = 200;
const SEND_BATCH: i64 = 50;
const CHANNEL_BATCH: i64 = 25;
/// Channels sent to at once, each its own deliveries one after another.
const CHANNELS_AT_ONCE: usize = 4;
/// After this long a pass starts no new send on a channel that has sent
/// one already: a slow receiver's remaining deliveries go back for the
/// next pass instead of holding up the pass (and so every other channel).
const SEND_BUDGET: Duration = Duration::from_secs(5);
/// A claimed delivery is someone else's to retry after this long.
const LEASE: Duration = Duration::from_secs(60);
/// An outage's message waits this long for its Critical ticket's link.
const TICKET_WAIT: Duration = Duration::from_secs(60);
/// Addresses one e-mail channel writes to for one event, at most.
const RECIPIENTS: usize = 200;

/// SMTP and webhook settings from the environment.
#[derive(Clone, Default)]
pub struct NotificationSettings {
    /// `smtp://host:587?tls=required`, `smtps://user:pass@host`, or
    /// `smtp://localhost:25` (plain, for a local relay).
    pub smtp_url: Option<crate::config::Secret>,
    pub mail_from: Option<String>,
    pub reply_to: Option<String>,
    /// Webhook URLs by channel id, overriding the channels' `url_env`
    /// variables (tests set these).
    pub webhook_urls: BTreeMap<String, String>,
}

impl std::fmt::Debug for NotificationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "[set]"))
            .field("mail_from", &self.mail_from)
            .field("reply_to", &self.reply_to)
            .field(
                "webhook_urls",
                &self.webhook_urls.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

struct Channel {
    config: ChannelConfig,
    /// The webhook's URL.
    webhook: Option<String>,
    /// Why it cannot send (its URL or SMTP server is not configured).
    missing: Option<String>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub reminders: usize,
    pub routed: usize,
    pub deliveries: usize,
    pub sent: usize,
    pub retrying: usize,
    pub given_up: usize,
}

/// Routes and sends notifications; see the module's documentation.
pub struct Notifier {
    pool: PgPool,
    demo: bool,
    channels: Vec<Channel>,
    mailer: Option<Mailer>,
    http: reqwest::Client,
    public_url: String,
}

/// A message, rendered once when its outbox row is routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub event: NotificationEvent,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub title: String,
    pub body: String,
    /// A path in Gatehouse (`/approvals?request=…`).
    pub link: Option<String>,
    /// For a waiting approval: who can approve it.
    pub approvers: Vec<Role>,
}

impl Notifier {
    /// Resolves each channel's sink (see the module's documentation for a
    /// channel without one).
    pub fn new(
        pool: PgPool,
        channels: &[ChannelConfig],
        settings: &NotificationSettings,
        public_url: &str,
        demo: bool,
    ) -> anyhow::Result<Self> {
        let mailer = match &settings.smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("GATEHOUSE_SMTP_URL is not an SMTP URL: {e}"))?
                    .timeout(Some(Duration::from_secs(15)))
                    .build();
                let from = settings
                    .mail_from
                    .as_deref()
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "set GATEHOUSE_MAIL_FROM (e.g. \"Gatehouse <gatehouse@acme.example>\") to send e-mail"
                        )
                    })?
                    .parse::<Mailbox>()
                    .map_err(|e| anyhow::anyhow!("GATEHOUSE_MAIL_FROM is not an address: {e}"))?;
                let reply_to = settings
                    .reply_to
                    .as_deref()
                    .map(|r| r.parse::<Mailbox>())
                    .transpose()
                    .map_err(|e| {
                        anyhow::anyhow!("GATEHOUSE_MAIL_REPLY_TO is not an address: {e}")
                    })?;
                Some(Mailer {
                    transport,
                    from,
                    reply_to,
                })
            }
        };
        let mut resolved = Vec::new();
        for config in channels {
            let (webhook, missing) = match &config.sink {
                ChannelSink::Webhook { url_env } => {
                    let url = settings
                        .webhook_urls
                        .get(&config.id)
                        .cloned()
                        .or_else(|| std::env::var(url_env).ok())
                        .filter(|u| !u.trim().is_empty());
                    if let Some(u) = &url {
                        if !(u.starts_with("https://") || u.starts_with("http://")) {
                            anyhow::bail!(
                                "notification channel {}: {url_env} must be an http(s):// URL",
                                config.id
                            );
                        }
                    }
                    let missing = url.is_none().then(|| format!("{url_env} is not set"));
                    (url, missing)
                }
                ChannelSink::Email { .. } => (
                    None,
                    mailer
                        .is_none()
                        .then(|| "GATEHOUSE_SMTP_URL is not set".to_owned()),
                ),
            };
            if let Some(why) = &missing {
                if demo {
                    tracing::info!(channel = %config.id, "notification channel records only: {why}");
                } else {
                    tracing::warn!(channel = %config.id, "notification channel cannot send: {why}; its deliveries are recorded as failed");
                }
            }
            resolved.push(Channel {
                config: config.clone(),
                webhook,
                missing,
            });
        }
        let http = reqwest::Client::builder()
            .user_agent("gatehouse-notifier")
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            pool,
            demo,
            channels: resolved,
            mailer,
            http,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The channels as the Notifications page shows them.
    pub fn summaries(&self) -> Vec<ChannelSummary> {
        self.channels
            .iter()
            .map(|c| ChannelSummary {
                id: c.config.id.clone(),
                kind: c.config.kind,
                events: c.config.events.clone(),
                teams: c.config.teams.clone(),
                environments: c.config.environments.clone(),
                audience: match &c.config.sink {
                    ChannelSink::Webhook { url_env } => format!("the URL in {url_env}"),
                    ChannelSink::Email { to, to_roles } => {
                        let mut parts: Vec<String> = to.clone();
                        parts.extend(to_roles.iter().map(|r| match r {
                            RoleTarget::Approvers => "people who can approve".to_owned(),
                            RoleTarget::Role(k) => k.label().to_owned(),
                        }));
                        parts.join("; ")
                    }
                },
                live: c.missing.is_none(),
                problem: c.missing.clone(),
            })
            .collect()
    }

    /// One pass: reminders due today, routing, then sending.
    pub async fn pass(
        &self,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport {
            reminders: self.remind(state, now).await?,
            ..PassReport::default()
        };
        let (routed, deliveries) = self.route(state, now).await?;
        report.routed = routed;
        report.deliveries = deliveries;
        let sent = self.send_due().await?;
        report.sent = sent.sent;
        report.retrying = sent.retrying;
        report.given_up = sent.given_up;
        Ok(report)
    }

    /// Adds the calendar's reminders for `now`'s day in the org's zone:
    /// each team's code freeze tomorrow and its Prod release today, once
    /// each (a moved milestone reminds again on its new day).
    pub async fn remind(&self, state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let org = state.org.load_org().await?;
        let Ok((calendar, _)) = app::ssr::calendar::load(state, &org).await else {
            return Ok(0);
        };
        let today = now.with_timezone(&calendar.tz).date_naive();
        let Some(tomorrow) = today.succ_opt() else {
            return Ok(0);
        };
        let mut added = 0;
        for release in calendar.releases_around(today, tomorrow) {
            for m in &release.milestones {
                let (event, day) = match m.kind {
                    app::domain::calendar::MilestoneKind::CodeFreeze if m.date == tomorrow => {
                        (NotificationEvent::CodeFreezeTomorrow, m.date)
                    }
                    app::domain::calendar::MilestoneKind::ProdRelease if m.date == today => {
                        (NotificationEvent::ReleaseDay, m.date)
                    }
                    _ => continue,
                };
                let key = format!("{event}:{}:{}:{day}", release.name, m.team);
                let detail = serde_json::json!({
                    "release": release.name,
                    "team": m.team.as_str(),
                    "day": day,
                    "time": m.time.map(|t| t.format("%H:%M").to_string()),
                    "zone": org.calendar.time_zone,
                });
                let inserted = sqlx::query(
                    "INSERT INTO notification_outbox (event, dedupe_key, detail) VALUES ($1, $2, $3)
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(event.as_str())
                .bind(&key)
                .bind(&detail)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                added += inserted.rows_affected() as usize;
            }
        }
        Ok(added)
    }

    /// Routes unrouted outbox rows to their channels; returns the rows
    /// routed and the deliveries made.
    pub async fn route(
        &self,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let org = state.org.load_org().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT o.id, o.event, o.created_at, o.detail,
                    a.team, a.environment, a.service, a.request_id::text, a.summary, a.decision,
                    a.revision, a.pipeline,
                    g.service_id, g.environment_id, g.started_at, g.ended_at, g.ticket, g.issue_url
               FROM notification_outbox o
               LEFT JOIN audit_log a ON a.id = o.audit_id
               LEFT JOIN outages g ON g.id = o.outage_id
              WHERE o.routed_at IS NULL
              ORDER BY o.id
              LIMIT $1",
        )
        .bind(ROUTE_BATCH)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let people = self.people().await?;
        let (mut routed, mut made) = (0, 0);
        for row in rows {
            // An outage's ticket is opened just after the outage is
            // recorded: wait a little for its link.
            if row.ticket == Some(true)
                && row.issue_url.is_none()
                && row.event == "environment-down"
                && now - row.created_at
                    < chrono::Duration::from_std(TICKET_WAIT).unwrap_or_default()
            {
                continue;
            }
            let message = render(&org, &row, &self.public_url);
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            let marked = sqlx::query(
                "UPDATE notification_outbox SET routed_at = now() WHERE id = $1 AND routed_at IS NULL",
            )
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
            if marked.rows_affected() == 0 {
                continue;
            }
            if let Some(message) = message {
                for channel in &self.channels {
                    if !subscribed(&channel.config, &message) {
                        continue;
                    }
                    let recipients = match &channel.config.sink {
                        ChannelSink::Webhook { .. } => vec![String::new()],
                        ChannelSink::Email { to, to_roles } => {
                            addresses(to, to_roles, &message, &people)
                        }
                    };
                    // A channel that cannot send records (demo mode) or
                    // fails at once, with the reason, for admins to see.
                    let (initial, error) = match (&channel.missing, self.demo) {
                        (None, _) => ("pending", None),
                        (Some(_), true) => ("recorded", None),
                        (Some(why), false) => {
                            ("failed", Some(without_urls(&format!("not sent: {why}"))))
                        }
                    };
                    for recipient in recipients {
                        let inserted = sqlx::query(
                            "INSERT INTO notification_deliveries
                                 (outbox_id, event, channel, recipient, team_id, environment_id, title, body, link, state, last_error)
                             VALUES ($1, $2, $3, $4, $5, $6, left($7, 300), left($8, 4000), $9, $10, $11)
                             ON CONFLICT ON CONSTRAINT notification_deliveries_once DO NOTHING",
                        )
                        .bind(row.id)
                        .bind(message.event.as_str())
                        .bind(&channel.config.id)
                        .bind(&recipient)
                        .bind(&message.team)
                        .bind(&message.environment)
                        .bind(&message.title)
                        .bind(&message.body)
                        .bind(message.link.as_deref().map(|l| absolute(&self.public_url, l)))
                        .bind(initial)
                        .bind(&error)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_error)?;
                        made += inserted.rows_affected() as usize;
                    }
                }
            }
            tx.commit().await.map_err(store_error)?;
            routed += 1;
        }
        Ok((routed, made))
    }

    /// Everyone with an address, their roles and mutes.
    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        type Row = (String, Vec<String>, Vec<String>, Option<Vec<String>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT u.person, u.roles, u.emails, m.events
               FROM users u LEFT JOIN notification_mutes m ON m.person = u.person
              WHERE cardinality(u.emails) > 0 AND cardinality(u.roles) > 0
              ORDER BY u.person, u.created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(person, roles, emails, muted)| Person {
                person,
                roles: roles.iter().filter_map(|r| Role::parse(r).ok()).collect(),
                email: emails.into_iter().next().unwrap_or_default(),
                muted: muted
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|e| NotificationEvent::parse(e).ok())
                    .collect(),
            })
            .collect())
    }

    /// Sends what is due: claims it under a lease, then sends each
    /// channel's share on its own, [`CHANNELS_AT_ONCE`] channels at a time.
    pub async fn send_due(&self) -> Result<PassReport, StoreError> {
        let mut due: Vec<Claim> = sqlx::query_as(
            "WITH candidates AS (
                 SELECT id FROM (
                     SELECT id, next_attempt_at,
                            row_number() OVER (PARTITION BY channel ORDER BY next_attempt_at, id) AS n
                       FROM notification_deliveries
                      WHERE state = 'pending' AND next_attempt_at <= now()
                        AND (lease_until IS NULL OR lease_until < now())
                 ) c
                  WHERE n <= $3
                  ORDER BY next_attempt_at, id
                  LIMIT $1)
             UPDATE notification_deliveries d
                SET lease_until = now() + make_interval(secs => $2)
              WHERE d.id IN (SELECT id FROM notification_deliveries
                              WHERE id IN (SELECT id FROM candidates)
                                AND state = 'pending'
                                AND (lease_until IS NULL OR lease_until < now())
                              FOR UPDATE SKIP LOCKED)
              RETURNING d.id, d.channel, d.recipient, d.title, d.body, d.link,
                        d.next_attempt_at, d.lease_until",
        )
        .bind(SEND_BATCH)
        .bind(LEASE.as_secs_f64())
        .bind(CHANNEL_BATCH)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        due.sort_by_key(|c| (c.next_attempt_at, c.id));
        // Each channel's deliveries, in order, channels by their oldest.
        let mut lanes: Vec<Vec<Claim>> = Vec::new();
        for claim in due {
            match lanes.iter_mut().find(|l| l[0].channel == claim.channel) {
                Some(lane) => lane.push(claim),
                None => lanes.push(vec![claim]),
            }
        }
        let deadline = tokio::time::Instant::now() + SEND_BUDGET;
        let results: Vec<Result<(PassReport, Vec<Claim>), StoreError>> =
            futures::stream::iter(lanes)
                .map(|lane| self.send_lane(lane, deadline))
                .buffer_unordered(CHANNELS_AT_ONCE)
                .collect()
                .await;
        let mut report = PassReport::default();
        let mut failed = None;
        let mut unsent = Vec::new();
        for result in results {
            match result {
                Ok((r, rest)) => {
                    report.sent += r.sent;
                    report.retrying += r.retrying;
                    report.given_up += r.given_up;
                    unsent.extend(rest);
                }
                Err(err) => failed = Some(err),
            }
        }
        // What was claimed but not sent is due again at once (its
        // attempts unchanged), not after the lease.
        for claim in &unsent {
            sqlx::query(
                "UPDATE notification_deliveries SET lease_until = NULL
                  WHERE id = $1 AND state = 'pending' AND lease_until = $2",
            )
            .bind(claim.id)
            .bind(claim.lease_until)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        }
        match failed {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }

    /// Sends one channel's claimed deliveries in order; answers what it did
    /// and the claims it left unsent (the pass's time was up).
    async fn send_lane(
        &self,
        lane: Vec<Claim>,
        deadline: tokio::time::Instant,
    ) -> Result<(PassReport, Vec<Claim>), StoreError> {
        let mut report = PassReport::default();
        let mut tried = false;
        let mut lane = lane.into_iter();
        while let Some(claim) = lane.next() {
            if tried && tokio::time::Instant::now() >= deadline {
                let mut rest = vec![claim];
                rest.extend(lane);
                return Ok((report, rest));
            }
            let Some(channel) = self.channels.iter().find(|c| c.config.id == claim.channel) else {
                self.give_up(claim.id, "the channel is no longer configured")
                    .await?;
                report.given_up += 1;
                continue;
            };
            // An attempt is counted as it is made, under a fresh lease; a
            // claim that lapsed and was taken by another process is its.
            let attempts: Option<i32> = sqlx::query_scalar(
                "UPDATE notification_deliveries
                    SET attempts = attempts + 1, lease_until = now() + make_interval(secs => $3)
                  WHERE id = $1 AND state = 'pending' AND lease_until = $2
                  RETURNING attempts",
            )
            .bind(claim.id)
            .bind(claim.lease_until)
            .bind(LEASE.as_secs_f64())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
            let Some(attempts) = attempts else {
                continue;
            };
            tried = true;
            let link = claim.link.as_deref();
            let outcome = match channel.config.kind {
                ChannelKind::Webhook => {
                    self.post(channel, claim.id, &claim.title, &claim.body, link)
                        .await
                }
                ChannelKind::Email => {
                    self.mail(claim.id, &claim.recipient, &claim.title, &claim.body, link)
                        .await
                }
            };
            crate::metrics::notification(channel.config.kind, &outcome);
            self.record(claim.id, attempts, outcome, &mut report)
                .await?;
        }
        Ok((report, Vec::new()))
    }

    /// Records what a send did.
    async fn record(
        &self,
        id: i64,
        attempts: i32,
        outcome: Sent,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        match outcome {
            Sent::Yes => {
                sqlx::query(
                    "UPDATE notification_deliveries
                        SET state = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL
                      WHERE id = $1",
                )
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                report.sent += 1;
            }
            Sent::Retry(why) => {
                match retry_after(u32::try_from(attempts).unwrap_or(MAX_ATTEMPTS)) {
                    Some(wait) => {
                        sqlx::query(
                            "UPDATE notification_deliveries
                            SET next_attempt_at = now() + make_interval(secs => $2),
                                lease_until = NULL, last_error = left($3, 1000)
                          WHERE id = $1",
                        )
                        .bind(id)
                        .bind(wait.as_secs_f64())
                        .bind(without_urls(&why))
                        .execute(&self.pool)
                        .await
                        .map_err(store_error)?;
                        report.retrying += 1;
                    }
                    None => {
                        self.give_up(id, &format!("{why} (after {attempts} attempts)"))
                            .await?;
                        report.given_up += 1;
                    }
                }
            }
            Sent::GiveUp(why) => {
                self.give_up(id, &why).await?;
                report.given_up += 1;
            }
        }
        Ok(())
    }

    async fn give_up(&self, id: i64, why: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notification_deliveries SET state = 'failed', lease_until = NULL, last_error = left($2, 1000)
              WHERE id = $1",
        )
        .bind(id)
        .bind(without_urls(why))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn post(
        &self,
        channel: &Channel,
        id: i64,
        title: &str,
        body: &str,
        link: Option<&str>,
    ) -> Sent {
        let Some(url) = &channel.webhook else {
            return Sent::GiveUp("no webhook URL is configured".into());
        };
        let payload = serde_json::json!({
            "text": slack_text(title, body, link),
            "gatehouse": { "delivery": id, "title": title, "link": link },
        });
        let answer = self
            .http
            .post(url)
            .header("Idempotency-Key", format!("gatehouse-notification-{id}"))
            .json(&payload)
            .send()
            .await;
        match answer {
            Ok(r) => match webhook_answer(r.status().as_u16()) {
                WebhookAnswer::Sent => Sent::Yes,
                WebhookAnswer::Retry => {
                    Sent::Retry(format!("the webhook answered HTTP {}", r.status()))
                }
                WebhookAnswer::GiveUp => Sent::GiveUp(format!(
                    "the webhook refused it: HTTP {} (check the channel's URL)",
                    r.status()
                )),
            },
            Err(e) if e.is_timeout() => {
                Sent::Retry("the webhook did not answer within 10 s".into())
            }
            Err(e) => Sent::Retry(format!(
                "the webhook could not be reached: {}",
                http_error_text(e)
            )),
        }
    }

    async fn mail(
        &self,
        id: i64,
        recipient: &str,
        title: &str,
        body: &str,
        link: Option<&str>,
    ) -> Sent {
        let Some(mailer) = &self.mailer else {
            return Sent::GiveUp("no SMTP server is configured".into());
        };
        let Ok(to) = recipient.parse::<Mailbox>() else {
            return Sent::GiveUp(format!("\"{recipient}\" is not an e-mail address"));
        };
        let mut builder = lettre::Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(title)
            .message_id(Some(format!("<notification-{id}@gatehouse>")));
        if let Some(reply_to) = &mailer.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let text = match link {
            Some(l) => format!("{body}\n\n{l}\n\n-- \nGatehouse"),
            None => format!("{body}\n\n-- \nGatehouse"),
        };
        // A single text/plain part: the builder writes `MIME-Version: 1.0`.
        let message = match builder.singlepart(SinglePart::plain(text)) {
            Ok(m) => m,
            Err(e) => return Sent::GiveUp(format!("the e-mail could not be built: {e}")),
        };
        match mailer.transport.send(message).await {
            Ok(_) => Sent::Yes,
            Err(e) if e.is_permanent() => Sent::GiveUp(format!("the mail server refused it: {e}")),
            Err(e) => Sent::Retry(format!("the mail server did not take it: {e}")),
        }
    }
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Yes,
    Retry(String),
    GiveUp(String),
}

/// A delivery claimed for sending: the lease it was claimed under names
/// the claim.
#[derive(sqlx::FromRow)]
struct Claim {
    id: i64,
    channel: String,
    recipient: String,
    title: String,
    body: String,
    link: Option<String>,
    next_attempt_at: DateTime<Utc>,
    lease_until: DateTime<Utc>,
}

/// `text` as Slack-compatible `mrkdwn` shows it literally: `&`, `<` and
/// `>` escaped (Slack's own rule), so `<!channel>`, `<@U123>` or
/// `<https://…|label>` in a name, comment or reason is text, not a ping or
/// a link.
pub fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A webhook message's `text`: the title in bold and the body, both
/// escaped, then Gatehouse's own link as `<url|label>`.
pub fn slack_text(title: &str, body: &str, link: Option<&str>) -> String {
    let mut text = format!("*{}*\n{}", slack_escape(title), slack_escape(body));
    if let Some(link) = link {
        // In a link, `|` would end the address: it is percent-encoded.
        let url = slack_escape(link).replace('|', "%7C");
        text.push_str(&format!("\n<{url}|{}>", slack_escape("Open in Gatehouse")));
    }
    text
}

/// `link` made absolute from `public_url` when it is a path.
fn absolute(public_url: &str, link: &str) -> String {
    if link.starts_with('/') {
        format!("{public_url}{link}")
    } else {
        link.to_owned()
    }
}

/// What went wrong with an HTTP request, in words, without the URL
/// (a webhook's URL is its secret): reqwest's error and its causes.
fn http_error_text(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    without_urls(&text)
}

struct Person {
    #[allow(dead_code)]
    person: String,
    roles: Vec<Role>,
    email: String,
    muted: Vec<NotificationEvent>,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    event: String,
    created_at: DateTime<Utc>,
    detail: serde_json::Value,
    team: Option<String>,
    environment: Option<String>,
    service: Option<String>,
    request_id: Option<String>,
    summary: Option<String>,
    decision: Option<String>,
    revision: Option<String>,
    pipeline: Option<String>,
    service_id: Option<String>,
    environment_id: Option<String>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    ticket: Option<bool>,
    issue_url: Option<String>,
}

/// Whether `channel` takes `message`: its event, and its team and
/// environment when the channel is limited to some.
pub fn subscribed(channel: &ChannelConfig, message: &Message) -> bool {
    channel.events.contains(&message.event)
        && (channel.teams.is_empty()
            || message
                .team
                .as_ref()
                .is_some_and(|t| channel.teams.contains(t)))
        && (channel.environments.is_empty()
            || message
                .environment
                .as_ref()
                .is_some_and(|e| channel.environments.contains(e)))
}

/// The addresses an e-mail channel writes to for `message`: its lists,
/// and the first address of each person holding a role it names who has
/// not muted the event; each address once, at most [`RECIPIENTS`].
fn addresses(
    to: &[String],
    to_roles: &[RoleTarget],
    message: &Message,
    people: &[Person],
) -> Vec<String> {
    let mut out: Vec<String> = to.to_vec();
    let team = message.team.as_deref();
    let holds = |roles: &[Role], kind: RoleKind| {
        roles.iter().any(|r| match r {
            Role::Developer(t) => kind == RoleKind::Developer && Some(t.as_str()) == team,
            other => other.kind() == kind,
        })
    };
    for person in people {
        if person.muted.contains(&message.event) || person.email.is_empty() {
            continue;
        }
        let wanted = to_roles.iter().any(|target| match target {
            RoleTarget::Approvers => message.approvers.iter().any(|a| match a {
                Role::Developer(_) => person.roles.contains(a),
                other => holds(&person.roles, other.kind()),
            }),
            RoleTarget::Role(kind) => holds(&person.roles, *kind),
        });
        if wanted && !out.contains(&person.email) {
            out.push(person.email.clone());
        }
    }
    out.truncate(RECIPIENTS);
    out
}

fn names<'a>(
    org: &'a OrgModel,
    service: Option<&'a str>,
    environment: Option<&'a str>,
) -> (&'a str, &'a str) {
    let service_name = service
        .and_then(|s| org.services.iter().find(|x| x.id.as_str() == s))
        .map_or(service.unwrap_or("a service"), |s| s.name.as_str());
    let env_name = environment
        .and_then(|e| org.environments.iter().find(|x| x.id.as_str() == e))
        .map_or(environment.unwrap_or("an environment"), |e| e.name.as_str());
    (service_name, env_name)
}

fn team_of(org: &OrgModel, service: Option<&str>) -> Option<String> {
    service
        .and_then(|s| org.services.iter().find(|x| x.id.as_str() == s))
        .map(|s| s.team.to_string())
}

/// The message for an outbox row (`None` for a row that names nothing
/// Gatehouse still knows).
fn render(org: &OrgModel, row: &OutboxRow, public_url: &str) -> Option<Message> {
    let event = NotificationEvent::parse(&row.event).ok()?;
    let short = |r: &Option<String>| {
        r.as_deref()
            .map(|r| r.chars().take(7).collect::<String>())
            .unwrap_or_default()
    };
    let card = |id: &Option<String>| {
        id.as_ref()
            .map(|id| format!("/approvals?request={id}#request-{id}"))
    };
    let message = match event {
        NotificationEvent::ApprovalWaiting => {
            let (service, env) = names(org, row.service.as_deref(), row.environment.as_deref());
            let environment = row
                .environment
                .as_deref()
                .and_then(|e| org.environments.iter().find(|x| x.id.as_str() == e));
            let rule = environment.and_then(|e| e.approval.as_ref());
            let team = row.team.clone();
            let approvers: Vec<Role> = rule
                .map(|r| {
                    r.approvers
                        .iter()
                        .filter_map(|k| match k {
                            RoleKind::Developer => team
                                .as_deref()
                                .and_then(|t| app::domain::TeamId::parse(t).ok())
                                .map(Role::Developer),
                            other => Role::parse(other.as_str()).ok(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let who: Vec<&str> = rule
                .map(|r| r.approvers.iter().map(|k| k.label()).collect())
                .unwrap_or_default();
            let needed = rule.map_or(1, |r| r.required);
            Message {
                event,
                team,
                environment: row.environment.clone(),
                title: format!("{service} to {env} is waiting for approval"),
                body: format!(
                    "Revision {} of {} needs {needed} approval{} from {}.",
                    short(&row.revision),
                    row.pipeline.as_deref().unwrap_or(service),
                    if needed == 1 { "" } else { "s" },
                    if who.is_empty() {
                        "its approvers".to_owned()
                    } else {
                        who.join(" or ")
                    }
                ),
                link: card(&row.request_id),
                approvers,
            }
        }
        NotificationEvent::ApprovalDecided | NotificationEvent::DeliveryFailed => {
            let (service, env) = names(org, row.service.as_deref(), row.environment.as_deref());
            let verb = match row.decision.as_deref() {
                Some("reject") => "rejected",
                _ => "approved",
            };
            let title = if event == NotificationEvent::DeliveryFailed {
                format!("CodePipeline refused the decision on {service} to {env}")
            } else {
                format!("{service} to {env} was {verb}")
            };
            Message {
                event,
                team: row.team.clone(),
                environment: row.environment.clone(),
                title,
                body: row.summary.clone().unwrap_or_default(),
                link: if event == NotificationEvent::DeliveryFailed {
                    Some("/audit?kind=aws_failed".to_owned())
                } else {
                    Some("/approvals?tab=history".to_owned())
                },
                approvers: Vec::new(),
            }
        }
        NotificationEvent::PipelineProblem => Message {
            event,
            team: row.team.clone(),
            environment: row.environment.clone(),
            title: format!(
                "Pipeline {}: configuration problem",
                row.pipeline.as_deref().unwrap_or("?")
            ),
            body: row.summary.clone().unwrap_or_default(),
            link: Some("/approvals".to_owned()),
            approvers: Vec::new(),
        },
        NotificationEvent::EnvironmentDown | NotificationEvent::EnvironmentUp => {
            let (service, env) = names(
                org,
                row.service_id.as_deref(),
                row.environment_id.as_deref(),
            );
            let since = row
                .started_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let ticket = row
                .issue_url
                .as_ref()
                .map(|u| format!(" Critical ticket: {}", absolute(public_url, u)))
                .unwrap_or_default();
            let (title, body) = if event == NotificationEvent::EnvironmentDown {
                (
                    format!("{service} is down in {env}"),
                    format!(
                        "Down since {since}.{}",
                        if ticket.is_empty() {
                            if row.ticket == Some(true) {
                                " A Critical ticket is being opened.".to_owned()
                            } else {
                                " Gatehouse counts the downtime.".to_owned()
                            }
                        } else {
                            ticket
                        }
                    ),
                )
            } else {
                let minutes = match (row.started_at, row.ended_at) {
                    (Some(s), Some(e)) => (e - s).num_minutes(),
                    _ => 0,
                };
                (
                    format!("{service} is back in {env}"),
                    format!("It was down for {minutes} min, since {since}.{ticket}"),
                )
            };
            Message {
                event,
                team: team_of(org, row.service_id.as_deref()),
                environment: row.environment_id.clone(),
                title,
                body,
                link: match (&row.service_id, &row.environment_id) {
                    (Some(s), Some(e)) => Some(format!("/board/{s}/{e}")),
                    _ => None,
                },
                approvers: Vec::new(),
            }
        }
        NotificationEvent::CodeFreezeTomorrow | NotificationEvent::ReleaseDay => {
            let text = |k: &str| {
                row.detail
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let team_id = text("team");
            let team_name = team_id
                .as_deref()
                .and_then(|t| org.teams.iter().find(|x| x.id.as_str() == t))
                .map_or_else(
                    || team_id.clone().unwrap_or_default(),
                    |t| t.name.to_string(),
                );
            let release = text("release").unwrap_or_default();
            let day = text("day")
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .map(|d| d.format("%A %-d %B").to_string())
                .unwrap_or_default();
            let at = text("time")
                .map(|t| format!(" at {t} ({})", text("zone").unwrap_or_default()))
                .unwrap_or_default();
            let (title, body) = if event == NotificationEvent::CodeFreezeTomorrow {
                (
                    format!("Code freeze tomorrow: {team_name}, release {release}"),
                    format!("{team_name}'s code freeze for release {release} is tomorrow, {day}{at}. Merge what should ship before then."),
                )
            } else {
                (
                    format!("Release day: {team_name}, release {release}"),
                    format!("{team_name} releases {release} to Prod today, {day}{at}."),
                )
            };
            Message {
                event,
                team: team_id,
                environment: None,
                title,
                body,
                link: Some("/calendar".to_owned()),
                approvers: Vec::new(),
            }
        }
    };
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(events: &[NotificationEvent], teams: &[&str], envs: &[&str]) -> ChannelConfig {
        ChannelConfig {
            id: "c".into(),
            kind: ChannelKind::Webhook,
            sink: ChannelSink::Webhook {
                url_env: "X".into(),
            },
            events: events.to_vec(),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            environments: envs.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    fn message(event: NotificationEvent, team: Option<&str>, env: Option<&str>) -> Message {
        Message {
            event,
            team: team.map(str::to_owned),
            environment: env.map(str::to_owned),
            title: "t".into(),
            body: "b".into(),
            link: None,
            approvers: vec![
                Role::Qa,
                Role::Developer(app::domain::TeamId::parse("backend").expect("team")),
            ],
        }
    }

    #[test]
    fn slack_control_sequences_in_names_and_comments_are_shown_as_text() {
        assert_eq!(
            slack_escape("Eve <!channel> <https://evil.example/phish|docs>"),
            "Eve &lt;!channel&gt; &lt;https://evil.example/phish|docs&gt;"
        );
        assert_eq!(
            slack_escape("<@U123> & <#C1>"),
            "&lt;@U123&gt; &amp; &lt;#C1&gt;"
        );
        // Escaping is not undone by text that already looks escaped.
        assert_eq!(slack_escape("&lt;!here&gt;"), "&amp;lt;!here&amp;gt;");
        assert_eq!(slack_escape("plain *bold* text"), "plain *bold* text");
    }

    #[test]
    fn a_webhook_message_escapes_its_text_and_keeps_gatehouses_link_a_link() {
        let text = slack_text(
            "Orders API to QA was approved",
            "Approved in Gatehouse by Eve <!channel> (QA): see <https://evil.example|docs> & more",
            Some("https://gatehouse.example/approvals?tab=history&x=<1>|y"),
        );
        assert_eq!(
            text,
            "*Orders API to QA was approved*\n\
             Approved in Gatehouse by Eve &lt;!channel&gt; (QA): see &lt;https://evil.example|docs&gt; &amp; more\n\
             <https://gatehouse.example/approvals?tab=history&amp;x=&lt;1&gt;%7Cy|Open in Gatehouse>"
        );
        // Only Gatehouse's own link is a `<…>` sequence.
        assert_eq!(text.matches('<').count(), 1);
        assert_eq!(
            slack_text("t <b>", "b", None),
            "*t &lt;b&gt;*\nb",
            "no link, no link sequence"
        );
    }

    #[test]
    fn relative_links_are_made_absolute_from_the_public_url() {
        assert_eq!(
            absolute("https://gh.example", "/demo/github/acme/orders/issues/4"),
            "https://gh.example/demo/github/acme/orders/issues/4"
        );
        assert_eq!(
            absolute(
                "https://gh.example",
                "https://github.com/acme/orders/issues/4"
            ),
            "https://github.com/acme/orders/issues/4"
        );
    }

    #[test]
    fn a_channel_takes_its_events_for_its_teams_and_environments_only() {
        use NotificationEvent::*;
        let all = channel(&[ApprovalWaiting], &[], &[]);
        assert!(subscribed(
            &all,
            &message(ApprovalWaiting, Some("backend"), Some("qa"))
        ));
        assert!(!subscribed(
            &all,
            &message(ApprovalDecided, Some("backend"), Some("qa"))
        ));
        let backend_prod = channel(&[ApprovalWaiting], &["backend"], &["prod"]);
        assert!(subscribed(
            &backend_prod,
            &message(ApprovalWaiting, Some("backend"), Some("prod"))
        ));
        assert!(!subscribed(
            &backend_prod,
            &message(ApprovalWaiting, Some("mobile"), Some("prod"))
        ));
        assert!(!subscribed(
            &backend_prod,
            &message(ApprovalWaiting, Some("backend"), Some("qa"))
        ));
        // A reminder names no environment: a channel limited to some
        // environments does not take it.
        let freeze = channel(&[CodeFreezeTomorrow], &[], &["prod"]);
        assert!(!subscribed(
            &freeze,
            &message(CodeFreezeTomorrow, Some("backend"), None)
        ));
    }

    #[test]
    fn e_mail_goes_to_the_approvers_who_have_not_muted_the_event_each_once() {
        let person = |email: &str, roles: Vec<Role>, muted: Vec<NotificationEvent>| Person {
            person: email.into(),
            roles,
            email: email.into(),
            muted,
        };
        let backend = app::domain::TeamId::parse("backend").expect("team");
        let mobile = app::domain::TeamId::parse("mobile").expect("team");
        let people = vec![
            person("qa@x.example", vec![Role::Qa], vec![]),
            person(
                "muted-qa@x.example",
                vec![Role::Qa],
                vec![NotificationEvent::ApprovalWaiting],
            ),
            person(
                "dev@x.example",
                vec![Role::Developer(backend.clone())],
                vec![],
            ),
            person(
                "mobile-dev@x.example",
                vec![Role::Developer(mobile)],
                vec![],
            ),
            person("sre@x.example", vec![Role::Sre], vec![]),
        ];
        let waiting = message(
            NotificationEvent::ApprovalWaiting,
            Some("backend"),
            Some("qa"),
        );
        let got = addresses(
            &["list@x.example".to_owned(), "qa@x.example".to_owned()],
            &[RoleTarget::Approvers],
            &waiting,
            &people,
        );
        assert_eq!(got, ["list@x.example", "qa@x.example", "dev@x.example"]);
        let sre = addresses(&[], &[RoleTarget::Role(RoleKind::Sre)], &waiting, &people);
        assert_eq!(sre, ["sre@x.example"]);
        let devs = addresses(
            &[],
            &[RoleTarget::Role(RoleKind::Developer)],
            &waiting,
            &people,
        );
        assert_eq!(
            devs,
            ["dev@x.example"],
            "developers of the event's team only"
        );
    }
}
