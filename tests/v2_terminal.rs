//! `ctr run -t` through the v2 shim under test (`TINYSHIM_V2_SHIM`): the terminal's size at
//! the start and after a resize of ctr's own terminal, and a megabyte of output with nothing
//! lost at the end (tinyshim-only: the Go shim loses the tail now and then).

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::pty::PRINT_TERMINAL_SIZE;
use tinyshim_testkit::wait::LONG;

fn daemon() -> Containerd {
    Containerd::start(Options::under_test())
}

#[test]
fn a_terminal_run_sees_the_size_of_ctrs_terminal() {
    let containerd = daemon();
    let terminal = containerd
        .ctr()
        .run("c1", &["sh", "-c", PRINT_TERMINAL_SIZE])
        .rm()
        .terminal(24, 80);
    assert_eq!(terminal.finish(LONG).success_text(), "size=24 80\r\n");
}

#[test]
fn a_resize_of_ctrs_terminal_reaches_the_container() {
    let containerd = daemon();
    let script = format!(
        "{PRINT_TERMINAL_SIZE}; while [ \"$(stty size)\" = \"$s\" ]; do sleep 0.01; done; \
         echo \"resized=$(stty size)\""
    );
    let terminal = containerd
        .ctr()
        .run("c1", &["sh", "-c", &script])
        .rm()
        .terminal(24, 80);
    terminal.wait_for(b"size=24 80\r\n", LONG);
    terminal.resize(50, 132);
    assert_eq!(
        terminal.finish(LONG).success_text(),
        "size=24 80\r\nresized=50 132\r\n"
    );
}

mod tinyshim_only {
    use std::time::Instant;

    use tinyshim_testkit::containerd::options::{require_tinyshim, Options};
    use tinyshim_testkit::containerd::Containerd;
    use tinyshim_testkit::wait::LONG;

    /// A mebibyte in numbered lines of 1 KiB. Long lines keep each run short: the terminals'
    /// newline processing made 1 MiB of `seq` output take five times as long here.
    const MEBIBYTE: &str = "awk 'BEGIN { pad = sprintf(\"%1016s\", \"\"); gsub(/ /, \"x\", pad); \
                            for (i = 1; i <= 1024; i++) printf \"%06d %s\\n\", i, pad }'";

    /// Runs of the tail-loss check. The Go shim lost bytes in about 1 run in 10 here.
    const RUNS: usize = 200;
    /// Runs at a time.
    const WORKERS: usize = 4;

    #[test]
    fn a_terminal_run_printing_a_mebibyte_loses_nothing_in_200_runs() {
        require_tinyshim("no tail loss on a terminal in 200 runs");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        // The container's terminal turns each newline into CR LF.
        let pad = "x".repeat(1016);
        let expected: Vec<u8> = (1..=1024)
            .flat_map(|line| format!("{line:06} {pad}\r\n").into_bytes())
            .collect();
        let started = Instant::now();
        // Four runs at a time: the whole check stays short, and a loaded machine widens the
        // window in which a shim that reports the exit before draining the terminal loses
        // its tail.
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let ctr = ctr.clone();
                let expected = expected.clone();
                std::thread::spawn(move || {
                    let mut short = Vec::new();
                    for run in (worker..RUNS).step_by(WORKERS) {
                        let finished = ctr
                            .run(&format!("c{run}"), &["sh", "-c", MEBIBYTE])
                            .rm()
                            .terminal(24, 80)
                            .finish(LONG);
                        assert!(
                            finished.status.success(),
                            "run {run}: {:?}",
                            finished.status
                        );
                        if finished.output != expected {
                            let prefix = expected.starts_with(&finished.output);
                            short.push((run, finished.output.len(), prefix));
                        }
                    }
                    short
                })
            })
            .collect();
        let mut short: Vec<(usize, usize, bool)> = workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker of the tail-loss check"))
            .collect();
        short.sort_unstable();
        assert!(
            short.is_empty(),
            "{} of {RUNS} runs lost or changed output (run, bytes of {}, whether what came is \
             the start of what was printed): {short:?}",
            short.len(),
            expected.len()
        );
        eprintln!("{RUNS} terminal runs of a MiB in {:?}", started.elapsed());
    }
}
