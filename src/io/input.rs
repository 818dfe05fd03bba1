//! Reading a file the shim does not trust (`process.json`, a pid file, `config.json`, a
//! checkpoint config): bounded, and without ever blocking in `open`.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::de::{DeserializeOwned, Error as _, Unexpected};

use crate::error::{Error, Result};

/// Largest input file the shim reads. The daemons' files are a few KiB; an `env` of megabytes is
/// possible, a file of gigabytes is not a process description.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Decodes `bytes` as a JSON object into `T`, as Go's `encoding/json` fills a struct: serde
/// would also fill it from an array of its fields in order, which the daemons never write and
/// Go refuses, so an array is refused here too.
pub fn json_object<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, serde_json::Error> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(serde_json::Error::invalid_type(
            Unexpected::Seq,
            &"a JSON object",
        ));
    }
    serde_json::from_slice(bytes)
}

/// Reads a whole input file of at most [`MAX_INPUT_BYTES`], which must be a regular file. The
/// open does not block: a FIFO in the file's place would otherwise hold the shim in `open`
/// forever, waiting for a writer.
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::os(format!("open {}", path.display()), e))?;
    let metadata = file
        .metadata()
        .map_err(|e| Error::os(format!("fstat {}", path.display()), e))?;
    if !metadata.is_file() {
        return Err(Error::invalid(
            path.display().to_string(),
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::os(format!("read {}", path.display()), e))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("larger than {MAX_INPUT_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}
