//! crun as a runtime of the tests: crun 1.8 cannot work on a hybrid cgroup layout whose v2
//! hierarchy holds a controller, so on such a host it runs behind a wrapper of its own.

use std::path::Path;

use crate::script::write_script;

/// How to run crun here. crun 1.8 refuses to create anything on a hybrid cgroup layout whose v2
/// hierarchy holds a controller (`cgroups in hybrid mode not supported`), which is this machine's
/// layout. Where that is the case, a wrapper unmounts the v2 hierarchy in a private mount
/// namespace and execs crun, which then manages cgroups v1 as runc does; the wrapper keeps the
/// pid the shim spawned, so nothing else changes.
pub fn crun_program(bin: &Path) -> String {
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers");
    if controllers.map(|c| c.trim().is_empty()).unwrap_or(true) {
        return "crun".into();
    }
    let wrapper = bin.join("crun-cgroup-v1");
    write_script(
        &wrapper,
        "#!/bin/sh\nexec unshare --mount --propagation private \\\n  sh -c 'umount /sys/fs/cgroup/unified && exec crun \"$@\"' crun \"$@\"\n",
    );
    wrapper.display().to_string()
}
