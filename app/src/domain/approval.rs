//! Approval policy: who may decide a CodePipeline approval, and when a set
//! of votes becomes one decision. Pure rules; the server enforces them and
//! the UI only mirrors them.

use super::{Environment, Role, RoleKind, TeamId, TestType, User};
use serde::{Deserialize, Serialize};

/// Who may approve deployments into an environment, and how many must.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRule {
    /// Role kinds that may approve; `developer` means a developer of the
    /// team owning the service.
    pub approvers: Vec<RoleKind>,
    /// Distinct approvers needed (N of M). One reject always rejects.
    pub required: u8,
}

super::keywords::keyword_enum!(
    /// What one vote says, and what a request's votes decide.
    Decision, "decision" {
        Approve => "approve", "Approve";
        Reject => "reject", "Reject";
    }
);

/// How an approver marked one required test type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestMark {
    Passed,
    NotApplicable { reason: String },
}

/// The QA sign-off that comes with an approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub marks: Vec<(TestType, TestMark)>,
    /// Links to test runs or reports.
    pub evidence: Vec<String>,
}

/// A vote already cast on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub user_id: String,
    /// The person who cast it (see [`User::person`]).
    pub person: String,
    pub display_name: String,
    pub decision: Decision,
    /// Gatehouse could not establish whether the voter wrote the commit:
    /// such an approval never counts alone.
    pub author_unknown: bool,
}

/// Who wrote the commit being approved, as far as GitHub could tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitAuthorship {
    /// The GitHub account GitHub matched the commit to (its immutable id);
    /// `None` when the commit's e-mail belongs to no account.
    pub github_id: Option<u64>,
    pub login: Option<String>,
    /// The e-mail address written in the commit.
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Whether a voter wrote the commit they vote on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorship {
    Author,
    NotAuthor,
    /// Cannot be established: the commit is not linked to a GitHub account,
    /// or the voter has no GitHub identity to compare.
    Unknown,
}

/// Compares the commit's author as a whole with `user`: the GitHub account
/// when both sides have one, else the commit's e-mail against the voter's
/// verified e-mails. A display name or username is never compared: both
/// can be chosen by anyone.
pub fn authorship(author: &CommitAuthorship, user: &User) -> Authorship {
    if let Some(email) = author.email.as_deref().map(str::trim) {
        if !email.is_empty()
            && user
                .emails
                .iter()
                .any(|e| e.trim().eq_ignore_ascii_case(email))
        {
            return Authorship::Author;
        }
    }
    match (author.github_id, user.github_id) {
        (Some(a), Some(u)) if a == u => Authorship::Author,
        (Some(_), Some(_)) => Authorship::NotAuthor,
        _ => Authorship::Unknown,
    }
}

/// Approvals needed before `votes` decide: the rule's N, one more when any
/// approval among them came from someone who might be the author.
pub fn required_approvals(rule: &ApprovalRule, votes: &[Vote]) -> usize {
    let unknown = votes
        .iter()
        .any(|v| v.decision == Decision::Approve && v.author_unknown);
    usize::from(rule.required.max(1)) + usize::from(unknown)
}

/// What committed `votes` decide under `rule`, if anything: any reject
/// rejects; enough distinct people approving approves. The poller uses it
/// to decide a request whose deciding vote was recorded but not acted on.
pub fn tally(rule: &ApprovalRule, votes: &[Vote]) -> Option<Decision> {
    if votes.iter().any(|v| v.decision == Decision::Reject) {
        return Some(Decision::Reject);
    }
    let mut people: Vec<&str> = votes
        .iter()
        .filter(|v| v.decision == Decision::Approve)
        .map(|v| v.person.as_str())
        .collect();
    people.sort_unstable();
    people.dedup();
    (people.len() >= required_approvals(rule, votes)).then_some(Decision::Approve)
}

