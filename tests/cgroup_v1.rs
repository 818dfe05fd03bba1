//! `tinyshim::v2::cgroup` against the kernel on a cgroup v1 host: cgroups the tests make under
//! unique names, processes moved into them, Stats read from them, OOM kills watched through a
//! real [`EventLoop`] as the shim registers them. A hybrid host's cgroup2 mount serves for the
//! v2 files that exist without controllers (`cpu.stat`, the pressure files).
//!
//! They need root and a v1 (or hybrid) host with the memory, cpu, cpuacct, pids and blkio
//! controllers, and `/bin/busybox`. Elsewhere they fail saying so: a check that did not run is
//! not a pass. Whatever happens, the processes are killed and the cgroups removed.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tinyshim::event_loop::{EventLoop, Registry};
use tinyshim::v2::cgroup::{
    Cgroup, Controller, Host, Metrics, Mode, OomWatcher, StatsError, V1Paths, CGROUP_ROOT,
};
use tinyshim::v2::proto::cgroups::{v1, v2};

/// Far longer than anything here takes on a loaded machine: only a hang reaches it.
const LONG: Duration = Duration::from_secs(60);

/// The watcher's route, and the deadline that ends a wait that would never end.
const WATCHER: u8 = 1;
const GIVE_UP: u8 = 2;

/// A limit the OOM tests' processes exceed fourfold.
const MEMORY_LIMIT: &str = "16777216";

/// A process that allocates and touches 64 MiB, far over [`MEMORY_LIMIT`].
const MEMORY_HOG: &str = "/bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1";

/// A shell doubling a string until it runs out of memory, touching every page from user space:
/// memcg v1 parks a task in the OOM of a cgroup whose killer is disabled (and notifies) only
/// for a fault from user space, while [`MEMORY_HOG`]'s pages are first touched by the kernel in
/// `read(2)`, where a refused charge is an error to the caller instead.
const USER_SPACE_HOG: &str = "/bin/sh -c 'x=0123456789; while :; do x=$x$x; done'";

// ----------------------------------------------------------------------------------------------
// Cgroups and processes that clean up after themselves

/// The host, checked to be one these tests can run on.
fn v1_host() -> Host {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests make cgroups: run them as root"
    );
    let host = Host::detect().expect("detect the host's cgroups");
    assert_eq!(
        host.mode(),
        Mode::V1,
        "these tests need a cgroup v1 or hybrid host"
    );
    for controller in [
        Controller::Memory,
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Pids,
        Controller::Blkio,
    ] {
        assert!(
            host.v1_mount(controller).is_some(),
            "no v1 {controller:?} hierarchy on this host"
        );
    }
    assert!(
        Path::new("/bin/busybox").exists(),
        "these tests need /bin/busybox (busybox-static)"
    );
    host
}

static CGROUPS: AtomicUsize = AtomicUsize::new(0);

/// A cgroup of a unique name in some v1 hierarchies, removed on drop.
struct TestCgroup {
    dirs: Vec<(Controller, PathBuf)>,
}

impl TestCgroup {
    fn new(host: &Host, controllers: &[Controller]) -> TestCgroup {
        let name = format!(
            "tinyshim-cgroup-test-{}-{}",
            std::process::id(),
            CGROUPS.fetch_add(1, Ordering::Relaxed)
        );
        let mut cgroup = TestCgroup { dirs: Vec::new() };
        for &controller in controllers {
            let mount = host.v1_mount(controller).expect("a mounted hierarchy");
            let dir = mount.join(&name);
            std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            cgroup.dirs.push((controller, dir));
        }
        cgroup
    }

    fn dir(&self, controller: Controller) -> &Path {
        self.dirs
            .iter()
            .find(|(c, _)| *c == controller)
            .map(|(_, dir)| dir.as_path())
            .expect("a controller of this cgroup")
    }

