//! Table tests of the schedule: one deployment per service, the newest waiting message deployed, stale
//! and superseded messages, and a refused message that leaves the others as they were.

use super::*;

/// One step: admit (service, sent at, id) and expect; a service's running message admitted, superseding
/// these; or a service's deployment finished, starting the next.
enum Step {
    Admit(&'static str, u64, &'static str, Admission<&'static str>),
    Admitted(
        &'static str,
        &'static str,
        Vec<(&'static str, &'static str)>,
    ),
    Finish(&'static str, Option<&'static str>),
}
use Admission::{Stale, Start, Wait};
use Step::{Admit, Admitted, Finish};

fn stale(job: &'static str, newer: &str) -> Admission<&'static str> {
    Stale {
        job,
        newer_message_id: newer.into(),
    }
}

fn run(cases: Vec<(&str, Vec<Step>)>) {
    for (name, steps) in cases {
        let mut schedule = Schedule::default();
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                Admit(service, sent, id, expected) => {
                    assert_eq!(
                        schedule.admit(service, sent, id, id),
                        expected,
                        "{name}, step {i}"
                    );
                }
                Admitted(service, id, expected) => {
                    let superseded: Vec<(&str, &str)> = schedule
                        .admitted(service, id)
                        .into_iter()
                        .map(|s| (s.job, if s.newer_message_id == id { id } else { "?" }))
                        .collect();
                    assert_eq!(superseded, expected, "{name}, step {i}");
                }
                Finish(service, expected) => {
                    assert_eq!(schedule.finish(service), expected, "{name}, step {i}");
                }
            }
        }
    }
}

#[test]
fn one_deployment_per_service_and_only_the_newest_waiting_is_deployed() {
    run(vec![
        (
            "different services run at once",
            vec![
                Admit("web", 10, "a", Start("a")),
                Admit("api", 11, "b", Start("b")),
            ],
        ),
        (
            "the newest waiting message runs next; the older ones go once it is admitted",
            vec![
                Admit("web", 10, "a", Start("a")),
                Admitted("web", "a", vec![]),
                Admit("web", 20, "b", Wait),
                Admit("web", 30, "c", Wait),
                Admit("web", 40, "d", Wait),
                Finish("web", Some("d")),
                Admitted("web", "d", vec![("b", "d"), ("c", "d")]),
                Finish("web", None),
                Admit("web", 50, "e", Start("e")),
            ],
        ),
        (
            "a message arriving late but sent before one waiting waits behind it",
            vec![
                Admit("web", 10, "a", Start("a")),
                Admit("web", 30, "c", Wait),
                Admit("web", 20, "b", Wait),
                Finish("web", Some("c")),
                Admitted("web", "c", vec![("b", "c")]),
                Finish("web", None),
            ],
        ),
        (
            "a message sent before one already admitted is stale",
            vec![
                Admit("web", 20, "b", Start("b")),
                Admitted("web", "b", vec![]),
                Admit("web", 10, "a", stale("a", "b")),
                Finish("web", None),
                Admit("web", 15, "a2", stale("a2", "b")),
            ],
        ),
        (
            "the admission of the running message supersedes what waits sent before it",
            vec![
                Admit("web", 20, "b", Start("b")),
                Admit("web", 10, "a", Wait),
                Admit("web", 30, "c", Wait),
                Admitted("web", "b", vec![("a", "b")]),
                Finish("web", Some("c")),
            ],
        ),
        (
            "the same message again (a redelivery) is not stale",
            vec![
                Admit("web", 20, "b", Start("b")),
                Admitted("web", "b", vec![]),
                Finish("web", None),
                Admit("web", 20, "b", Start("b")),
            ],
        ),
        (
            "an unknown send time is never stale, and counts as newer than what waits",
            vec![
                Admit("web", 20, "b", Start("b")),
                Admitted("web", "b", vec![]),
                Finish("web", None),
                Admit("web", 0, "x", Start("x")),
                Admit("web", 30, "y", Wait),
                Admit("web", 0, "z", Wait),
                Finish("web", Some("z")),
            ],
        ),
        (
            "same send time: the later arrival is the newer",
            vec![
                Admit("web", 10, "a", Start("a")),
                Admit("web", 10, "b", Wait),
                Admit("web", 10, "c", Wait),
                Finish("web", Some("c")),
            ],
        ),
        (
            "an admission of a message not running changes nothing",
            vec![
                Admit("web", 10, "a", Start("a")),
                Admit("web", 5, "old", Wait),
                Admitted("web", "other", vec![]),
                Admitted("api", "a", vec![]),
                Finish("web", Some("old")),
            ],
        ),
        (
            "finishing an idle service starts nothing",
            vec![Finish("web", None)],
        ),
    ]);
}

