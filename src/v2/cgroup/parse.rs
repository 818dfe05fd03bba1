//! Pure parsers of the kernel's cgroup and proc files: text in, values out, nothing read here.
//!
//! Every parser is total. A line it does not understand is skipped, and a number it cannot read
//! leaves its field alone, so that a kernel that adds a key or changes one value's format costs
//! that value, not the whole Stats answer (the Go library fails the call on such a line in v1).
//! Negative numbers read as 0, as the Go library's `parseUint` has it (some kernels printed -1
//! for a counter that underflowed).

use std::borrow::Cow;

/// A single-value limit file (`pids.max`, `memory.max`, ...): a number or `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A number.
    Value(u64),
    /// `max`: no limit.
    Max,
}

impl Limit {
    /// The v2 message's spelling: `max` is `u64::MAX`.
    pub fn or_u64_max(self) -> u64 {
        match self {
            Limit::Value(value) => value,
            Limit::Max => u64::MAX,
        }
    }

    /// The v1 message's spelling: `max` is 0 (containerd/cgroups' `readUint`).
    pub fn or_zero(self) -> u64 {
        match self {
            Limit::Value(value) => value,
            Limit::Max => 0,
        }
    }
}

/// A decimal counter; a negative one is 0. `None` for anything else.
pub fn number(text: &str) -> Option<u64> {
    if let Ok(value) = text.parse::<u64>() {
        return Some(value);
    }
    let digits = text.strip_prefix('-')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(0)
}

/// The content of a single-value file, surrounding whitespace ignored.
pub fn single_value(content: &str) -> Option<Limit> {
    match content.trim() {
        "max" => Some(Limit::Max),
        text => number(text).map(Limit::Value),
    }
}

/// The `KEY VALUE` lines of a flat-keyed file (`memory.stat`, `cpu.stat`, `memory.events`,
/// `memory.oom_control`), in order; lines of another shape are skipped.
pub fn flat_keyed(content: &str) -> impl Iterator<Item = (&str, u64)> {
    content.lines().filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (key, value, None) = (fields.next()?, fields.next()?, fields.next()) else {
            return None;
        };
        Some((key, number(value)?))
    })
}

/// The value of `key` in a flat-keyed file (its last line, should it repeat).
pub fn flat_value(content: &str, key: &str) -> Option<u64> {
    flat_keyed(content)
        .filter(|&(k, _)| k == key)
        .map(|(_, value)| value)
        .last()
}

/// One line of a pressure file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pressure {
    /// Percent stalled over 10 s.
    pub avg10: f64,
    /// Over 60 s.
    pub avg60: f64,
    /// Over 300 s.
    pub avg300: f64,
    /// Total stall time in microseconds.
    pub total: u64,
}

/// The `some` and `full` lines of a pressure file; a line with a malformed field is dropped
/// whole, as the Go library drops the file.
pub fn pressure(content: &str) -> (Option<Pressure>, Option<Pressure>) {
    let (mut some, mut full) = (None, None);
    for line in content.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut some,
            Some("full") => &mut full,
            _ => continue,
        };
        let mut data = Pressure::default();
        let valid = fields.all(|field| {
            let Some((key, value)) = field.split_once('=') else {
                return false;
            };
            match key {
                "avg10" => value.parse().map(|v| data.avg10 = v).is_ok(),
                "avg60" => value.parse().map(|v| data.avg60 = v).is_ok(),
                "avg300" => value.parse().map(|v| data.avg300 = v).is_ok(),
                "total" => value.parse().map(|v| data.total = v).is_ok(),
                _ => true,
            }
        });
        if valid {
            *slot = Some(data);
        }
    }
    (some, full)
}

/// One device line of v2 `io.stat`: `MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=..`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoLine {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// Bytes read.
    pub rbytes: u64,
    /// Bytes written.
    pub wbytes: u64,
    /// Read operations.
    pub rios: u64,
    /// Write operations.
    pub wios: u64,
}

/// The device lines of `io.stat`; keys other than the four the message has are ignored.
pub fn io_stat(content: &str) -> impl Iterator<Item = IoLine> + '_ {
    content.lines().filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (major, minor) = device(fields.next()?)?;
        let mut entry = IoLine {
            major,
            minor,
            ..IoLine::default()
        };
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            match key {
                "rbytes" => entry.rbytes = value,
                "wbytes" => entry.wbytes = value,
                "rios" => entry.rios = value,
                "wios" => entry.wios = value,
                _ => {}
            }
        }
        Some(entry)
    })
}

/// `MAJ:MIN`.
fn device(text: &str) -> Option<(u64, u64)> {
    let (major, minor) = text.split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// One line of a v1 blkio file: `MAJ:MIN OP VALUE`, or `MAJ:MIN VALUE` in the files without
/// an operation (`time_recursive`, `sectors_recursive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlkioLine<'a> {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`, or empty.
    pub op: &'a str,
    /// The count.
    pub value: u64,
}

/// The device lines of a blkio file; the closing `Total N` line is not one.
pub fn blkio(content: &str) -> impl Iterator<Item = BlkioLine<'_>> {
    content.lines().filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (major, minor) = device(fields.next()?)?;
        let (op, value) = match (fields.next()?, fields.next(), fields.next()) {
            (value, None, None) => ("", value),
            (op, Some(value), None) => (op, value),
            _ => return None,
        };
        Some(BlkioLine {
            major,
            minor,
            op,
            value: value.parse().ok()?,
        })
    })
}

