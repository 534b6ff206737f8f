//! `ecs-deployment healthcheck`: probes the worker's `/healthz`, for container health checks in images
//! without a shell or curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::cli::args::duration_arg;
use crate::cli::exit::{EXIT_NO, EXIT_OK, Failure};
use crate::ops::config::parse_listen;

/// Probe the worker's health endpoint and exit 0 when it is healthy.
///
/// The endpoint is --url, or /healthz on the address HTTP_LISTEN gives the worker (on loopback when it
/// listens on every interface).
///
/// Exit codes: 0 healthy, 1 unhealthy or unreachable, 2 wrong usage (no --url and no HTTP_LISTEN).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The URL to probe; by default /healthz at HTTP_LISTEN.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// How long the probe may take.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = duration_arg)]
    pub timeout: Duration,
}

/// The URL of `/healthz` for a worker listening on `address`.
pub fn healthz_url(address: SocketAddr) -> String {
    let host = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(host, address.port()))
}

/// Runs the subcommand.
pub async fn run(args: &Args) -> Result<u8, Failure> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => {
            let listen = std::env::var("HTTP_LISTEN")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| {
                    Failure::usage("no endpoint: give --url or set HTTP_LISTEN as for the worker")
                })?;
            healthz_url(parse_listen(&listen).map_err(|e| Failure::usage(e.to_string()))?)
        }
    };
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .build()
        .map_err(|e| Failure::usage(format!("cannot make an HTTP client: {e}")))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| Failure::no(format!("unhealthy: cannot reach {url}: {e}")))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        println!("healthy: {}", body.trim());
        Ok(EXIT_OK)
    } else {
        Err(Failure {
            exit: EXIT_NO,
            message: format!("unhealthy: {url} answered {status}: {}", body.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_goes_to_loopback_when_the_worker_listens_everywhere() {
        for (listen, url) in [
            ("0.0.0.0:8080", "http://127.0.0.1:8080/healthz"),
            ("[::]:8080", "http://[::1]:8080/healthz"),
            ("10.0.0.5:9000", "http://10.0.0.5:9000/healthz"),
        ] {
            let address: SocketAddr = listen.parse().expect("address");
            assert_eq!(healthz_url(address), url);
        }
    }
}
