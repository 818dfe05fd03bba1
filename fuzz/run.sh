#!/bin/sh
# Runs the cargo-fuzz targets, each for FUZZ_SECONDS (default 60), and prints executions and
# coverage per target. `make fuzz` calls it; `fuzz/run.sh control pid_file` runs only those;
# `fuzz/run.sh --merge [targets]` folds what the runs found into the committed corpora.
#
# Committed and only read by a run: the seeds, fuzz/seeds/<target>/ (one classic case per file),
# and the corpora of past long runs, fuzz/corpus/<target>/ (minimized), so that a short run (CI's)
# starts where the long ones got to. New inputs go to the working corpus fuzz/work/<target>/ (not
# committed). The megabyte seeds are made here, in fuzz/work/big/<target>/, rather than
# committed, and are run whole before fuzzing starts. They do not join the fuzzing corpus, where
# they would make every mutation megabytes long. Crashes go to fuzz/artifacts/<target>/ and make
# the script exit 1; each becomes a regression test in src/ or tests/.
set -eu

cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
merge=false
if [ "${1:-}" = --merge ]; then
  merge=true
  shift
fi
targets=${*:-control process_json checkpoint_config pid_file ttrpc cgroup_files runtime_options task_requests}
# Largest input the fuzzer makes: far beyond a control line (64 bytes), serde_json's nesting
# limit (128) and the decoder's read chunk (4 KiB), small enough to keep executions fast;
# libFuzzer grows its inputs up to it.
max_len=16384

toolchain=${FUZZ_TOOLCHAIN:-nightly}
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "fuzz: the $toolchain toolchain is missing (rustup toolchain install $toolchain)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi

# Inputs of about a megabyte, made here so that none is committed.
big_seeds() {
  dir=work/big/$1
  repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; }
  case $1 in
    control)
      # An endless-looking line whose tail looks valid, read in 16 KiB and 64-byte chunks.
      { printf '\003\377\377\100'; repeat 7 1040000; printf ' 1 80 24\n1 1 2\n'; } > "$dir/big-line"
      # A megabyte without any newline, read one byte at a time.
      { printf '\000'; repeat ' ' 1040000; } > "$dir/big-blanks"
      # Thousands of valid resizes.
      { printf '\001\377'; i=0; while [ $i -lt 2000 ]; do
          printf '1 %d %d\n' $((i % 300)) $((i % 200)); i=$((i + 1)); done; } > "$dir/many-lines" ;;
    process_json)
      # A valid process with an env of about a megabyte.
      { printf '{"terminal":false,"args":["sh"],"env":['
        i=0; while [ $i -lt 4000 ]; do printf '"V%d=%0240d",' $i 0; i=$((i + 1)); done
        printf '"LAST=1"],"containerdStdout":"/b/o","rootUID":0}'; } > "$dir/big-env"
      # Nested 100 000 levels deep where the shim skips the value, then where it expects a list.
      { printf '{"args":'; repeat '[' 100000; repeat ']' 100000; printf '}'; } > "$dir/deep-unknown"
      { printf '{"runtimeArgs":'; repeat '[' 100000; repeat ']' 100000; printf '}'; } > "$dir/deep-known"
      { printf '{"containerdStdout":"'; repeat a 1040000; printf '"}'; } > "$dir/big-string" ;;
    checkpoint_config)
      { printf '{"tcp":true,"emptyNS":['
        i=0; while [ $i -lt 100000 ]; do printf '"ns%d",' $i; i=$((i + 1)); done
        printf '"network"]}'; } > "$dir/big-empty-ns"
      { printf '{"name":'; repeat '[' 100000; repeat ']' 100000; printf '}'; } > "$dir/deep-unknown" ;;
    pid_file)
      repeat 9 1040000 > "$dir/big-digits"
      { repeat 0 1040000; printf '1'; } > "$dir/big-leading-zeros" ;;
    runtime_options)
      # A megabyte string, arrays nested 100 000 deep, and 20 000 lines of keys.
      { printf 'BinaryName = "'; repeat a 1040000; printf '"\n'; } > "$dir/big-string"
      { printf 'Tags = '; repeat '[' 100000; repeat ']' 100000; printf '\nRoot = "/r"\n'; } > "$dir/deep-array"
      { i=0; while [ $i -lt 20000 ]; do printf 'Key%d = %d\n' $i $i; i=$((i + 1)); done
        printf 'SystemdCgroup = true\n'; } > "$dir/many-lines" ;;
    ttrpc)
      # The committed State call without its read-size prefix byte, to follow the big frames.
      tail -c +2 seeds/ttrpc/state-call > "$dir/.call"
      # A frame one byte over the 4 MiB limit, whole, then the call; read 16 129 bytes at a time.
      { printf '\001\377\000\100\000\001\000\000\000\003\001\000'; head -c 4194305 /dev/zero
        cat "$dir/.call"; } > "$dir/oversized-then-call"
      # A frame of exactly 4 MiB (zeros: not a Request), then the call.
      { printf '\001\377\000\100\000\000\000\000\000\005\001\000'; head -c 4194304 /dev/zero
        cat "$dir/.call"; } > "$dir/largest-frame-then-call"
      # 16 384 calls back to back (768 KiB), read 100 bytes at a time.
      cp "$dir/.call" "$dir/.calls"; i=0
      while [ $i -lt 14 ]; do cat "$dir/.calls" "$dir/.calls" > "$dir/.twice"
        mv "$dir/.twice" "$dir/.calls"; i=$((i + 1)); done
      { printf '\001\144'; cat "$dir/.calls"; } > "$dir/many-calls"
      rm "$dir/.call" "$dir/.calls" ;;
    task_requests)
      # Create (method 1) with a megabyte bundle path; Stats (14) in 100 000 nested groups; a
      # config.json of 40 000 annotations, read as State (0).
      { printf '\001\022\200\200\100'; repeat b 1048576; } > "$dir/big-bundle"
      { printf '\016'; repeat '\013' 100000; repeat '\014' 100000; } > "$dir/deep-groups"
      { printf '\000{"annotations":{'; i=0; while [ $i -lt 40000 ]; do printf '"k%d":"v",' $i
          i=$((i + 1)); done; printf '"io.containerd.runc.v2.group":"g"}}'; } > "$dir/big-config" ;;
    cgroup_files)
      # A flat-keyed file of a megabyte, and a mount point of one followed by a cgroup under it.
      { i=0; while [ $i -lt 60000 ]; do printf 'total_cache %d\n' $i; i=$((i + 1)); done; } \
        > "$dir/big-flat-keyed"
      { printf '35 31 0:32 / /'; repeat a 1040000; printf ' rw - cgroup cgroup rw,memory\n'
        printf '\0004:memory:/x\n'; } > "$dir/big-mount-point" ;;
  esac
}