/// Everything the rules look at for one vote.
#[derive(Debug, Clone)]
pub struct VoteRequest<'a> {
    pub user: &'a User,
    pub environment: &'a Environment,
    pub rule: &'a ApprovalRule,
    /// The team owning the service being deployed.
    pub team: &'a TeamId,
    /// Who wrote the change, as far as GitHub could tell.
    pub author: &'a CommitAuthorship,
    /// The commit being approved (shown in refusals).
    pub commit: &'a str,
    pub prior_votes: &'a [Vote],
    pub decision: Decision,
    pub comment: &'a str,
    pub sign_off: &'a SignOff,
    /// What the release calendar says, when it forbids approving now.
    pub calendar_refusal: Option<String>,
    /// Why this revision may not be approved yet (it contains a hotfix not
    /// merged back, or Gatehouse could not find out): rejecting stays open.
    pub hotfix_refusal: Option<String>,
    /// For a Prod approval: the changed dependencies that have not reached
    /// Prod yet, by the Prod plan.
    pub plan_block: Option<PlanBlock>,
    /// Why the approver approves although the plan blocks it.
    pub override_reason: &'a str,
}

/// A Prod approval the Prod plan blocks: the service it deploys, the
/// changed services it calls that have not reached Prod, and whether the
/// org refuses such approvals outright (`[prod_plan] strict = true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBlock {
    /// Service ids: what the audit records.
    pub service: String,
    pub blocked_on: Vec<String>,
    pub strict: bool,
    /// The same services by name, as sentences say them (the ids until
    /// `named` gives names).
    pub service_name: String,
    pub blocked_names: Vec<String>,
}

impl PlanBlock {
    /// `None` when nothing blocks.
    pub fn of(service: &str, blocked_on: Vec<String>, strict: bool) -> Option<PlanBlock> {
        (!blocked_on.is_empty()).then(|| PlanBlock {
            service: service.to_owned(),
            service_name: service.to_owned(),
            blocked_names: blocked_on.clone(),
            blocked_on,
            strict,
        })
    }

    /// The block with each service's name for its id (an id without a
    /// name stays as it is).
    pub fn named(mut self, name_of: impl Fn(&str) -> Option<String>) -> PlanBlock {
        self.service_name = name_of(&self.service).unwrap_or_else(|| self.service.clone());
        self.blocked_names = self
            .blocked_on
            .iter()
            .map(|id| name_of(id).unwrap_or_else(|| id.clone()))
            .collect();
        self
    }

    /// What the queue says on the card: "Blocked on Orders API, Payments".
    pub fn words(&self) -> String {
        super::deploy_dag::blocked_words(&self.blocked_names)
    }

    /// Why approving is refused in strict mode.
    pub fn strict_refusal(&self) -> String {
        format!(
            "{} is blocked on {}: their changes in this release have not reached Prod yet, and the Prod plan is strict, so approve once they are deployed.",
            self.service_name,
            self.blocked_names.join(", ")
        )
    }

    /// What approving asks for otherwise.
    pub fn override_needed(&self) -> String {
        format!(
            "{} is blocked on {}: their changes in this release have not reached Prod yet. To approve anyway, override the Prod plan and give the reason.",
            self.service_name,
            self.blocked_names.join(", ")
        )
    }
}

/// Whether an accepted approval overrides the Prod plan (it is blocked,
/// not strictly, and the approver gave a reason).
pub fn overrides_plan(req: &VoteRequest<'_>) -> bool {
    req.decision == Decision::Approve
        && req
            .plan_block
            .as_ref()
            .is_some_and(|b| !b.strict && !req.override_reason.trim().is_empty())
}

/// Why a vote is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The person may not decide this request (role, four-eyes, calendar).
    NotAllowed(String),
    /// The person already voted.
    AlreadyVoted(String),
    /// The vote itself is incomplete (comment, sign-off).
    Incomplete(String),
    /// Approving waits for something to happen first (a hotfix merged
    /// back); rejecting is open.
    NotYet(String),
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::NotAllowed(m)
            | Refusal::AlreadyVoted(m)
            | Refusal::Incomplete(m)
            | Refusal::NotYet(m) => m,
        }
    }
}

/// What one accepted vote does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded; `remaining` more approvals are needed (one more than the
    /// rule asks when `author_unknown`).
    Waiting { remaining: u8, author_unknown: bool },
    /// The request is decided: Gatehouse answers CodePipeline once.
    Decided(Decision),
}

