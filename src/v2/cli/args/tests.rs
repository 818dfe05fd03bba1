//! Unit tests of [`super`].

use super::*;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn containerds_start_line_parses() {
    let args = parse(&words(
        "-namespace default -address /run/containerd/containerd.sock \
         -publish-binary /usr/bin/containerd -id c1 -debug start",
    ))
    .expect("parses");
    assert_eq!(
        args,
        Args {
            namespace: "default".into(),
            id: "c1".into(),
            address: "/run/containerd/containerd.sock".into(),
            bundle: None,
            debug: true,
            action: Action::Start,
        }
    );
}

#[test]
fn delete_and_serve_lines_parse_with_either_dash_and_inline_values() {
    let args = parse(&words(
        "--namespace=k8s.io -id=c2 -address a -bundle /b -debug=false delete",
    ))
    .expect("parses");
    assert_eq!(args.namespace, "k8s.io");
    assert_eq!(args.bundle.as_deref(), Some("/b"));
    assert!(!args.debug);
    assert_eq!(args.action, Action::Delete);
    let serve = parse(&words("-namespace n -id c -address a")).expect("parses");
    assert_eq!(serve.action, Action::Serve);
}

#[test]
fn bad_lines_are_refused_with_go_flags_wording() {
    let error = |line: &str| parse(&words(line)).expect_err("refused").0;
    assert_eq!(
        error("-namespace n -bogus x"),
        "flag provided but not defined: -bogus"
    );
    assert_eq!(error("-namespace"), "flag needs an argument: -namespace");
    assert_eq!(error("-namespace n reboot"), "unknown action \"reboot\"");
    assert_eq!(error("-id c start"), "shim namespace cannot be empty");
    assert_eq!(
        error("-namespace n -debug=maybe"),
        "invalid boolean value \"maybe\" for -debug"
    );
    assert_eq!(
        parse(&words("-v")).expect("version").action,
        Action::Version
    );
}
