//! The Prod plan drawn as SVG on the server: services in columns by layer
//! (what is called on the left, its callers to the right), ordered within
//! a column to keep edges short (barycentre sweeps, as in a Sugiyama
//! layout), each node a fixed box with its name, its state as icon and
//! word, and its step or what blocks it. Compact markup: a node's box and
//! icon are shared definitions, so 500 services and 2,000 calls stay
//! small.

use super::deploy_dag::{CallKind, Plan, ProdState};
use std::fmt::Write;

const W: i64 = 192;
const H: i64 = 58;
const GAP_X: i64 = 48;
const GAP_Y: i64 = 14;
const PAD: i64 = 12;
/// Characters of a name that fit a box at the drawing's font size.
const NAME_CHARS: usize = 22;
const LINE_CHARS: usize = 25;

/// Where the drawing put each shown node, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// (node position in the plan, x, y) of each shown node.
    pub boxes: Vec<(usize, i64, i64)>,
    pub width: i64,
    pub height: i64,
}

/// Places the `shown` nodes of `plan` (positions in `plan.nodes`).
pub fn layout(plan: &Plan, shown: &[usize]) -> Layout {
    let n = plan.nodes.len();
    let mut visible = vec![false; n];
    for &i in shown {
        if i < n {
            visible[i] = true;
        }
    }
    // Columns: the layers that have a shown node, in order.
    let mut layers: Vec<usize> = shown
        .iter()
        .filter(|&&i| i < n)
        .map(|&i| plan.nodes[i].layer)
        .collect();
    layers.sort_unstable();
    layers.dedup();
    let column_of = |i: usize| layers.binary_search(&plan.nodes[i].layer).unwrap_or(0);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers.len()];
    for i in 0..n {
        if visible[i] {
            columns[column_of(i)].push(i);
        }
    }
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(caller, callee, _) in &plan.edges {
        if caller < n && callee < n && visible[caller] && visible[callee] {
            callees[caller].push(callee);
            callers[callee].push(caller);
        }
    }
    let mut row = vec![0f64; n];
    let place = |columns: &Vec<Vec<usize>>, row: &mut Vec<f64>| {
        for column in columns {
            for (r, &i) in column.iter().enumerate() {
                row[i] = r as f64;
            }
        }
    };
    place(&columns, &mut row);
    // Barycentre sweeps: right using callees, then left using callers.
    for sweep in 0..4 {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..columns.len()).collect()
        } else {
            (0..columns.len().saturating_sub(1)).rev().collect()
        };
        for c in order {
            let neighbours = if sweep % 2 == 0 { &callees } else { &callers };
            let mut keyed: Vec<(f64, usize)> = columns[c]
                .iter()
                .map(|&i| {
                    let list = &neighbours[i];
                    let key = if list.is_empty() {
                        row[i]
                    } else {
                        list.iter().map(|&j| row[j]).sum::<f64>() / list.len() as f64
                    };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            columns[c] = keyed.into_iter().map(|(_, i)| i).collect();
            for (r, &i) in columns[c].iter().enumerate() {
                row[i] = r as f64;
            }
        }
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0) as i64;
    let mut boxes = Vec::with_capacity(shown.len());
    for (c, column) in columns.iter().enumerate() {
        let offset = (tallest - column.len() as i64) * (H + GAP_Y) / 2;
        for (r, &i) in column.iter().enumerate() {
            boxes.push((
                i,
                PAD + c as i64 * (W + GAP_X),
                PAD + offset + r as i64 * (H + GAP_Y),
            ));
        }
    }
    Layout {
        boxes,
        width: (PAD * 2 + columns.len() as i64 * (W + GAP_X) - GAP_X).max(W + 2 * PAD),
        height: (PAD * 2 + tallest * (H + GAP_Y) - GAP_Y).max(H + 2 * PAD),
    }
}

