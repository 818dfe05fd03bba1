//! The v2 shim under test (`TINYSHIM_V2_SHIM`) across a daemon that dies: a SIGKILLed
//! containerd started again on the same root and state finds its tasks, hears of an exit
//! that happened while it was away, and cleans up after a shim that was SIGKILLed itself.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::procfs::ended;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::wait::{eventually, LONG};

fn daemon() -> Containerd {
    Containerd::start(Options::under_test())
}

#[test]
fn a_restarted_daemon_finds_every_running_task_and_can_kill_and_delete_them() {
    let mut containerd = daemon();
    let ctr = containerd.ctr();
    let ids = ["c1", "c2"];
    for id in ids {
        ctr.run(id, &["sleep", "1000"]).detached().ok();
    }
    let before: Vec<_> = ids
        .iter()
        .map(|id| ctr.wait_for_status(id, "RUNNING", LONG))
        .collect();
    let shims = containerd.shim_pids();

    containerd.kill();
    containerd.restart();
    let mut after = ctr.tasks();
    after.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(after, before, "ctr task ls after the restart");
    assert_eq!(
        containerd.shim_pids(),
        shims,
        "the shims that served the tasks"
    );
    for task in &before {
        assert_eq!(ctr.pids(&task.id), [task.pid], "ctr task ps {}", task.id);
    }
    for task in &before {
        ctr.kill(&task.id, "SIGKILL").ok();
        ctr.wait_for_status(&task.id, "STOPPED", LONG);
        assert_eq!(ctr.delete_task_status(&task.id), 137);
        assert!(ended(task.pid as i32), "{} outlived its task", task.pid);
    }
    assert_eq!(ctr.tasks(), Vec::new());
    eventually(LONG, "the shims exit after their tasks", || {
        containerd.shim_pids().is_empty()
    });
}

#[test]
fn an_exit_while_the_daemon_is_away_is_reported_to_the_restarted_daemon() {
    let mut containerd = daemon();
    let ctr = containerd.ctr();
    let steer = Scratch::new("steer");
    let script = "while [ ! -e /tmp/steer/stop ]; do sleep 0.01; done; exit 9";
    ctr.run("c1", &["sh", "-c", script])
        .bind(steer.path(), "/tmp/steer")
        .detached()
        .ok();
    let pid = ctr.wait_for_status("c1", "RUNNING", LONG).pid;

    containerd.kill();
    std::fs::write(steer.path().join("stop"), "").expect("write the stop file");
    eventually(LONG, "the container exits", || ended(pid as i32));
    // The shim could not publish the exit: it retries until the new daemon answers. Its
    // Forward can reach containerd before any `ctr events` subscription is up (both sockets
    // open together), so what proves the exit reached the new daemon is the daemon's own
    // record of filing it, not a subscriber that may have come too late.
    let log_before_restart = containerd.log().len();
    containerd.restart();
    let exits_filed = || exits_filed_since(&containerd, log_before_restart);
    eventually(LONG, "the restarted daemon files the exit of c1", || {
        exits_filed() > 0
    });
    let task = ctr.task("c1").expect("c1 is still listed");
    assert_eq!(task.status, "STOPPED");
    assert_eq!(task.pid, pid, "the pid of the task that exited");
    assert_eq!(exits_filed(), 1, "the exit is filed once");
    assert_eq!(ctr.delete_task_status("c1"), 9);
}

/// How many TaskExit events the daemon filed since its log was `since` bytes long.
fn exits_filed_since(containerd: &Containerd, since: usize) -> usize {
    let log = containerd.log();
    log.get(since..)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("event forwarded") && line.contains("topic=/tasks/exit"))
        .count()
}