    fn set(&self, controller: Controller, file: &str, value: &str) {
        let path = self.dir(controller).join(file);
        std::fs::write(&path, value).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    fn read(&self, controller: Controller, file: &str) -> String {
        let path = self.dir(controller).join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Moves `pid` into every hierarchy of the cgroup.
    fn adopt(&self, pid: u32) {
        for (_, dir) in &self.dirs {
            let procs = dir.join("cgroup.procs");
            std::fs::write(&procs, pid.to_string())
                .unwrap_or_else(|e| panic!("write {}: {e}", procs.display()));
        }
    }

    /// The cgroup as the shim would keep it, built without `/proc`.
    fn paths(&self) -> V1Paths {
        let mut paths = V1Paths::default();
        for (controller, dir) in &self.dirs {
            paths.set(*controller, dir.clone());
        }
        paths
    }

    /// Removes the directories, retrying while the kernel still counts an exited process.
    fn remove(&mut self) {
        for (_, dir) in self.dirs.drain(..) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Err(e) = std::fs::remove_dir(&dir) {
                if e.raw_os_error() != Some(nix::libc::EBUSY) || Instant::now() > deadline {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        eprintln!("rmdir {}: {e}", dir.display());
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A shell waiting on its stdin before it execs a command, so that the test can move it into
/// a cgroup first: the command then runs, and allocates, entirely inside.
struct Parked {
    child: Child,
    stdin: Option<ChildStdin>,
    status: Option<ExitStatus>,
}

impl Parked {
    fn spawn(command: &str) -> Parked {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("read go && exec {command}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn /bin/sh");
        let stdin = child.stdin.take();
        Parked {
            child,
            stdin,
            status: None,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn release(&mut self) {
        let mut stdin = self.stdin.take().expect("released once");
        stdin.write_all(b"go\n").expect("release the shell");
    }

    fn wait(&mut self) -> ExitStatus {
        let status = self.child.wait().expect("wait for the child");
        self.status = Some(status);
        status
    }

    fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.wait();
        }
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.kill();
    }
}

fn v1_metrics(cgroup: &Cgroup, host: &Host) -> v1::Metrics {
    match cgroup.metrics(host).expect("stats") {
        Metrics::V1(metrics) => metrics,
        other => panic!("a v1 host gave {other:?}"),
    }
}

/// Runs the loop until the watcher's route is ready and hands it to the watcher; the keys it
/// reported. Fails if the route never becomes ready.
fn next_report(
    event_loop: &mut EventLoop<u8>,
    watcher: &mut OomWatcher<u8, &'static str>,
) -> Vec<&'static str> {
    let give_up = event_loop.set_timer(Instant::now() + LONG, GIVE_UP);
    let mut ready = Vec::new();
    loop {
        ready.clear();
        event_loop.wait(&mut ready).expect("wait");
        assert!(
            !ready.contains(&GIVE_UP),
            "the watcher's route never became ready (rechecking: {})",
            watcher.rechecking()
        );
        if ready.contains(&WATCHER) {
            event_loop.cancel_timer(give_up);
            let mut kills = Vec::new();
            watcher.on_ready(event_loop, &mut kills).expect("on_ready");
            return kills;
        }
    }
}

/// Reads the cgroup's metrics until `done` holds for them, and returns them.
fn wait_for(
    cgroup: &Cgroup,
    host: &Host,
    what: &str,
    done: impl Fn(&v1::Metrics) -> bool,
) -> v1::Metrics {
    let deadline = Instant::now() + LONG;
    loop {
        let metrics = v1_metrics(cgroup, host);
        if done(&metrics) {
            return metrics;
        }
        assert!(
            Instant::now() < deadline,
            "waited in vain for {what}: {metrics:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ----------------------------------------------------------------------------------------------
// Location and Stats

#[test]
fn a_process_moved_into_a_cgroup_is_located_there_from_proc() {
    let host = v1_host();
    let cgroup = TestCgroup::new(
        &host,
        &[Controller::Memory, Controller::Pids, Controller::Cpu],
    );
    let mut child = Parked::spawn("/bin/sleep 1000");
    cgroup.adopt(child.pid());
    let pid = i32::try_from(child.pid()).expect("a pid");
    let Cgroup::V1(paths) = host.cgroup_of(pid).expect("located") else {
        panic!("v1 host");
    };
    assert_eq!(
        paths.get(Controller::Memory),
        Some(cgroup.dir(Controller::Memory))
    );
    assert_eq!(
        paths.get(Controller::Pids),
        Some(cgroup.dir(Controller::Pids))
    );
    assert_eq!(
        paths.get(Controller::Cpu),
        Some(cgroup.dir(Controller::Cpu))
    );
    let untouched = paths.get(Controller::Blkio).expect("blkio is mounted");
    assert!(
        untouched.starts_with(CGROUP_ROOT) && untouched != cgroup.dir(Controller::Memory),
        "blkio stays where the test left it: {}",
        untouched.display()
    );
    child.kill();
    assert!(
        host.cgroup_of(pid).is_err(),
        "a reaped process has no /proc entry"
    );
}

#[test]
fn a_busy_process_shows_memory_rising_cpu_and_one_pid_then_its_removed_cgroup_is_not_found() {
    let host = v1_host();
    let mut test_cgroup = TestCgroup::new(
        &host,
        &[
            Controller::Memory,
            Controller::Cpu,
            Controller::Cpuacct,
            Controller::Pids,
            Controller::Blkio,
        ],
    );
    let mut child = Parked::spawn("/bin/sh -c 'while :; do :; done'");
    test_cgroup.adopt(child.pid());
    child.release();
    let cgroup = host
        .cgroup_of(i32::try_from(child.pid()).expect("a pid"))
        .expect("located");

    // The shell execs once released: its new pages are charged here, its time counted here.
    let first = wait_for(&cgroup, &host, "memory charged to the cgroup", |metrics| {
        metrics
            .memory
            .as_ref()
            .and_then(|memory| memory.usage.as_ref())
            .is_some_and(|usage| usage.usage > 0)
    });
    assert!(first.memory_oom_control.is_some());
    assert_eq!(
        first.pids,
        Some(v1::PidsStat {
            current: 1,
            limit: 0
        }),
        "one process, and pids.max is max"
    );
    let usage = first
        .cpu
        .as_ref()
        .and_then(|cpu| cpu.usage.clone())
        .expect("cpu usage");
    assert!(!usage.per_cpu.is_empty(), "one value per possible CPU");
    assert!(first
        .cpu
        .as_ref()
        .is_some_and(|cpu| cpu.throttling.is_some()));
    assert!(first.blkio.is_some());
    wait_for(&cgroup, &host, "CPU usage to rise", |later| {
        later
            .cpu
            .as_ref()
            .and_then(|cpu| cpu.usage.as_ref())
            .is_some_and(|later| later.total > usage.total)
    });

    child.kill();
    test_cgroup.remove();
    match cgroup.stats(&host) {
        Err(StatsError::Gone { path }) => assert!(path.starts_with(CGROUP_ROOT)),
        other => panic!("a removed cgroup must be NotFound, got {other:?}"),
    }
}

#[test]
fn a_direct_read_is_counted_per_device_and_the_device_named_from_proc_partitions() {
    let host = v1_host();
    let test_cgroup = TestCgroup::new(&host, &[Controller::Blkio]);
    // A file on a block device: the test's own executable.
    let file = std::env::current_exe().expect("the test's path");
    let dev = nix::sys::stat::stat(&file).expect("stat").st_dev;
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    // The kernel counts the throttle files' bios only on a device with a rule in the cgroup.
    test_cgroup.set(
        Controller::Blkio,
        "blkio.throttle.read_bps_device",
        &format!("{major}:{minor} 1000000000000"),
    );
    let mut child = Parked::spawn(&format!(
        "/bin/busybox dd if={} of=/dev/null bs=4096 count=8 iflag=direct",
        file.display()
    ));
    test_cgroup.adopt(child.pid());
    child.release();
    assert!(child.wait().success(), "the direct read ran");

    let cgroup = Cgroup::V1(test_cgroup.paths());
    let blkio = v1_metrics(&cgroup, &host).blkio.expect("blkio");
    let read = blkio
        .io_service_bytes_recursive
        .iter()
        .find(|e| e.major == major && e.minor == minor && e.op == "Read")
        .unwrap_or_else(|| panic!("no Read line for {major}:{minor}: {blkio:?}"));
    assert!(read.value > 0);
    let uevent = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/uevent"))
        .expect("the device's uevent");
    let name = uevent
        .lines()
        .find_map(|line| line.strip_prefix("DEVNAME="))
        .expect("a DEVNAME");
    assert_eq!(read.device, format!("/dev/{name}"));
    assert!(blkio
        .io_serviced_recursive
        .iter()
        .any(|e| e.major == major && e.op == "Read" && e.value > 0));
}

#[test]
fn a_cgroup2_directory_of_the_hybrid_mount_reads_as_v2_and_its_removal_as_not_found() {
    let _host = v1_host();
    // No controller is enabled below the hybrid mount: the core files are all there is.
    let unified = Path::new(CGROUP_ROOT).join("unified");
    let dir = unified.join(format!(
        "tinyshim-cgroup-test-{}-{}",
        std::process::id(),
        CGROUPS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    struct Remove<'a>(&'a Path);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(self.0);
        }
    }
    let remove = Remove(&dir);
    let mut child = Parked::spawn("/bin/sh -c 'while :; do :; done'");
    std::fs::write(dir.join("cgroup.procs"), child.pid().to_string()).expect("move into v2");
    child.release();
    let cgroup = Cgroup::unified(&dir);
    let host = Host::from_mountinfo(Mode::Unified, "");
    let metrics = |cgroup: &Cgroup| -> v2::Metrics {
        match cgroup.metrics(&host).expect("stats") {
            Metrics::V2(metrics) => metrics,
            other => panic!("a unified cgroup gave {other:?}"),
        }
    };
    let first = metrics(&cgroup);
    assert!(
        first.cpu.as_ref().is_some_and(|cpu| cpu.psi.is_some()),
        "cpu.pressure"
    );
    assert!(
        first.memory.as_ref().is_some_and(|m| m.psi.is_some()),
        "memory.pressure"
    );
    assert!(
        first.io.as_ref().is_some_and(|io| io.psi.is_some()),
        "io.pressure"
    );
    assert_eq!(
        first.memory_events, None,
        "no memory controller, no memory.events"
    );
    assert_eq!(first.pids, Some(v2::PidsStat::default()));
    let usage = |m: &v2::Metrics| m.cpu.as_ref().map_or(0, |cpu| cpu.usage_usec);
    let deadline = Instant::now() + LONG;
    while usage(&metrics(&cgroup)) <= usage(&first) {
        assert!(Instant::now() < deadline, "usage_usec never rose");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        cgroup.stats(&host).expect("stats").type_url,
        "io.containerd.cgroups.v2.Metrics"
    );
    child.kill();
    drop(remove);
    assert!(matches!(cgroup.stats(&host), Err(StatsError::Gone { .. })));
}

// ----------------------------------------------------------------------------------------------
// OOM

/// A memory cgroup limited to [`MEMORY_LIMIT`], a parked hog moved into it, and a watch of it
/// registered with `event_loop` as the shim registers one at Create.
fn watched_hog(
    host: &Host,
    event_loop: &mut EventLoop<u8>,
    watcher: &mut OomWatcher<u8, &'static str>,
    hog: &str,
    configure: impl FnOnce(&TestCgroup),
) -> (TestCgroup, Parked, tinyshim::v2::cgroup::WatchId) {
    let cgroup = TestCgroup::new(host, &[Controller::Memory]);
    cgroup.set(Controller::Memory, "memory.limit_in_bytes", MEMORY_LIMIT);
    configure(&cgroup);
    let hog = Parked::spawn(hog);
    cgroup.adopt(hog.pid());
    let located = host
        .cgroup_of(i32::try_from(hog.pid()).expect("a pid"))
        .expect("located");
    let id = watcher.watch(event_loop, &located, "hog").expect("watch");
    assert_eq!(watcher.descriptors(), 1, "one eventfd");
    assert_eq!(event_loop.registered(), 1);
    (cgroup, hog, id)
}

#[test]
fn an_oom_kill_in_a_watched_cgroup_is_reported_through_the_loop() {
    let host = v1_host();
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let (_cgroup, mut hog, id) =
        watched_hog(&host, &mut event_loop, &mut watcher, MEMORY_HOG, |_| {});
    hog.release();
    let mut looks = 0;
    let kills = loop {
        looks += 1;
        let kills = next_report(&mut event_loop, &mut watcher);
        if !kills.is_empty() {
            break kills;
        }
        assert!(
            watcher.rechecking(),
            "a notification without a kill must be looked at again"
        );
    };
    assert_eq!(kills, ["hog"]);
    eprintln!("the kill was reported at look {looks} (1: at the notification itself)");
    assert_eq!(
        hog.wait().signal(),
        Some(nix::libc::SIGKILL),
        "the kernel killed it"
    );
    assert!(
        !watcher.check(&mut event_loop, id).expect("check"),
        "a kill is reported once"
    );
    watcher.unwatch(&mut event_loop, id);
    assert_eq!((watcher.descriptors(), event_loop.registered()), (0, 0));
}

#[test]
fn the_kill_is_counted_before_the_victim_is_reaped_so_a_check_at_reap_reports_it_once() {
    let host = v1_host();
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let (_cgroup, mut hog, id) =
        watched_hog(&host, &mut event_loop, &mut watcher, MEMORY_HOG, |_| {});
    hog.release();
    assert_eq!(hog.wait().signal(), Some(nix::libc::SIGKILL));
    assert!(
        watcher.check(&mut event_loop, id).expect("check"),
        "at reap, before the loop read the notification"
    );
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new(),
        "the notification then reports nothing new"
    );
    watcher.close(&mut event_loop);
    assert_eq!(event_loop.registered(), 0);
}

#[test]
fn removing_an_idle_watched_cgroup_fires_the_eventfd_but_reports_nothing() {
    let host = v1_host();
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let mut test_cgroup = TestCgroup::new(&host, &[Controller::Memory]);
    let id = watcher
        .watch(&mut event_loop, &Cgroup::V1(test_cgroup.paths()), "idle")
        .expect("watch");
    assert_eq!(watcher.descriptors(), 1);
    test_cgroup.remove();
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new()
    );
    assert_eq!(
        (watcher.descriptors(), event_loop.registered()),
        (0, 0),
        "the watch of a removed cgroup lets its eventfd go"
    );
    assert!(!watcher.rechecking());
    assert!(!watcher.check(&mut event_loop, id).expect("check"));
    watcher.unwatch(&mut event_loop, id);
}

#[test]
fn an_oom_with_the_killer_disabled_notifies_but_reports_nothing() {
    let host = v1_host();
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let (cgroup, mut hog, id) = watched_hog(
        &host,
        &mut event_loop,
        &mut watcher,
        USER_SPACE_HOG,
        |cgroup| {
            cgroup.set(Controller::Memory, "memory.oom_control", "1");
        },
    );
    hog.release();
    // The kernel marks the cgroup under OOM, then notifies, then puts the hog to sleep.
    let deadline = Instant::now() + LONG;
    while !cgroup
        .read(Controller::Memory, "memory.oom_control")
        .contains("under_oom 1")
    {
        assert!(Instant::now() < deadline, "the hog never reached the OOM");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new(),
        "the notification of an OOM without a kill"
    );
    while watcher.rechecking() {
        assert_eq!(
            next_report(&mut event_loop, &mut watcher),
            Vec::<&str>::new()
        );
    }
    assert!(!watcher.check(&mut event_loop, id).expect("check"));
    // A process waiting in a memory cgroup's OOM can still be killed.
    hog.kill();
    assert_eq!(
        hog.status.and_then(|s| s.signal()),
        Some(nix::libc::SIGKILL)
    );
    watcher.close(&mut event_loop);
}
