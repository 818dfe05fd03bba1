//! The host's mount table, from `/proc/self/mountinfo`: where the cgroup hierarchies are, what is
//! mounted at or below a directory, and unmounting it all before a directory is removed (which
//! `remove_dir_all` would otherwise walk into).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::scratch::Scratch;

/// The mount points of every cgroup hierarchy, v1 controllers and the v2 one, from
/// `/proc/self/mountinfo`.
pub fn cgroup_hierarchies() -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fstype = after.split(' ').next()?;
            let point = before.split(' ').nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(unescape_mountinfo(point)))
        })
        .collect()
}

/// Every mount point, from `/proc/self/mountinfo`.
pub(crate) fn mount_points() -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mountinfo(field)))
        .collect()
}

/// Unmounts (lazily, deepest first) everything mounted at or below `dir`, and returns what is
/// still mounted there.
pub(crate) fn unmount_all_under(dir: &Path) -> Vec<PathBuf> {
    let mut mounts = mounts_under(dir);
    mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    for mount in &mounts {
        let _ = Command::new("umount").arg("-l").arg(mount).status();
    }
    mounts_under(dir)
}

/// Mount points at or below `dir`.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    mount_points()
        .into_iter()
        .filter(|mount| mount.starts_with(dir))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let octal = bytes.get(index + 1..index + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[index], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                index += 4;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes `scratch` (at `dir`) unless something is still mounted inside, which
/// `remove_dir_all` would walk into (a bind mount of the shared rootfs, say): then the directory
/// is kept, and the problem says so.
pub(crate) fn remove_unless_mounted(scratch: Option<Scratch>, dir: &Path) -> Vec<String> {
    let Some(scratch) = scratch else {
        return Vec::new();
    };
    let left = unmount_all_under(dir);
    if left.is_empty() {
        drop(scratch);
        Vec::new()
    } else {
        std::mem::forget(scratch);
        vec![format!(
            "kept {}: still mounted inside: {left:?}",
            dir.display()
        )]
    }
}

#[cfg(test)]
mod tests;
