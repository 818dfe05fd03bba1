//! The one error type of the shim.
//!
//! Every message ends up in `shim-log.json`, where the daemon turns the first `error` entry into
//! `shim error: <msg>` for the user. So each variant carries what failed and where: the syscall and
//! the path or descriptor, or the input file and what was wrong with it.

use std::fmt;
use std::io;

/// An error that ends the shim with exit status 1 and one `error` entry in `shim-log.json`.
#[derive(Debug)]
pub enum Error {
    /// A system call failed. `context` names the call and its object, e.g. `open /run/x/control`.
    Os {
        /// What was being done, naming the syscall and the path or descriptor.
        context: String,
        /// The error the kernel returned.
        source: io::Error,
    },
    /// A file or message the shim read does not hold what the protocol allows.
    Invalid {
        /// Which input, usually a path.
        context: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The runtime binary could not be found. The message is the original shim's, word for word,
    /// because users search for it.
    RuntimeNotInstalled(String),
}

impl Error {
    /// A failed system call described by `context`.
    pub fn os(context: impl Into<String>, source: impl Into<io::Error>) -> Error {
        Error::Os {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Input that the shim cannot use, described by `context`.
    pub fn invalid(context: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::Invalid {
            context: context.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Os { context, source } => write!(f, "{context}: {source}"),
            Error::Invalid { context, reason } => write!(f, "{context}: {reason}"),
            Error::RuntimeNotInstalled(runtime) => write!(f, "{runtime} not installed on system"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Os { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The shim's result type.
pub type Result<T> = std::result::Result<T, Error>;
