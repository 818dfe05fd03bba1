//! The cgroup and proc file parsers on hostile text: each is total, and agrees with a plain
//! reading of the format where one is easy to state. The input up to its first NUL is also a
//! `/proc/self/mountinfo` and the rest a `/proc/<pid>/cgroup`: locating a cgroup from them
//! never panics and never leaves the mounted directories.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tinyshim::v2::cgroup::parse::{self, Limit};
use tinyshim::v2::cgroup::{Cgroup, Host, Mode, CGROUP_ROOT};

/// A single-value file as the Go library reads it: `max`, a u64, or a negative number (0).
fn expect_single(text: &str) -> Option<Limit> {
    let text = text.trim();
    if text == "max" {
        return Some(Limit::Max);
    }
    if let Ok(value) = text.parse::<u64>() {
        return Some(Limit::Value(value));
    }
    let digits = text.strip_prefix('-')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(Limit::Value(0))
}

fn check_location(cgroup: &Cgroup, mount_points: &[&Path]) {
    let dirs: Vec<&Path> = match cgroup {
        Cgroup::Unified(dir) => vec![dir.as_path()],
        Cgroup::V1(paths) => paths.dirs().collect(),
    };
    for dir in dirs {
        let below = mount_points
            .iter()
            .find_map(|point| dir.strip_prefix(point).ok())
            .unwrap_or_else(|| panic!("{} is under no mount", dir.display()));
        assert!(
            !below
                .components()
                .any(|c| c == std::path::Component::ParentDir),
            "{} climbs out of its mount",
            dir.display()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    assert_eq!(parse::single_value(&text), expect_single(&text));
    let pairs = parse::flat_keyed(&text).count();
    let plain = text
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            fields.len() == 2 && parse::number(fields[1]).is_some()
        })
        .count();
    assert_eq!(pairs, plain);
    let _ = parse::pressure(&text);
    for line in parse::io_stat(&text) {
        let _ = line.major;
    }
    for line in parse::blkio(&text) {
        assert!(
            !line.op.contains(|c: char| c.is_ascii_whitespace()),
            "{:?}",
            line.op
        );
    }
    let _ = parse::partitions(&text).count();
    let _ = parse::rdma(&text).count();
    let _ = parse::numbers(&text).count();
    let _ = parse::unescape_mount_path(&text);
    if let Some(name) = parse::hugepage_size_name(&text) {
        assert!(
            ["KB", "MB", "GB"].iter().any(|unit| name.ends_with(unit)),
            "{name}"
        );
    }

    let (mountinfo, proc_cgroup) = text.split_once('\0').unwrap_or((&text, ""));
    for mode in [Mode::V1, Mode::Unified] {
        let host = Host::from_mountinfo(mode, mountinfo);
        let mut points: Vec<&Path> = tinyshim::v2::cgroup::Controller::ALL
            .iter()
            .filter_map(|&c| host.v1_mount(c))
            .collect();
        let root = Path::new(CGROUP_ROOT);
        points.push(root);
        if let Ok(cgroup) = host.locate(proc_cgroup, Path::new("fuzz")) {
            check_location(&cgroup, &points);
        }
    }
});