/// Starts a detached `c1`, SIGKILLs its shim and waits until containerd has cleaned up after
/// it: the container dead, the task stopped and deleted (or dropped by containerd), runc's
/// state of it gone. Returns the daemon and the killed shim's socket.
fn kill_the_shim_of_a_running_task() -> (Containerd, std::path::PathBuf) {
    let containerd = daemon();
    let ctr = containerd.ctr();
    ctr.run("c1", &["sleep", "1000"]).detached().ok();
    let pid = ctr.wait_for_status("c1", "RUNNING", LONG).pid;
    let socket = containerd.task_socket("c1");
    let shim = containerd.shim_pid("c1");

    kill(Pid::from_raw(shim), Signal::SIGKILL).expect("SIGKILL the shim");
    // containerd sees the connection close and runs the shim binary's `delete`, whose
    // `runc delete --force` kills the container and then removes its state.
    eventually(LONG, "the container dies with its shim", || {
        ended(pid as i32)
    });
    eventually(LONG, "runc forgets the container", || {
        containerd.runc_containers().is_empty()
    });
    eventually(
        LONG,
        "containerd marks the task stopped or drops it",
        || ctr.task("c1").is_none_or(|task| task.status == "STOPPED"),
    );
    if ctr.task("c1").is_some() {
        assert_eq!(ctr.delete_task_status("c1"), 137);
    }
    assert_eq!(ctr.task("c1"), None);
    ctr.delete_container("c1").ok();
    (containerd, socket)
}

#[test]
fn a_task_whose_shim_was_sigkilled_is_stopped_and_deleted_and_its_container_is_gone() {
    let (containerd, socket) = kill_the_shim_of_a_running_task();
    // A SIGKILLed shim cannot remove its socket: whether its `delete` does is tinyshim's
    // promise, checked below.
    let left: Vec<String> = containerd
        .leftovers()
        .into_iter()
        .filter(|what| *what != format!("shim socket {}", socket.display()))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

mod tinyshim_only {
    use super::*;
    use tinyshim::v2::events::QUEUE_LIMIT;
    use tinyshim_testkit::containerd::options::require_tinyshim;
    use tinyshim_testkit::ttrpc_client::{
        code, exec_request, process_request, Client, TASK_SERVICE,
    };

    #[test]
    fn a_full_event_queue_drops_exec_events_and_never_an_inits_exit() {
        require_tinyshim("a full event queue never drops an init's TaskExit");
        let mut containerd = daemon();
        let ctr = containerd.ctr();
        let ids: Vec<String> = (0..7).map(|n| format!("c{n}")).collect();
        let mut pids = Vec::new();
        for id in &ids {
            ctr.run(id, &["sleep", "1000"])
                .flag("--annotation")
                .flag("io.containerd.runc.v2.group=pod1")
                .detached()
                .ok();
            pids.push(ctr.wait_for_status(id, "RUNNING", LONG).pid as i32);
        }
        assert_eq!(containerd.shim_pids().len(), 1, "one shim serves the group");

        containerd.kill();
        // Six inits exit while nobody can hear of it...
        for &pid in &pids[1..] {
            kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill an init");
            eventually(LONG, "the init dies", || ended(pid));
        }
        // ...then far more exec events than the queue holds come after them.
        let mut client = Client::connect(&containerd.task_socket("c0")).expect("connect");
        for n in 0..QUEUE_LIMIT + 200 {
            let exec_id = format!("e{n}");
            let exec = exec_request("c0", &exec_id, &["true"], ["", "", ""]);
            let added = client.call(TASK_SERVICE, "Exec", &exec).expect("Exec");
            assert_eq!(added.code, code::OK, "{added:?}");
            let request = process_request("c0", &exec_id);
            let deleted = client
                .call(TASK_SERVICE, "Delete", &request)
                .expect("Delete");
            assert_eq!(deleted.code, code::OK, "{deleted:?}");
        }

        let log_before_restart = containerd.log().len();
        containerd.restart();
        // No exec was started, so every TaskExit is an init's.
        eventually(LONG, "the restarted daemon files the six exits", || {
            exits_filed_since(&containerd, log_before_restart) >= 6
        });
        assert_eq!(exits_filed_since(&containerd, log_before_restart), 6);
        for id in &ids[1..] {
            assert_eq!(
                ctr.task(id).expect("still listed").status,
                "STOPPED",
                "{id}"
            );
        }
    }

    #[test]
    fn the_delete_after_a_sigkilled_shim_removes_its_socket() {
        require_tinyshim("the shim binary's delete removes a dead shim's socket");
        let (containerd, socket) = super::kill_the_shim_of_a_running_task();
        assert!(
            socket.symlink_metadata().is_err(),
            "{} is left",
            socket.display()
        );
        assert_eq!(containerd.leftovers(), Vec::<String>::new());
    }
}
