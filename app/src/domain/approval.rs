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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Reject,
}

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
    pub display_name: String,
    pub decision: Decision,
}

/// Everything the rules look at for one vote.
#[derive(Debug, Clone)]
pub struct VoteRequest<'a> {
    pub user: &'a User,
    pub environment: &'a Environment,
    pub rule: &'a ApprovalRule,
    /// The team owning the service being deployed.
    pub team: &'a TeamId,
    /// The GitHub login of the change's author, when known.
    pub author: Option<&'a str>,
    /// The commit being approved (shown in refusals).
    pub commit: &'a str,
    pub prior_votes: &'a [Vote],
    pub decision: Decision,
    pub comment: &'a str,
    pub sign_off: &'a SignOff,
    /// What the release calendar says, when it forbids approving now.
    pub calendar_refusal: Option<String>,
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
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::NotAllowed(m) | Refusal::AlreadyVoted(m) | Refusal::Incomplete(m) => m,
        }
    }
}

/// What one accepted vote does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded; `remaining` more approvals are needed.
    Waiting { remaining: u8 },
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
    if req
        .author
        .is_some_and(|a| a.eq_ignore_ascii_case(&req.user.login))
    {
        return Err(Refusal::NotAllowed(format!(
            "You authored commit {}; another approver is needed.",
            short(req.commit)
        )));
    }
    if req.prior_votes.iter().any(|v| v.user_id == req.user.id) {
        return Err(Refusal::AlreadyVoted(
            "You already approved this request; another approver is needed.".into(),
        ));
    }
    Ok(())
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
    let approvals = req
        .prior_votes
        .iter()
        .filter(|v| v.decision == Decision::Approve)
        .count()
        + 1;
    let required = usize::from(req.rule.required.max(1));
    if approvals >= required {
        Ok(Outcome::Decided(Decision::Approve))
    } else {
        Ok(Outcome::Waiting {
            remaining: u8::try_from(required - approvals).unwrap_or(u8::MAX),
        })
    }
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

    fn user(login: &str, roles: &[&str]) -> User {
        User {
            id: format!("id-{login}"),
            login: login.into(),
            display_name: DisplayName::parse(login).expect("valid"),
            roles: roles
                .iter()
                .map(|r| Role::parse(r).expect("role"))
                .collect(),
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
        author: Option<String>,
        votes: Vec<Vote>,
        decision: Decision,
        comment: String,
        sign_off: SignOff,
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
                author: None,
                votes: vec![],
                decision: Decision::Approve,
                comment: String::new(),
                sign_off: SignOff::default(),
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
                author: self.author.as_deref(),
                commit: "3f2a1c9e8d7b",
                prior_votes: &self.votes,
                decision: self.decision,
                comment: &self.comment,
                sign_off: &self.sign_off,
                calendar_refusal: None,
            })
        }
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
        case.author = Some("Diego".into());
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
        assert_eq!(case.cast(), Ok(Outcome::Waiting { remaining: 1 }));
        case.votes = vec![Vote {
            user_id: "id-sam".into(),
            display_name: "sam".into(),
            decision: Decision::Approve,
        }];
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
        case.votes = vec![Vote {
            user_id: "id-sam".into(),
            display_name: "sam".into(),
            decision: Decision::Approve,
        }];
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
}
