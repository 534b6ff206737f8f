//! `ecs-bench`: measures what ecs-deployment adds on top of SQS and ECS, against moto and ecs-sim on
//! loopback, and writes the results into BENCHMARKS.md. `make bench` builds everything in release mode,
//! runs the criterion benchmark of the message path, then this; `--quick` runs the same scenarios small, in
//! a few seconds, so the harness is exercised by `make test` and never rots.
//!
//! Layout: [`scenarios`] runs the worker and times what it does; [`proxy`] records the worker's AWS calls on
//! their way to the emulators; [`process`] reads the worker's memory and CPU from `/proc`; [`stats`],
//! [`results`] and [`report`] turn samples into the table; [`estimates`] reads criterion's result;
//! [`machine`] describes where it ran.
//!
//! A slow machine never fails a run: a missed target is a row marked **no**. Only a broken run (a
//! deployment that never finishes, an emulator that does not start) exits non-zero.

mod estimates;
mod machine;
mod plan;
mod process;
mod proxy;
mod report;
mod requests;
mod results;
mod scenarios;
mod setup;
mod stats;
mod wave_rows;
mod waves;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;

use crate::plan::Plan;
use crate::results::{Measurements, human};
use crate::scenarios::Bench;

/// Measure ecs-deployment's overhead against moto (SQS) and ecs-sim (ECS) on loopback.
///
/// Writes the results table to BENCHMARKS.md (full run) and prints it. Exit codes: 0 when every scenario
/// ran (whether or not each target was met), 1 when a scenario could not run, 2 for wrong usage.
#[derive(Debug, Parser)]
#[command(name = "ecs-bench")]
struct Args {
    /// Run every scenario small, in a few seconds, to check the harness; writes no file unless --out.
    #[arg(long)]
    quick: bool,
    /// Where to write the results [default: BENCHMARKS.md in the workspace, for a full run].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The ecs-deployment binary to measure [default: the one beside this program].
    #[arg(long, value_name = "PATH")]
    worker: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ecs-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecs-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let began = Instant::now();
    let plan = if args.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let here = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let here = here.parent().unwrap_or(Path::new("."));
    let worker = args.worker.unwrap_or_else(|| here.join("ecs-deployment"));
    if !worker.is_file() {
        return Err(format!(
            "no worker binary at {}; build it first (`cargo build --release -p ecs-deployment`, which \
             `make bench` does) or pass --worker",
            worker.display()
        ));
    }
    let release = worker
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|dir| dir == "release");
    let binary = std::fs::metadata(&worker)
        .map_err(|e| format!("{}: {e}", worker.display()))?
        .len();

    let step = |what: &str| eprintln!("ecs-bench: {what} ({:.0} s)", began.elapsed().as_secs_f64());
    step("starting moto and ecs-sim");
    let mut bench = Bench::start(plan.clone(), worker.clone()).await?;
    step(&format!("1-2: {} deployments one at a time", plan.samples));
    let latency = bench.latency().await?;
    let mut fleets = Vec::new();
    for n in plan.fleets {
        step(&format!("3-5: {n} services at once"));
        fleets.push(bench.fleet(n).await?);
    }
    let mut waves = Vec::new();
    {
        let mut own = at_tick(&plan, plan.wave_tick, &worker).await?;
        let waving = own.as_mut().unwrap_or(&mut bench);
        for workers in plan.wave_workers {
            step(&format!(
                "7: a wave of {} services, {}, ECS's API limits on",
                plan.wave,
                wave_rows::workers(workers)
            ));
            waves.push(waving.wave(plan.wave, workers).await?);
        }
    }
    step(&format!(
        "8: {} rollouts watched at once, ECS's API limits on",
        plan.watched
    ));
    let watch = {
        let mut own = at_tick(&plan, plan.watch_tick, &worker).await?;
        own.as_mut()
            .unwrap_or(&mut bench)
            .watch(plan.watched)
            .await?
    };
    step(&format!("5: idle for {}", human(plan.idle)));
    let idle = bench.idle().await?;
    step(&format!("5: {} more starts", plan.starts));
    bench.starts(plan.starts).await?;
    let message_path = if plan.quick {
        Err("--quick does not run criterion; `cargo nextest run --all-targets` runs the benchmark once as a test".to_owned())
    } else {
        criterion_result(here)
    };
    let measurements = Measurements {
        latency,
        fleets,
        waves,
        watch,
        idle,
        starts: bench.starts.clone(),
        binary: (binary, release),
        message_path,
    };
    let mut rows = results::rows(&plan, &measurements);
    rows.extend(wave_rows::rows(&measurements.waves, &measurements.watch));
    let text = document(&plan, &measurements, &rows, release, began);
    println!("{text}");

    let out = match (args.out, plan.quick) {
        (Some(out), _) => Some(out),
        (None, false) => Some(testbed::workspace_root().join("BENCHMARKS.md")),
        (None, true) => None,
    };
    if let Some(out) = out {
        let existing = std::fs::read_to_string(&out).ok();
        let updated = report::splice(existing.as_deref(), &text);
        std::fs::write(&out, updated)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("ecs-bench: results written to {}", out.display());
    }
    let _ = std::fs::remove_dir_all(bench.logs());
    Ok(())
}

