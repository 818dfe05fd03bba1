//! OOM kills through a private containerd 1.6, seen by `ctr events`: `/tasks/oom` for a
//! container whose cgroup's memory limit killed a process, published before the init's
//! `/tasks/exit` (CRI and Docker mark a container OOM-killed only when they hear of it first);
//! a child killed while the init lives on is reported too. Tinyshim-only: a container killed in
//! its first millisecond (the Go shims before 2.3 watch from Start and miss it), the order over
//! fifty runs, and an idle shim that never wakes up although it watches for OOMs.

use std::time::Duration;

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Ctr;
use tinyshim_testkit::events::{Event, Events};
use tinyshim_testkit::wait::LONG;

/// The memory limit of the tests' containers: 16 MiB.
const LIMIT: &str = "--memory-limit=16777216";

/// A busybox `dd` whose one buffer is four times the limit: killed as soon as it touches it.
const HOG: &str = "dd if=/dev/zero of=/dev/null bs=64M count=1";

/// Runs `script` detached as `id` under the memory limit.
fn run_limited(ctr: &Ctr, id: &str, script: &str) {
    ctr.run(id, &["sh", "-c", script])
        .flag(LIMIT)
        .detached()
        .ok();
}

/// The topics of `id`'s OOM and exit events, in the order containerd filed them.
fn oom_and_exit(events: &[Event], id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| {
            matches!(e.topic.as_str(), "/tasks/oom" | "/tasks/exit")
                && e.payload["container_id"] == id
        })
        .map(|e| e.topic.clone())
        .collect()
}

/// Waits for `id`'s exit event and returns its OOM and exit topics so far.
fn until_exit(events: &Events, id: &str) -> Vec<String> {
    events.wait_for(LONG, |e| {
        e.topic == "/tasks/exit" && e.payload["container_id"] == id
    });
    oom_and_exit(&events.all(), id)
}

#[test]
fn an_init_over_its_memory_limit_is_reported_oom_before_its_exit() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    let events = ctr.events();
    run_limited(&ctr, "hog", &format!("sleep 0.3; exec {HOG}"));
    assert_eq!(until_exit(&events, "hog"), ["/tasks/oom", "/tasks/exit"]);
    let exit = events.wait_for(LONG, |e| e.topic == "/tasks/exit");
    assert_eq!(exit.payload["exit_status"], 137, "{exit:?}");
}

#[test]
fn a_child_killed_while_the_init_lives_on_is_reported_and_the_task_runs_on() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    let events = ctr.events();
    run_limited(&ctr, "parent", &format!("{HOG}; sleep 1000"));
    let oom = events.wait_for(LONG, |e| e.topic == "/tasks/oom");
    assert_eq!(oom.payload["container_id"], "parent", "{oom:?}");
    assert_eq!(
        ctr.task("parent").map(|task| task.status),
        Some("RUNNING".to_string())
    );
    assert_eq!(oom_and_exit(&events.all(), "parent"), ["/tasks/oom"]);
}

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::containerd::options::require_tinyshim;
    use tinyshim_testkit::procfs::proc_status;

    #[test]
    fn an_init_killed_in_its_first_millisecond_is_still_reported_oom_before_its_exit() {
        require_tinyshim("OOM watched from Create");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        let events = ctr.events();
        ctr.run(
            "early",
            &["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
        )
        .flag(LIMIT)
        .detached()
        .ok();
        assert_eq!(until_exit(&events, "early"), ["/tasks/oom", "/tasks/exit"]);
    }

    #[test]
    fn fifty_oom_kills_in_a_row_each_come_before_their_exit() {
        require_tinyshim("TaskOOM always before TaskExit");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        let events = ctr.events();
        for run in 0..50 {
            let id = format!("hog{run}");
            run_limited(&ctr, &id, HOG);
            assert_eq!(
                until_exit(&events, &id),
                ["/tasks/oom", "/tasks/exit"],
                "run {run}"
            );
            ctr.ok(&["tasks", "delete", &id]);
            ctr.ok(&["containers", "delete", &id]);
        }
    }

    #[test]
    fn an_idle_shim_watching_for_oom_kills_never_wakes_up() {
        require_tinyshim("no timer and no polling while idle");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        run_limited(&ctr, "idle", "sleep 1000");
        ctr.wait_for_status("idle", "RUNNING", LONG);
        let shim = containerd.shim_pid("idle");
        let switches = || {
            ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]
                .iter()
                .map(|field| {
                    proc_status(shim, field)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                })
                .sum::<u64>()
        };
        // What the start set going settles first: events sent, a pipe looked at.
        std::thread::sleep(Duration::from_secs(2));
        let before = switches();
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(switches(), before, "the idle shim woke up");
    }
}
