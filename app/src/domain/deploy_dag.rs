//! The deploy DAG: which service calls which, checked for cycles, and the
//! Prod plan of a release: the services that change, in layers that may go
//! to Prod in parallel, each callee before its callers.

use super::{ParseError, ServiceId, TeamId};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// How one service talks to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    Http,
    Grpc,
    Queue,
}

impl CallKind {
    pub const ALL: [CallKind; 3] = [CallKind::Http, CallKind::Grpc, CallKind::Queue];

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == input.trim())
            .ok_or_else(|| ParseError::new("call kind", input, "is not one of http, grpc, queue"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Http => "http",
            CallKind::Grpc => "grpc",
            CallKind::Queue => "queue",
        }
    }
}

/// One dependency: the service called, and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    pub service: ServiceId,
    pub kind: CallKind,
}

/// Services that call each other in a circle, in call order, the first
/// repeated at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" -> "))
    }
}

impl std::error::Error for Cycle {}

/// The call graph of the org's services, known to have no cycle. Node `i`
/// is the `i`-th service as given; edges go from caller to callee.
#[derive(Debug, Clone)]
pub struct DeployDag {
    graph: DiGraph<(), CallKind>,
    /// Each service's layer: 0 calls nothing, else one more than the highest
    /// layer it calls.
    layers: Vec<usize>,
    /// What each service calls, in the order given.
    calls: Vec<Vec<(usize, CallKind)>>,
}

impl DeployDag {
    /// Builds the graph of services given by id with their calls; calls
    /// to ids not among them are left out. `Err` names one cycle.
    pub fn of_calls(services: &[(&str, &[Call])]) -> Result<Self, Cycle> {
        let index: HashMap<&str, usize> = services
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let names: Vec<&str> = services.iter().map(|(id, _)| *id).collect();
        let calls: Vec<Vec<(usize, CallKind)>> = services
            .iter()
            .map(|(_, calls)| {
                calls
                    .iter()
                    .filter_map(|c| index.get(c.service.as_str()).map(|&i| (i, c.kind)))
                    .collect()
            })
            .collect();
        Self::new(&names, &calls)
    }

