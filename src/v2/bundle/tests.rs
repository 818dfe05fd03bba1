//! Unit tests of [`super`].

use super::*;

#[test]
fn the_pid_namespace_and_the_group_are_read_from_config_json() {
    let own = decode_config(
        br#"{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]},
            "annotations":{"io.kubernetes.cri.sandbox-id":"pod1"},"process":{"args":["sh"]}}"#,
    )
    .expect("decodes");
    assert!(own.own_pid_namespace);
    assert_eq!(group_key(&own, "c1"), "pod1");
    let joined = decode_config(
        br#"{"linux":{"namespaces":[{"type":"pid","path":"/proc/1/ns/pid"}]},
            "annotations":{"io.kubernetes.cri.sandbox-id":"pod1","io.containerd.runc.v2.group":"g"}}"#,
    )
    .expect("decodes");
    assert!(!joined.own_pid_namespace, "a pid namespace joined by path");
    assert_eq!(group_key(&joined, "c1"), "g", "the runc group comes first");
    let bare = decode_config(b"{}").expect("decodes");
    assert!(!bare.own_pid_namespace);
    assert_eq!(group_key(&bare, "c1"), "c1");
    assert!(decode_config(b"[1]").is_err());
    assert!(decode_config(br#"{"annotations":{"a":1}}"#).is_err());
}

#[test]
fn a_config_json_that_is_an_array_is_refused() {
    let error = decode_config(b"[{}, {}]").expect_err("an array");
    assert!(error.to_string().contains("a JSON object"), "{error}");
}