/// The look of a state: box fill and stroke, icon and its colour.
fn look(state: ProdState) -> (&'static str, &'static str, &'static str, &'static str) {
    match state {
        ProdState::Unchanged => ("#f8fafc", "#cbd5e1", "i-minus", "#64748b"),
        ProdState::NotStarted => ("#ffffff", "#94a3b8", "i-dashed", "#475569"),
        // Waiting on a person: violet, as everywhere (amber is for blocked).
        ProdState::WaitingForApproval => ("#f5f3ff", "#7c3aed", "i-hand", "#6d28d9"),
        ProdState::Approved => ("#eef2ff", "#4f46e5", "i-approval", "#4338ca"),
        ProdState::Deploying => ("#f0f9ff", "#0284c7", "i-bolt", "#0369a1"),
        ProdState::Deployed => ("#ecfdf5", "#059669", "i-check", "#047857"),
        ProdState::Failed => ("#fff1f2", "#e11d48", "i-cross", "#be123c"),
        ProdState::Unknown => ("#ffffff", "#64748b", "i-alert", "#475569"),
    }
}

/// Appends `text` to `out`, escaped for SVG text and attribute values.
pub(crate) fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn clipped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('\u{2026}');
        t
    }
}

/// The SVG of the `shown` nodes of `plan`; `title` is its accessible name.
/// `outside` names the team of a shown node that is not the view's own (a
/// service another team runs, shown because the view's services call it):
/// such a box is faded and its last line starts with that team's name, so
/// it is told apart in words, not by its look alone.
pub fn svg(
    plan: &Plan,
    shown: &[usize],
    title: &str,
    outside: &dyn Fn(usize) -> Option<String>,
) -> String {
    let layout = layout(plan, shown);
    let mut at = vec![None; plan.nodes.len()];
    for &(i, x, y) in &layout.boxes {
        at[i] = Some((x, y));
    }
    let mut out = String::with_capacity(256 + layout.boxes.len() * 170 + plan.edges.len() * 50);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="prod-plan-svg-title" class="max-w-none" font-family="inherit">"#,
        w = layout.width,
        h = layout.height
    );
    out.push_str(r#"<title id="prod-plan-svg-title">"#);
    escape(&mut out, title);
    out.push_str("</title><defs>");
    out.push_str(r##"<marker id="pa" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L8 4L0 8z" fill="#94a3b8"/></marker><marker id="pb" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L8 4L0 8z" fill="#d97706"/></marker>"##);
    for state in ProdState::ALL {
        let (fill, stroke, icon, colour) = look(state);
        let dash = if state == ProdState::Unchanged {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r##"<g id="pn-{id}"><rect x="0.5" y="0.5" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}"{dash}/><use href="#{icon}" x="10" y="25" width="14" height="14" class="icon" color="{colour}"/></g>"##,
            id = state.as_str(),
            w = W - 1,
            h = H - 1,
        );
    }
    let _ = write!(
        out,
        r##"<g id="pn-lock"><rect x="1" y="1" width="{}" height="{}" rx="6" fill="none" stroke="#d97706" stroke-width="2"/><use href="#i-lock" x="{}" y="6" width="14" height="14" class="icon" color="#b45309"/></g>"##,
        W - 2,
        H - 2,
        W - 22
    );
    out.push_str("</defs>");
    // Edges, behind the boxes: from a callee (left) to its caller (right),
    // in deploy order. Blocking ones in amber.
    let blocking = |caller: usize, callee: usize| {
        plan.nodes[caller]
            .blocked_on
            .iter()
            .any(|b| *b == plan.nodes[callee].id)
    };
    for (kind, dash) in [
        (CallKind::Http, ""),
        (CallKind::Grpc, r#" stroke-dasharray="7 3""#),
        (CallKind::Queue, r#" stroke-dasharray="2 3""#),
    ] {
        for blocked in [false, true] {
            let mut group = String::new();
            for &(caller, callee, k) in &plan.edges {
                if k != kind || blocking(caller, callee) != blocked {
                    continue;
                }
                let (Some(Some((x2, y2))), Some(Some((x1, y1)))) = (at.get(caller), at.get(callee))
                else {
                    continue;
                };
                let (x1, y1, x2, y2) = (x1 + W, y1 + H / 2, x2 - 2, y2 + H / 2);
                let dx = ((x2 - x1) / 2).max(20);
                let _ = write!(
                    group,
                    r#"<path d="M{x1} {y1}C{} {y1} {} {y2} {x2} {y2}"/>"#,
                    x1 + dx,
                    x2 - dx
                );
            }
            if !group.is_empty() {
                let (colour, width, marker) = if blocked {
                    ("#d97706", "2", "pb")
                } else {
                    ("#94a3b8", "1.25", "pa")
                };
                let _ = write!(
                    out,
                    r#"<g fill="none" stroke="{colour}" stroke-width="{width}" marker-end="url(#{marker})"{dash}>{group}</g>"#
                );
            }
        }
    }
    // Boxes, then their three lines of text, each line in one group.
    for &(i, x, y) in &layout.boxes {
        let node = &plan.nodes[i];
        let faded = if outside(i).is_some() {
            r#" opacity="0.6""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r##"<use href="#pn-{}" x="{x}" y="{y}"{faded}/>"##,
            node.state.as_str()
        );
        if !node.blocked_on.is_empty() {
            let _ = write!(out, r##"<use href="#pn-lock" x="{x}" y="{y}"/>"##);
        }
    }
    out.push_str(r##"<g font-size="13" font-weight="600" fill="#0f172a">"##);
    for &(i, x, y) in &layout.boxes {
        let _ = write!(out, r#"<text x="{}" y="{}">"#, x + 10, y + 18);
        escape(&mut out, &clipped(&plan.nodes[i].name, NAME_CHARS));
        out.push_str("</text>");
    }
    out.push_str(r##"</g><g font-size="12" fill="#334155">"##);
    for &(i, x, y) in &layout.boxes {
        let _ = write!(out, r#"<text x="{}" y="{}">"#, x + 30, y + 36);
        escape(&mut out, plan.nodes[i].state.words());
        out.push_str("</text>");
    }
    out.push_str(r##"</g><g font-size="12" fill="#64748b">"##);
    for &(i, x, y) in &layout.boxes {
        let node = &plan.nodes[i];
        let line = if !node.blocked_on.is_empty() {
            let names: Vec<&str> = node
                .blocked_on
                .iter()
                .map(|id| plan.node(id).map_or(id.as_str(), |b| b.name.as_str()))
                .collect();
            format!("Blocked on {}", names.join(", "))
        } else if let Some(step) = node.step {
            format!("Step {} \u{b7} {}", step + 1, node.id)
        } else {
            node.id.clone()
        };
        let line = match outside(i) {
            Some(team) => format!("{team} \u{b7} {line}"),
            None => line,
        };
        let _ = write!(out, r#"<text x="{}" y="{}">"#, x + 10, y + 51);
        escape(&mut out, &clipped(&line, LINE_CHARS));
        out.push_str("</text>");
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploy_dag::{Call, PlanService};
    use crate::domain::{ServiceId, TeamId};

    fn plan(services: &[(&str, &[&str], ProdState)]) -> Plan {
        Plan::build(
            &services
                .iter()
                .map(|(id, calls, state)| PlanService {
                    id: ServiceId::parse(id).expect("id"),
                    name: format!("{id} <&> service"),
                    team: TeamId::parse("backend").expect("team"),
                    calls: calls
                        .iter()
                        .map(|c| Call {
                            service: ServiceId::parse(c).expect("id"),
                            kind: CallKind::Grpc,
                        })
                        .collect(),
                    state: *state,
                })
                .collect::<Vec<_>>(),
        )
        .expect("no cycle")
    }

    #[test]
    fn boxes_never_overlap_and_callees_sit_left_of_their_callers() {
        let p = plan(&[
            ("ui", &["left", "right"], ProdState::WaitingForApproval),
            ("left", &["base"], ProdState::Deployed),
            ("right", &["base"], ProdState::NotStarted),
            ("base", &[], ProdState::Deployed),
            ("alone", &[], ProdState::Unchanged),
        ]);
        let all: Vec<usize> = (0..p.nodes.len()).collect();
        let l = layout(&p, &all);
        for (a, &(_, xa, ya)) in l.boxes.iter().enumerate() {
            for &(_, xb, yb) in &l.boxes[a + 1..] {
                assert!(
                    (xa - xb).abs() >= W || (ya - yb).abs() >= H,
                    "boxes at ({xa},{ya}) and ({xb},{yb}) overlap"
                );
            }
            assert!(xa + W <= l.width && ya + H <= l.height);
        }
        let x_of = |id: &str| {
            let i = p.nodes.iter().position(|n| n.id == id).expect("node");
            l.boxes.iter().find(|b| b.0 == i).expect("box").1
        };
        assert!(x_of("base") < x_of("left") && x_of("left") < x_of("ui"));
        assert_eq!(x_of("left"), x_of("right"));
    }

    #[test]
    fn the_drawing_labels_each_state_in_words_and_escapes_names() {
        let p = plan(&[
            ("ui", &["api"], ProdState::WaitingForApproval),
            ("api", &[], ProdState::NotStarted),
        ]);
        let svg = svg(&p, &[0, 1], "Prod plan of <release>", &|_| None);
        assert!(
            svg.contains("<title id=\"prod-plan-svg-title\">Prod plan of &lt;release&gt;</title>")
        );
        assert!(svg.contains(">Waiting for approval</text>"));
        assert!(svg.contains(">Not started</text>"));
        assert!(svg.contains(">ui &lt;&amp;&gt; service</text>"));
        // By name (cut to fit its box), not by id.
        assert!(svg.contains(">Blocked on api &lt;&amp;&gt; servi\u{2026}</text>"));
        assert!(svg.contains("href=\"#pn-lock\""));
        // The blocking call is drawn in the blocking colour, dashed as gRPC.
        assert!(svg.contains("stroke=\"#d97706\" stroke-width=\"2\" marker-end=\"url(#pb)\" stroke-dasharray=\"7 3\""));
        // Only shown nodes are drawn.
        let one = super::svg(&p, &[1], "api alone", &|_| None);
        assert!(!one.contains(">ui &lt;"));
        assert!(!one.contains("marker-end="));
        assert!(!svg.contains("opacity="));
    }

    #[test]
    fn another_team_s_service_is_faded_and_named_by_its_team() {
        let p = plan(&[
            ("ui", &["api"], ProdState::WaitingForApproval),
            ("api", &[], ProdState::Deployed),
        ]);
        let api = p.nodes.iter().position(|n| n.id == "api").expect("api");
        let svg = svg(&p, &[0, 1], "team view", &|i| {
            (i == api).then(|| "BackEnd".to_owned())
        });
        assert_eq!(svg.matches("opacity=\"0.6\"").count(), 1);
        assert!(
            svg.contains(">BackEnd \u{b7} Step 1 \u{b7} api</text>"),
            "{svg}"
        );
        assert!(!svg.contains(">BackEnd \u{b7} Blocked"));
    }

    proptest::proptest! {
        #[test]
        fn no_two_boxes_overlap_and_every_call_runs_left_to_right(
            raw in proptest::collection::vec((0usize..60, 0usize..60), 0..200),
            n in 1usize..60,
        ) {
            // A random DAG of up to 60 services: calls only go to a lower
            // index.
            let mut calls: Vec<Vec<String>> = vec![Vec::new(); n];
            for (a, b) in raw {
                let (a, b) = (a % n, b % n);
                let name = format!("s{}", a.min(b));
                if a != b && !calls[a.max(b)].contains(&name) {
                    calls[a.max(b)].push(name);
                }
            }
            let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let services: Vec<(&str, Vec<&str>)> = ids
                .iter()
                .zip(&calls)
                .map(|(id, c)| (id.as_str(), c.iter().map(String::as_str).collect()))
                .collect();
            let p = plan(
                &services
                    .iter()
                    .map(|(id, c)| (*id, c.as_slice(), ProdState::NotStarted))
                    .collect::<Vec<_>>(),
            );
            let all: Vec<usize> = (0..n).collect();
            let l = layout(&p, &all);
            proptest::prop_assert_eq!(l.boxes.len(), n);
            for (a, &(_, xa, ya)) in l.boxes.iter().enumerate() {
                for &(_, xb, yb) in &l.boxes[a + 1..] {
                    proptest::prop_assert!((xa - xb).abs() >= W || (ya - yb).abs() >= H + GAP_Y);
                }
            }
            let x = |i: usize| l.boxes.iter().find(|b| b.0 == i).map(|b| b.1).unwrap_or_default();
            for &(caller, callee, _) in &p.edges {
                proptest::prop_assert!(x(callee) + W <= x(caller));
            }
        }
    }

    #[test]
    fn long_names_are_cut_to_fit_their_box() {
        assert_eq!(clipped("short", 24), "short");
        let cut = clipped("A very long service name that goes on", 24);
        assert_eq!(cut.chars().count(), 24);
        assert!(cut.ends_with('\u{2026}'));
    }
}
