//! Checkpoints to restore from, and the format the shim shares with the daemon's Go code in the
//! restore's work path: Go's `time.RFC3339Nano` in UTC.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Writes a checkpoint directory at `at` holding only `config.json` with `config`.
pub fn write_checkpoint(at: &Path, config: &str) -> PathBuf {
    std::fs::create_dir_all(at).expect("create checkpoint dir");
    std::fs::write(at.join("config.json"), config).expect("write checkpoint config");
    at.to_path_buf()
}

/// Parses Go's `time.RFC3339Nano` in UTC (`2006-01-02T15:04:05.999999999Z`), insisting on its
/// canonical form: the fraction's trailing zeros trimmed, no dot for a zero fraction.
pub fn parse_go_rfc3339_nano_utc(stamp: &str) -> Option<SystemTime> {
    let body = stamp.strip_suffix('Z')?;
    let (date_time, fraction) = match body.split_once('.') {
        Some((date_time, fraction)) => (date_time, Some(fraction)),
        None => (body, None),
    };
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let digits = f.bytes().all(|b| b.is_ascii_digit());
            if f.is_empty() || f.len() > 9 || f.ends_with('0') || !digits {
                return None;
            }
            format!("{f:0<9}").parse::<u32>().ok()?
        }
    };
    let shape = date_time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    if date_time.len() != 19 || !shape {
        return None;
    }
    let field = |from: usize, to: usize| date_time[from..to].parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::new(u64::try_from(seconds).ok()?, nanos))
}