    /// Builds the graph of `calls[i]` (indexes of the services service `i`
    /// calls). `Err` names one cycle, by `names`, when there is one.
    pub fn new(names: &[&str], calls: &[Vec<(usize, CallKind)>]) -> Result<Self, Cycle> {
        let n = names.len();
        let mut graph = DiGraph::with_capacity(n, calls.iter().map(Vec::len).sum());
        for _ in 0..n {
            graph.add_node(());
        }
        for (caller, list) in calls.iter().enumerate().take(n) {
            for &(callee, kind) in list {
                if callee < n {
                    graph.add_edge(NodeIndex::new(caller), NodeIndex::new(callee), kind);
                }
            }
        }
        let order = match toposort(&graph, None) {
            Ok(order) => order,
            Err(_) => return Err(find_cycle(&graph, names)),
        };
        // Callers come before callees in `order`: walk it backwards so that
        // every callee has its layer before its callers ask.
        let mut layers = vec![0usize; n];
        for node in order.into_iter().rev() {
            layers[node.index()] = graph
                .neighbors(node)
                .map(|callee| layers[callee.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        let calls = (0..n)
            .map(|i| {
                calls
                    .get(i)
                    .map(|list| list.iter().copied().filter(|(c, _)| *c < n).collect())
                    .unwrap_or_default()
            })
            .collect();
        Ok(Self {
            graph,
            layers,
            calls,
        })
    }

    /// The layer of service `i` in the whole graph.
    pub fn layer(&self, i: usize) -> usize {
        self.layers[i]
    }

    /// Every edge: (caller, callee, kind).
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, CallKind)> + '_ {
        self.graph
            .raw_edges()
            .iter()
            .map(|e| (e.source().index(), e.target().index(), e.weight))
    }

    /// The services `i` calls, in the order given.
    pub fn callees(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.calls[i].iter().map(|(c, _)| *c)
    }

    /// Layers of the services `member` selects, counting only calls between
    /// them: step 0 calls no other member, each later step calls a member of
    /// the step before. `None` for the others.
    pub fn steps(&self, member: &[bool]) -> Vec<Option<usize>> {
        let n = self.layers.len();
        let mut by_layer: Vec<usize> = (0..n).collect();
        // A callee's whole-graph layer is below its callers': this order
        // visits callees first.
        by_layer.sort_by_key(|&i| self.layers[i]);
        let mut steps = vec![None; n];
        for i in by_layer {
            if !member.get(i).copied().unwrap_or(false) {
                continue;
            }
            let step = self
                .callees(i)
                .filter_map(|c| steps[c])
                .map(|s: usize| s + 1)
                .max()
                .unwrap_or(0);
            steps[i] = Some(step);
        }
        steps
    }
}

/// One cycle of a graph that has one: the shortest way back to the first
/// service (in the given order) of a strongly connected group.
fn find_cycle(graph: &DiGraph<(), CallKind>, names: &[&str]) -> Cycle {
    let name = |i: usize| names.get(i).copied().unwrap_or("?").to_owned();
    let groups = tarjan_scc(graph);
    let mut start: Option<usize> = None;
    let mut group_of = vec![usize::MAX; graph.node_count()];
    for (g, group) in groups.iter().enumerate() {
        for node in group {
            group_of[node.index()] = g;
        }
        let looping = group.len() > 1
            || group
                .first()
                .is_some_and(|n| graph.find_edge(*n, *n).is_some());
        if looping {
            let first = group.iter().map(|n| n.index()).min().unwrap_or(0);
            start = Some(start.map_or(first, |s: usize| s.min(first)));
        }
    }
    let Some(start) = start else {
        return Cycle(Vec::new());
    };
    if graph
        .find_edge(NodeIndex::new(start), NodeIndex::new(start))
        .is_some()
    {
        return Cycle(vec![name(start), name(start)]);
    }
    // Breadth first inside the group, from `start` back to it.
    let group = group_of[start];
    let mut came_from: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        let mut next: Vec<usize> = graph
            .neighbors(NodeIndex::new(at))
            .map(|n| n.index())
            .filter(|&n| group_of[n] == group)
            .collect();
        next.sort_unstable();
        for to in next {
            if to == start {
                let mut path = vec![at];
                let mut cur = at;
                while cur != start {
                    cur = came_from[&cur];
                    path.push(cur);
                }
                path.reverse();
                path.push(start);
                return Cycle(path.into_iter().map(name).collect());
            }
            if to != start && !came_from.contains_key(&to) {
                came_from.insert(to, at);
                queue.push_back(to);
            }
        }
    }
    Cycle(vec![name(start), name(start)])
}

/// Where one service is on its way to Prod in this release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProdState {
    /// Prod already runs what Pre-Prod runs, from before this release.
    Unchanged,
    /// The change has not started towards Prod.
    NotStarted,
    WaitingForApproval,
    Approved,
    Deploying,
    /// Deployed to Prod in this release.
    Deployed,
    Failed,
    /// Gatehouse has not read this service's Prod and Pre-Prod pipelines
    /// yet (or cannot): it may change, and its callers wait.
    Unknown,
}

impl ProdState {
    pub const ALL: [ProdState; 8] = [
        ProdState::NotStarted,
        ProdState::WaitingForApproval,
        ProdState::Approved,
        ProdState::Deploying,
        ProdState::Deployed,
        ProdState::Failed,
        ProdState::Unknown,
        ProdState::Unchanged,
    ];

