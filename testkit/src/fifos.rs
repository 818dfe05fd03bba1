//! A process's stdio FIFOs as containerd's client side makes them before the Create or Exec that
//! names them: each made with mode 0600 and already open at the client's end, so that the shim
//! can open its ends without blocking.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::sys::stat::Mode;

/// A FIFO at `path`, and a non-blocking reader on it: the client's end of an output.
pub fn fifo_reader(path: &Path) -> File {
    make(path);
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .expect("open the FIFO for reading")
}

/// A FIFO at `path`, open for writing without blocking (read and write, as a FIFO opened for
/// writing alone would wait for a reader): the client's end of stdin.
pub fn fifo_writer(path: &Path) -> File {
    make(path);
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open the FIFO for writing")
}

fn make(path: &Path) {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))
        .unwrap_or_else(|e| panic!("mkfifo {}: {e}", path.display()));
}

/// The three FIFOs of one process in `dir`, named after `name`, with the client's ends open.
pub struct ClientFifos {
    /// The stdin, stdout and stderr paths, as a Create or Exec names them.
    pub paths: [PathBuf; 3],
    /// The client's writer on stdin.
    pub stdin: File,
    /// The client's readers on stdout and stderr.
    pub outputs: [File; 2],
}

impl ClientFifos {
    /// Makes them.
    pub fn new(dir: &Path, name: &str) -> ClientFifos {
        let paths =
            ["stdin", "stdout", "stderr"].map(|stream| dir.join(format!("{name}-{stream}")));
        let stdin = fifo_writer(&paths[0]);
        let outputs = [fifo_reader(&paths[1]), fifo_reader(&paths[2])];
        ClientFifos {
            paths,
            stdin,
            outputs,
        }
    }

    /// The paths as strings, for a request.
    pub fn path_strings(&self) -> [String; 3] {
        self.paths.clone().map(|path| path.display().to_string())
    }
}
