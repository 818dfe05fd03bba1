//! The TOML of CRI's runtime options (`v2::runtime_options::parse`) on hostile text: it never
//! panics; a refusal names a line of the text; what it reads, written back out as a TOML
//! table of the runc options (every string escaped), reads back the same; and the text with
//! every line after the first refusal cut off is refused on the same line, or read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyshim::v2::proto::runc::Options;
use tinyshim::v2::runtime_options::parse;

/// `options` as a table of the names containerd uses, each string a basic TOML string.
fn written(options: &Options) -> String {
    let quoted = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    format!(
        "BinaryName = {}\nRoot = {}\nSystemdCgroup = {}\nNoPivotRoot = {}\nNoNewKeyring = {}\n\
         IoUid = {}\nIoGid = {}\nShimCgroup = {}\nCriuPath = {}\nCriuImagePath = {}\n\
         CriuWorkPath = {}\n",
        quoted(&options.binary_name),
        quoted(&options.root),
        options.systemd_cgroup,
        options.no_pivot_root,
        options.no_new_keyring,
        options.io_uid,
        options.io_gid,
        quoted(&options.shim_cgroup),
        quoted(&options.criu_path),
        quoted(&options.criu_image_path),
        quoted(&options.criu_work_path),
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(options) => {
            let again = parse(&written(&options));
            assert_eq!(again.as_ref(), Ok(&options), "{text:?}");
        }
        Err(error) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&error.line),
                "line {} of {lines}",
                error.line
            );
            assert!(error.reason.len() < 256, "{}", error.reason);
        }
    }
});
