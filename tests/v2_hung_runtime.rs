//! A runtime that hangs, under the v2 shim's time limit for runtime calls (tinyshim only:
//! `TINYSHIM_RUNTIME_TIMEOUT`, here 3 s): the call is killed with everything it started,
//! containerd hears which call failed and why, and the shim leaves nothing behind. The runc the
//! shim finds first on containerd's `PATH` is a wrapper whose `create` never returns, as a
//! runc stuck on a hook or a frozen cgroup would.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tinyshim::config::RUNTIME_TIMEOUT_ENV;
use tinyshim_testkit::containerd::options::require_tinyshim;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Mode;
use tinyshim_testkit::procfs::processes_mentioning;
use tinyshim_testkit::runc_wrapper::RuncWrapper;
use tinyshim_testkit::wait::{eventually, LONG};

/// `create` waits on a child that outlives a kill of the wrapper alone.
const HANGING_CREATE: &str = r#"#!/bin/sh
case " $* " in
*" create "*) sleep 987654; exit 0 ;;
esac
exec RUNC "$@"
"#;

/// The hung `create`'s child, as `/proc/<pid>/cmdline` spells it.
const HUNG_CHILD: &str = "sleep\u{0}987654";

#[test]
fn a_create_that_hangs_is_killed_with_its_children_at_the_limit_and_its_shim_leaves_nothing() {
    require_tinyshim("a runtime call is killed at its time limit");
    let wrapper = RuncWrapper::new("hung", HANGING_CREATE);
    let containerd = Containerd::start(wrapper.options().env(RUNTIME_TIMEOUT_ENV, "3"));
    let ctr = containerd.ctr();
    let line = ctr
        .run("c1", &["sleep", "1000"])
        .command_line(Mode::Detached);
    let mut run = Command::new(&line[0])
        .args(&line[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ctr run");
    eventually(LONG, "runc create to hang", || {
        !processes_mentioning(HUNG_CHILD).is_empty()
    });
    // What a user does about a run that does not return: neither can touch the task, which
    // containerd does not know before Create returns.
    ctr.output(&["tasks", "delete", "--force", "c1"]);
    ctr.output(&["containers", "rm", "c1"]);

    eventually(LONG, "ctr run to return", || {
        run.try_wait().ok().flatten().is_some()
    });
    let output = run.wait_with_output().expect("ctr run's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "ctr run succeeded: {stderr}");
    assert!(
        stderr.contains("runc create: did not return within 3 s: killed"),
        "ctr run's error does not say which call overstayed: {stderr}"
    );
    assert!(
        processes_mentioning(HUNG_CHILD).is_empty(),
        "the hung create's child outlived it"
    );
    // containerd shuts the shim down once Create failed; it exits once runc's removal of the
    // half-made container has returned.
    let by = Instant::now() + Duration::from_secs(20);
    let mut left = containerd.leftovers();
    while !left.is_empty() && Instant::now() < by {
        std::thread::sleep(Duration::from_millis(50));
        left = containerd.leftovers();
    }
    assert_eq!(left, Vec::<String>::new());
}
