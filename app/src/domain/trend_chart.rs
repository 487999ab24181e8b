//! Small line charts drawn as SVG on the server: one line per team over a
//! few release cycles. Lines differ by dash and marker shape as well as
//! colour, so they are told apart without colour; a legend names them.

use std::fmt::Write;

/// One line: its name and a value per label (`None`: no data there).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A line's look, by its place: colour, dash and marker.
pub fn style(i: usize) -> (&'static str, &'static str, Marker) {
    const STYLES: [(&str, &str, Marker); 4] = [
        ("#334155", "", Marker::Circle),
        ("#4338ca", "6 3", Marker::Square),
        ("#b45309", "2 3", Marker::Triangle),
        ("#047857", "10 3 2 3", Marker::Diamond),
    ];
    STYLES[i % STYLES.len()]
}

/// The shape at each point of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// The marker's SVG at (x, y), filled with `colour`.
pub fn marker(m: Marker, x: f64, y: f64, colour: &str) -> String {
    match m {
        Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{colour}"/>"#),
        Marker::Square => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{colour}"/>"#,
            x - 3.5,
            y - 3.5
        ),
        Marker::Triangle => format!(
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}z" fill="{colour}"/>"#,
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        Marker::Diamond => format!(
            r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}z" fill="{colour}"/>"#,
            y - 4.5,
            x + 4.5,
            y + 4.5,
            x - 4.5
        ),
    }
}

const W: f64 = 340.0;
const H: f64 = 170.0;
const LEFT: f64 = 48.0;
/// Room for half of the last x label, which is centred on the last point.
const RIGHT: f64 = 28.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    super::plan_drawing::escape(&mut out, text);
    out
}

/// A round top for the y axis at or above `max`.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// An axis number: the half of a top like 2.5 keeps its second decimal.
fn tick(v: f64) -> String {
    if ((v * 10.0).round() - v * 10.0).abs() < 1e-9 {
        number(v)
    } else {
        format!("{v:.2}")
    }
}

fn number(v: f64) -> String {
    if (v.round() - v).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart: `id` makes its title's id unique on the page, `title` is its
/// accessible name, `unit` follows the axis numbers ("%", "h"), `labels`
/// name the x positions.
pub fn svg(id: &str, title: &str, unit: &str, labels: &[String], lines: &[Line]) -> String {
    let max = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten())
        .copied()
        .fold(0.0_f64, f64::max);
    let top = nice_top(max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h * (1.0 - v / top);
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-title" class="h-auto w-full max-w-[420px]" font-family="inherit"><title id="{id}-title">{}</title>"#,
        escape(title)
    );
    // Grid and y labels: 0, half, top.
    for f in [0.0, 0.5, 1.0] {
        let v = top * f;
        let y = y_of(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e2e8f0"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#475569" text-anchor="end">{}{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            tick(v),
            escape(unit)
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#475569" text-anchor="middle">{}</text>"##,
            x_of(i),
            H - 10.0,
            escape(label)
        );
    }
    for (li, line) in lines.iter().enumerate() {
        let (colour, dash, m) = style(li);
        // Segments between known values; a gap where there is none.
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in line.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1} {:.1}",
                        if pen_down { "L" } else { "M" },
                        x_of(i),
                        y_of(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let dash = if dash.is_empty() {
                String::new()
            } else {
                format!(r#" stroke-dasharray="{dash}""#)
            };
            let _ = write!(
                out,
                r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#
            );
        }
        for (i, v) in line.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    out,
                    "<g><title>{}, {}: {}{}</title>{}</g>",
                    escape(&line.name),
                    escape(labels.get(i).map_or("", String::as_str)),
                    number(*v),
                    escape(unit),
                    marker(m, x_of(i), y_of(*v), colour)
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("2026.{:02}", i * 2 + 1)).collect()
    }

    #[test]
    fn the_axis_tops_at_a_round_number() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(0.7), 1.0);
        assert_eq!(nice_top(3.2), 5.0);
        assert_eq!(nice_top(17.0), 20.0);
        assert_eq!(nice_top(240.0), 250.0);
    }

    #[test]
    fn axis_numbers_keep_the_decimals_they_have() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1.25), "1.25");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(125.0), "125");
    }

    #[test]
    fn the_last_label_fits_inside_the_drawing() {
        // Twelve px digits are at most about 7 px wide: "2026.11" is ~49.
        let last_x = W - RIGHT;
        assert!(last_x + 49.0 / 2.0 <= W, "{last_x}");
    }

    #[test]
    fn each_line_has_its_own_dash_and_marker_and_gaps_where_data_is_missing() {
        let svg = svg(
            "lead",
            "Lead time <per> release",
            "h",
            &labels(3),
            &[
                Line {
                    name: "FrontEnd".into(),
                    values: vec![Some(10.0), None, Some(4.0)],
                },
                Line {
                    name: "BackEnd".into(),
                    values: vec![Some(2.0), Some(3.0), Some(1.0)],
                },
            ],
        );
        assert!(svg.contains(r#"<title id="lead-title">Lead time &lt;per&gt; release</title>"#));
        // The first line breaks at the missing value: two moves, no line.
        let first = svg.split("<path d=\"").nth(1).expect("first line");
        assert_eq!(first.split('"').next().expect("d").matches('M').count(), 2);
        assert!(svg.contains(r#"stroke-dasharray="6 3""#));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>BackEnd, 2026.03: 3h</title>"));
        // The axis reaches the largest value.
        assert!(svg.contains(">10h</text>"));
    }

    #[test]
    fn one_release_is_drawn_in_the_middle() {
        let svg = svg(
            "one",
            "One",
            "",
            &labels(1),
            &[Line {
                name: "Mobile".into(),
                values: vec![Some(1.0)],
            }],
        );
        assert!(svg.contains(r#"cx="180.0""#), "{svg}");
    }
}
