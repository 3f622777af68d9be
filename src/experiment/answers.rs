//! The answers of an experiment in plain language: for each variant, what it costs in public money
//! and what it changes in each outcome, by the window's last year (stocks such as firms alive) or over
//! the window (flows such as revenue), with 95 % intervals and per M$ of extra public money. Written to
//! `answers.txt`, printed at the end of a run and shown first in the report.

use std::fmt::Write as _;

/// Stocks are read at the window's last year; every other metric is a flow, summed over the window.
pub fn is_stock(metric: &str) -> bool {
    metric.starts_with("firms_")
        || metric.starts_with("alliances_active_")
        || metric.starts_with("projects_")
        || matches!(
            metric,
            "network_density"
                | "largest_component_share"
                | "knowledge_stock"
                | "products_marketed"
                | "products_acquired"
                | "employment"
        )
}

/// One row of effects.csv, the fields an answer needs.
#[derive(Debug, Clone, Default)]
pub struct EffectRow {
    pub variant: String,
    pub metric: String,
    pub window: (i32, i32),
    /// (estimate, low, high) at the window's last year, cumulated, and per M$ of each.
    pub at_end: (f64, f64, f64),
    pub cumulative: (f64, f64, f64),
    pub extra_public: (f64, f64, f64),
    pub at_end_per_musd: Option<(f64, f64, f64)>,
    pub cumulative_per_musd: Option<(f64, f64, f64)>,
}

/// Rows of effects.csv for one cluster (`all`: the ecosystem).
pub fn read_effects(effects_csv: &str, cluster: &str) -> Vec<EffectRow> {
    let mut lines = effects_csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let mut rows = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let get = |name: &str| col(name).and_then(|i| f.get(i)).copied().unwrap_or_default();
        let num = |name: &str| get(name).parse::<f64>().ok();
        let triple = |a: &str, b: &str, c: &str| Some((num(a)?, num(b)?, num(c)?));
        if f.len() != header.len() || get("cluster") != cluster {
            continue;
        }
        let Some(at_end) = triple("effect", "ci95_low", "ci95_high") else { continue };
        rows.push(EffectRow {
            variant: get("variant").to_string(),
            metric: get("metric").to_string(),
            window: (num("window_first").unwrap_or_default() as i32, num("window_last").unwrap_or_default() as i32),
            at_end,
            cumulative: triple("cumulative_effect", "cumulative_ci95_low", "cumulative_ci95_high").unwrap_or(at_end),
            extra_public: triple("extra_public_musd", "extra_public_ci95_low", "extra_public_ci95_high")
                .unwrap_or_default(),
            at_end_per_musd: triple("effect_per_musd", "effect_per_musd_ci95_low", "effect_per_musd_ci95_high"),
            cumulative_per_musd: triple(
                "cumulative_per_musd",
                "cumulative_per_musd_ci95_low",
                "cumulative_per_musd_ci95_high",
            ),
        });
    }
    rows
}

/// A number for a sentence: three significant figures at most, thousands separated.
pub fn readable(x: f64) -> String {
    let a = x.abs();
    let text = if a >= 100.0 {
        let rounded = x.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{}{grouped}", if rounded < 0 { "-" } else { "" })
    } else if a >= 10.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.' || c == ',') { "0".into() } else { text }
}

fn signed(x: f64) -> String {
    let r = readable(x);
    if x > 0.0 && r != "0" { format!("+{r}") } else { r }
}

fn clear((_, lo, hi): (f64, f64, f64)) -> bool {
    lo > 0.0 || hi < 0.0
}

fn interval((_, lo, hi): (f64, f64, f64)) -> String {
    format!("{} to {}", readable(lo), readable(hi))
}

/// The outcome's words: (name, unit after a number, whether it is money).
fn words(metric: &str) -> (String, &'static str, bool) {
    let money = metric.ends_with("_musd");
    let name = match metric {
        "firms_alive" => "firms alive".to_string(),
        "revenue_total_musd" => "firms' revenue".to_string(),
        "approvals" => "drug approvals".to_string(),
        "licensing_deals" => "licensing deals".to_string(),
        "employment" => "jobs in firms".to_string(),
        "public_spend_musd" => "public money spent".to_string(),
        m => m.trim_end_matches("_musd").replace('_', " "),
    };
    (name, if money { " M$" } else { "" }, money)
}

