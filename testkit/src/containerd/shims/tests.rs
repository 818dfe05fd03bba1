use super::*;

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_namespace_flag_is_found_in_every_go_spelling() {
    for args in [
        &["shim", "-namespace", "ns1", "-id", "c"][..],
        &["shim", "--namespace", "ns1"][..],
        &["shim", "-namespace=ns1"][..],
        &["shim", "--namespace=ns1", "start"][..],
    ] {
        assert!(has_namespace_flag(&argv(args), "ns1"), "{args:?}");
    }
    assert!(!has_namespace_flag(
        &argv(&["shim", "-namespace", "ns10"]),
        "ns1"
    ));
    assert!(!has_namespace_flag(&argv(&["shim", "-id", "ns1"]), "ns1"));
    assert!(!has_namespace_flag(&argv(&["shim", "-namespace"]), "ns1"));
}

#[test]
fn the_go_shim_socket_is_the_sha256_of_address_namespace_and_id() {
    // Measured: the Go shim of container c1 in namespace t1 of a daemon at /tmp/ctdx/c.sock
    // listened on /run/containerd/s/7d5aa5a4....
    assert_eq!(
        go_shim_socket("/tmp/ctdx/c.sock", "t1", "c1"),
        Some(PathBuf::from(
            "/run/containerd/s/7d5aa5a4f66f3b7de76a7e6c26731b2d0f15bc8e3246c16a00187ef0aea45bbc"
        ))
    );
}