#[test]
fn a_message_refused_once_it_runs_displaces_nothing() {
    run(vec![
        (
            "a bad message sent behind a good one: the good one runs once the bad one is refused",
            vec![
                Admit("web", 10, "running", Start("running")),
                Admitted("web", "running", vec![]),
                Admit("web", 20, "good", Wait),
                Admit("web", 30, "bad", Wait),
                Finish("web", Some("bad")),
                // Refused: never admitted, so it ends without superseding the good one.
                Finish("web", Some("good")),
                Admitted("web", "good", vec![]),
                Finish("web", None),
            ],
        ),
        (
            "a refused message never counts as the newest: an older one is not stale after it",
            vec![
                Admit("web", 30, "bad", Start("bad")),
                Finish("web", None),
                Admit("web", 20, "good", Start("good")),
            ],
        ),
        (
            "several refused in a row: the newest good one behind them runs",
            vec![
                Admit("web", 10, "running", Start("running")),
                Admit("web", 20, "good-old", Wait),
                Admit("web", 30, "good", Wait),
                Admit("web", 40, "bad-1", Wait),
                Admit("web", 50, "bad-2", Wait),
                Finish("web", Some("bad-2")),
                Finish("web", Some("bad-1")),
                Finish("web", Some("good")),
                Admitted("web", "good", vec![("good-old", "good")]),
                Finish("web", None),
            ],
        ),
    ]);
}

#[test]
fn waiting_messages_can_be_taken_out() {
    let mut schedule = Schedule::default();
    assert_eq!(schedule.admit("web", 1, "a", "a"), Start("a"));
    assert_eq!(schedule.admit("web", 2, "b", "b"), Wait);
    assert_eq!(schedule.admit("api", 3, "c", "c"), Start("c"));
    assert_eq!(schedule.admit("api", 4, "d", "d"), Wait);
    assert_eq!(schedule.admit("api", 5, "e", "e"), Wait);
    assert_eq!(schedule.waiting(), 3);
    let mut taken = schedule.take_waiting();
    taken.sort_unstable();
    assert_eq!(taken, ["b", "d", "e"]);
    assert_eq!(schedule.waiting(), 0);
    assert_eq!(schedule.finish("web"), None);
    assert_eq!(schedule.admit("api", 6, "f", "f"), Wait);
}

#[test]
fn what_is_remembered_stays_bounded_whatever_names_arrive() {
    let mut schedule = Schedule::default();
    for i in 0..REMEMBERED_SERVICES + 500 {
        let service = format!("service-{i}");
        assert_eq!(schedule.admit(&service, 10, "m", ()), Start(()));
        schedule.admitted(&service, "m");
        schedule.finish(&service);
    }
    assert_eq!(schedule.remembered(), REMEMBERED_SERVICES);
    // A busy service is never the one forgotten.
    assert_eq!(schedule.admit("busy", 10, "b", ()), Start(()));
    schedule.admitted("busy", "b");
    for i in 0..REMEMBERED_SERVICES {
        let service = format!("later-{i}");
        schedule.admit(&service, 10, "m", ());
        schedule.admitted(&service, "m");
        schedule.finish(&service);
    }
    assert_eq!(
        schedule.admit("busy", 5, "older", ()),
        Stale {
            job: (),
            newer_message_id: "b".into()
        }
    );
    // Messages refused once they run are not remembered at all.
    let mut schedule = Schedule::default();
    for i in 0..1000 {
        let service = format!("refused-{i}");
        schedule.admit(&service, 10, "m", ());
        schedule.finish(&service);
    }
    assert_eq!(schedule.remembered(), 0);
}