# Replaces each committed corpus by the smallest set of its inputs, the working corpus's and the
# seeds' that keeps all their coverage.
if $merge; then
  for target in $targets; do
    mkdir -p "corpus/$target" "work/$target"
    rm -rf "work/merged-$target"
    mkdir -p "work/merged-$target"
    cargo "+$toolchain" fuzz run "$target" "work/merged-$target" "corpus/$target" "work/$target" \
      "seeds/$target" -- -merge=1 -max_len=$max_len > "artifacts/$target-merge.log" 2>&1
    rm -rf "corpus/$target"
    mv "work/merged-$target" "corpus/$target"
    echo "fuzz: $target: corpus of $(ls "corpus/$target" | wc -l) inputs"
  done
  exit 0
fi

failed=""
summary=""
mkdir -p artifacts
for target in $targets; do
  mkdir -p "work/$target" "work/big/$target" "corpus/$target" "artifacts/$target"
  big_seeds "$target"
  log=artifacts/$target.log
  echo "fuzz: $target: the megabyte seeds whole, then $seconds s of fuzzing (log: fuzz/$log)"
  status=0
  # Given files rather than directories, libFuzzer runs each once, whatever its size.
  cargo "+$toolchain" fuzz run "$target" work/big/"$target"/* -- -timeout=60 \
    > "$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    cargo "+$toolchain" fuzz run "$target" "work/$target" "corpus/$target" "seeds/$target" \
      -- -max_total_time="$seconds" -max_len=$max_len -timeout=10 -print_final_stats=1 \
      >> "$log" 2>&1 || status=$?
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' "$log" | tail -n 1)
  coverage=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1)
  line="$target: ${runs:-no executions} ${coverage:+($coverage)}"
  if [ "$status" -ne 0 ]; then
    failed="$failed $target"
    line="$line FAILED (status $status): $(grep -m 1 -E 'panicked|ERROR: ' "$log" || true)"
    tail -n 30 "$log" >&2
  fi
  echo "$line"
  summary="$summary$line
"
done
printf '\nfuzz summary (%s s per target):\n%s' "$seconds" "$summary"
if [ -n "$failed" ]; then
  echo "fuzz: crash or error in:$failed; inputs in fuzz/artifacts/<target>/" >&2
  exit 1
fi
