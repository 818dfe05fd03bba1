//! Unit tests of [`super`]: the option tables CRI passes on, and every refusal.

use super::*;

fn error(text: &str) -> TomlError {
    parse(text).expect_err("a text that must be refused")
}

#[test]
fn every_runc_option_is_read_by_its_containerd_name_in_any_case() {
    let text = "\
# runc options for tinyshim (CRI ConfigPath)
BinaryName = \"/usr/bin/crun\"
root = '/run/my runc'   # a literal string
SystemdCgroup = true
NoPivotRoot = true
no_new_keyring = true
IoUid = 1000
IOGID = 1_001
ShimCgroup = \"/shims\"
CriuImagePath = \"/ckpt\"
CriuWorkPath = \"/ckpt-work\"
";
    let options = parse(text).expect("a runc options table");
    assert_eq!(
        options,
        Options {
            binary_name: "/usr/bin/crun".into(),
            root: "/run/my runc".into(),
            systemd_cgroup: true,
            no_pivot_root: true,
            no_new_keyring: true,
            io_uid: 1000,
            io_gid: 1001,
            shim_cgroup: "/shims".into(),
            criu_image_path: "/ckpt".into(),
            criu_work_path: "/ckpt-work".into(),
            ..Options::default()
        }
    );
}

#[test]
fn escapes_in_basic_strings_are_decoded_and_literal_strings_are_kept() {
    let options =
        parse("BinaryName = \"/a\\\"b\\\\c\\u00e9\\tend\"\nRoot = '/x\\y'\n").expect("strings");
    assert_eq!(options.binary_name, "/a\"b\\cé\tend");
    assert_eq!(options.root, "/x\\y");
}

#[test]
fn other_keys_tables_and_values_of_any_shape_are_skipped() {
    let text = "\
Runtime = 3.5
Tags = [\"a\", [1, 2], { x = \"]\" }]
Multi = [
  1, # a comment inside
  2,
]
Inline = { a = 1, b = \"}\" }
Notes = \"\"\"
SystemdCgroup = true
\"\"\"
when = 1979-05-27T07:32:00Z
dotted.key = true
\"quoted key\" = 1
BinaryName = \"runc\"

[options]
Root = \"/not/the/top/level\"
[[more]]
SystemdCgroup = true
";
    let options = parse(text).expect("a table with other things");
    assert_eq!(
        options,
        Options {
            binary_name: "runc".into(),
            ..Options::default()
        }
    );
}

#[test]
fn an_empty_text_or_one_of_comments_and_crlf_lines_is_no_option() {
    assert_eq!(parse(""), Ok(Options::default()));
    assert_eq!(
        parse("# nothing\r\n\r\n  # still nothing\r\nSystemdCgroup = true\r\n")
            .map(|o| o.systemd_cgroup),
        Ok(true)
    );
}

#[test]
fn a_known_key_with_a_value_of_another_type_is_refused_naming_it_and_its_line() {
    for (text, line, reason) in [
        (
            "\nSystemdCgroup = \"yes\"\n",
            2,
            "SystemdCgroup must be true or false",
        ),
        ("BinaryName = true\n", 1, "BinaryName must be a string"),
        ("IoUid = -1\n", 1, "IoUid out of range: -1"),
        ("IoGid = 4294967296\n", 1, "IoGid out of range: 4294967296"),
        ("IoUid = \"0\"\n", 1, "IoUid must be an integer"),
        ("Root = [\"/r\"]\n", 1, "Root must be a string"),
    ] {
        assert_eq!(
            error(text),
            TomlError {
                line,
                reason: reason.into()
            },
            "{text:?}"
        );
    }
}

#[test]
fn text_that_is_not_toml_is_refused_naming_its_line() {
    for (text, line) in [
        ("BinaryName \"runc\"\n", 1),
        ("ok = 1\n= 2\n", 2),
        ("BinaryName = \"runc\n", 1),
        ("BinaryName = \"runc\" trailing\n", 1),
        ("Tags = [1, 2\n", 1),
        ("Notes = '''never closed\n", 1),
        ("[unclosed \"header\n", 1),
        ("Root = \"\\q\"\n", 1),
        ("Root = \"\\u12\"\n", 1),
        ("Root =\n", 1),
    ] {
        assert_eq!(error(text).line, line, "{text:?}: {:?}", parse(text));
    }
}

#[test]
fn a_config_body_wins_over_a_config_path_and_a_missing_file_is_named() {
    let body = RuntimeOptions {
        config_path: "/no/such/file.toml".into(),
        config_body: "BinaryName = \"crun\"".into(),
        ..RuntimeOptions::default()
    };
    assert_eq!(
        runc_options(&body).map(|o| o.binary_name).ok(),
        Some("crun".into())
    );
    let path = RuntimeOptions {
        config_path: "/no/such/file.toml".into(),
        ..RuntimeOptions::default()
    };
    let refused = runc_options(&path).expect_err("a missing file").to_string();
    assert!(refused.contains("/no/such/file.toml"), "{refused}");
    assert_eq!(
        runc_options(&RuntimeOptions::default()).ok(),
        Some(Options::default())
    );
}
