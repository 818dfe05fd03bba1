use super::*;

#[test]
fn mountinfo_octal_escapes_are_decoded() {
    assert_eq!(unescape_mountinfo("/a\\040b\\134c"), "/a b\\c");
    assert_eq!(unescape_mountinfo("/plain"), "/plain");
    assert_eq!(unescape_mountinfo("/cut\\04"), "/cut\\04");
}
