//! Table tests of the API budget: the categories, shares, waiting in turn, throttled answers and the
//! stretched poll interval.

use super::*;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn the_categories_are_those_of_the_throttling_page() {
    // (operation, category, burst, rate), from AWS's "Request throttling for the Amazon ECS API".
    let cases = [
        (
            "RegisterTaskDefinition",
            "task-definition-modify",
            20.0,
            1.0,
        ),
        (
            "DeregisterTaskDefinition",
            "task-definition-modify",
            20.0,
            1.0,
        ),
        ("UpdateService", "service-modify", 50.0, 5.0),
        ("DescribeServices", "service-read", 100.0, 20.0),
        ("DescribeTasks", "cluster-resource-read", 100.0, 20.0),
        ("ListTasks", "cluster-resource-read", 100.0, 20.0),
        ("RunTask", "cluster-resource-modify", 100.0, 40.0),
        (
            "DescribeServiceDeployments",
            "service-deployment-read",
            50.0,
            20.0,
        ),
        (
            "DescribeServiceRevisions",
            "service-revision-read",
            50.0,
            20.0,
        ),
        ("DescribeTaskDefinition", "task-definition-read", 50.0, 20.0),
        ("TagResource", "tag-modify", 20.0, 10.0),
        ("DescribeClusters", "cluster-read", 50.0, 20.0),
    ];
    let whole = Budget::share_of(&[], 1.0);
    for (operation, name, burst, rate) in cases {
        assert_eq!(
            whole.limit_for(operation),
            Some((name, Limit { burst, rate })),
            "{operation}"
        );
    }
    assert_eq!(
        category_of("StopServiceDeployment"),
        None,
        "not on the page"
    );
    assert_eq!(whole.limit_for("StopServiceDeployment"), None);
}

#[test]
fn a_share_takes_part_of_every_bucket_and_raised_quotas_replace_the_defaults() {
    let half = Budget::share_of(&[], 0.5);
    assert_eq!(
        half.limit_for("RegisterTaskDefinition"),
        Some((
            "task-definition-modify",
            Limit {
                burst: 10.0,
                rate: 0.5
            }
        ))
    );
    let raised = [(
        "service-read",
        Limit {
            burst: 200.0,
            rate: 40.0,
        },
    )];
    let quarter = Budget::share_of(&raised, 0.25);
    assert_eq!(
        quarter.limit_for("DescribeServices").map(|(_, l)| l),
        Some(Limit {
            burst: 50.0,
            rate: 10.0
        })
    );
    let tiny = Budget::share_of(&[], 0.01);
    assert_eq!(
        tiny.limit_for("RegisterTaskDefinition")
            .map(|(_, l)| l.burst),
        Some(1.0),
        "a burst is at least one call"
    );
    assert_eq!(Budget::unlimited().limit_for("DescribeServices"), None);
}

#[test]
fn shares_and_limits_are_read_or_refused_by_name() {
    for (text, share) in [("50%", 0.5), ("100%", 1.0), ("0.25", 0.25), (" 10 % ", 0.1)] {
        assert_eq!(parse_share(text), Ok(share), "{text}");
    }
    for text in ["0", "0%", "150%", "1.5", "half", "", "-5%", "NaN"] {
        let error = parse_share(text).expect_err(text);
        assert!(error.contains("percentage"), "{text}: {error}");
    }
    assert_eq!(
        parse_limits("task-definition-modify=40/2, service-read=200/40"),
        Ok(vec![
            (
                "task-definition-modify",
                Limit {
                    burst: 40.0,
                    rate: 2.0
                }
            ),
            (
                "service-read",
                Limit {
                    burst: 200.0,
                    rate: 40.0
                }
            ),
        ])
    );
    assert_eq!(parse_limits(""), Ok(Vec::new()));
    for (text, says) in [
        ("service-read", "category=burst/rate"),
        ("services=1/1", "use one of cluster-read"),
        ("service-read=0/1", "a burst of at least 1"),
        ("service-read=10/0", "a rate above 0"),
        ("service-read=10", "service-read=20/1"),
    ] {
        let error = parse_limits(text).expect_err(text);
        assert!(error.contains(says), "{text}: {error}");
    }
}

