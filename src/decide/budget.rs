//! ECS's API rate limits as the worker keeps to them: the account's token bucket per API category, the
//! share of each the worker takes, the arithmetic of waiting for a turn, and the poll interval a number
//! of watched rollouts needs.
//!
//! The categories, bursts and sustained rates are those of AWS's "Request throttling for the Amazon ECS
//! API" page, for the operations the worker calls; an operation the page does not list is not limited.

use std::collections::BTreeMap;
use std::time::Duration;

/// One API category: the operations that share one of the account's token buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Category {
    /// Its name, as `ECS_API_LIMITS` spells it (`service-read`).
    pub name: &'static str,
    /// The operations the worker calls that draw from its bucket.
    pub operations: &'static [&'static str],
    /// The account's bucket: burst and sustained rate per second.
    pub limit: Limit,
}

/// A token bucket: how many calls at once, and how many per second after that.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Bucket capacity: calls that can be made at once after a quiet spell.
    pub burst: f64,
    /// Tokens added per second: the sustained rate.
    pub rate: f64,
}

/// The categories of the operations the worker and its subcommands call, with AWS's default limits.
pub const AWS: [Category; 10] = [
    category(
        "cluster-read",
        &["DescribeClusters", "ListClusters"],
        50,
        20,
    ),
    category(
        "task-definition-modify",
        &["RegisterTaskDefinition", "DeregisterTaskDefinition"],
        20,
        1,
    ),
    category(
        "task-definition-read",
        &["DescribeTaskDefinition", "ListTaskDefinitions"],
        50,
        20,
    ),
    category("tag-modify", &["TagResource", "UntagResource"], 20, 10),
    category(
        "cluster-resource-read",
        &["DescribeTasks", "ListTasks"],
        100,
        20,
    ),
    category("cluster-resource-modify", &["RunTask", "StopTask"], 100, 40),
    category("service-modify", &["UpdateService"], 50, 5),
    category(
        "service-read",
        &["DescribeServices", "ListServices"],
        100,
        20,
    ),
    category(
        "service-deployment-read",
        &["DescribeServiceDeployments", "ListServiceDeployments"],
        50,
        20,
    ),
    // Not on AWS's page (inferred): limited as the service deployments' reads it goes with, so that reading
    // revisions cannot spend an account's bucket unseen.
    category(
        "service-revision-read",
        &["DescribeServiceRevisions"],
        50,
        20,
    ),
];

const fn category(
    name: &'static str,
    operations: &'static [&'static str],
    burst: u32,
    rate: u32,
) -> Category {
    Category {
        name,
        operations,
        limit: Limit {
            burst: burst as f64,
            rate: rate as f64,
        },
    }
}

/// The category `operation` draws from, if the page lists it among the worker's.
pub fn category_of(operation: &str) -> Option<&'static Category> {
    AWS.iter().find(|c| c.operations.contains(&operation))
}

/// The limits the worker keeps to: its share of each of the account's buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Per category name, the worker's own bucket; a category not here is not limited.
    pub limits: BTreeMap<&'static str, Limit>,
}

impl Budget {
    /// No limits at all.
    pub fn unlimited() -> Self {
        Self {
            limits: BTreeMap::new(),
        }
    }

    /// `share` (0 < share ≤ 1) of each of the account's buckets: AWS's defaults, except the categories
    /// in `account` (an account with raised quotas). A share of a burst is at least one call.
    pub fn share_of(account: &[(&'static str, Limit)], share: f64) -> Self {
        let limits = AWS
            .iter()
            .map(|c| {
                let whole = account
                    .iter()
                    .find(|(name, _)| *name == c.name)
                    .map_or(c.limit, |(_, limit)| *limit);
                let part = Limit {
                    burst: (whole.burst * share).max(1.0),
                    rate: whole.rate * share,
                };
                (c.name, part)
            })
            .collect();
        Self { limits }
    }

    /// The worker's bucket for `operation`, `None` when it is not limited.
    pub fn limit_for(&self, operation: &str) -> Option<(&'static str, Limit)> {
        let category = category_of(operation)?;
        self.limits
            .get(category.name)
            .map(|limit| (category.name, *limit))
    }

    /// How often rollouts can be read when one reading of all of them takes `calls` (per operation): the
    /// wanted interval, or longer when some category's rate cannot serve that many calls in it.
    pub fn poll_interval(&self, wanted: Duration, calls: &[(&str, u32)]) -> Duration {
        let mut per_category: BTreeMap<&'static str, (u32, f64)> = BTreeMap::new();
        for (operation, count) in calls {
            if let Some((name, limit)) = self.limit_for(operation) {
                per_category.entry(name).or_insert((0, limit.rate)).0 += count;
            }
        }
        per_category
            .values()
            .filter(|(count, rate)| *count > 0 && *rate > 0.0)
            .map(|(count, rate)| Duration::from_secs_f64(f64::from(*count) / rate))
            .fold(wanted, Duration::max)
    }
}

/// `ECS_API_SHARE`: a percentage (`50%`) or a fraction (`0.5`), above 0 and at most 100 %.
pub fn parse_share(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent.trim(), 100.0),
        None => (text, 1.0),
    };
    let share = number
        .parse::<f64>()
        .ok()
        .map(|n| n / scale)
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 1.0);
    share.ok_or_else(|| {
        format!("'{text}' is not a share of the account's budget: give a percentage above 0 and at most 100% (50%) or a fraction (0.5)")
    })
}

