//! Container logs through CRI with the shim under test (`TINYSHIM_V2_SHIM`): every line of a
//! container that exits at once is in its log, and ReopenContainerLog (the kubelet's log
//! rotation) carries on in a new file without losing a line.

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::cri::api::ContainerState;
use tinyshim_testkit::cri::{logged_output, parse_log, Cri, Pod};
use tinyshim_testkit::wait::LONG;

/// A CRI daemon and a pod on the default runtime.
fn pod() -> (Containerd, Cri, Pod) {
    let containerd = Containerd::start(Options::cri());
    let cri = containerd.cri();
    let pod = cri.run_pod("pod1", "");
    (containerd, cri, pod)
}

/// The numbers of a log's stdout lines, in order.
fn numbers(text: &str) -> Vec<u64> {
    logged_output(&parse_log(text), "stdout")
        .lines()
        .map(|line| {
            line.parse()
                .unwrap_or_else(|_| panic!("not a number: {line:?}"))
        })
        .collect()
}

#[test]
fn reopen_container_log_continues_in_a_new_file_at_the_same_path_without_losing_a_line() {
    let (_containerd, cri, pod) = pod();
    let script = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done";
    let id = cri.run_container(&pod, "counter", &["sh", "-c", script]);
    cri.wait_for_output(&id, "\n3\n", LONG);
    let path = std::path::PathBuf::from(cri.container_status(&id).log_path);
    let rotated = path.with_extension("log.1");
    std::fs::rename(&path, &rotated).expect("rotate the log");
    cri.reopen_container_log(&id);
    assert!(
        path.exists(),
        "ReopenContainerLog made no new {}",
        path.display()
    );
    cri.wait_for_output(&id, "\n", LONG);
    cri.stop_container(&id, 0);
    cri.wait_for_state(&id, ContainerState::ContainerExited, LONG);

    let old = numbers(&std::fs::read_to_string(&rotated).expect("the rotated log"));
    let new = numbers(&std::fs::read_to_string(&path).expect("the new log"));
    assert!(!new.is_empty(), "nothing in the new log");
    let all: Vec<u64> = old.iter().chain(&new).copied().collect();
    let expected: Vec<u64> = (1..=all.len() as u64).collect();
    assert_eq!(
        all,
        expected,
        "the rotated log's lines then the new log's ({} and {})",
        old.len(),
        new.len()
    );
}

mod tinyshim_only {
    use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
    use tinyshim_testkit::containerd::options::require_tinyshim;
    use tinyshim_testkit::cri::api::ContainerState;
    use tinyshim_testkit::cri::{logged_output, parse_log};
    use tinyshim_testkit::wait::LONG;

    #[test]
    fn the_log_of_a_container_that_exits_at_once_holds_every_line_it_wrote() {
        // The Go shim loses the end of this output: 10 to 21 % of its bytes in three runs
        // here, the log cut at a 4 KiB boundary.
        require_tinyshim("no output lost when the init exits");
        let (_containerd, cri, pod) = super::pod();
        let lines = 20_001;
        let id = cri.run_container(&pod, "seq", &["seq", "1", &lines.to_string()]);
        let status = cri.wait_for_state(&id, ContainerState::ContainerExited, LONG);
        assert_eq!(status.exit_code, 0, "{status:?}");
        // EXITED comes once CRI deleted the task; its log writer may still be writing the
        // last of the output, so wait for the last line before comparing.
        let last = format!("\n{lines}\n");
        let deadline = std::time::Instant::now() + LONG;
        let stdout = loop {
            let text = std::fs::read_to_string(&status.log_path).unwrap_or_default();
            let stdout = logged_output(&parse_log(&text), "stdout");
            if stdout.ends_with(&last) || std::time::Instant::now() > deadline {
                break stdout;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_same_bytes(stdout.as_bytes(), &seq_text(lines));
    }
}
