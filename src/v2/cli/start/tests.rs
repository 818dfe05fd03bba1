//! Unit tests of [`super`].

use super::*;

#[test]
fn parts_join_and_clean_as_go_filepath_join_does() {
    assert_eq!(
        go_join(&["/run/containerd/containerd.sock", "default", "c1"]),
        "/run/containerd/containerd.sock/default/c1"
    );
    assert_eq!(go_join(&["/a//b/", "./ns", "id/"]), "/a/b/ns/id");
    assert_eq!(go_join(&["/a/b/../c", "ns", "id"]), "/a/c/ns/id");
    assert_eq!(go_join(&["/..", "x"]), "/x");
    assert_eq!(go_join(&["a", "..", ".."]), "..");
    assert_eq!(go_join(&["", ""]), ".");
}

#[test]
fn the_socket_is_named_like_the_go_shims() {
    // Measured: the Go shim of a task `c1` in namespace `t1` of containerd at /tmp/ctdx/c.sock
    // listened on this socket.
    assert_eq!(
        socket_path("/tmp/ctdx/c.sock", "t1", "c1"),
        Path::new(
            "/run/containerd/s/7d5aa5a4f66f3b7de76a7e6c26731b2d0f15bc8e3246c16a00187ef0aea45bbc"
        )
    );
    assert_eq!(
        socket_path("/tmp/ctdx/c.sock", "t1", "c1"),
        socket_path("/tmp//ctdx/./c.sock/", "t1", "c1")
    );
}
