//! The container's root filesystem: the mounts containerd passes in Create (an overlay of an
//! image's snapshot, a bind), made at `<bundle>/rootfs`, and taken down at Delete. A task made
//! with `ctr run --rootfs` has none: its bundle already names a root directory.
//!
//! Options are mount(8)'s: the ones that are flags become flags (a `no` form clears one), the
//! propagation ones are applied by a second mount call, the rest is the filesystem's data. A
//! read-only bind takes a remount, as the kernel ignores `MS_RDONLY` on the bind itself.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::error::{Error, Result};
use crate::v2::proto::types::Mount;

/// Where the rootfs goes in the bundle.
pub const ROOTFS: &str = "rootfs";

/// How many stacked mounts an unmount takes down at most.
const MOST_STACKED: usize = 64;

/// Options that set (`false`) or clear (`true`) a flag.
const FLAGS: [(&str, bool, MsFlags); 25] = [
    ("async", true, MsFlags::MS_SYNCHRONOUS),
    ("atime", true, MsFlags::MS_NOATIME),
    ("bind", false, MsFlags::MS_BIND),
    ("defaults", false, MsFlags::empty()),
    ("dev", true, MsFlags::MS_NODEV),
    ("diratime", true, MsFlags::MS_NODIRATIME),
    ("dirsync", false, MsFlags::MS_DIRSYNC),
    ("exec", true, MsFlags::MS_NOEXEC),
    ("mand", false, MsFlags::MS_MANDLOCK),
    ("noatime", false, MsFlags::MS_NOATIME),
    ("nodev", false, MsFlags::MS_NODEV),
    ("nodiratime", false, MsFlags::MS_NODIRATIME),
    ("noexec", false, MsFlags::MS_NOEXEC),
    ("nomand", true, MsFlags::MS_MANDLOCK),
    ("norelatime", true, MsFlags::MS_RELATIME),
    ("nostrictatime", true, MsFlags::MS_STRICTATIME),
    ("nosuid", false, MsFlags::MS_NOSUID),
    ("rbind", false, MsFlags::MS_BIND.union(MsFlags::MS_REC)),
    ("relatime", false, MsFlags::MS_RELATIME),
    ("remount", false, MsFlags::MS_REMOUNT),
    ("ro", false, MsFlags::MS_RDONLY),
    ("rw", true, MsFlags::MS_RDONLY),
    ("strictatime", false, MsFlags::MS_STRICTATIME),
    ("suid", true, MsFlags::MS_NOSUID),
    ("sync", false, MsFlags::MS_SYNCHRONOUS),
];

/// Propagation options, applied after the mount.
const PROPAGATION: [(&str, MsFlags); 8] = [
    ("private", MsFlags::MS_PRIVATE),
    ("rprivate", MsFlags::MS_PRIVATE.union(MsFlags::MS_REC)),
    ("shared", MsFlags::MS_SHARED),
    ("rshared", MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
    ("slave", MsFlags::MS_SLAVE),
    ("rslave", MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
    ("unbindable", MsFlags::MS_UNBINDABLE),
    ("runbindable", MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC)),
];

/// A mount's options, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The flags of the mount call.
    pub flags: MsFlags,
    /// Propagation to apply after it.
    pub propagation: MsFlags,
    /// The filesystem's own options, comma-joined.
    pub data: String,
}

/// Splits mount(8) options into flags, propagation and data.
pub fn parse_options(options: &[String]) -> Parsed {
    let mut parsed = Parsed {
        flags: MsFlags::empty(),
        propagation: MsFlags::empty(),
        data: String::new(),
    };
    for option in options {
        if let Some((_, clear, flag)) = FLAGS.iter().find(|(name, ..)| name == option) {
            if *clear {
                parsed.flags.remove(*flag);
            } else {
                parsed.flags.insert(*flag);
            }
        } else if let Some((_, flag)) = PROPAGATION.iter().find(|(name, _)| name == option) {
            parsed.propagation.insert(*flag);
        } else {
            if !parsed.data.is_empty() {
                parsed.data.push(',');
            }
            parsed.data.push_str(option);
        }
    }
    parsed
}

/// Makes `mounts` at `<bundle>/rootfs`, in order; on a failure, takes down what was made.
pub fn mount_all(bundle: &Path, mounts: &[Mount]) -> Result<()> {
    if mounts.is_empty() {
        return Ok(());
    }
    let rootfs = bundle.join(ROOTFS);
    std::fs::create_dir_all(&rootfs)
        .map_err(|e| Error::os(format!("mkdir {}", rootfs.display()), e))?;
    for m in mounts {
        if let Err(error) = mount_one(&rootfs, m) {
            // The mount's own failure is what the caller must hear of; nothing uses what was
            // mounted before it, so taking that down cannot be refused as busy.
            let _ = unmount_all(bundle);
            return Err(error);
        }
    }
    Ok(())
}

fn mount_one(rootfs: &Path, m: &Mount) -> Result<()> {
    let target: PathBuf = rootfs.join(m.target.trim_start_matches('/'));
    let parsed = parse_options(&m.options);
    let what = || format!("mount {} {} on {}", m.r#type, m.source, target.display());
    let data = (!parsed.data.is_empty()).then_some(parsed.data.as_str());
    mount(
        Some(m.source.as_str()),
        &target,
        Some(m.r#type.as_str()),
        parsed.flags,
        data,
    )
    .map_err(|e| Error::os(what(), e))?;
    if !parsed.propagation.is_empty() {
        mount(
            None::<&str>,
            &target,
            None::<&str>,
            parsed.propagation,
            None::<&str>,
        )
        .map_err(|e| Error::os(format!("{} (propagation)", what()), e))?;
    }
    if parsed.flags.contains(MsFlags::MS_BIND) && parsed.flags.contains(MsFlags::MS_RDONLY) {
        let flags = parsed.flags | MsFlags::MS_REMOUNT;
        mount(None::<&str>, &target, None::<&str>, flags, None::<&str>)
            .map_err(|e| Error::os(format!("{} (read-only remount)", what()), e))?;
    }
    Ok(())
}

/// Takes down every mount stacked on `<bundle>/rootfs`; nothing mounted is no error. A mount
/// still busy (a process of the container not quite gone) is detached: it leaves the mount
/// table now and goes once nothing uses it, where the Go shim would sleep and retry, which the
/// loop cannot. Returns how many were detached so, or what failed.
pub fn unmount_all(bundle: &Path) -> Result<usize> {
    let rootfs = bundle.join(ROOTFS);
    let mut detached = 0;
    for _ in 0..MOST_STACKED {
        match umount2(&rootfs, MntFlags::empty()) {
            Ok(()) | Err(Errno::EINTR) => continue,
            Err(Errno::EBUSY) => {
                umount2(&rootfs, MntFlags::MNT_DETACH)
                    .map_err(|e| Error::os(format!("umount -l {}", rootfs.display()), e))?;
                detached += 1;
            }
            // EINVAL: nothing (more) is mounted there; ENOENT: no such directory.
            Err(Errno::EINVAL | Errno::ENOENT) => return Ok(detached),
            Err(e) => return Err(Error::os(format!("umount {}", rootfs.display()), e)),
        }
    }
    Ok(detached)
}

#[cfg(test)]
mod tests;
