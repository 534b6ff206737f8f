//! Throughput of the message path alone: a realistic task definition body (three containers, an App Mesh
//! proxy, FireLens, secrets, health checks; `task-definition.json`) read as the worker reads a message,
//! checked against ECS's request shape, marked with the worker's tags and written out as the
//! RegisterTaskDefinition request. No AWS call is made.
//!
//! `make bench` runs it (`cargo bench --bench message_path`) and `ecs-bench` reports its result in
//! BENCHMARKS.md; `cargo nextest run --all-targets` (as `make test` does) runs it once as a test.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecs_deployment::decide::{marker, message};

/// The body a producer sends.
const BODY: &str = include_str!("task-definition.json");

/// One message through the path; the request body's length, so nothing is optimized away.
fn message_path(body: &str, attributes: &BTreeMap<String, String>) -> usize {
    let request = match message::parse(body, attributes) {
        Ok(request) => request,
        Err(reason) => panic!("the benchmark's body is rejected: {reason}"),
    };
    let tags = marker::registration_tags(
        "6d1c6b2e-4f0a-4b8e-9c1d-2a3b4c5d6e7f",
        request.commit_url.as_deref(),
        Some("arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-web:41"),
    );
    match request.task_definition.with_marker_tags(&tags) {
        Ok(marked) => marked.to_json().len(),
        Err(reason) => panic!("the benchmark's body cannot be tagged: {reason}"),
    }
}

fn bench(c: &mut Criterion) {
    let attributes = BTreeMap::from([
        ("service".to_owned(), "checkout-web".to_owned()),
        (
            "commit_url".to_owned(),
            "https://github.com/example/checkout/commit/9f3c2a1b7e5d4c3b2a1908f7e6d5c4b3a2918070"
                .to_owned(),
        ),
    ]);
    let mut group = c.benchmark_group("message_path");
    group.throughput(Throughput::Bytes(BODY.len() as u64));
    group.bench_function("parse_and_validate", |b| {
        b.iter(|| message_path(black_box(BODY), black_box(&attributes)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
