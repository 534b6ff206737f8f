//! How a variable's text is read (durations, booleans, listen addresses, queue and webhook URLs, topic
//! ARNs), each parser saying what is wrong with a value so that the configuration can name the variable.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The value, trimmed, unless it is empty.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// An SQS queue URL: `https://` or `http://`, a host and a path.
pub fn check_queue_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("expected a queue URL starting with https://, got {url:?}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() || path.trim_matches('/').is_empty() || url.contains(char::is_whitespace) {
        return Err(format!(
            "expected a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/deployments, got {url:?}"
        ));
    }
    Ok(())
}

/// A listen address: `host:port`, `:port` or a bare port (both meaning every interface).
pub fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("expected an address such as 0.0.0.0:8080, :8080 or 8080, got {text:?}")
    })
}

/// An `https://` URL with a host, or an `http://` one to a loopback address (a local receiver).
pub fn check_http_url(url: &str) -> Result<(), String> {
    // The URL is a secret: say what is wrong without repeating it.
    let expected =
        "expected an https:// URL of a Slack incoming webhook (http:// only to a loopback address)";
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Err(expected.to_owned());
    };
    let Some(host) = parsed.host_str() else {
        return Err(expected.to_owned());
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(expected.to_owned()),
    }
}

/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
pub fn check_topic_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "sns"
        && parts.iter().all(|p| !p.is_empty())
        && !arn.contains(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(format!(
            "expected a topic ARN such as arn:aws:sns:us-east-1:123456789012:deployments, got {arn:?}"
        ))
    }
}

/// A bare number of seconds (`300`, `0.5`) or a number with a unit (`500ms`, `30s`, `5m`, `1h 30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    humantime::parse_duration(text).ok()
}

/// `true`, `1`, `yes`, `on` or their opposites, in any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}