/// Emulators of their own for scenarios at another speed than the plan's (`None`: the same speed).
async fn at_tick(plan: &Plan, tick: Duration, worker: &Path) -> Result<Option<Bench>, String> {
    if tick == plan.tick {
        return Ok(None);
    }
    let plan = Plan {
        tick,
        ..plan.clone()
    };
    Ok(Some(Bench::start(plan, worker.to_path_buf()).await?))
}

/// The criterion benchmark's result from the target directory this program was built in.
fn criterion_result(here: &Path) -> Result<(estimates::PerMessage, Option<u64>), String> {
    let target = here.parent().unwrap_or(here);
    let path = target.join(estimates::ESTIMATES);
    let estimate = estimates::read(&path).map_err(|e| {
        format!("{e} (run `cargo bench --bench message_path` first; `make bench` does)")
    })?;
    let bytes = std::fs::read_to_string(path.with_file_name("benchmark.json"))
        .ok()
        .and_then(|text| estimates::body_bytes(&text));
    Ok((estimate, bytes))
}

/// The generated part of BENCHMARKS.md.
fn document(
    plan: &Plan,
    m: &Measurements,
    rows: &[report::Row],
    release: bool,
    began: Instant,
) -> String {
    let when = humantime::format_rfc3339_seconds(SystemTime::now());
    let moto = machine::output(
        &testbed::workspace_root()
            .join(".venv/bin/python")
            .to_string_lossy(),
        &["-c", "import moto; print(moto.__version__)"],
    )
    .unwrap_or_else(|| "unknown".to_owned());
    let command = if plan.quick {
        "`ecs-bench --quick` (a check of the harness with small numbers, not a measurement)"
    } else {
        "`make bench`"
    };
    let mut text = format!(
        "## Results\n\n\
         - Run: {command}, {build} build, {when}, {took:.0} s.\n\
         - Machine: {machine}.\n\
         - Emulators on loopback: moto {moto} (SQS); ecs-sim (ECS) with 1 simulated second = {tick}. \
         The worker's AWS calls pass through a recording proxy (well under 1 ms per call) that timestamps \
         and counts them.\n\
         - Worker settings: ECS_POLL_INTERVAL {interval} for scenarios 1-4, CONCURRENCY {concurrency} for \
         3-4, defaults otherwise; {desired} tasks per service; one rollout in 3-4 is {pending} simulated \
         seconds of PENDING plus ECS's own steps.\n\
         - Scenarios 7-8: ecs-sim enforces AWS's API rate limits (`--api-limits aws`), with 1 simulated \
         second = {wave_tick} (7) and {watch_tick} (8); their times are simulated seconds. Each worker \
         gets the same limits per real second (`ECS_API_LIMITS`, the rates times the simulated seconds a \
         real one holds), ECS_POLL_INTERVAL 5 simulated seconds and CONCURRENCY = the services. 7: \
         ECS_API_SHARE 100 % (a release window), one new revision per service, each rollout \
         {pending} simulated seconds of PENDING plus ECS's own steps; the physical limit is \
         (services − 20) ÷ 1 per second of registrations plus one rollout. 8: ECS_API_SHARE 50 % \
         (the default), registration, UpdateService and TagResource quotas raised to 1000/100 on both sides so \
         the rollouts all start soon; the window opens once every rollout has started.\n\n",
        build = if release { "release" } else { "debug" },
        took = began.elapsed().as_secs_f64(),
        machine = machine::describe(),
        tick = human(plan.tick),
        interval = human(plan.poll_interval),
        concurrency = plan.concurrency,
        desired = plan.desired,
        pending = plan.pending_secs,
        wave_tick = human(plan.wave_tick),
        watch_tick = human(plan.watch_tick),
    );
    text.push_str(&report::table(rows));
    if let Some(fleet) = m.fleets.last() {
        let seen: u64 = fleet.ecs_calls.values().sum();
        text.push_str(&format!(
            "\nCross-check: during the {}-service run ecs-sim's `/_sim/stats` counted {} ECS calls and the \
             recording proxy saw {seen}.\n",
            fleet.services, fleet.sim_total
        ));
    }
    text
}
