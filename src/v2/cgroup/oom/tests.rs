//! Unit tests of [`super`]: the counter rule, and the v2 watcher on a tmpfs file that imitates
//! `memory.events` (tmpfs notifies `IN_MODIFY` on a write as cgroupfs does on a change), run
//! through a real [`EventLoop`]. The v1 eventfd path needs a real memory cgroup: it is tested
//! live in `tests/cgroup_v1.rs`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::event_loop::EventLoop;

const WATCHER: u8 = 1;
const GIVE_UP: u8 = 2;

/// Far longer than a notification takes on a loaded machine: only a lost one reaches it.
const LONG: Duration = Duration::from_secs(30);

// ----------------------------------------------------------------------------------------------
// The rule

#[test]
fn a_counter_above_the_reported_one_is_a_kill_in_both_apis() {
    for api in [Api::V1, Api::V2] {
        for why in [Why::Notified, Why::Recheck(0), Why::Asked] {
            assert_eq!(
                judge(api, 1, Count::Kills(2), why),
                Verdict::Killed,
                "{api:?} {why:?}"
            );
        }
    }
}

#[test]
fn a_v1_notification_without_a_new_kill_is_looked_at_again_then_dropped() {
    assert_eq!(
        judge(Api::V1, 2, Count::Kills(2), Why::Notified),
        Verdict::Recheck(0)
    );
    assert_eq!(
        judge(Api::V1, 2, Count::Kills(2), Why::Recheck(0)),
        Verdict::Recheck(1)
    );
    let last = RECHECKS.len() - 1;
    assert_eq!(
        judge(Api::V1, 2, Count::Kills(2), Why::Recheck(last)),
        Verdict::Quiet
    );
    assert_eq!(
        judge(Api::V1, 2, Count::Kills(2), Why::Asked),
        Verdict::Quiet
    );
}

#[test]
fn a_v2_change_without_a_new_kill_is_quiet_at_once() {
    // The kernel notifies again after it counts the kill: no second look is needed.
    assert_eq!(
        judge(Api::V2, 0, Count::Kills(0), Why::Notified),
        Verdict::Quiet
    );
}

#[test]
fn a_removed_cgroup_is_never_a_kill() {
    for api in [Api::V1, Api::V2] {
        assert_eq!(judge(api, 0, Count::Gone, Why::Notified), Verdict::Gone);
        assert_eq!(judge(api, 0, Count::Gone, Why::Asked), Verdict::Gone);
    }
}

#[test]
fn without_a_counter_a_v1_notification_is_a_kill_and_nothing_else_is() {
    assert_eq!(
        judge(Api::V1, 0, Count::NoCounter, Why::Notified),
        Verdict::Killed
    );
    assert_eq!(
        judge(Api::V1, 0, Count::NoCounter, Why::Asked),
        Verdict::Quiet
    );
    assert_eq!(
        judge(Api::V1, 0, Count::NoCounter, Why::Recheck(0)),
        Verdict::Quiet
    );
    assert_eq!(
        judge(Api::V2, 0, Count::NoCounter, Why::Notified),
        Verdict::Quiet
    );
}

// ----------------------------------------------------------------------------------------------
// The v2 watcher on tmpfs

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A directory on `/dev/shm` (tmpfs) standing for a cgroup, removed on drop.
struct FakeCgroup {
    dir: PathBuf,
}

impl FakeCgroup {
    fn new(events: &str) -> FakeCgroup {
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!(
            "/dev/shm/tinyshim-oom-test-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("a directory on /dev/shm");
        let fake = FakeCgroup { dir };
        fake.events(events);
        fake
    }

    fn without_memory_events() -> FakeCgroup {
        let fake = FakeCgroup::new("");
        std::fs::remove_file(fake.events_path()).expect("remove memory.events");
        fake
    }

    fn events_path(&self) -> PathBuf {
        self.dir.join("memory.events")
    }

    /// Rewrites `memory.events` in place, as the kernel's counters change it.
    fn events(&self, content: &str) {
        std::fs::write(self.events_path(), content).expect("write memory.events");
    }

    fn cgroup(&self) -> Cgroup {
        Cgroup::unified(&self.dir)
    }
}

impl Drop for FakeCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn events(oom: u64, oom_kill: u64) -> String {
    format!("low 0\nhigh 0\nmax {oom}\noom {oom}\noom_kill {oom_kill}\noom_group_kill 0\n")
}

/// Runs the loop until the watcher's route is ready, hands it to the watcher, and returns the
/// keys it reported. Fails if the route never becomes ready.
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
            "the watcher's route never became ready"
        );
        if ready.contains(&WATCHER) {
            event_loop.cancel_timer(give_up);
            let mut kills = Vec::new();
            watcher.on_ready(event_loop, &mut kills).expect("on_ready");
            return kills;
        }
    }
}

