//! Tests of reading the configuration: documented defaults, and errors that name the variable.

use super::*;
use crate::ops::notify::slack::DEFAULT_SLACK_BOTNAME;
use crate::ops::notify::sns::SnsFormat;

const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/deployments";

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[test]
fn defaults_match_the_documented_ones() {
    let c = config(&[("SQS_URL", QUEUE), ("PATH", "/bin")]).expect("valid");
    assert_eq!(c.queue_url, QUEUE);
    assert_eq!(c.cluster, "default");
    assert_eq!(c.rollout_timeout, Duration::from_secs(300));
    assert_eq!(c.poll_interval, Duration::from_secs(5));
    assert_eq!(c.wait_time, Duration::from_secs(20));
    assert_eq!(c.visibility_timeout, Duration::from_secs(60));
    assert!(c.rollback_on_failure);
    assert!(c.verify, "pre-flight checks are on by default");
    assert_eq!(c.concurrency, 10);
    assert_eq!(
        c.api_budget,
        crate::decide::budget::Budget::share_of(&[], 0.5),
        "half of AWS's default limits"
    );
    assert_eq!(c.keep_revisions, None, "every revision kept");
    assert_eq!(c.shutdown_grace, Duration::from_secs(25));
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.notify.slack, None);
    assert_eq!(c.notify.sns, None);
    assert_eq!(c.http_listen, None);
    assert_eq!(c.unhealthy_after, Duration::from_secs(120));
    let long = config(&[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "12h")]).expect("valid");
    assert_eq!(long.unhealthy_after, Duration::from_secs(8 * 60 * 60));
}

