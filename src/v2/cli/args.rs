//! The shim's command line, as containerd writes it: Go `flag` syntax (one or two dashes,
//! `-name value` or `-name=value`, booleans without a value), then the action.
//!
//! ```text
//! containerd-shim-tinyshim-v2 -namespace NS -address A -publish-binary B -id ID [-debug]
//!     [-bundle B] start|delete|<nothing>
//! ```

use std::fmt;

/// What the invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Make or find the shim's socket, start the serving shim, print the address.
    Start,
    /// Clean up after a task whose shim is gone.
    Delete,
    /// Serve (what `start` runs, with the listening socket as fd 3).
    Serve,
    /// Print the version.
    Version,
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `-namespace`: the containerd namespace, required.
    pub namespace: String,
    /// `-id`: the task (container) id.
    pub id: String,
    /// `-address`: containerd's gRPC socket.
    pub address: String,
    /// `-bundle`: the bundle, when not the working directory (`delete`).
    pub bundle: Option<String>,
    /// `-debug`.
    pub debug: bool,
    /// What to do.
    pub action: Action,
}

/// A command line the shim cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

const VALUE_FLAGS: [&str; 6] = [
    "namespace",
    "id",
    "address",
    "publish-binary",
    "bundle",
    "socket",
];
const BOOL_FLAGS: [&str; 2] = ["debug", "v"];

/// Parses the arguments after the program name.
pub fn parse(argv: &[String]) -> Result<Args, UsageError> {
    let mut args = Args {
        namespace: String::new(),
        id: String::new(),
        address: String::new(),
        bundle: None,
        debug: false,
        action: Action::Serve,
    };
    let mut version = false;
    let mut words = argv.iter();
    let mut rest: Vec<&String> = Vec::new();
    while let Some(word) = words.next() {
        let Some(flag) = word
            .strip_prefix("--")
            .or_else(|| word.strip_prefix('-'))
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
        else {
            // The first word that is no flag ends the flags, as in Go.
            rest.push(word);
            rest.extend(words.by_ref());
            break;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (flag, None),
        };
        if BOOL_FLAGS.contains(&name) {
            let on = match inline.as_deref() {
                None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => true,
                Some("false" | "0" | "f" | "F" | "FALSE" | "False") => false,
                Some(other) => {
                    return Err(UsageError(format!(
                        "invalid boolean value {other:?} for -{name}"
                    )))
                }
            };
            match name {
                "debug" => args.debug = on,
                _ => version = on,
            }
            continue;
        }
        if !VALUE_FLAGS.contains(&name) {
            return Err(UsageError(format!(
                "flag provided but not defined: -{name}"
            )));
        }
        let value = match inline {
            Some(value) => value,
            None => words
                .next()
                .cloned()
                .ok_or_else(|| UsageError(format!("flag needs an argument: -{name}")))?,
        };
        match name {
            "namespace" => args.namespace = value,
            "id" => args.id = value,
            "address" => args.address = value,
            // The containerd binary to publish events with: this shim publishes over ttrpc.
            "publish-binary" => {}
            "bundle" => args.bundle = Some(value),
            // The Go shim's own re-exec flag; this shim passes its socket as fd 3.
            _ => {}
        }
    }
    if version {
        args.action = Action::Version;
        return Ok(args);
    }
    args.action = match rest.first().map(|s| s.as_str()) {
        None => Action::Serve,
        Some("start") => Action::Start,
        Some("delete") => Action::Delete,
        Some(other) => return Err(UsageError(format!("unknown action {other:?}"))),
    };
    if args.namespace.is_empty() {
        return Err(UsageError("shim namespace cannot be empty".into()));
    }
    Ok(args)
}

#[cfg(test)]
mod tests;