/// `ECS_API_LIMITS`: the account's buckets where its quotas differ from AWS's defaults, as
/// `category=burst/rate` separated by commas (`task-definition-modify=40/2,service-read=200/40`).
pub fn parse_limits(text: &str) -> Result<Vec<(&'static str, Limit)>, String> {
    let names = || AWS.map(|c| c.name).join(", ");
    let mut limits = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, numbers) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not category=burst/rate"))?;
        let category = AWS.iter().find(|c| c.name == name.trim()).ok_or_else(|| {
            format!(
                "'{}' is not a category; use one of {}",
                name.trim(),
                names()
            )
        })?;
        let parsed = numbers.split_once('/').and_then(|(burst, rate)| {
            let burst = burst.trim().parse::<u32>().ok().filter(|b| *b > 0)?;
            let rate = rate
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r > 0.0)?;
            Some(Limit {
                burst: f64::from(burst),
                rate,
            })
        });
        let limit = parsed.ok_or_else(|| {
            format!(
                "'{item}': give a burst of at least 1 and a rate above 0, as {}=20/1",
                category.name
            )
        })?;
        limits.push((category.name, limit));
    }
    Ok(limits)
}

/// How far a throttled answer cuts the rate: other clients (other workers, CI, the console) are taking
/// the account's bucket, so the worker takes less.
const CUT: f64 = 0.5;
/// The lowest a rate is cut to, as a fraction of the worker's share.
const FLOOR: f64 = 1.0 / 16.0;
/// How long a cut rate takes to climb back to the whole share without another throttled answer, in
/// calls at the share's rate (ten seconds at one call a second): the adaptation keeps pace with the
/// bucket it adapts to.
pub const RECOVERY_CALLS: f64 = 10.0;
/// Throttled answers within one call's time (at the share's rate) of a cut were asked before it took
/// effect: they do not cut again.
pub const SPACING_CALLS: f64 = 1.0;

/// One of the worker's buckets: a call takes a token or learns how long until one comes (the caller keeps
/// callers in line); a throttled answer cuts the rate, which climbs back over [`RECOVERY_CALLS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The worker's share.
    limit: Limit,
    /// Tokens now, up to the burst.
    tokens: f64,
    /// When `tokens` was last brought up to date (time since the limiter started).
    at: Duration,
    /// The rate a throttled answer cut to and when, while it climbs back.
    cut: Option<(f64, Duration)>,
}

impl Bucket {
    /// A full bucket at time zero.
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            at: Duration::ZERO,
            cut: None,
        }
    }

    /// The rate at `now`.
    pub fn rate(&self, now: Duration) -> f64 {
        match self.cut {
            None => self.limit.rate,
            Some((cut, at)) => {
                // The whole rate is climbed back in RECOVERY_CALLS / rate seconds.
                let climbed =
                    self.limit.rate * self.limit.rate * now.saturating_sub(at).as_secs_f64()
                        / RECOVERY_CALLS;
                (cut + climbed).min(self.limit.rate)
            }
        }
    }

    fn refill(&mut self, now: Duration) {
        if now > self.at {
            // While cut, calls go one at a time at the cut rate: a burst saved up meanwhile would only
            // be throttled again.
            let most = if self.cut.is_some() {
                1.0
            } else {
                self.limit.burst
            };
            let added = self.rate(now) * (now - self.at).as_secs_f64();
            self.tokens = (self.tokens + added).min(most);
            self.at = now;
        }
        if self.cut.is_some() && self.rate(now) >= self.limit.rate {
            self.cut = None;
        }
    }

    /// Takes a call's token at `now` if there is one (`None`); otherwise says how long until there is
    /// one at the rate of now, which a cut may lengthen and a recovery shorten by the time it comes.
    pub fn take(&mut self, now: Duration) -> Option<Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        let missing = 1.0 - self.tokens;
        Some(Duration::from_secs_f64(
            missing / self.rate(now).max(f64::MIN_POSITIVE),
        ))
    }

    /// ECS throttled a call at `now`: the account's bucket is empty, so this one is emptied too, and the
    /// rate is halved (not below a sixteenth of the share), at most once per [`SPACING_CALLS`].
    pub fn throttled(&mut self, now: Duration) {
        self.refill(now);
        self.tokens = 0.0;
        let spacing = SPACING_CALLS / self.limit.rate.max(f64::MIN_POSITIVE);
        if self
            .cut
            .is_some_and(|(_, at)| now.saturating_sub(at).as_secs_f64() < spacing)
        {
            return;
        }
        let cut = (self.rate(now) * CUT).max(self.limit.rate * FLOOR);
        self.cut = Some((cut, now));
    }
}

#[cfg(test)]
mod tests;
