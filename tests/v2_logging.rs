//! `ctr run --log-uri` through the v2 shim under test (`TINYSHIM_V2_SHIM`): a `file://` URI
//! gets stdout and stderr in one file, a `binary://` URI starts a logger that reads them from
//! fds 3 and 4 and says it is ready on fd 5 (PROTOCOL-V2.md 6.2).

use tinyshim_testkit::assertions::{assert_same_bytes, seq_text};
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::script::write_script;
use tinyshim_testkit::wait::{eventually, LONG};

/// What the container prints: two lines on stderr around a long stdout. Each `echo` is one
/// write, so each stderr line lands in a shared file whole, wherever it falls.
const SCRIPT: &str = "echo first-on-stderr >&2; seq 1 100000; echo last-on-stderr >&2; exit 5";
const LINES: u64 = 100_000;

fn daemon() -> Containerd {
    Containerd::start(Options::under_test())
}

#[test]
fn a_file_log_uri_gets_all_of_stdout_and_stderr() {
    let containerd = daemon();
    let logs = Scratch::new("log");
    // The shim makes the missing directory.
    let log = logs.path().join("sub/c1.log");
    let output = containerd
        .ctr()
        .run("c1", &["sh", "-c", SCRIPT])
        .rm()
        .flag("--log-uri")
        .flag(&format!("file://{}", log.display()))
        .attached();
    assert_eq!(output.code(), Some(5), "{output}");
    assert_eq!(
        output.stdout_text(),
        "",
        "ctr gets no output of a logged container"
    );
    let text = std::fs::read_to_string(&log).expect("read the log file");
    let mut rest = text.clone();
    for line in ["first-on-stderr\n", "last-on-stderr\n"] {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} is not in the log"));
        rest.replace_range(at..at + line.len(), "");
    }
    assert_same_bytes(rest.as_bytes(), &seq_text(LINES));
}

#[test]
fn a_binary_log_uri_starts_the_logger_with_the_container_its_arguments_and_both_streams() {
    let containerd = daemon();
    let dir = Scratch::new("logger");
    let out = dir.path();
    let logger = out.join("logger.sh");
    // Records what it was given, signals ready with one byte on fd 5, and copies fds 3 and 4
    // (its copies closing fd 5 first, so that only the byte says ready). The Go shim sends
    // its logger SIGTERM once the streams are closed, to let it flush: this one finishes its
    // copies first.
    let script = format!(
        "#!/bin/sh\n\
         trap '' TERM\n\
         cd {out}\n\
         echo \"$CONTAINER_ID $CONTAINER_NAMESPACE\" > identity\n\
         echo \"$@\" > argv\n\
         for fd in 3 4 5; do readlink /proc/$$/fd/$fd; done > fds\n\
         cat <&3 5>&- > stdout &\n\
         cat <&4 5>&- > stderr &\n\
         printf x >&5\n\
         exec 5>&-\n\
         wait\n\
         touch done\n",
        out = out.display()
    );
    write_script(&logger, &script);
    let ctr = containerd.ctr();
    let output = ctr
        .run("c1", &["sh", "-c", SCRIPT])
        .rm()
        .flag("--log-uri")
        .flag(&format!("binary://{}?tag=web", logger.display()))
        .attached();
    assert_eq!(output.code(), Some(5), "{output}");

    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    eventually(LONG, "the logger sees both streams end", || {
        out.join("done").exists()
    });
    assert_eq!(read("identity"), format!("c1 {}\n", ctr.namespace()));
    assert_eq!(read("argv"), "tag web\n");
    let fds = read("fds");
    let kinds: Vec<&str> = fds
        .lines()
        .map(|target| target.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["pipe", "pipe", "pipe"], "fds 3, 4, 5: {fds}");
    assert_same_bytes(read("stdout").as_bytes(), &seq_text(LINES));
    assert_eq!(read("stderr"), "first-on-stderr\nlast-on-stderr\n");
}
