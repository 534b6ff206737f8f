//! `SQS_MAX_HOLD`: how long one delivery of a message may be held, within SQS's 12 hours from its receipt.

use std::time::Duration;

use crate::ops::config::values::{non_empty, parse_duration};
use crate::ops::config::variables::{DEFAULT_HOLD, HOLD_SETTLING, MIN_HOLD, SQS_VISIBILITY_LIMIT};

/// `SQS_MAX_HOLD` from its text `raw`, by default [`DEFAULT_HOLD`]: held that long and settled within
/// [`HOLD_SETTLING`], a message stays within SQS's 12 hours from its receipt. An error names the variable
/// and the problem.
pub fn max_hold(raw: Option<String>) -> Result<Duration, (&'static str, String)> {
    let longest = SQS_VISIBILITY_LIMIT.saturating_sub(HOLD_SETTLING);
    let hold = match non_empty(raw) {
        None => return Ok(DEFAULT_HOLD),
        Some(v) => parse_duration(&v).ok_or_else(|| {
            (
                "SQS_MAX_HOLD",
                format!("expected a duration such as 11h, 90m or 30s, got {v:?}"),
            )
        })?,
    };
    if hold < MIN_HOLD || hold > longest {
        return Err((
            "SQS_MAX_HOLD",
            format!(
                "must be from 1m to {} (SQS keeps a message hidden at most 12h from its receipt, and settling it takes a minute)",
                humantime::format_duration(longest)
            ),
        ));
    }
    Ok(hold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_stays_within_sqs_s_twelve_hours() {
        assert_eq!(max_hold(None), Ok(DEFAULT_HOLD));
        assert_eq!(
            max_hold(Some("90m".into())),
            Ok(Duration::from_secs(90 * 60))
        );
        for bad in ["30s", "12h", "soon"] {
            let (variable, problem) = max_hold(Some(bad.into())).expect_err(bad);
            assert_eq!(variable, "SQS_MAX_HOLD", "{bad}: {problem}");
        }
    }
}
