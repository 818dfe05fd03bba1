//! The task events containerd publishes for what the v2 shim under test (`TINYSHIM_V2_SHIM`)
//! reports, as a background `ctr events` sees them: their topics in order for a whole task
//! life, and no exit before the start it belongs to.

use std::time::Duration;

use serde_json::Value;
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::events::Event;
use tinyshim_testkit::wait::LONG;

/// The `/tasks/...` events of container `id`, in arrival order.
fn task_events(events: &[Event], id: &str) -> Vec<Event> {
    events
        .iter()
        .filter(|event| event.topic.starts_with("/tasks/"))
        .filter(|event| event.payload["container_id"] == id)
        .cloned()
        .collect()
}

/// The event's process: the exec id, or the container id for the init. The Go shim's
/// `/tasks/delete` of an init leaves its `id` empty; `/tasks/exit` names the container.
fn process_of(event: &Event) -> String {
    let field = match event.topic.as_str() {
        "/tasks/exec-added" | "/tasks/exec-started" => "exec_id",
        "/tasks/exit" | "/tasks/delete" => "id",
        _ => "container_id",
    };
    match event.payload[field].as_str() {
        Some(process) if !process.is_empty() => process.to_string(),
        _ => event.payload["container_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

#[test]
fn a_task_life_publishes_create_start_exec_pause_resume_exit_and_delete_in_order() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    let events = ctr.events();
    ctr.run("c1", &["sleep", "1000"]).detached().ok();
    let pid = ctr.wait_for_status("c1", "RUNNING", LONG).pid;
    let exec = ctr.exec("c1", "e1", &["sh", "-c", "exit 3"]).attached();
    assert_eq!(exec.code(), Some(3), "{exec}");
    ctr.pause("c1").ok();
    ctr.resume("c1").ok();
    ctr.kill("c1", "SIGKILL").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);
    ctr.delete_task("c1").ok();
    events.wait_for(LONG, |event| {
        event.topic == "/tasks/delete" && process_of(event) == "c1"
    });
    // Anything published late would come within this; nothing more is expected.
    std::thread::sleep(Duration::from_millis(200));
    let seen = task_events(&events.stop(), "c1");

    // The Go shim publishes no /tasks/delete for an exec; one, if published, belongs after
    // the exec's exit.
    let exec_delete = seen
        .iter()
        .position(|e| e.topic == "/tasks/delete" && process_of(e) == "e1");
    if let Some(at) = exec_delete {
        let exit = seen
            .iter()
            .position(|e| e.topic == "/tasks/exit" && process_of(e) == "e1");
        assert!(
            exit.is_some_and(|exit| exit < at),
            "exec delete before its exit: {seen:?}"
        );
    }
    let topics: Vec<(String, String)> = seen
        .iter()
        .enumerate()
        .filter(|(at, _)| Some(*at) != exec_delete)
        .map(|(_, e)| (e.topic.clone(), process_of(e)))
        .collect();
    let expected: Vec<(String, String)> = [
        ("/tasks/create", "c1"),
        ("/tasks/start", "c1"),
        ("/tasks/exec-added", "e1"),
        ("/tasks/exec-started", "e1"),
        ("/tasks/exit", "e1"),
        ("/tasks/paused", "c1"),
        ("/tasks/resumed", "c1"),
        ("/tasks/exit", "c1"),
        ("/tasks/delete", "c1"),
    ]
    .iter()
    .map(|(topic, process)| (topic.to_string(), process.to_string()))
    .collect();
    assert_eq!(topics, expected, "all events: {seen:?}");

    let field = |topic: &str, process: &str, name: &str| -> Value {
        seen.iter()
            .find(|e| e.topic == topic && process_of(e) == process)
            .map(|e| e.payload[name].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(field("/tasks/create", "c1", "pid"), pid);
    assert_eq!(field("/tasks/start", "c1", "pid"), pid);
    assert_eq!(field("/tasks/exit", "c1", "pid"), pid);
    assert_eq!(field("/tasks/exit", "c1", "exit_status"), 137);
    assert_eq!(field("/tasks/delete", "c1", "exit_status"), 137);
    assert_eq!(field("/tasks/exit", "e1", "exit_status"), 3);
    let exec_pid = field("/tasks/exec-started", "e1", "pid");
    assert!(exec_pid.as_u64().is_some_and(|p| p > 0), "{seen:?}");
    assert_eq!(field("/tasks/exit", "e1", "pid"), exec_pid);
}

#[test]
fn processes_that_exit_at_once_never_have_their_exit_published_before_their_start() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    let events = ctr.events();
    ctr.run("c1", &["sleep", "1000"]).detached().ok();
    ctr.wait_for_status("c1", "RUNNING", LONG);
    let execs = 10;
    for n in 0..execs {
        ctr.exec("c1", &format!("e{n}"), &["true"]).attached().ok();
    }
    ctr.run("c2", &["true"]).rm().attached().ok();
    events.wait_for(LONG, |event| {
        event.topic == "/tasks/delete" && process_of(event) == "c2"
    });
    let all = events.stop();

    let mut checked = 0;
    for (container, process, start_topic) in (0..execs)
        .map(|n| ("c1", format!("e{n}"), "/tasks/exec-started"))
        .chain([("c2", "c2".to_string(), "/tasks/start")])
    {
        let seen = task_events(&all, container);
        let at = |topic: &str| {
            seen.iter()
                .position(|e| e.topic == topic && process_of(e) == process)
        };
        let (start, exit) = (at(start_topic), at("/tasks/exit"));
        assert!(
            start.is_some() && exit.is_some() && start < exit,
            "{process}: {start_topic} at {start:?}, /tasks/exit at {exit:?}: {seen:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, execs + 1);
}
