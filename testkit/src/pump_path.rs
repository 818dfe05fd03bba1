//! The two ways the shim moves bytes, and the proof that a test ran on the one it names.
//!
//! Every test of pumping runs twice through [`on_both_pump_paths!`](crate::on_both_pump_paths),
//! once per [`PumpPath`]. Naming a path proves nothing by itself: the shim falls back to the copy
//! path on its own where the kernel refuses `splice(2)`, and a test that forgets to pass the path
//! to its container runs on splice twice. So [`run_on`] also checks which path ran, from the
//! shim's I/O counters taken while it is a zombie (finished, not yet reaped): `wchar` counts the
//! bytes the shim passed to `write(2)` and its kin, and `splice(2)` adds nothing to it. They are
//! the counters of its thread (`/proc/<pid>/task/<pid>/io`): `/proc/<pid>/io` also adds those
//! of every child the shim reaped, the container's writes among them. Besides the pumps, the shim
//! writes only `exitStatus` and `shim-log.json`, whose sizes are known, so what is left is the
//! bytes its pumps wrote with `write(2)`:
//!
//! * on the copy path it must be more than zero for every shim the test saw finish: its pumps
//!   copied bytes through their buffer;
//! * on the splice path it must be zero: every byte the test saw arrive was spliced.
//!
//! A test whose process moves no byte cannot tell the paths apart and does not belong here.

use std::cell::RefCell;
use std::path::Path;

use crate::procfs;

/// How the shim moves bytes between the container's pipes or terminal and the client FIFOs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpPath {
    /// `splice(2)`, the default.
    Splice,
    /// `read`/`write` through a buffer, forced by `TINYSHIM_NO_SPLICE=1`.
    Copy,
}

/// For each `name` given, a module `name` with the tests `splice` and `copy`, each running
/// `name(path)` through [`run_on`], which proves that the shims ran on that path.
#[macro_export]
macro_rules! on_both_pump_paths {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn splice() {
                $crate::pump_path::run_on($crate::pump_path::PumpPath::Splice, super::$name)
            }

            #[test]
            fn copy() {
                $crate::pump_path::run_on($crate::pump_path::PumpPath::Copy, super::$name)
            }
        }
    )+};
}

/// One shim as it finished.
#[derive(Debug, Clone)]
struct Observed {
    pid: i32,
    /// Bytes passed to `write(2)` by anything but the pumps: `exitStatus` and `shim-log.json`.
    other_writes: u64,
    wchar: u64,
}

impl Observed {
    fn pumped_by_write(&self) -> u64 {
        self.wchar.saturating_sub(self.other_writes)
    }
}

thread_local! {
    /// The shims seen while the test on this thread runs under [`run_on`]; `None` otherwise.
    static OBSERVED: RefCell<Option<Vec<Observed>>> = const { RefCell::new(None) };
}

/// Runs `test` on `path`, then fails unless every shim seen to finish meanwhile ran on that path
/// (see the module's documentation), and at least one was seen.
pub fn run_on(path: PumpPath, test: impl FnOnce(PumpPath)) {
    OBSERVED.with(|observed| *observed.borrow_mut() = Some(Vec::new()));
    test(path);
    let observed = OBSERVED
        .with(|observed| observed.borrow_mut().take())
        .unwrap_or_default();
    assert!(
        !observed.is_empty(),
        "no shim was seen to finish, so nothing shows which pump path ran"
    );
    for shim in &observed {
        let written = shim.pumped_by_write();
        match path {
            PumpPath::Copy => assert!(
                written > 0,
                "shim {} wrote no byte with write(2): its pumps did not run the copy path ({shim:?})",
                shim.pid
            ),
            PumpPath::Splice => assert_eq!(
                written, 0,
                "shim {}'s pumps wrote {written} bytes with write(2) instead of splicing them \
                 ({shim:?})",
                shim.pid
            ),
        }
    }
}

/// Notes shim `pid`, whose process directory is `process_dir`, for the [`run_on`] running on this
/// thread, if any. The test kit's `Proc::wait_shim` calls it for every shim it reaps, once the
/// shim is a zombie; a test calls it for a shim it does not reap itself, while that shim is alive
/// and has pumped.
pub fn observe(pid: i32, process_dir: &Path) {
    OBSERVED.with(|observed| {
        if let Some(seen) = observed.borrow_mut().as_mut() {
            let size =
                |name: &str| std::fs::metadata(process_dir.join(name)).map_or(0, |meta| meta.len());
            seen.push(Observed {
                pid,
                other_writes: size("exitStatus") + size("shim-log.json"),
                wchar: procfs::io_counter(pid, "wchar"),
            });
        }
    });
}