    pub fn words(self) -> &'static str {
        match self {
            ProdState::Unchanged => "Unchanged",
            ProdState::NotStarted => "Not started",
            ProdState::WaitingForApproval => "Waiting for approval",
            ProdState::Approved => "Approved",
            ProdState::Deploying => "Deploying",
            ProdState::Deployed => "Deployed",
            ProdState::Failed => "Failed",
            ProdState::Unknown => "Not known yet",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProdState::Unchanged => "unchanged",
            ProdState::NotStarted => "not_started",
            ProdState::WaitingForApproval => "waiting_for_approval",
            ProdState::Approved => "approved",
            ProdState::Deploying => "deploying",
            ProdState::Deployed => "deployed",
            ProdState::Failed => "failed",
            ProdState::Unknown => "unknown",
        }
    }

    /// Whether the service changes in this release.
    pub fn changed(self) -> bool {
        self != ProdState::Unchanged
    }

    /// Whether its change has reached Prod (or it has none): its callers
    /// may follow. An unknown state is not settled: a rule that depends on
    /// it holds rather than passes.
    pub fn settled(self) -> bool {
        matches!(self, ProdState::Unchanged | ProdState::Deployed)
    }
}

/// What the plan is made from for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanService {
    pub id: ServiceId,
    pub name: String,
    pub team: TeamId,
    pub calls: Vec<Call>,
    pub state: ProdState,
}

/// One service in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNode {
    pub id: String,
    pub name: String,
    pub team: String,
    pub state: ProdState,
    /// Its column in the drawing: the layer in the whole call graph.
    pub layer: usize,
    /// Its step in the plan (changed services only), from 0.
    pub step: Option<usize>,
    /// The services it calls, and how.
    pub calls: Vec<Call>,
    /// The changed services it calls whose change has not reached Prod.
    pub blocked_on: Vec<String>,
}

/// The Prod plan of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub nodes: Vec<PlanNode>,
    /// (caller, callee, kind) by node position.
    pub edges: Vec<(usize, usize, CallKind)>,
    /// The changed services step by step, by node position: each step may
    /// go to Prod in parallel once the steps before it are deployed.
    pub steps: Vec<Vec<usize>>,
}

impl Plan {
    /// The plan of `services`, whose calls name services of the list (calls
    /// to others are left out). `Err` names a cycle.
    pub fn build(services: &[PlanService]) -> Result<Plan, Cycle> {
        let pairs: Vec<(&str, &[Call])> = services
            .iter()
            .map(|s| (s.id.as_str(), s.calls.as_slice()))
            .collect();
        let dag = DeployDag::of_calls(&pairs)?;
        let changed: Vec<bool> = services.iter().map(|s| s.state.changed()).collect();
        let steps_of = dag.steps(&changed);
        let nodes: Vec<PlanNode> = services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let blocked_on = if s.state.changed() && !s.state.settled() {
                    dag.callees(i)
                        .filter(|c| !services[*c].state.settled())
                        .map(|c| services[c].id.to_string())
                        .collect()
                } else {
                    Vec::new()
                };
                PlanNode {
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    team: s.team.to_string(),
                    state: s.state,
                    layer: dag.layer(i),
                    step: steps_of[i],
                    calls: s.calls.clone(),
                    blocked_on,
                }
            })
            .collect();
        let step_count = steps_of.iter().flatten().max().map_or(0, |m| m + 1);
        let mut steps = vec![Vec::new(); step_count];
        for (i, step) in steps_of.iter().enumerate() {
            if let Some(step) = step {
                steps[*step].push(i);
            }
        }
        Ok(Plan {
            nodes,
            edges: dag.edges().collect(),
            steps,
        })
    }

    pub fn node(&self, id: &str) -> Option<&PlanNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// How many columns the drawing has.
    pub fn layer_count(&self) -> usize {
        self.nodes.iter().map(|n| n.layer + 1).max().unwrap_or(0)
    }
}

