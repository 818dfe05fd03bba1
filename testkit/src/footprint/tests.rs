use super::*;
use crate::scratch::Scratch;

#[test]
fn bundles_give_their_ids_and_socket_paths() {
    let scratch = Scratch::new("footprint");
    let bundles = scratch.path();
    std::fs::create_dir_all(bundles.join("c1")).expect("bundle c1");
    std::fs::write(bundles.join("c1/address"), "unix:///run/containerd/s/abc\n").expect("address");
    std::fs::create_dir_all(bundles.join("c2")).expect("bundle c2");
    let mut footprint = Footprint::default();
    footprint.record_bundles(bundles);
    assert_eq!(
        footprint.ids.iter().map(String::as_str).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert_eq!(
        footprint.sockets.iter().collect::<Vec<_>>(),
        [Path::new("/run/containerd/s/abc")]
    );
}
