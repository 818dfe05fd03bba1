//! Unit tests of [`super`].

use super::*;

#[test]
fn look_path_finds_absolute_and_path_names() {
    assert_eq!(look_path("/bin/sh"), Some(PathBuf::from("/bin/sh")));
    assert!(look_path("sh").is_some());
    assert_eq!(look_path("no-such-runtime-xyz"), None);
    assert_eq!(look_path("/etc/passwd"), None);
    assert_eq!(look_path(""), None);
}