/// The block devices of `/proc/partitions` as (major, minor, name), after its two header lines.
pub fn partitions(content: &str) -> impl Iterator<Item = (u64, u64, &str)> {
    content.lines().skip(2).filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let major = fields.next()?.parse().ok()?;
        let minor = fields.next()?.parse().ok()?;
        let _blocks = fields.next()?;
        Some((major, minor, fields.next()?))
    })
}

/// One device line of `rdma.current` or `rdma.max`: `mlx4_0 hca_handle=2 hca_object=2000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdmaLine<'a> {
    /// The device name.
    pub device: &'a str,
    /// `hca_handle`; `max` is `u32::MAX`.
    pub hca_handles: u32,
    /// `hca_object`; `max` is `u32::MAX`.
    pub hca_objects: u32,
}

/// The device lines of an rdma file: exactly a name and two values each, as the Go library
/// takes them; a value it cannot read is 0.
pub fn rdma(content: &str) -> impl Iterator<Item = RdmaLine<'_>> {
    content.lines().filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (device, first, second, None) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next(),
        ) else {
            return None;
        };
        let mut entry = RdmaLine {
            device,
            hca_handles: 0,
            hca_objects: 0,
        };
        for field in [first, second] {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let value = match value {
                "max" => u32::MAX,
                value => number(value).map_or(0, |v| u32::try_from(v).unwrap_or(0)),
            };
            match key {
                "hca_handle" => entry.hca_handles = value,
                "hca_object" => entry.hca_objects = value,
                _ => {}
            }
        }
        Some(entry)
    })
}

/// How many lines a file has in the Go library's count (`strings.Split` on newlines): the v1
/// rdma stats are dropped when `rdma.current` and `rdma.max` disagree, since a device came or
/// went between the two reads.
pub fn go_line_count(content: &str) -> usize {
    content.split('\n').count()
}

/// The numbers of a space-separated list (`cpuacct.usage_percpu`); the list stops at the first
/// word that is not one.
pub fn numbers(content: &str) -> impl Iterator<Item = u64> + '_ {
    content
        .split_ascii_whitespace()
        .map_while(|word| word.parse().ok())
}

/// The lines of `/proc/<pid>/cgroup`: `HIERARCHY:CONTROLLERS:PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcCgroup<'a> {
    /// The cgroup v2 line's path (`0::/path`), if there is one.
    pub unified: Option<&'a str>,
    /// The v1 lines, as (comma-separated controllers, path).
    pub v1: Vec<(&'a str, &'a str)>,
}

/// Parses `/proc/<pid>/cgroup`. A path the kernel marks ` (deleted)` loses the mark: the
/// directory is gone either way, which the caller finds when it looks.
pub fn proc_cgroup(content: &str) -> ProcCgroup<'_> {
    let mut parsed = ProcCgroup::default();
    for line in content.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(hierarchy), Some(controllers), Some(path)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        if hierarchy == "0" && controllers.is_empty() {
            parsed.unified = Some(path);
        } else if !controllers.is_empty() {
            parsed.v1.push((controllers, path));
        }
    }
    parsed
}

/// The fields of one `/proc/self/mountinfo` line that say where a cgroup hierarchy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountLine<'a> {
    /// The directory of the hierarchy that is mounted (field 4, escaped).
    pub root: &'a str,
    /// Where it is mounted (field 5, escaped).
    pub mount_point: &'a str,
    /// The filesystem type, after the ` - ` separator (`cgroup`, `cgroup2`, ...).
    pub fs_type: &'a str,
    /// The superblock options, which for `cgroup` name the controllers (`rw,cpu,cpuacct`).
    pub super_options: &'a str,
}

/// Parses one mountinfo line: `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE
/// SOURCE SUPER_OPTIONS`.
pub fn mountinfo_line(line: &str) -> Option<MountLine<'_>> {
    let mut fields = line.split(' ');
    let _id = fields.next()?;
    let _parent = fields.next()?;
    let _device = fields.next()?;
    let root = fields.next()?;
    let mount_point = fields.next()?;
    let _options = fields.next()?;
    fields.find(|&field| field == "-")?;
    let fs_type = fields.next()?;
    let _source = fields.next()?;
    let super_options = fields.next()?;
    Some(MountLine {
        root,
        mount_point,
        fs_type,
        super_options,
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
pub fn unescape_mount_path(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes.get(i + 1..i + 4).and_then(|octal| {
            let octal = std::str::from_utf8(octal).ok()?;
            u8::from_str_radix(octal, 8).ok()
        });
        match (bytes[i], escape) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The page size a hugetlb file name uses for a `/sys/kernel/mm/hugepages` entry:
/// `hugepages-2048kB` is `2MB`, `hugepages-1048576kB` is `1GB`, `hugepages-64kB` is `64KB`
/// (the kernel's own naming, `mm/hugetlb_cgroup.c`).
pub fn hugepage_size_name(dir_name: &str) -> Option<String> {
    let kib: u64 = dir_name
        .strip_prefix("hugepages-")?
        .strip_suffix("kB")?
        .parse()
        .ok()?;
    Some(if kib >= 1 << 20 {
        format!("{}GB", kib >> 20)
    } else if kib >= 1 << 10 {
        format!("{}MB", kib >> 10)
    } else {
        format!("{kib}KB")
    })
}