#[test]
fn a_write_that_raises_oom_kill_is_reported_and_one_that_raises_only_oom_is_not() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::new(&events(0, 0));
    let id = watcher
        .watch(&mut event_loop, &fake.cgroup(), "c1")
        .expect("watch");
    assert_eq!(watcher.descriptors(), 1);

    fake.events(&events(1, 0));
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new()
    );
    fake.events(&events(1, 1));
    assert_eq!(next_report(&mut event_loop, &mut watcher), ["c1"]);
    fake.events(&events(2, 1));
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new(),
        "the same kill is not reported twice"
    );
    assert!(!watcher.rechecking(), "v2 never waits for a recheck");

    watcher.unwatch(&mut event_loop, id);
    assert_eq!(event_loop.registered(), 0);
    assert_eq!(watcher.descriptors(), 0);
}

#[test]
fn many_v2_watches_share_one_inotify_descriptor_which_goes_with_the_last() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fakes: Vec<FakeCgroup> = (0..3).map(|_| FakeCgroup::new(&events(0, 0))).collect();
    let keys = ["a", "b", "c"];
    let ids: Vec<WatchId> = fakes
        .iter()
        .zip(keys)
        .map(|(fake, key)| {
            watcher
                .watch(&mut event_loop, &fake.cgroup(), key)
                .expect("watch")
        })
        .collect();
    assert_eq!(watcher.descriptors(), 1);
    assert_eq!(event_loop.registered(), 1);

    fakes[1].events(&events(1, 1));
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        ["b"],
        "only the cgroup that changed"
    );

    watcher.unwatch(&mut event_loop, ids[0]);
    watcher.unwatch(&mut event_loop, ids[1]);
    assert_eq!(watcher.descriptors(), 1, "c still needs it");
    fakes[2].events(&events(3, 2));
    assert_eq!(next_report(&mut event_loop, &mut watcher), ["c"]);
    watcher.unwatch(&mut event_loop, ids[2]);
    assert_eq!((watcher.descriptors(), event_loop.registered()), (0, 0));
}

#[test]
fn two_watches_of_one_cgroup_both_report_and_one_unwatch_keeps_the_other() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::new(&events(0, 0));
    let first = watcher
        .watch(&mut event_loop, &fake.cgroup(), "first")
        .expect("watch");
    let _second = watcher
        .watch(&mut event_loop, &fake.cgroup(), "second")
        .expect("watch");
    watcher.unwatch(&mut event_loop, first);
    fake.events(&events(1, 1));
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        ["second"],
        "the kernel's watch is shared, so it must outlive the first unwatch"
    );
    watcher.close(&mut event_loop);
    assert_eq!(event_loop.registered(), 0);
}

#[test]
fn a_check_at_reap_reports_a_kill_the_loop_has_not_read_and_only_once() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::new(&events(0, 0));
    let id = watcher
        .watch(&mut event_loop, &fake.cgroup(), "c")
        .expect("watch");
    fake.events(&events(1, 1));
    assert!(watcher.check(&mut event_loop, id).expect("check"));
    assert!(!watcher.check(&mut event_loop, id).expect("check"));
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new(),
        "the notification of a kill already reported reports nothing"
    );
    watcher.close(&mut event_loop);
}

#[test]
fn a_kill_counted_before_the_watch_began_is_reported_at_the_first_look() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::new(&events(1, 1));
    let id = watcher
        .watch(&mut event_loop, &fake.cgroup(), "early")
        .expect("watch");
    assert!(watcher.check(&mut event_loop, id).expect("check"));
    watcher.close(&mut event_loop);
}

#[test]
fn a_removed_memory_events_reports_nothing_and_frees_the_descriptor() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::new(&events(0, 0));
    let id = watcher
        .watch(&mut event_loop, &fake.cgroup(), "c")
        .expect("watch");
    std::fs::remove_file(fake.events_path()).expect("remove");
    assert_eq!(
        next_report(&mut event_loop, &mut watcher),
        Vec::<&str>::new()
    );
    assert_eq!(
        (watcher.descriptors(), event_loop.registered()),
        (0, 0),
        "the kernel dropped the watch (IN_IGNORED), so the instance went"
    );
    assert!(!watcher.check(&mut event_loop, id).expect("check"));
    watcher.unwatch(&mut event_loop, id);
}

#[test]
fn a_cgroup_without_memory_events_gets_a_quiet_watch_without_descriptors() {
    let mut event_loop = EventLoop::new().expect("loop");
    let mut watcher: OomWatcher<u8, &str> = OomWatcher::new(WATCHER);
    let fake = FakeCgroup::without_memory_events();
    let id = watcher
        .watch(&mut event_loop, &fake.cgroup(), "c")
        .expect("watch");
    assert_eq!((watcher.descriptors(), event_loop.registered()), (0, 0));
    assert!(!watcher.check(&mut event_loop, id).expect("check"));
    let gone = Cgroup::unified(Path::new("/nonexistent/cgroup"));
    watcher
        .watch(&mut event_loop, &gone, "gone")
        .expect("a gone cgroup is not an error");
    let no_memory = Cgroup::V1(super::super::V1Paths::default());
    watcher
        .watch(&mut event_loop, &no_memory, "v1")
        .expect("nor is one without memory");
    assert_eq!(watcher.descriptors(), 0);
}