/// Whether `user` may vote on approvals of `environment` for `team` at all;
/// the UI uses it to show or hide the buttons.
pub fn may_approve(user: &User, rule: &ApprovalRule, team: &TeamId) -> bool {
    user.roles.iter().any(|role| match role {
        Role::Developer(t) => t == team && rule.approvers.contains(&RoleKind::Developer),
        Role::Admin => false,
        other => rule.approvers.contains(&other.kind()),
    })
}

fn approver_words(rule: &ApprovalRule) -> String {
    let names: Vec<&str> = rule
        .approvers
        .iter()
        .map(|k| match k {
            RoleKind::Developer => "the owning team's developers",
            other => other.label(),
        })
        .collect();
    match names.as_slice() {
        [] => "nobody".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(7)]
}

/// Whether `req.user` may vote on this request at all, whatever the vote;
/// the UI asks it to show or hide the form.
pub fn eligibility(req: &VoteRequest<'_>) -> Result<(), Refusal> {
    let env = &req.environment.name;
    if !may_approve(req.user, req.rule, req.team) {
        return Err(Refusal::NotAllowed(format!(
            "Only {} may approve {env}.",
            approver_words(req.rule)
        )));
    }
    if let Some(refusal) = &req.calendar_refusal {
        return Err(Refusal::NotAllowed(refusal.clone()));
    }
    if authorship(req.author, req.user) == Authorship::Author {
        return Err(Refusal::NotAllowed(format!(
            "You authored commit {}; another approver is needed.",
            short(req.commit)
        )));
    }
    if req
        .prior_votes
        .iter()
        .any(|v| v.user_id == req.user.id || v.person == req.user.person)
    {
        return Err(Refusal::AlreadyVoted(
            "You already approved this request; another approver is needed.".into(),
        ));
    }
    Ok(())
}

/// Why `req.user`, who may vote, may not approve (only reject) now: the
/// revision waits for a hotfix to be merged back.
pub fn approval_refusal(req: &VoteRequest<'_>) -> Result<(), Refusal> {
    if let Some(refusal) = &req.hotfix_refusal {
        return Err(Refusal::NotYet(refusal.clone()));
    }
    match &req.plan_block {
        Some(block) if block.strict => Err(Refusal::NotYet(block.strict_refusal())),
        _ => Ok(()),
    }
}

/// Checks one vote against the policy; `Err` says why it is refused, in a
/// sentence for the person who tried.
pub fn cast(req: &VoteRequest<'_>) -> Result<Outcome, Refusal> {
    eligibility(req)?;
    let comment = req.comment.trim();
    if req.decision == Decision::Reject {
        if comment.is_empty() {
            return Err(Refusal::Incomplete(
                "Say why you reject: a comment is required.".into(),
            ));
        }
        return Ok(Outcome::Decided(Decision::Reject));
    }
    approval_refusal(req)?;
    if let Some(block) = &req.plan_block {
        if req.override_reason.trim().is_empty() {
            return Err(Refusal::Incomplete(block.override_needed()));
        }
    }
    let missing: Vec<&str> = req
        .environment
        .test_types
        .iter()
        .filter(|t| {
            !req.sign_off.marks.iter().any(|(marked, mark)| match mark {
                TestMark::Passed => marked == *t,
                TestMark::NotApplicable { reason } => marked == *t && !reason.trim().is_empty(),
            })
        })
        .map(|t| t.label())
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::Incomplete(format!(
            "Sign off every required test before approving: missing {}.",
            missing.join(", ")
        )));
    }
    let this = Vote {
        user_id: req.user.id.clone(),
        person: req.user.person.clone(),
        display_name: req.user.display_name.to_string(),
        decision: Decision::Approve,
        author_unknown: authorship(req.author, req.user) == Authorship::Unknown,
    };
    let mut votes = req.prior_votes.to_vec();
    votes.push(this);
    if tally(req.rule, &votes) == Some(Decision::Approve) {
        return Ok(Outcome::Decided(Decision::Approve));
    }
    let approvals = votes
        .iter()
        .filter(|v| v.decision == Decision::Approve)
        .count();
    let required = required_approvals(req.rule, &votes);
    Ok(Outcome::Waiting {
        remaining: u8::try_from(required.saturating_sub(approvals)).unwrap_or(u8::MAX),
        author_unknown: votes.iter().any(|v| v.author_unknown),
    })
}