#[test]
fn the_list_of_variables_is_what_the_configuration_reads() {
    // Every sink set up, so that each reads all of its variables.
    let vars = crate::ops::vars::Vars::new(
        [
            ("SQS_URL", QUEUE),
            ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T0/B0/x"),
            ("WEBHOOK_URL", "https://hooks.example.com/x"),
            (
                "TEAMS_WEBHOOK",
                "https://example.webhook.office.com/workflows/1",
            ),
            (
                "SNS_TOPIC",
                "arn:aws:sns:eu-west-1:123456789012:deployments",
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    Config::read(&vars).expect("valid");
    let listed: std::collections::BTreeSet<&str> = variables()
        .filter(|v| !POLICY_VARIABLES.contains(v))
        .collect();
    assert_eq!(vars.asked(), listed);
}

#[test]
fn every_variable_is_read() {
    let c = config(&[
        ("SQS_URL", QUEUE),
        ("ECS_CLUSTER", "prod"),
        ("ECS_TIMEOUT", "5m"),
        ("ECS_POLL_INTERVAL", "500ms"),
        ("SQS_WAIT_TIME", "0"),
        ("SQS_VISIBILITY_TIMEOUT", "2m"),
        ("ROLLBACK_ON_FAILURE", "false"),
        ("VERIFY", "off"),
        ("CONCURRENCY", "3"),
        ("ECS_API_SHARE", "25%"),
        ("ECS_API_LIMITS", "task-definition-modify=40/2"),
        ("KEEP_REVISIONS", "5"),
        ("SHUTDOWN_GRACE", "0"),
        ("LOG_FORMAT", "JSON"),
        (
            "SLACK_WEBHOOK",
            "https://hooks.slack.com/services/T0/B0/xyzzy",
        ),
        ("SLACK_CHANNEL", "#deploys"),
        ("SLACK_COLOR", "#335EFF"),
        ("SNS_FORMAT", "legacy"),
        (
            "TEAMS_WEBHOOK",
            "https://example.webhook.office.com/workflows/1",
        ),
        ("WEBHOOK_URL", "https://hooks.example.com/t0k3n-path"),
        ("WEBHOOK_SECRET", "k3y"),
        (
            "SNS_TOPIC",
            "arn:aws:sns:eu-west-1:123456789012:deployments",
        ),
        ("HTTP_LISTEN", ":9090"),
    ])
    .expect("valid");
    assert_eq!(c.cluster, "prod");
    assert_eq!(
        c.notify.slack.as_ref().and_then(|s| s.color.as_deref()),
        Some("#335EFF")
    );
    assert_eq!(
        c.notify.sns.as_ref().map(|s| s.format),
        Some(SnsFormat::Legacy)
    );
    assert!(c.notify.teams.is_some());
    assert_eq!(
        c.notify.webhook.as_ref().and_then(|w| w.secret.as_deref()),
        Some("k3y")
    );
    assert!(
        !format!("{c:?}").contains("k3y") && !format!("{c:?}").contains("t0k3n-path"),
        "webhook URLs and secrets are never shown"
    );
    assert_eq!(c.rollout_timeout, Duration::from_secs(300));
    assert_eq!(c.poll_interval, Duration::from_millis(500));
    assert_eq!(c.wait_time, Duration::ZERO);
    assert_eq!(c.visibility_timeout, Duration::from_secs(120));
    assert!(!c.rollback_on_failure);
    assert!(!c.verify);
    assert_eq!(c.concurrency, 3);
    assert_eq!(
        c.api_budget
            .limit_for("RegisterTaskDefinition")
            .map(|(_, l)| (l.burst, l.rate)),
        Some((10.0, 0.5)),
        "a quarter of a raised quota"
    );
    assert_eq!(
        c.api_budget
            .limit_for("DescribeServices")
            .map(|(_, l)| (l.burst, l.rate)),
        Some((25.0, 5.0))
    );
    let none = config(&[("SQS_URL", QUEUE), ("ECS_API_LIMITS", "none")]).expect("valid");
    assert_eq!(none.api_budget.limit_for("DescribeServices"), None);
    assert_eq!(c.keep_revisions, Some(5));
    assert_eq!(c.shutdown_grace, Duration::ZERO);
    assert_eq!(c.log_format, LogFormat::Json);
    let slack = c.notify.slack.clone().expect("slack");
    assert_eq!(slack.channel.as_deref(), Some("#deploys"));
    assert_eq!(slack.botname, DEFAULT_SLACK_BOTNAME);
    assert!(
        !format!("{slack:?}").contains("xyzzy"),
        "the webhook is never shown"
    );
    assert_eq!(
        c.notify.sns.as_ref().map(|s| s.topic.as_str()),
        Some("arn:aws:sns:eu-west-1:123456789012:deployments")
    );
    assert_eq!(c.http_listen, Some(SocketAddr::from(([0, 0, 0, 0], 9090))));
}

#[test]
fn http_listen_takes_an_address_or_a_port() {
    for (text, expected) in [
        ("8080", "0.0.0.0:8080"),
        (":8080", "0.0.0.0:8080"),
        ("127.0.0.1:9000", "127.0.0.1:9000"),
        ("[::1]:9000", "[::1]:9000"),
    ] {
        let parsed = parse_listen(text).expect(text);
        assert_eq!(parsed.to_string(), expected, "{text}");
    }
    for text in ["", "localhost", "host:port", "1.2.3.4:99999"] {
        assert_eq!(parse_listen(text).expect_err(text).variable, "HTTP_LISTEN");
    }
}

#[test]
fn durations_accept_seconds_and_units() {
    for (text, expected) in [
        ("300", Duration::from_secs(300)),
        ("0.5", Duration::from_millis(500)),
        ("500ms", Duration::from_millis(500)),
        ("30s", Duration::from_secs(30)),
        ("5m", Duration::from_secs(300)),
        ("1h 30m", Duration::from_secs(5400)),
        (" 7s ", Duration::from_secs(7)),
    ] {
        assert_eq!(parse_duration(text), Some(expected), "{text}");
    }
    for text in ["", "soon", "-1", "5 parsecs", "NaN", "1e400"] {
        assert_eq!(parse_duration(text), None, "{text}");
    }
}

#[test]
fn each_error_names_its_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "SQS_URL"),
        (&[("SQS_URL", "  ")], "SQS_URL"),
        (&[("SQS_URL", "deployments")], "SQS_URL"),
        (&[("SQS_URL", "https://sqs.amazonaws.com")], "SQS_URL"),
        (
            &[("SQS_URL", QUEUE), ("ECS_TIMEOUT", "soon")],
            "ECS_TIMEOUT",
        ),
        (&[("SQS_URL", QUEUE), ("ECS_TIMEOUT", "0")], "ECS_TIMEOUT"),
        (
            &[("SQS_URL", QUEUE), ("ECS_POLL_INTERVAL", "0s")],
            "ECS_POLL_INTERVAL",
        ),
        (
            &[("SQS_URL", QUEUE), ("SQS_WAIT_TIME", "21")],
            "SQS_WAIT_TIME",
        ),
        (
            &[("SQS_URL", QUEUE), ("SQS_WAIT_TIME", "500ms")],
            "SQS_WAIT_TIME",
        ),
        (
            &[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "13h")],
            "SQS_VISIBILITY_TIMEOUT",
        ),
        (
            &[("SQS_URL", QUEUE), ("SQS_VISIBILITY_TIMEOUT", "0")],
            "SQS_VISIBILITY_TIMEOUT",
        ),
        (
            &[("SQS_URL", QUEUE), ("ROLLBACK_ON_FAILURE", "maybe")],
            "ROLLBACK_ON_FAILURE",
        ),
        (&[("SQS_URL", QUEUE), ("VERIFY", "maybe")], "VERIFY"),
        (
            &[
                ("SQS_URL", QUEUE),
                ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T0/B0/x"),
                ("SLACK_COLOR", "blue"),
            ],
            "SLACK_COLOR",
        ),
        (&[("SQS_URL", QUEUE), ("SNS_FORMAT", "xml")], "SNS_FORMAT"),
        (
            &[("SQS_URL", QUEUE), ("TEAMS_WEBHOOK", "ftp://x")],
            "TEAMS_WEBHOOK",
        ),
        (
            &[("SQS_URL", QUEUE), ("WEBHOOK_SECRET", "k")],
            "WEBHOOK_SECRET",
        ),
        (
            &[("SQS_URL", QUEUE), ("WEBHOOK_URL", "not a url")],
            "WEBHOOK_URL",
        ),
        (&[("SQS_URL", QUEUE), ("CONCURRENCY", "0")], "CONCURRENCY"),
        (
            &[("SQS_URL", QUEUE), ("CONCURRENCY", "many")],
            "CONCURRENCY",
        ),
        (
            &[("SQS_URL", QUEUE), ("CONCURRENCY", "1001")],
            "CONCURRENCY",
        ),
        (
            &[("SQS_URL", QUEUE), ("ECS_API_SHARE", "150%")],
            "ECS_API_SHARE",
        ),
        (
            &[("SQS_URL", QUEUE), ("ECS_API_LIMITS", "service-read=fast")],
            "ECS_API_LIMITS",
        ),
        (
            &[("SQS_URL", QUEUE), ("KEEP_REVISIONS", "0")],
            "KEEP_REVISIONS",
        ),
        (
            &[("SQS_URL", QUEUE), ("KEEP_REVISIONS", "all")],
            "KEEP_REVISIONS",
        ),
        (
            &[("SQS_URL", QUEUE), ("SHUTDOWN_GRACE", "later")],
            "SHUTDOWN_GRACE",
        ),
        (&[("SQS_URL", QUEUE), ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        (
            &[("SQS_URL", QUEUE), ("SLACK_WEBHOOK", "hooks.slack.com/x")],
            "SLACK_WEBHOOK",
        ),
        (
            &[
                ("SQS_URL", QUEUE),
                ("SLACK_WEBHOOK", "http://hooks.slack.com/services/x"),
            ],
            "SLACK_WEBHOOK",
        ),
        (
            &[
                ("SQS_URL", QUEUE),
                ("SLACK_WEBHOOK", "http://10.0.0.5:8080/hook"),
            ],
            "SLACK_WEBHOOK",
        ),
        (
            &[("SQS_URL", QUEUE), ("SNS_TOPIC", "deployments")],
            "SNS_TOPIC",
        ),
        (
            &[
                ("SQS_URL", QUEUE),
                ("SNS_TOPIC", "arn:aws:sqs:us-east-1:1:q"),
            ],
            "SNS_TOPIC",
        ),
        (&[("SQS_URL", QUEUE), ("HTTP_LISTEN", "x")], "HTTP_LISTEN"),
        (
            &[("SQS_URL", QUEUE), ("UNHEALTHY_AFTER", "20s")],
            "UNHEALTHY_AFTER",
        ),
    ];
    for (vars, variable) in cases {
        let err = config(vars).expect_err("invalid");
        assert_eq!(err.variable, *variable, "{vars:?}");
        assert!(err.to_string().starts_with(variable), "{err}");
    }
}

#[test]
fn region_comes_from_an_aws_queue_url() {
    let region = |url: &str| config(&[("SQS_URL", url)]).expect("valid").queue_region();
    assert_eq!(region(QUEUE).as_deref(), Some("eu-west-1"));
    assert_eq!(
        region("https://ap-south-1.queue.amazonaws.com/1/q").as_deref(),
        Some("ap-south-1")
    );
    assert_eq!(region("http://127.0.0.1:5000/123456789012/q"), None);
}
