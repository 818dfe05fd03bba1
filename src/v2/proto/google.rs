//! `google.protobuf.Any` and `google.protobuf.Timestamp`, and the conversions the shim needs.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::{DecodeError, Message};

const NANOS_PER_SECOND: u32 = 1_000_000_000;

/// `google.protobuf.Any`: a message of a type named by `type_url`.
///
/// containerd names types without the `type.googleapis.com/` prefix
/// (`containerd.events.TaskExit`, `containerd.runc.v1.Options`), and compares them as strings.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Any {
    /// The type of `value`, exactly as containerd's typeurl registry spells it.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message (protobuf, or JSON for the OCI types such as an exec's process spec).
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// A message that travels inside an [`Any`] under a type URL of its own.
pub trait TypeUrl: Message + Default {
    /// The `type_url` of an [`Any`] holding this message, exactly as on the wire.
    const TYPE_URL: &'static str;
}

impl Any {
    /// Wraps `message` under its type URL.
    pub fn pack<M: TypeUrl>(message: &M) -> Any {
        Any {
            type_url: M::TYPE_URL.to_owned(),
            value: message.encode_to_vec(),
        }
    }

    /// Decodes the message inside, refusing an `Any` of another type rather than decoding it as
    /// the wrong message (protobuf would often accept it and yield nonsense).
    pub fn unpack<M: TypeUrl>(&self) -> Result<M, UnpackError> {
        if self.type_url != M::TYPE_URL {
            return Err(UnpackError::WrongType {
                expected: M::TYPE_URL,
                found: self.type_url.clone(),
            });
        }
        M::decode(self.value.as_slice()).map_err(|error| UnpackError::Decode {
            type_url: M::TYPE_URL,
            error,
        })
    }
}

/// Why [`Any::unpack`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpackError {
    /// The `Any` holds another type.
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The `type_url` found, as sent (possibly long or empty).
        found: String,
    },
    /// The type is right but its bytes do not decode.
    Decode {
        /// The type asked for.
        type_url: &'static str,
        /// What prost found wrong.
        error: DecodeError,
    },
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The found name comes from the peer: cut it so that a message stays one line.
            UnpackError::WrongType { expected, found } => {
                write!(f, "expected an Any of type {expected}, got {found:.128}")
            }
            UnpackError::Decode { type_url, error } => write!(f, "{type_url}: {error}"),
        }
    }
}

impl std::error::Error for UnpackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UnpackError::WrongType { .. } => None,
            UnpackError::Decode { error, .. } => Some(error),
        }
    }
}

/// `google.protobuf.Timestamp`: seconds since the Unix epoch, and a non-negative fraction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z; negative before it.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds after `seconds`, in `0..1_000_000_000` even when `seconds` is negative.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// Go's zero `time.Time` (0001-01-01T00:00:00Z), which the Go shim sends as the `exited_at`
    /// of a process that has not exited. Leaving `exited_at` out is decoded by containerd as this
    /// same zero time, so the shim may send either; this value costs ten bytes more.
    pub const GO_ZERO_TIME: Timestamp = Timestamp {
        seconds: -62_135_596_800,
        nanos: 0,
    };

    /// The time this names, or `None` when `nanos` is out of range or the time does not fit in a
    /// `SystemTime`.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let nanos = u32::try_from(self.nanos)
            .ok()
            .filter(|&n| n < NANOS_PER_SECOND)?;
        let fraction = Duration::from_nanos(u64::from(nanos));
        let whole = Duration::from_secs(self.seconds.unsigned_abs());
        if self.seconds >= 0 {
            UNIX_EPOCH.checked_add(whole)?.checked_add(fraction)
        } else {
            UNIX_EPOCH.checked_sub(whole)?.checked_add(fraction)
        }
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Timestamp {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp {
                seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                nanos: nanos_i32(after.subsec_nanos()),
            },
            // Protobuf keeps the fraction non-negative: 0.3 s before the epoch is -1 s + 0.7 s.
            Err(before) => {
                let before = before.duration();
                let seconds = 0i64.saturating_sub_unsigned(before.as_secs());
                match before.subsec_nanos() {
                    0 => Timestamp { seconds, nanos: 0 },
                    nanos => Timestamp {
                        seconds: seconds.saturating_sub(1),
                        nanos: nanos_i32(NANOS_PER_SECOND - nanos),
                    },
                }
            }
        }
    }
}

/// A sub-second count (always below 10^9) as protobuf's `int32`.
fn nanos_i32(nanos: u32) -> i32 {
    i32::try_from(nanos).unwrap_or(i32::MAX)
}
