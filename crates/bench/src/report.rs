//! The results as a Markdown table with each target beside its measured value, and the part of
//! BENCHMARKS.md that a run rewrites (everything else in the file is kept as written).

use std::fmt::Write as _;

/// The line before the part of BENCHMARKS.md a run rewrites.
pub const BEGIN: &str = "<!-- ecs-bench results: begin (make bench rewrites this part) -->";
/// The line after it.
pub const END: &str = "<!-- ecs-bench results: end -->";

/// One line of the results table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The numbering of the measure, e.g. `1` or `5`.
    pub number: &'static str,
    /// What was measured, with the conditions that matter.
    pub measure: String,
    /// The target, as text; empty when the measure has none.
    pub target: String,
    /// The measured value, as text.
    pub measured: String,
    /// Whether the target was met; `None` without a target or a measurement.
    pub met: Option<bool>,
}

impl Row {
    /// A row with a target, met or not.
    pub fn judged(
        number: &'static str,
        measure: impl Into<String>,
        target: impl Into<String>,
        measured: impl Into<String>,
        met: bool,
    ) -> Self {
        Self {
            number,
            measure: measure.into(),
            target: target.into(),
            measured: measured.into(),
            met: Some(met),
        }
    }

    /// A row without a target: the value is reported for reference.
    pub fn reference(
        number: &'static str,
        measure: impl Into<String>,
        measured: impl Into<String>,
    ) -> Self {
        Self {
            number,
            measure: measure.into(),
            target: String::new(),
            measured: measured.into(),
            met: None,
        }
    }
}

/// Milliseconds with a sensible precision: `0.42 ms`, `12.3 ms`, `1234 ms`.
pub fn ms(seconds: f64) -> String {
    let millis = seconds * 1000.0;
    if millis < 1.0 {
        format!("{millis:.2} ms")
    } else if millis < 100.0 {
        format!("{millis:.1} ms")
    } else {
        format!("{millis:.0} ms")
    }
}

/// Bytes as MB (10^6) with one decimal, as binary sizes and memory are usually quoted.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The results table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | measure | target | measured | met |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let target = if row.target.is_empty() {
            "—"
        } else {
            &row.target
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {met} |",
            row.number,
            cell(&row.measure),
            cell(target),
            cell(&row.measured)
        );
    }
    out
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `existing` (the file as it is, if any) with its generated part replaced by `generated`; a file without
/// the markers gets the part appended, and no file gets a title and the part.
pub fn splice(existing: Option<&str>, generated: &str) -> String {
    let block = format!("{BEGIN}\n{}\n{END}\n", generated.trim_end());
    let Some(existing) = existing else {
        return format!("# Benchmarks\n\n{block}");
    };
    match (existing.find(BEGIN), existing.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            let after = existing[end + END.len()..].trim_start_matches('\n');
            let mut out = format!("{}{block}", &existing[..begin]);
            if !after.is_empty() {
                out.push('\n');
                out.push_str(after);
            }
            out
        }
        _ => format!("{}\n\n{block}", existing.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_say_whether_their_target_was_met() {
        assert_eq!(
            Row::judged("1", "m", "< 50 ms", "10 ms", true).met,
            Some(true)
        );
        assert_eq!(
            Row::judged("5", "m", "< 20 MB", "25 MB", false).met,
            Some(false)
        );
        assert_eq!(Row::reference("5", "m", "12 MB").met, None);
    }

    #[test]
    fn the_table_shows_targets_beside_values_and_marks_misses() {
        let text = table(&[
            Row::judged("1", "pick-up | median", "< 50 ms", "12.0 ms", true),
            Row::judged("5", "idle RSS", "< 20 MB", "25.0 MB", false),
            Row::reference("5", "binary", "13.1 MB"),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "| # | measure | target | measured | met |");
        assert_eq!(
            lines[2],
            "| 1 | pick-up \\| median | < 50 ms | 12.0 ms | yes |"
        );
        assert_eq!(lines[3], "| 5 | idle RSS | < 20 MB | 25.0 MB | **no** |");
        assert_eq!(lines[4], "| 5 | binary | — | 13.1 MB |  |");
    }

    #[test]
    fn units_read_well() {
        assert_eq!(ms(0.00042), "0.42 ms");
        assert_eq!(ms(0.0123), "12.3 ms");
        assert_eq!(ms(1.2346), "1235 ms");
        assert_eq!(mb(12_600_000), "12.6 MB");
    }

    #[test]
    fn only_the_generated_part_is_rewritten() {
        let fresh = splice(None, "table 1");
        assert_eq!(fresh, format!("# Benchmarks\n\n{BEGIN}\ntable 1\n{END}\n"));

        let edited =
            fresh.replace("# Benchmarks\n", "# Benchmarks\n\nIntro.\n") + "\n## Gaps\nWhy.\n";
        let again = splice(Some(&edited), "table 2\n");
        assert_eq!(
            again,
            format!("# Benchmarks\n\nIntro.\n\n{BEGIN}\ntable 2\n{END}\n\n## Gaps\nWhy.\n")
        );
        assert_eq!(splice(Some(&again), "table 2"), again, "idempotent");

        let unmarked = splice(Some("# Benchmarks\n\nHand-written.\n"), "t");
        assert_eq!(
            unmarked,
            format!("# Benchmarks\n\nHand-written.\n\n{BEGIN}\nt\n{END}\n")
        );
    }
}
