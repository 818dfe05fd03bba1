//! Links the static (musl) shims with `src/bin/text-layout.ld`, which keeps the code that only
//! prints a panic's backtrace out of an idle shim's resident memory (see the script).
//! The glibc builds, which the tests run, keep the default layout and their backtraces.

fn main() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/text-layout.ld");
    println!("cargo:rerun-if-changed={script}");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
    }
}
