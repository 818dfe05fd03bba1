//! Unit tests of [`super`].

use super::*;

#[test]
fn ids_are_containerd_identifiers_only() {
    for good in ["c1", "a.b_c-d", "0", &"x".repeat(MAX_ID)] {
        assert!(valid_id(good), "{good:?}");
    }
    for bad in [
        "",
        "-c",
        ".hidden",
        "a/b",
        "../x",
        "a b",
        "é",
        &"x".repeat(MAX_ID + 1),
    ] {
        assert!(!valid_id(bad), "{bad:?}");
    }
}
