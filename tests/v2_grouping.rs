//! Containers grouped into one v2 shim (`TINYSHIM_V2_SHIM`) by the
//! `io.containerd.runc.v2.group` annotation of their spec (`ctr run --annotation` puts it in
//! config.json): one shim process serves them all, each lives and dies on its own, and the
//! shim exits with the last of them.

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Ctr;
use tinyshim_testkit::procfs::{alive, ended};
use tinyshim_testkit::wait::{eventually, LONG};

/// The annotation the runc shims group containers by.
const GROUP: &str = "io.containerd.runc.v2.group=pod1";
const IDS: [&str; 3] = ["c1", "c2", "c3"];

/// Starts a daemon and the three grouped containers, sleeping until they are killed.
fn daemon_with_a_group() -> (Containerd, Ctr) {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    for id in IDS {
        ctr.run(id, &["sleep", "1000"])
            .flag("--annotation")
            .flag(GROUP)
            .detached()
            .ok();
        ctr.wait_for_status(id, "RUNNING", LONG);
    }
    (containerd, ctr)
}

#[test]
fn containers_of_one_group_share_one_shim_and_each_runs_execs_and_dies_alone() {
    let (containerd, ctr) = daemon_with_a_group();
    let shims = containerd.shim_pids();
    assert_eq!(shims.len(), 1, "shim processes of the namespace: {shims:?}");
    for id in IDS {
        let spec: serde_json::Value = serde_json::from_slice(
            &std::fs::read(containerd.bundle(id).join("config.json")).expect("config.json"),
        )
        .expect("config.json is JSON");
        let (key, value) = GROUP.split_once('=').expect("key=value");
        assert_eq!(
            spec["annotations"][key], value,
            "{id}'s spec carries the group"
        );
        assert_eq!(containerd.shim_pid(id), shims[0], "the shim serving {id}");
        let output = ctr
            .exec(id, "e1", &["sh", "-c", &format!("echo in-{id}; exit 4")])
            .attached();
        assert_eq!(output.code(), Some(4), "{output}");
        assert_eq!(output.stdout_text(), format!("in-{id}\n"), "{output}");
    }

    let c2 = ctr.task("c2").expect("c2 is listed");
    ctr.kill("c2", "SIGKILL").ok();
    ctr.wait_for_status("c2", "STOPPED", LONG);
    assert!(ended(c2.pid as i32), "c2's init outlived SIGKILL");
    assert_eq!(ctr.delete_task_status("c2"), 137);
    for id in ["c1", "c3"] {
        let task = ctr.task(id).expect("the others are still listed");
        assert_eq!(task.status, "RUNNING", "{task:?}");
        assert!(alive(task.pid as i32), "{id} died with c2");
    }
    let output = ctr.exec("c3", "e2", &["echo", "still"]).attached().ok();
    assert_eq!(output.stdout_text(), "still\n");
}

#[test]
fn a_group_shim_exits_only_once_its_last_container_is_deleted() {
    let (containerd, ctr) = daemon_with_a_group();
    let shim = containerd.shim_pids()[0];
    for (deleted, id) in IDS.iter().enumerate() {
        ctr.kill(id, "SIGKILL").ok();
        ctr.wait_for_status(id, "STOPPED", LONG);
        ctr.delete_task(id).ok();
        if deleted + 1 < IDS.len() {
            // Shutdown follows each delete: a shim that obeyed it with tasks left would be
            // gone by the next ctr command.
            assert_eq!(ctr.tasks().len(), IDS.len() - deleted - 1);
            assert!(
                alive(shim),
                "the shim exited with {id}, before the last container"
            );
        }
    }
    eventually(LONG, "the shim exits after its last task", || ended(shim));
    for id in IDS {
        ctr.delete_container(id).ok();
    }
    assert_eq!(containerd.leftovers(), Vec::<String>::new());
}
