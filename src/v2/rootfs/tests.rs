//! Unit tests of [`super`].

use super::*;

fn words(options: &[&str]) -> Vec<String> {
    options.iter().map(|s| s.to_string()).collect()
}

#[test]
fn options_split_into_flags_propagation_and_data() {
    let overlay = parse_options(&words(&[
        "index=off",
        "workdir=/w",
        "upperdir=/u",
        "lowerdir=/l1:/l2",
    ]));
    assert_eq!(overlay.flags, MsFlags::empty());
    assert_eq!(
        overlay.data,
        "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2"
    );
    let bind = parse_options(&words(&["rbind", "ro", "nosuid", "rprivate"]));
    assert_eq!(
        bind.flags,
        MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID
    );
    assert_eq!(bind.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
    assert_eq!(bind.data, "");
    // A later option wins, as mount(8) reads them.
    assert_eq!(parse_options(&words(&["ro", "rw"])).flags, MsFlags::empty());
}

#[test]
fn a_read_only_bind_of_a_directory_is_mounted_and_taken_down() {
    let scratch = std::env::temp_dir().join(format!("tinyshim-rootfs-{}", std::process::id()));
    let source = scratch.join("source");
    let bundle = scratch.join("bundle");
    std::fs::create_dir_all(&source).expect("mkdir");
    std::fs::write(source.join("marker"), b"x").expect("write");
    let mounts = [Mount {
        r#type: "bind".into(),
        source: source.display().to_string(),
        target: String::new(),
        options: words(&["rbind", "ro"]),
    }];
    mount_all(&bundle, &mounts).expect("mount");
    let rootfs = bundle.join(ROOTFS);
    assert!(rootfs.join("marker").exists());
    let write = std::fs::write(rootfs.join("new"), b"y");
    assert!(write.is_err(), "read-only");
    assert_eq!(unmount_all(&bundle).ok(), Some(0), "nothing was busy");
    assert!(!rootfs.join("marker").exists());
    assert_eq!(
        unmount_all(&bundle).ok(),
        Some(0),
        "nothing left to unmount"
    );
    std::fs::remove_dir_all(&scratch).expect("clean up");
}
