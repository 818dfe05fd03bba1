//! Unit tests of [`super`].

use super::*;

#[test]
fn entry_has_the_original_shape() {
    assert_eq!(
        entry(Level::Error, "runc not installed on system"),
        r#"{"level": "error","msg": "runc not installed on system"}"#
    );
}

#[test]
fn entry_escapes_quotes_backslashes_and_control_bytes() {
    let text = entry(Level::Warn, "open \"a\\b\"\n\u{1}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(value["msg"], "open \"a\\b\"\n\u{1}");
    assert_eq!(value["level"], "warn");
}
