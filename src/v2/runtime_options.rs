//! CRI's options for a runtime it does not take for runc (`runtimeoptions.v1.Options`): the
//! runtime's options table as TOML, in a file (`config_path`, the runtime entry's
//! `ConfigPath`, containerd 1.6 and later) or as text (`config_body`, the whole `options`
//! table, containerd 1.7 and later), read here for the runc options the shim takes from runc's
//! own `Options`: `BinaryName`, `Root`, `SystemdCgroup`, `NoPivotRoot`, `NoNewKeyring`,
//! `IoUid`, `IoGid`, `ShimCgroup`, `CriuImagePath`, `CriuWorkPath`.
//!
//! The TOML read is what such a table holds: `key = value` lines at the top level, keys bare or
//! quoted and matched without regard to case (as containerd's TOML decoder matches runc's
//! option names), basic and literal strings, booleans and integers, `#` comments. Values of
//! other keys are skipped whatever they are (arrays, inline tables, floats, dates), and so is
//! everything under a `[table]` header, which a runc options table does not have. A key the
//! shim reads with a value of the wrong type, or a line that is not TOML, is an error naming its
//! line. No TOML crate: this is all a runc options table needs, total on any input (fuzzed),
//! and it costs the shim no code it would otherwise not have.

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::input::read_limited;
use crate::v2::proto::runc::Options;
use crate::v2::proto::runtimeoptions::RuntimeOptions;

mod toml;

pub use toml::TomlError;
use toml::Value;

/// The runc options that `options` holds: its `config_body` if it has one, else the file its
/// `config_path` names, else none at all.
pub fn runc_options(options: &RuntimeOptions) -> Result<Options> {
    if !options.config_body.is_empty() {
        return parse(&options.config_body)
            .map_err(|e| Error::invalid("runtime options config_body", e));
    }
    if options.config_path.is_empty() {
        return Ok(Options::default());
    }
    let path = Path::new(&options.config_path);
    let bytes = read_limited(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(path.display().to_string(), "not UTF-8"))?;
    parse(&text).map_err(|e| Error::invalid(path.display().to_string(), e))
}

/// The runc options in the TOML `text`.
pub fn parse(text: &str) -> std::result::Result<Options, TomlError> {
    let mut options = Options::default();
    toml::read_top_level(text, |key, value| set(&mut options, key, value))?;
    Ok(options)
}

/// Sets the option named `key` (any case) to `value`; other keys are not the shim's.
fn set(options: &mut Options, key: &str, value: Value) -> std::result::Result<(), String> {
    let text = |value: Value| match value {
        Value::Text(text) => Ok(text),
        _ => Err(format!("{key} must be a string")),
    };
    let flag = |value: Value| match value {
        Value::Bool(flag) => Ok(flag),
        _ => Err(format!("{key} must be true or false")),
    };
    let id = |value: Value| match value {
        Value::Integer(n) => u32::try_from(n).map_err(|_| format!("{key} out of range: {n}")),
        _ => Err(format!("{key} must be an integer")),
    };
    let name: String = key.chars().filter(|c| *c != '_').collect();
    match name.to_ascii_lowercase().as_str() {
        "binaryname" => options.binary_name = text(value)?,
        "root" => options.root = text(value)?,
        "systemdcgroup" => options.systemd_cgroup = flag(value)?,
        "nopivotroot" => options.no_pivot_root = flag(value)?,
        "nonewkeyring" => options.no_new_keyring = flag(value)?,
        "iouid" => options.io_uid = id(value)?,
        "iogid" => options.io_gid = id(value)?,
        "shimcgroup" => options.shim_cgroup = text(value)?,
        "criupath" => options.criu_path = text(value)?,
        "criuimagepath" => options.criu_image_path = text(value)?,
        "criuworkpath" => options.criu_work_path = text(value)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
