//! Pipe capacity is charged to root for the whole host: idle containers must hold no more pipe
//! pages than the original shim's, whatever they streamed before, so that root's other processes
//! (every container process, every service that drops capabilities) keep full-size pipes.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::process::Command;
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg};
use tinyshim_testkit::binaries::workspace_binary;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::fifo_reads::read_until;
use tinyshim_testkit::procfs::open_fds;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

/// The kernel's default pipe capacity.
const DEFAULT: i32 = 64 * 1024;

/// Pipes and FIFOs an idle container costs, as the original shim holds them: the stdin, stdout
/// and stderr pipes and FIFOs, `exit` and `control`, each at the default 16 pages.
const PIPES_PER_CONTAINER: usize = 8;

/// How long an idle stream keeps enlarged pipes at most: one look to see it idle, one to shrink.
const GIVE_BACK: Duration = Duration::from_secs(3);

fn capacity(file: &File) -> i32 {
    fcntl(file, FcntlArg::F_GETPIPE_SZ).expect("F_GETPIPE_SZ")
}

/// Every distinct pipe or FIFO `pid` holds, reopened through /proc, by inode.
fn pipes_of(pid: i32) -> Vec<File> {
    let mut seen = HashSet::new();
    let mut pipes = Vec::new();
    for fd in open_fds(pid) {
        let path = format!("/proc/{pid}/fd/{fd}");
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        if !meta.file_type().is_fifo() || !seen.insert(meta.ino()) {
            continue;
        }
        if let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path)
        {
            pipes.push(file);
        }
    }
    pipes
}

/// The capacity of a pipe made now by a root process without CAP_SYS_RESOURCE.
fn unprivileged_pipe_capacity() -> i32 {
    let output = Command::new(workspace_binary("unprivileged-pipe"))
        .output()
        .expect("run unprivileged-pipe");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a capacity")
}

#[test]
fn fifty_idle_containers_that_streamed_leave_unprivileged_pipes_their_full_size() {
    let soft = std::fs::read_to_string("/proc/sys/fs/pipe-user-pages-soft").expect("limit");
    assert_eq!(
        soft.trim(),
        "16384",
        "the test is sized for the default limit"
    );
    let mut running = Vec::new();
    for _ in 0..50 {
        // Each streams 2 MiB (enough to enlarge its pipes), which the daemon reads, then idles.
        let container = Container::new(Spec::sh("head -c 2097152 /dev/zero; exec sleep 600"));
        let (mut init, _) = container.run();
        let out = read_until(
            init.dir.stdout.as_mut().expect("stdout reader"),
            LONG,
            |out| out.len() >= 2 << 20,
        );
        assert_eq!(out.len(), 2 << 20);
        running.push((container, init));
    }
    driver_pause(GIVE_BACK);
    assert_eq!(
        unprivileged_pipe_capacity(),
        DEFAULT,
        "a new pipe of root without CAP_SYS_RESOURCE"
    );
    for (_, init) in &running {
        let pipes = pipes_of(init.shim_pid());
        assert!(
            pipes.len() <= PIPES_PER_CONTAINER,
            "{} pipes in one shim",
            pipes.len()
        );
        for pipe in &pipes {
            assert_eq!(capacity(pipe), DEFAULT, "an idle shim's pipe");
        }
    }
}

#[test]
fn a_stream_enlarges_its_pipes_and_gives_them_back_once_idle() {
    let container = Container::new(Spec::sh(
        "read go; head -c 16777216 /dev/zero; exec sleep 600",
    ));
    let (mut init, pid) = container.run();
    assert_eq!(
        capacity(init.dir.stdout.as_ref().expect("stdout reader")),
        DEFAULT,
        "idle before the stream"
    );
    init.type_in(b"go\n");
    let stdout = init.dir.stdout.as_mut().expect("stdout reader");
    // Not reading: the stream fills the pipe and the FIFO, which grow.
    eventually(LONG, "the stdout FIFO enlarged", || {
        capacity(stdout) > DEFAULT
    });
    let container_stdout = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(format!("/proc/{pid}/fd/1"))
        .expect("reopen the container's stdout pipe");
    assert!(capacity(&container_stdout) > DEFAULT, "the pipe enlarged");
    let out = read_until(stdout, LONG, |out| out.len() >= 16 << 20);
    assert_eq!(out.len(), 16 << 20);
    driver_pause(GIVE_BACK);
    assert_eq!(capacity(stdout), DEFAULT, "the FIFO is back to the default");
    assert_eq!(capacity(&container_stdout), DEFAULT, "the pipe is back too");
}

fn driver_pause(duration: Duration) {
    tinyshim_testkit::driver::pause(duration);
}