/// The sentence a blocked Prod approval shows.
pub fn blocked_words(blocked_on: &[String]) -> String {
    format!("Blocked on {}", blocked_on.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: &str, calls: &[&str], state: ProdState) -> PlanService {
        PlanService {
            id: ServiceId::parse(id).expect("id"),
            name: id.to_owned(),
            team: TeamId::parse("backend").expect("team"),
            calls: calls
                .iter()
                .map(|c| Call {
                    service: ServiceId::parse(c).expect("id"),
                    kind: CallKind::Http,
                })
                .collect(),
            state,
        }
    }

    fn layers(plan: &Plan) -> Vec<(&str, usize)> {
        plan.nodes
            .iter()
            .map(|n| (n.id.as_str(), n.layer))
            .collect()
    }

    fn step_ids(plan: &Plan) -> Vec<Vec<&str>> {
        plan.steps
            .iter()
            .map(|s| s.iter().map(|&i| plan.nodes[i].id.as_str()).collect())
            .collect()
    }

    use ProdState::{Deployed, NotStarted, Unchanged, WaitingForApproval as Waiting};

    #[test]
    fn a_chain_is_one_service_per_layer_callee_first() {
        let plan = Plan::build(&[
            service("web", &["api"], Waiting),
            service("api", &["db-proxy"], Waiting),
            service("db-proxy", &[], Waiting),
        ])
        .expect("no cycle");
        assert_eq!(layers(&plan), [("web", 2), ("api", 1), ("db-proxy", 0)]);
        assert_eq!(
            step_ids(&plan),
            [vec!["db-proxy"], vec!["api"], vec!["web"]]
        );
        assert_eq!(plan.node("web").expect("web").blocked_on, ["api"]);
        assert!(plan.node("db-proxy").expect("db").blocked_on.is_empty());
    }

    #[test]
    fn a_diamond_puts_both_sides_in_one_layer() {
        let plan = Plan::build(&[
            service("ui", &["left", "right"], Waiting),
            service("left", &["base"], Waiting),
            service("right", &["base"], Waiting),
            service("base", &[], Waiting),
        ])
        .expect("no cycle");
        assert_eq!(
            step_ids(&plan),
            [vec!["base"], vec!["left", "right"], vec!["ui"]]
        );
        assert_eq!(plan.node("ui").expect("ui").blocked_on, ["left", "right"]);
    }

    #[test]
    fn disconnected_services_all_start_in_the_first_layer() {
        let plan = Plan::build(&[
            service("a", &[], Waiting),
            service("b", &[], NotStarted),
            service("c", &["d"], Waiting),
            service("d", &[], Unchanged),
        ])
        .expect("no cycle");
        assert_eq!(layers(&plan), [("a", 0), ("b", 0), ("c", 1), ("d", 0)]);
        // d does not change: c goes first, with a and b.
        assert_eq!(step_ids(&plan), [vec!["a", "b", "c"]]);
        assert!(plan.node("c").expect("c").blocked_on.is_empty());
        assert_eq!(plan.node("d").expect("d").step, None);
    }

    #[test]
    fn unchanged_and_deployed_dependencies_do_not_block() {
        let plan = Plan::build(&[
            service("ui", &["orders", "payments", "identity"], Waiting),
            service("orders", &[], Deployed),
            service("payments", &[], Waiting),
            service("identity", &[], Unchanged),
        ])
        .expect("no cycle");
        assert_eq!(plan.node("ui").expect("ui").blocked_on, ["payments"]);
        // A deployed service keeps its step: the plan shows what was done.
        assert_eq!(step_ids(&plan), [vec!["orders", "payments"], vec!["ui"]]);
        // A service whose own change reached Prod is blocked on nothing.
        let done = Plan::build(&[
            service("ui", &["payments"], Deployed),
            service("payments", &[], Waiting),
        ])
        .expect("no cycle");
        assert!(done.node("ui").expect("ui").blocked_on.is_empty());
    }

    #[test]
    fn a_cycle_is_spelled_out_in_call_order() {
        let err = Plan::build(&[
            service("storefront", &["checkout-ui"], Waiting),
            service("checkout-ui", &["orders-api"], Waiting),
            service("orders-api", &["payments"], Waiting),
            service("payments", &["checkout-ui"], Waiting),
        ])
        .expect_err("a cycle");
        assert_eq!(
            err.to_string(),
            "checkout-ui -> orders-api -> payments -> checkout-ui"
        );
        let own = Plan::build(&[service("loop", &["loop"], Waiting)]).expect_err("self call");
        assert_eq!(own.to_string(), "loop -> loop");
    }

    #[test]
    fn call_kinds_parse_by_their_names() {
        assert_eq!(CallKind::parse("grpc"), Ok(CallKind::Grpc));
        assert!(CallKind::parse("soap")
            .expect_err("unknown")
            .to_string()
            .contains("http, grpc, queue"));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// A random graph of `n` services: edges as (caller, callee) pairs.
        fn graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
            (1usize..40)
                .prop_flat_map(|n| (Just(n), proptest::collection::vec((0..n, 0..n), 0..(3 * n))))
        }

        fn calls_of(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<(usize, CallKind)>> {
            let mut calls = vec![Vec::new(); n];
            for &(a, b) in edges {
                if !calls[a].iter().any(|(c, _)| *c == b) {
                    calls[a].push((b, CallKind::Http));
                }
            }
            calls
        }

        fn names(n: usize) -> Vec<String> {
            (0..n).map(|i| format!("s{i}")).collect()
        }

        proptest! {
            #[test]
            fn every_edge_of_a_dag_goes_from_an_earlier_layer_to_a_later_one(
                (n, raw) in graph(),
                permutation in Just(()).prop_perturb(|_, mut rng| {
                    let mut p: Vec<usize> = (0..40).collect();
                    for i in (1..p.len()).rev() {
                        p.swap(i, (rng.next_u32() as usize) % (i + 1));
                    }
                    p
                }),
                changed_bits in proptest::collection::vec(any::<bool>(), 40),
            ) {
                // Only edges from a higher rank to a lower one (through a
                // random ranking): a DAG.
                let rank = |i: usize| permutation[i];
                let edges: Vec<(usize, usize)> = raw
                    .into_iter()
                    .filter(|&(a, b)| rank(a) > rank(b))
                    .collect();
                let names = names(n);
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let dag = DeployDag::new(&refs, &calls_of(n, &edges)).expect("a DAG has no cycle");
                for &(caller, callee) in &edges {
                    prop_assert!(dag.layer(callee) < dag.layer(caller));
                }
                let member = &changed_bits[..n];
                let steps = dag.steps(member);
                for &(caller, callee) in &edges {
                    if let (Some(a), Some(b)) = (steps[caller], steps[callee]) {
                        prop_assert!(b < a, "step of a callee before its caller's");
                    }
                }
                for i in 0..n {
                    prop_assert_eq!(steps[i].is_some(), member[i]);
                }
            }

            #[test]
            fn every_cycle_is_reported_with_real_edges(
                (n, raw) in graph(),
                extra in proptest::collection::vec(0usize..40, 1..6),
            ) {
                let names = names(n);
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                // Close a circle through some of the services: the graph
                // certainly has a cycle.
                let ring: Vec<usize> = extra.iter().map(|i| i % n).collect();
                let mut edges = raw.clone();
                for w in 0..ring.len() {
                    edges.push((ring[w], ring[(w + 1) % ring.len()]));
                }
                let calls = calls_of(n, &edges);
                let cycle = DeployDag::new(&refs, &calls).expect_err("a cycle is found");
                prop_assert!(cycle.0.len() >= 2);
                prop_assert_eq!(cycle.0.first(), cycle.0.last());
                let at = |name: &String| names.iter().position(|m| m == name).expect("known");
                for pair in cycle.0.windows(2) {
                    let (a, b) = (at(&pair[0]), at(&pair[1]));
                    prop_assert!(calls[a].iter().any(|(c, _)| *c == b), "{} calls {}", pair[0], pair[1]);
                }
                // Whatever the graph, a layering exists exactly when no
                // cycle is reported.
                let plain = calls_of(n, &raw);
                match DeployDag::new(&refs, &plain) {
                    Ok(dag) => {
                        for (a, list) in plain.iter().enumerate() {
                            for (b, _) in list {
                                prop_assert!(dag.layer(*b) < dag.layer(a));
                            }
                        }
                    }
                    Err(cycle) => {
                        for pair in cycle.0.windows(2) {
                            let (a, b) = (at(&pair[0]), at(&pair[1]));
                            prop_assert!(plain[a].iter().any(|(c, _)| *c == b));
                        }
                    }
                }
            }
        }
    }
}