/// The answer for one variant: a sentence on its cost, then one per outcome.
pub fn variant_answer(variant: &str, description: &str, rows: &[EffectRow], outcomes: &[String]) -> Vec<String> {
    let mine: Vec<&EffectRow> = rows.iter().filter(|r| r.variant == variant).collect();
    let Some(first) = mine.first() else { return Vec::new() };
    let (from, to) = first.window;
    let who = if description.is_empty() { format!("`{variant}`") } else { format!("`{variant}` ({description})") };
    let extra = first.extra_public;
    let cost = if clear(extra) {
        format!(
            "{who} {} public money by {} M$ over {from}-{to} ({}).",
            if extra.0 > 0.0 { "raises" } else { "lowers" },
            readable(extra.0.abs()),
            interval(extra)
        )
    } else {
        format!(
            "{who} spends no clearly different public money over {from}-{to} ({} M$, {}).",
            signed(extra.0),
            interval(extra)
        )
    };
    let mut out = vec![cost];
    for metric in outcomes {
        let Some(row) = mine.iter().find(|r| &r.metric == metric) else { continue };
        let (name, unit, money) = words(metric);
        let stock = is_stock(metric);
        let (effect, per) =
            if stock { (row.at_end, row.at_end_per_musd) } else { (row.cumulative, row.cumulative_per_musd) };
        let when = if stock { format!("by {to}") } else { format!("over {from}-{to}") };
        let mut s = if clear(effect) {
            format!("{name}: {}{unit} {when} ({}).", signed(effect.0), interval(effect))
        } else {
            format!("{name}: no clear change {when} ({}{unit}, {}).", signed(effect.0), interval(effect))
        };
        if metric != super::PUBLIC_MONEY
            && let Some(r) = per
            && clear(effect)
        {
            // Money per M$ reads as a multiplier, counts per 10 M$; a small ratio is given per 100 or
            // 1,000 M$ so that it does not round to zero.
            let mut scale = if money { 1.0 } else { 10.0 };
            while (r.0 * scale).abs() < 1.0 && scale < 1000.0 {
                scale *= 10.0;
            }
            let per_what = if scale == 1.0 { "M$".to_string() } else { format!("{} M$", readable(scale)) };
            let _ = write!(
                s,
                " That is {}{unit} per {per_what} of extra public money ({} to {}).",
                readable(r.0 * scale),
                readable(r.1 * scale),
                readable(r.2 * scale)
            );
        }
        out.push(s);
    }
    out
}

/// `answers.txt`: every variant's answer, the ecosystem's outcomes.
pub fn answers_text(effects_csv: &str, variants: &[(String, String)], baseline: &str, outcomes: &[String]) -> String {
    let rows = read_effects(effects_csv, "all");
    let mut out = format!(
        "Answers: each variant against `{baseline}`, whole ecosystem, mean of paired replications with 95 % intervals \
         (effects.csv has every cluster and metric; stocks such as firms are read at the window's last year, flows such \
         as revenue are summed over the window; per M$: Fieller's interval for the ratio of mean differences).\n"
    );
    for (name, description) in variants {
        let lines = variant_answer(name, description, &rows, outcomes);
        if let Some((head, rest)) = lines.split_first() {
            let _ = write!(out, "\n{head}\n");
            for line in rest {
                let _ = writeln!(out, "  - {line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(readable(1234.4), "1,234");
        assert_eq!(readable(-1234567.0), "-1,234,567");
        assert_eq!(readable(23.4), "23");
        assert_eq!(readable(2.345), "2.3");
        assert_eq!(readable(0.0234), "0.02");
        assert_eq!(readable(-0.001), "0");
        assert_eq!(signed(4.0), "+4.0");
    }

    #[test]
    fn a_sentence_per_outcome_with_cost_and_per_musd() {
        let row = EffectRow {
            variant: "double_grants".into(),
            metric: "firms_alive".into(),
            window: (2000, 2029),
            at_end: (14.2, 10.1, 18.3),
            cumulative: (300.0, 200.0, 400.0),
            extra_public: (600.0, 590.0, 610.0),
            at_end_per_musd: Some((0.0237, 0.0168, 0.0306)),
            cumulative_per_musd: None,
        };
        let lines = variant_answer("double_grants", "grants doubled", &[row], &["firms_alive".into()]);
        assert_eq!(
            lines[0],
            "`double_grants` (grants doubled) raises public money by 600 M$ over 2000-2029 (590 to 610)."
        );
        assert_eq!(
            lines[1],
            "firms alive: +14 by 2029 (10 to 18). That is 2.4 per 100 M$ of extra public money (1.7 to 3.1)."
        );
    }
}
