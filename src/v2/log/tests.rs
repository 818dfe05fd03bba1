//! Unit tests of [`super`].

use super::*;

#[test]
fn messages_are_quoted_as_logrus_does() {
    assert_eq!(quoted("plain"), "\"plain\"");
    assert_eq!(quoted("a \"b\"\n\\"), "\"a \\\"b\\\"\\n\\\\\"");
    assert_eq!(quoted("\u{1}"), "\"\\u0001\"");
}
