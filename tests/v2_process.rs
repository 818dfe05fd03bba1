//! What only the v2 shim's process shows (`TINYSHIM_V2_SHIM`): it keeps nothing of
//! containerd's `start` call, whose output containerd reads to EOF, and that call says nothing
//! on stderr, which containerd would take into the address. And, tinyshim-only, one thread.
//!
//! The shim runs behind a wrapper of the test's, first on the daemon's `PATH` under the
//! runtime's binary name, that records the `start` call's descriptors and its stderr and then
//! execs the real binary.

use std::path::{Path, PathBuf};

use tinyshim_testkit::containerd::options::{Options, ShimUnderTest};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::procfs::fd_targets;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::script::write_script;
use tinyshim_testkit::wait::LONG;

/// A daemon whose shim is started through the recording wrapper, with a detached `c1`
/// sleeping; the scratch directory holds `start-fds` and `start-stderr`.
struct Recorded {
    containerd: Containerd,
    dir: Scratch,
}

impl Recorded {
    fn start() -> Recorded {
        let shim = ShimUnderTest::selected();
        let options = shim.options();
        let dir = Scratch::new("wrapped");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("create bin/");
        // containerd resolves runtime io.containerd.<name>.<version> to this binary name.
        let mut parts = options.runtime.rsplit('.');
        let version = parts.next().expect("runtime version");
        let name = parts.next().expect("runtime name");
        let wrapper = bin.join(format!("containerd-shim-{name}-{version}"));
        let script = format!(
            "#!/bin/sh\n\
             for last; do :; done\n\
             if [ \"$last\" = start ]; then\n\
             \x20 fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)\n\
             \x20 echo \"$fds\" > {dir}/start-fds\n\
             \x20 exec {real} \"$@\" 2>> {dir}/start-stderr\n\
             fi\n\
             exec {real} \"$@\"\n",
            dir = dir.path().display(),
            real = shim.binary().display()
        );
        write_script(&wrapper, &script);
        let containerd = Containerd::start(Options {
            shim_dir: Some(bin),
            ..options
        });
        let ctr = containerd.ctr();
        ctr.run("c1", &["sleep", "1000"]).detached().ok();
        ctr.wait_for_status("c1", "RUNNING", LONG);
        Recorded { containerd, dir }
    }

    fn record(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn the_serving_shim_holds_no_descriptor_of_the_start_call() {
    let recorded = Recorded::start();
    let start_fds = std::fs::read_to_string(recorded.record("start-fds"))
        .expect("the wrapper recorded start's descriptors");
    // containerd gives `start` pipes (stdin: the runtime options; stdout and stderr: one
    // pipe it reads to EOF). /dev/null would be harmless to share.
    let pipes: Vec<PathBuf> = start_fds
        .lines()
        .filter(|target| target.starts_with("pipe:"))
        .map(PathBuf::from)
        .collect();
    assert_eq!(start_fds.lines().count(), 3, "{start_fds}");
    assert!(!pipes.is_empty(), "start had no pipes: {start_fds}");
    let stderr_file = recorded.record("start-stderr");
    let shim = recorded.containerd.shim_pid("c1");
    let held: Vec<PathBuf> = fd_targets(shim)
        .into_iter()
        .filter(|target| pipes.contains(target) || target == &stderr_file)
        .collect();
    assert_eq!(
        held,
        Vec::<PathBuf>::new(),
        "the shim {shim} holds descriptors of its start call ({start_fds:?}); all its fds: {:?}",
        fd_targets(shim)
    );
}

#[test]
fn the_start_call_writes_nothing_on_stderr() {
    let recorded = Recorded::start();
    let stderr = std::fs::read(recorded.record("start-stderr"))
        .expect("the wrapper recorded start's stderr");
    assert_eq!(String::from_utf8_lossy(&stderr), "");
}

mod tinyshim_only {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
    use tinyshim_testkit::containerd::options::{require_tinyshim, Options};
    use tinyshim_testkit::containerd::Containerd;
    use tinyshim_testkit::wait::LONG;

    use super::threads_of;

    #[test]
    fn the_serving_shim_has_one_thread_while_a_container_and_its_execs_run() {
        require_tinyshim("one thread");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        ctr.run("c1", &["sleep", "1000"]).detached().ok();
        ctr.wait_for_status("c1", "RUNNING", LONG);
        let shim = containerd.shim_pid("c1");
        assert_eq!(threads_of(shim), 1, "with the init running");

        ctr.exec("c1", "sleeper", &["sleep", "1000"])
            .detached()
            .ok();
        assert_eq!(threads_of(shim), 1, "with a detached exec running");

        // Sampled while an exec streams: a helper thread for a copy would show here.
        let lines = 300_000;
        let streaming = Arc::new(AtomicBool::new(true));
        let exec = {
            let ctr = ctr.clone();
            let streaming = Arc::clone(&streaming);
            std::thread::spawn(move || {
                let output = ctr
                    .exec("c1", "streamer", &["seq", "1", &lines.to_string()])
                    .attached();
                streaming.store(false, Ordering::SeqCst);
                output
            })
        };
        let mut samples = 0;
        while streaming.load(Ordering::SeqCst) {
            assert_eq!(
                threads_of(shim),
                1,
                "while an exec streams (sample {samples})"
            );
            samples += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        let output = exec.join().expect("the streaming exec");
        assert_eq!(output.code(), Some(0), "{output}");
        assert_same_bytes(&output.stdout, &seq_text(lines));
        assert!(samples > 0, "no sample was taken while the exec ran");
        ctr.kill_exec("c1", "sleeper", "SIGKILL").ok();
    }
}

/// The threads of `pid`, from its task directory.
fn threads_of(pid: i32) -> usize {
    std::fs::read_dir(Path::new(&format!("/proc/{pid}/task")))
        .map(|entries| entries.count())
        .unwrap_or(0)
}
