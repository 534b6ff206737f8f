//! Summaries of measured samples: percentiles, and grouping calls into the bursts of one poll.

use std::time::{Duration, Instant};

/// The `p`-th percentile (0..=100) of `samples`, interpolating linearly between the two nearest ranks;
/// `None` when there are no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| s.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = (p.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (sorted[low], sorted[high]);
    Some(a + (b - a) * (rank - low as f64))
}

/// The median of `samples`.
pub fn median(samples: &[f64]) -> Option<f64> {
    percentile(samples, 50.0)
}

/// Sizes of the bursts in `instants` (in order): a burst is a run of instants each less than `gap` after
/// the one before. One poll of many services is a burst of DescribeServices calls; polls are an interval
/// apart.
pub fn burst_sizes(instants: &[Instant], gap: Duration) -> Vec<usize> {
    let mut sizes: Vec<usize> = Vec::new();
    let mut previous: Option<Instant> = None;
    for &at in instants {
        match (previous, sizes.last_mut()) {
            (Some(before), Some(size)) if at.saturating_duration_since(before) < gap => *size += 1,
            _ => sizes.push(1),
        }
        previous = Some(at);
    }
    sizes
}

/// `ceil(services / 10)`: the fewest DescribeServices calls that can read `services` services (ten per call).
pub fn describe_calls_needed(services: usize) -> usize {
    services.div_ceil(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let samples = [4.0, 1.0, 3.0, 2.0];
        for (p, expected) in [
            (0.0, 1.0),
            (50.0, 2.5),
            (100.0, 4.0),
            (95.0, 3.85),
            (150.0, 4.0),
        ] {
            let got = percentile(&samples, p).expect("samples");
            assert!((got - expected).abs() < 1e-9, "p{p}: {got} != {expected}");
        }
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn calls_close_together_are_one_burst() {
        let t = Instant::now();
        let ms = |n: u64| t + Duration::from_millis(n);
        let gap = Duration::from_millis(500);
        for (instants, sizes) in [
            (vec![], vec![]),
            (vec![ms(0)], vec![1]),
            (
                vec![ms(0), ms(3), ms(6), ms(1000), ms(1004), ms(2000)],
                vec![3, 2, 1],
            ),
            (vec![ms(0), ms(499), ms(998)], vec![3]),
            (vec![ms(0), ms(500)], vec![1, 1]),
        ] {
            assert_eq!(burst_sizes(&instants, gap), sizes);
        }
    }

    #[test]
    fn ten_services_fit_in_one_describe_call() {
        for (services, calls) in [(0, 0), (1, 1), (10, 1), (11, 2), (50, 5), (51, 6)] {
            assert_eq!(describe_calls_needed(services), calls, "{services}");
        }
    }
}
