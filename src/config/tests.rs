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

#[test]
fn the_runtime_timeout_is_whole_seconds_zero_for_none_and_else_the_default() {
    let of = |value: &str| timeout_from(Some(OsStr::new(value)));
    assert_eq!(timeout_from(None), Some(DEFAULT_RUNTIME_TIMEOUT));
    assert_eq!(of("7"), Some(Duration::from_secs(7)));
    assert_eq!(of(" 7 "), Some(Duration::from_secs(7)));
    assert_eq!(of("0"), None);
    assert_eq!(of("soon"), Some(DEFAULT_RUNTIME_TIMEOUT));
    assert_eq!(of("-3"), Some(DEFAULT_RUNTIME_TIMEOUT));
    assert_eq!(of("18446744073709551616"), Some(DEFAULT_RUNTIME_TIMEOUT));
}

#[test]
fn criu_calls_get_five_times_the_runtime_timeout() {
    let mut config = Config::from_env(Path::new("/"));
    config.runtime_timeout = Some(Duration::from_secs(10));
    assert_eq!(config.time_limit("create"), Some(Duration::from_secs(10)));
    assert_eq!(config.time_limit("restore"), Some(Duration::from_secs(50)));
    assert_eq!(
        config.time_limit("checkpoint"),
        Some(Duration::from_secs(50))
    );
    config.runtime_timeout = None;
    assert_eq!(config.time_limit("create"), None);
}
