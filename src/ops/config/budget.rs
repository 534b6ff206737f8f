//! The API budget's variables: the worker's share of the account's ECS rate limits, and the account's
//! limits where its quotas were raised.

use crate::decide::budget::{Budget, parse_limits, parse_share};
use crate::ops::config::values::non_empty;

/// `ECS_API_SHARE` when unset: half of every bucket, so the console, CI and other tools keep the rest.
pub const DEFAULT_API_SHARE: f64 = 0.5;

/// The budget from `ECS_API_SHARE` and `ECS_API_LIMITS` (`none`: no limits, for an endpoint without any);
/// an error names the variable and says what was wrong.
pub(super) fn read(
    share: Option<String>,
    limits: Option<String>,
) -> Result<Budget, (&'static str, String)> {
    let share = match non_empty(share) {
        None => DEFAULT_API_SHARE,
        Some(text) => parse_share(&text).map_err(|problem| ("ECS_API_SHARE", problem))?,
    };
    match non_empty(limits) {
        Some(text) if text.trim().eq_ignore_ascii_case("none") => Ok(Budget::unlimited()),
        Some(text) => {
            let account = parse_limits(&text).map_err(|problem| ("ECS_API_LIMITS", problem))?;
            Ok(Budget::share_of(&account, share))
        }
        None => Ok(Budget::share_of(&[], share)),
    }
}
