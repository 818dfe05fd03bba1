//! Unit tests of [`super`].

use super::*;

#[test]
fn look_path_finds_absolute_and_path_names() {
    let search = OsStr::new("/nonexistent:/usr/bin:/bin");
    assert_eq!(look_path("/bin/sh", search), Some(PathBuf::from("/bin/sh")));
    assert!(look_path("sh", search).is_some());
    assert_eq!(look_path("sh", OsStr::new("/nonexistent")), None);
    assert_eq!(look_path("no-such-runtime-xyz", search), None);
    assert_eq!(look_path("/etc/passwd", search), None);
    assert_eq!(look_path("", search), None);
}