#[test]
fn once_the_burst_is_spent_a_call_waits_for_the_next_token() {
    let mut bucket = Bucket::new(Limit {
        burst: 2.0,
        rate: 1.0,
    });
    // (now, how long until a token; None: taken)
    let cases = [
        (0.0, None),
        (0.0, None),
        (0.0, Some(1.0)),
        (0.25, Some(0.75)),
        (1.0, None),
        (1.0, Some(1.0)),
        // A quiet spell refills the bucket, never past its burst.
        (100.0, None),
        (100.0, None),
        (100.0, Some(1.0)),
    ];
    for (i, (now, wait)) in cases.into_iter().enumerate() {
        let waited = bucket.take(secs(now)).map(|d| d.as_secs_f64());
        match (waited, wait) {
            (None, None) => {}
            (Some(w), Some(expected)) if (w - expected).abs() < 1e-9 => {}
            _ => panic!("call {i} at {now}s: {waited:?}, not {wait:?}"),
        }
    }
}

#[test]
fn a_throttled_answer_halves_the_rate_which_climbs_back() {
    let limit = Limit {
        burst: 10.0,
        rate: 4.0,
    };
    let mut bucket = Bucket::new(limit);
    bucket.throttled(secs(1.0));
    assert_eq!(bucket.rate(secs(1.0)), 2.0, "halved");
    assert_eq!(
        bucket.take(secs(1.0)),
        Some(secs(0.5)),
        "the bucket is empty: one token at the cut rate"
    );
    // Ten calls' time at the share's rate (2.5 s) climbs back the whole rate: a quarter of it 0.625 s on.
    assert!((bucket.rate(secs(1.625)) - 3.0).abs() < 1e-9);
    assert_eq!(bucket.rate(secs(4.0)), 4.0, "back to the share");
    // Calls asked before the cut took effect are throttled too: no second cut within one call's time.
    let mut bucket = Bucket::new(limit);
    bucket.throttled(secs(1.0));
    bucket.throttled(secs(1.2));
    assert!(
        (bucket.rate(secs(1.2)) - 2.32).abs() < 1e-9,
        "{}",
        bucket.rate(secs(1.2))
    );
    // Throttled again and again, each a call's time apart: far below the share, never below a sixteenth.
    for i in 0..40 {
        let now = secs(2.0 + f64::from(i) * 0.2501);
        bucket.throttled(now);
        assert!(bucket.rate(now) >= 0.25, "{i}");
    }
    assert!(bucket.rate(secs(11.7539)) < 1.0);
    // While cut, no burst is saved up: one call at a time.
    let later = secs(11.7539 + 2.0);
    assert_eq!(bucket.take(later), None);
    assert!(bucket.take(later).is_some());
    // The same bucket ten times faster adapts ten times faster.
    let mut fast = Bucket::new(Limit {
        burst: 10.0,
        rate: 40.0,
    });
    fast.throttled(secs(1.0));
    assert!((fast.rate(secs(1.0625)) - 30.0).abs() < 1e-9);
}

#[test]
fn the_poll_interval_stretches_to_what_the_rates_serve() {
    let half = Budget::share_of(&[], 0.5);
    let five = Duration::from_secs(5);
    // (DescribeServices calls, DescribeServiceDeployments calls, interval)
    let cases = [
        (1, 1, 5.0),
        // 50 calls at 10 a second fit in 5 s.
        (50, 25, 5.0),
        // 1000 services: 100 DescribeServices calls at 10 a second.
        (100, 50, 10.0),
        (20, 80, 8.0),
    ];
    for (services, deployments, interval) in cases {
        let calls = [
            ("DescribeServices", services),
            ("DescribeServiceDeployments", deployments),
        ];
        assert_eq!(
            half.poll_interval(five, &calls),
            secs(interval),
            "{services} + {deployments} calls"
        );
    }
    assert_eq!(
        Budget::unlimited().poll_interval(five, &[("DescribeServices", 1000)]),
        five
    );
}
