//! Unit tests of [`super`].

use super::*;

#[test]
fn fifo_paths_file_and_binary_uris_are_told_apart() {
    assert_eq!(
        parse_outputs("/run/f/c-stdout", "/run/f/c-stderr").ok(),
        Some(Outputs::Fifos {
            stdout: "/run/f/c-stdout".into(),
            stderr: "/run/f/c-stderr".into()
        })
    );
    assert_eq!(
        parse_outputs("", "").ok(),
        Some(Outputs::Fifos {
            stdout: "".into(),
            stderr: "".into()
        })
    );
    assert_eq!(
        parse_outputs("file:///var/log/my%20c.log", "").ok(),
        Some(Outputs::File("/var/log/my c.log".into()))
    );
    assert_eq!(
        parse_outputs("binary:///usr/bin/logger?tag=web&debug&level=a+b%21", "").ok(),
        Some(Outputs::Logger {
            path: "/usr/bin/logger".into(),
            args: vec![
                "tag".into(),
                "web".into(),
                "debug".into(),
                "level".into(),
                "a b!".into()
            ]
        })
    );
    assert_eq!(
        parse_outputs("ftp://x", "").map_err(|e| e.to_string()),
        Err("stdout \"ftp://x\": unknown STDIO scheme ftp".to_string())
    );
    assert!(parse_outputs("file:///bad%zz", "").is_err());
    assert!(parse_outputs("file:///cut%4", "").is_err());
}