/// The summary sent to CodePipeline: who decided and why, within AWS's
/// 512-character limit.
pub fn aws_summary(decision: Decision, deciders: &[String], comment: &str) -> String {
    let verb = match decision {
        Decision::Approve => "Approved",
        Decision::Reject => "Rejected",
    };
    let mut text = format!("{verb} in Gatehouse by {}", deciders.join(", "));
    let comment = comment.trim();
    if !comment.is_empty() {
        text.push_str(": ");
        text.push_str(comment);
    }
    if text.chars().count() > 512 {
        text = text.chars().take(511).collect::<String>() + "\u{2026}";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BranchPattern, DeployTrigger, DisplayName, DownPolicy, EnvironmentId};

    /// A GitHub user whose account id is derived from the login.
    fn user(login: &str, roles: &[&str]) -> User {
        let github_id = login.bytes().map(u64::from).sum::<u64>() + 1_000 * login.len() as u64;
        User {
            id: format!("id-{login}"),
            login: login.into(),
            display_name: DisplayName::parse(login).expect("valid"),
            roles: roles
                .iter()
                .map(|r| Role::parse(r).expect("role"))
                .collect(),
            person: format!("github:{github_id}"),
            github_id: Some(github_id),
            emails: vec![format!("{login}@example.com")],
        }
    }

    fn vote_of(u: &User, decision: Decision) -> Vote {
        Vote {
            user_id: u.id.clone(),
            person: u.person.clone(),
            display_name: u.login.clone(),
            decision,
            author_unknown: false,
        }
    }

    /// A commit GitHub matched to `u`'s account.
    fn written_by(u: &User) -> CommitAuthorship {
        CommitAuthorship {
            github_id: u.github_id,
            login: Some(u.login.clone()),
            email: Some(format!("{}@users.noreply.github.com", u.login)),
            name: Some(u.login.clone()),
        }
    }

    /// A commit whose e-mail GitHub could not match to any account.
    fn unlinked() -> CommitAuthorship {
        CommitAuthorship {
            github_id: None,
            login: None,
            email: Some("someone@laptop.local".into()),
            name: Some("Someone".into()),
        }
    }

    fn env(name: &str, tests: &[TestType]) -> Environment {
        Environment {
            id: EnvironmentId::parse(&name.to_lowercase().replace(' ', "-")).expect("id"),
            name: DisplayName::parse(name).expect("name"),
            position: 1,
            usage: "u".into(),
            test_types: tests.to_vec(),
            branches: vec![BranchPattern::parse("develop").expect("b")],
            trigger: DeployTrigger::ManualApproval,
            stakeholders: vec![RoleKind::Sre],
            down_policy: DownPolicy::RaiseCritical,
            approval: None,
        }
    }

    struct Case {
        user: User,
        env: Environment,
        rule: ApprovalRule,
        team: TeamId,
        author: CommitAuthorship,
        votes: Vec<Vote>,
        decision: Decision,
        comment: String,
        sign_off: SignOff,
        hotfix: Option<String>,
        plan: Option<PlanBlock>,
        override_reason: String,
    }

    impl Case {
        fn new(user: User, env: Environment, approvers: &[RoleKind], required: u8) -> Self {
            Self {
                user,
                env,
                rule: ApprovalRule {
                    approvers: approvers.to_vec(),
                    required,
                },
                team: TeamId::parse("backend").expect("team"),
                author: CommitAuthorship {
                    github_id: Some(4242),
                    login: Some("someone-else".into()),
                    email: Some("someone-else@example.com".into()),
                    name: Some("Someone Else".into()),
                },
                votes: vec![],
                decision: Decision::Approve,
                comment: String::new(),
                sign_off: SignOff::default(),
                hotfix: None,
                plan: None,
                override_reason: String::new(),
            }
        }

        fn cast(&self) -> Result<Outcome, String> {
            self.cast_refusal().map_err(|r| r.message().to_owned())
        }

        fn cast_refusal(&self) -> Result<Outcome, Refusal> {
            cast(&VoteRequest {
                user: &self.user,
                environment: &self.env,
                rule: &self.rule,
                team: &self.team,
                author: &self.author,
                commit: "3f2a1c9e8d7b",
                prior_votes: &self.votes,
                decision: self.decision,
                comment: &self.comment,
                sign_off: &self.sign_off,
                calendar_refusal: None,
                hotfix_refusal: self.hotfix.clone(),
                plan_block: self.plan.clone(),
                override_reason: &self.override_reason,
            })
        }
    }

    #[test]
    fn a_blocked_prod_approval_needs_an_override_with_a_reason_or_is_refused_when_strict() {
        let mut case = Case::new(user("sam", &["sre"]), env("Prod", &[]), &[RoleKind::Sre], 1);
        case.plan = PlanBlock::of(
            "checkout-ui",
            vec!["orders-api".into(), "payments".into()],
            false,
        );
        assert_eq!(
            case.cast_refusal(),
            Err(Refusal::Incomplete(
                "checkout-ui is blocked on orders-api, payments: their changes in this release have not reached Prod yet. To approve anyway, override the Prod plan and give the reason.".into()
            ))
        );
        case.override_reason = "   ".into();
        assert!(matches!(case.cast_refusal(), Err(Refusal::Incomplete(_))));
        case.override_reason =
            "Payments change is a log line only; checkout does not need it".into();
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Approve)));
        let request_overrides = |c: &Case| {
            overrides_plan(&VoteRequest {
                user: &c.user,
                environment: &c.env,
                rule: &c.rule,
                team: &c.team,
                author: &c.author,
                commit: "3f2a1c9e8d7b",
                prior_votes: &c.votes,
                decision: c.decision,
                comment: &c.comment,
                sign_off: &c.sign_off,
                calendar_refusal: None,
                hotfix_refusal: None,
                plan_block: c.plan.clone(),
                override_reason: &c.override_reason,
            })
        };
        assert!(request_overrides(&case));

        // Strict: refused whatever the reason; rejecting stays open.
        case.plan = PlanBlock::of("checkout-ui", vec!["orders-api".into()], true);
        assert_eq!(
            case.cast_refusal(),
            Err(Refusal::NotYet(
                "checkout-ui is blocked on orders-api: their changes in this release have not reached Prod yet, and the Prod plan is strict, so approve once they are deployed.".into()
            ))
        );
        assert!(!request_overrides(&case));
        case.decision = Decision::Reject;
        case.comment = "Wait for orders-api".into();
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Reject)));
        assert!(!request_overrides(&case));

        // Nothing blocks: no reason needed, no override.
        case.decision = Decision::Approve;
        case.plan = PlanBlock::of("checkout-ui", Vec::new(), true);
        case.override_reason = String::new();
        assert_eq!(case.plan, None);
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Approve)));
    }

    #[test]
    fn an_unmerged_hotfix_holds_approving_but_not_rejecting() {
        let mut case = Case::new(user("sam", &["sre"]), env("Prod", &[]), &[RoleKind::Sre], 1);
        case.hotfix = Some("Merge hotfix/x back first.".into());
        assert_eq!(
            case.cast_refusal(),
            Err(Refusal::NotYet("Merge hotfix/x back first.".into()))
        );
        // Whoever may not vote at all is told that first.
        case.user = user("alex", &["stakeholder"]);
        assert!(matches!(case.cast_refusal(), Err(Refusal::NotAllowed(_))));
        case.user = user("sam", &["sre"]);
        case.decision = Decision::Reject;
        case.comment = "Not before the hotfix is merged back".into();
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Reject)));
        case.decision = Decision::Approve;
        case.hotfix = None;
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Approve)));
    }

    #[test]
    fn stage_is_approved_by_the_owning_teams_developers_or_sre() {
        let stage = env("Stage", &[]);
        let approvers = [RoleKind::Developer, RoleKind::Sre];
        let ok = |u: User| Case::new(u, stage.clone(), &approvers, 1).cast();
        assert_eq!(
            ok(user("diego", &["developer:backend"])),
            Ok(Outcome::Decided(Decision::Approve))
        );
        assert_eq!(
            ok(user("sam", &["sre"])),
            Ok(Outcome::Decided(Decision::Approve))
        );
        let other_team = ok(user("lena", &["developer:frontend"])).expect_err("other team");
        assert_eq!(
            other_team,
            "Only the owning team's developers or SRE may approve Stage."
        );
    }

    #[test]
    fn managers_stakeholders_and_developers_cannot_approve_prod() {
        let prod = env("Prod", &[]);
        for roles in [
            &["manager"][..],
            &["stakeholder"],
            &["developer:backend"],
            &["admin"],
        ] {
            let case = Case::new(
                user("x", roles),
                prod.clone(),
                &[RoleKind::Sre, RoleKind::Qa],
                2,
            );
            assert_eq!(
                case.cast(),
                Err("Only SRE or QA may approve Prod.".into()),
                "{roles:?}"
            );
        }
    }

    #[test]
    fn the_author_of_a_change_cannot_approve_it() {
        let mut case = Case::new(
            user("diego", &["developer:backend"]),
            env("Stage", &[]),
            &[RoleKind::Developer],
            1,
        );
        case.author = written_by(&case.user);
        assert_eq!(
            case.cast(),
            Err("You authored commit 3f2a1c9; another approver is needed.".into())
        );
    }

    #[test]
    fn prod_needs_two_distinct_approvers() {
        let prod = env("Prod", &[]);
        let mut case = Case::new(
            user("sam", &["sre"]),
            prod.clone(),
            &[RoleKind::Sre, RoleKind::Qa],
            2,
        );
        assert_eq!(
            case.cast(),
            Ok(Outcome::Waiting {
                remaining: 1,
                author_unknown: false
            })
        );
        case.votes = vec![vote_of(&case.user, Decision::Approve)];
        assert_eq!(
            case.cast(),
            Err("You already approved this request; another approver is needed.".into())
        );
        case.user = user("priya", &["qa"]);
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Approve)));
    }

    #[test]
    fn refusals_say_whether_the_person_or_the_vote_is_the_problem() {
        let mut case = Case::new(
            user("alex", &["stakeholder"]),
            env("Prod", &[]),
            &[RoleKind::Sre],
            1,
        );
        assert!(matches!(case.cast_refusal(), Err(Refusal::NotAllowed(_))));
        case.user = user("sam", &["sre"]);
        case.decision = Decision::Reject;
        assert!(matches!(case.cast_refusal(), Err(Refusal::Incomplete(_))));
        case.votes = vec![vote_of(&case.user, Decision::Approve)];
        assert!(matches!(case.cast_refusal(), Err(Refusal::AlreadyVoted(_))));
    }

    #[test]
    fn one_reject_rejects_and_needs_a_comment() {
        let mut case = Case::new(
            user("priya", &["qa"]),
            env("Prod", &[]),
            &[RoleKind::Sre, RoleKind::Qa],
            2,
        );
        case.decision = Decision::Reject;
        case.comment = "   ".into();
        assert_eq!(
            case.cast(),
            Err("Say why you reject: a comment is required.".into())
        );
        case.comment = "Checkout fails on Safari".into();
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Reject)));
    }

    #[test]
    fn qa_approval_needs_every_test_type_signed_off() {
        let qa = env("QA", &[TestType::Qa, TestType::Ui]);
        let mut case = Case::new(user("priya", &["qa"]), qa, &[RoleKind::Qa], 1);
        assert_eq!(
            case.cast(),
            Err("Sign off every required test before approving: missing QA, UI.".into())
        );
        case.sign_off.marks = vec![
            (TestType::Qa, TestMark::Passed),
            (TestType::Ui, TestMark::NotApplicable { reason: " ".into() }),
        ];
        assert_eq!(
            case.cast(),
            Err("Sign off every required test before approving: missing UI.".into())
        );
        case.sign_off.marks[1].1 = TestMark::NotApplicable {
            reason: "No UI change in this release".into(),
        };
        assert_eq!(case.cast(), Ok(Outcome::Decided(Decision::Approve)));
    }

    #[test]
    fn the_aws_summary_names_the_deciders_and_fits_512_characters() {
        let summary = aws_summary(
            Decision::Reject,
            &["Priya Raman (QA)".into()],
            "Broken login",
        );
        assert_eq!(
            summary,
            "Rejected in Gatehouse by Priya Raman (QA): Broken login"
        );
        let long = aws_summary(Decision::Approve, &["Sam".into()], &"x".repeat(600));
        assert_eq!(long.chars().count(), 512);
    }

    #[test]
    fn the_author_is_found_by_account_id_or_verified_email_never_by_name() {
        let diego = user("diego", &["developer:backend"]);
        assert_eq!(authorship(&written_by(&diego), &diego), Authorship::Author);
        // Same login and name, another account: not the author.
        let mut namesake = written_by(&diego);
        namesake.github_id = Some(1);
        namesake.email = Some("other@example.com".into());
        assert_eq!(authorship(&namesake, &diego), Authorship::NotAuthor);
        // An unlinked commit carrying one of the voter's verified e-mails.
        let mut by_email = unlinked();
        by_email.email = Some("DIEGO@example.com".into());
        assert_eq!(authorship(&by_email, &diego), Authorship::Author);
        // An unlinked commit, or a voter without a GitHub identity: unknown.
        assert_eq!(authorship(&unlinked(), &diego), Authorship::Unknown);
        let mut sso_only = diego.clone();
        sso_only.github_id = None;
        sso_only.emails.clear();
        assert_eq!(
            authorship(&written_by(&diego), &sso_only),
            Authorship::Unknown
        );
    }

    #[test]
    fn an_unknown_author_needs_one_more_approver_for_every_rule_shape() {
        for required in 1..=3_u8 {
            let people: Vec<User> = (0..=required)
                .map(|i| user(&format!("qa{i}"), &["qa"]))
                .collect();
            let mut case = Case::new(
                people[0].clone(),
                env("Prod", &[]),
                &[RoleKind::Qa],
                required,
            );
            case.author = unlinked();
            for (i, person) in people.iter().enumerate() {
                case.user = person.clone();
                let outcome = case.cast().expect("may vote");
                if i + 1 < usize::from(required) + 1 {
                    assert_eq!(
                        outcome,
                        Outcome::Waiting {
                            remaining: required + 1 - u8::try_from(i + 1).expect("small"),
                            author_unknown: true
                        },
                        "{required}-of-M, vote {i}"
                    );
                    let mut v = vote_of(person, Decision::Approve);
                    v.author_unknown = true;
                    case.votes.push(v);
                } else {
                    assert_eq!(
                        outcome,
                        Outcome::Decided(Decision::Approve),
                        "{required}-of-M"
                    );
                }
            }
        }
    }

    #[test]
    fn linked_identities_of_one_person_count_once() {
        let sam_github = user("sam", &["sre"]);
        let mut sam_sso = user("sam.okafor", &["sre"]);
        sam_sso.id = "id-sam-sso".into();
        sam_sso.person = sam_github.person.clone();
        let mut case = Case::new(sam_sso, env("Prod", &[]), &[RoleKind::Sre, RoleKind::Qa], 2);
        case.votes = vec![vote_of(&sam_github, Decision::Approve)];
        assert!(matches!(case.cast_refusal(), Err(Refusal::AlreadyVoted(_))));
    }

    #[test]
    fn tally_decides_from_committed_votes() {
        let rule = ApprovalRule {
            approvers: vec![RoleKind::Sre, RoleKind::Qa],
            required: 2,
        };
        let a = user("a", &["sre"]);
        let b = user("b", &["qa"]);
        assert_eq!(tally(&rule, &[]), None);
        assert_eq!(tally(&rule, &[vote_of(&a, Decision::Approve)]), None);
        assert_eq!(
            tally(
                &rule,
                &[
                    vote_of(&a, Decision::Approve),
                    vote_of(&b, Decision::Approve)
                ]
            ),
            Some(Decision::Approve)
        );
        let mut unknown = vote_of(&b, Decision::Approve);
        unknown.author_unknown = true;
        assert_eq!(
            tally(&rule, &[vote_of(&a, Decision::Approve), unknown]),
            None
        );
        assert_eq!(
            tally(&rule, &[vote_of(&a, Decision::Reject)]),
            Some(Decision::Reject)
        );
        // Two votes of one person (linked identities) are one approval.
        let mut again = vote_of(&a, Decision::Approve);
        again.user_id = "id-a-sso".into();
        assert_eq!(tally(&rule, &[vote_of(&a, Decision::Approve), again]), None);
    }
}
