//! Unit tests of [`super`].

use super::*;

#[test]
fn switches_are_on_for_any_value_but_empty_or_zero() {
    assert!(!switch_is_on(None));
    assert!(!switch_is_on(Some(OsStr::new(""))));
    assert!(!switch_is_on(Some(OsStr::new("0"))));
    assert!(switch_is_on(Some(OsStr::new("1"))));
    assert!(switch_is_on(Some(OsStr::new("yes"))));
}

#[test]
fn the_temporary_dir_is_always_absolute() {
    let cwd = Path::new("/run/c/init");
    assert_eq!(temporary_dir(None, cwd), Path::new("/tmp"));
    assert_eq!(temporary_dir(Some(OsStr::new("")), cwd), Path::new("/tmp"));
    assert_eq!(
        temporary_dir(Some(OsStr::new("/var/tmp")), cwd),
        Path::new("/var/tmp")
    );
    assert_eq!(
        temporary_dir(Some(OsStr::new(".")), cwd),
        Path::new("/run/c/init/.")
    );
    assert_eq!(
        temporary_dir(Some(OsStr::new("sub/dir")), cwd),
        Path::new("/run/c/init/sub/dir")
    );
}
