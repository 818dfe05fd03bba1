# tinyshim: container shims on one thread: containerd-shim-tinyshim-v2 for containerd 1.6 and
# later, and a drop-in containerd-shim for containerd v0.2.x.

PREFIX ?= /usr/local
CARGO ?= cargo
RELEASE := target/release
DEMO_BUNDLE := target/demo/bundle
# The installed shim is linked statically against musl when rustup can provide the target: it
# starts in half the time and costs a third of the memory of the glibc build (BENCHMARKS.md).
MUSL_TARGET := $(shell uname -m)-unknown-linux-musl
STATIC_SHIM := target/$(MUSL_TARGET)/release/containerd-shim
STATIC_SHIM_V2 := target/$(MUSL_TARGET)/release/containerd-shim-tinyshim-v2
TINY_SHIM := target/tiny/$(MUSL_TARGET)/release/containerd-shim
TINY_SHIM_V2 := target/tiny/$(MUSL_TARGET)/release/containerd-shim-tinyshim-v2
# The shims `build` produced: the static ones if they exist, else the glibc ones. Expanded when
# a recipe runs, after its prerequisites.
SHIM = $(shell if [ -x $(STATIC_SHIM) ]; then echo $(STATIC_SHIM); else echo $(RELEASE)/containerd-shim; fi)
SHIM_V2 = $(shell if [ -x $(STATIC_SHIM_V2) ]; then echo $(STATIC_SHIM_V2); else echo $(RELEASE)/containerd-shim-tinyshim-v2; fi)
# Where the opt-in installs go: off PATH, so that nothing they hold shadows a host's binaries.
LIBDIR ?= $(PREFIX)/lib/tinyshim
# The integration tests mostly wait on containers, not on the CPU.
TEST_THREADS ?= 4
# The short run of every fuzz target that ends `make test`, from the committed corpora.
SMOKE_FUZZ_SECONDS ?= 10

.PHONY: all build build-tiny test lint deps demo install install-as-runc-v2 install-v0.2 fuzz \
	bench bench-peers clean

all: build

# Debian packages the demo and the tests need, installed only when missing (needs root): runc and
# busybox-static for every container, containerd (with ctr and its Go shim) for the v2 shim,
# crun for the second-runtime test, criu for checkpoint/restore, docker.io (dockerd 20.10 and
# /usr/bin/docker) for the Docker tests, protobuf-compiler for the test kit's CRI client
# (k8s-cri generates its gRPC code with protoc at build time).
deps:
	@missing=""; \
	command -v runc >/dev/null 2>&1 || missing="$$missing runc"; \
	command -v containerd >/dev/null 2>&1 || missing="$$missing containerd"; \
	/bin/busybox --list >/dev/null 2>&1 || missing="$$missing busybox-static"; \
	command -v crun >/dev/null 2>&1 || missing="$$missing crun"; \
	command -v criu >/dev/null 2>&1 || missing="$$missing criu"; \
	{ command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ]; } || missing="$$missing docker.io"; \
	command -v protoc >/dev/null 2>&1 || missing="$$missing protobuf-compiler"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

build:
	$(CARGO) build --release --locked
	@if rustup target list --installed 2>/dev/null | grep -qx $(MUSL_TARGET) \
	    || rustup target add $(MUSL_TARGET) >/dev/null 2>&1; then \
	  $(CARGO) build --release --locked --target $(MUSL_TARGET) \
	    --bin containerd-shim --bin containerd-shim-tinyshim-v2; \
	else \
	  rm -f $(STATIC_SHIM) $(STATIC_SHIM_V2); \
	  echo "note: no $(MUSL_TARGET) target from rustup: the shims stay linked against glibc"; \
	fi
	@# Tested here, not with $(SHIM): make expands a recipe before it runs its first line.
	@for shim in containerd-shim-tinyshim-v2 containerd-shim; do \
	  if [ -x target/$(MUSL_TARGET)/release/$$shim ]; then echo "shim: target/$(MUSL_TARGET)/release/$$shim"; \
	  else echo "shim: $(RELEASE)/$$shim"; fi; \
	done

# Optional, nightly only: std rebuilt with panics that abort at once, which drops std's
# backtrace printer (about 200 KiB of code) and brings one shim's Pss under 300 kB.
build-tiny:
	rustup component add rust-src --toolchain nightly
	rustup target add $(MUSL_TARGET) --toolchain nightly
	RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Crelocation-model=static" CARGO_TARGET_DIR=target/tiny \
	  $(CARGO) +nightly build --release --locked --target $(MUSL_TARGET) --bin containerd-shim \
	    --bin containerd-shim-tinyshim-v2 \
	  -Z build-std=std,panic_abort
	@echo "shims: $(TINY_SHIM_V2) $(TINY_SHIM)"
	@echo "install them with: make install SHIM_V2=$(TINY_SHIM_V2), make install-v0.2 SHIM=$(TINY_SHIM)"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Every test file runs even after one failed (--no-fail-fast), so that one known shim bug does not
# hide the state of the rest.
# `cargo test` builds the binaries of the packages whose integration tests it runs, which leaves
# out the test kit's (fake-runtime, shim-driver): they are built first. Tests needing what this
# host lacks (youki, a kernel criu can checkpoint on) are ignored, so cargo counts them as such,
# never as passed; they are listed again at the end. Then every fuzz target runs briefly from the
# committed corpora (nightly toolchain; fuzz/README.md).
test: deps lint
	$(CARGO) build --locked --workspace --bins
	@mkdir -p target
	@{ RUST_TEST_THREADS=$(TEST_THREADS) $(CARGO) test --locked --no-fail-fast 2>&1; echo $$? > target/test.status; } \
	  | tee target/test.log
	@ignored=$$(grep -E '^test .* \.\.\. ignored' target/test.log | sed 's/^test /  /'); \
	if [ -n "$$ignored" ]; then \
	  echo "ignored here (cargo test -- --ignored runs them where their tool works):"; \
	  echo "$$ignored"; \
	fi
	@status=$$(cat target/test.status); \
	FUZZ_SECONDS=$(SMOKE_FUZZ_SECONDS) sh fuzz/run.sh || status=1; \
	exit $$status

# Both frontends: a container under a private containerd 1.6 through the v2 shim, then one through
# the v0.2 shim as containerd v0.2.x would run it.
demo: deps build
	$(RELEASE)/containerd-demo --shim $(SHIM_V2)
	$(RELEASE)/shim-driver make-bundle $(DEMO_BUNDLE)
	$(RELEASE)/shim-driver --shim $(SHIM) --timing $(DEMO_BUNDLE) -- sh -c \
	  'echo "hello from busybox on host $$(hostname), pid $$$$ in its own namespace, via tinyshim"; \
	   echo "and this line went through the stderr FIFO" >&2; exit 7' \
	  < /dev/null; test $$? -eq 7

# Benchmark program (not a test): prints medians and targets for the shims `build` produced (or
# SHIM=... and SHIM_V2=...), beside conmon (installed when missing) for the v0.2 shim, and beside
# the Go runc shim and, once `make bench-peers` installed it, the Rust one for the v2 shim;
# BENCH_ARGS=--quick for a smoke run, --only <section> for one part (v2: the containerd shims).
BENCH_ARGS ?=
bench: deps build
	@command -v conmon >/dev/null 2>&1 || { apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends conmon; }
	TINYSHIM_SHIM=$(abspath $(SHIM)) TINYSHIM_SHIM_V2=$(abspath $(SHIM_V2)) \
	  TINYSHIM_RUST_SHIM=$(abspath $(RUST_SHIM)) $(CARGO) bench --locked --bench shim -- \
	  --chart target/bench-chart.svg --v2-chart target/bench-v2-chart.svg $(BENCH_ARGS)

# The Rust runc shim of containerd/rust-extensions, for the benchmark's v2 section only, built
# from crates.io into target/peers (off every PATH; the benchmark selects it by its path). 0.1.1
# is the newest release containerd 1.6 can start: 0.2.0 answers `start` with the JSON bootstrap
# of containerd 2.x, which 1.6 takes for a socket path. One job: a few minutes on two cores.
RUST_SHIM_VERSION := 0.1.1
PEERS := target/peers
RUST_SHIM := $(PEERS)/bin/containerd-shim-runc-v2-rs
bench-peers:
	$(CARGO) install containerd-runc-shim --version $(RUST_SHIM_VERSION) --locked \
	  --root $(abspath $(PEERS)) -j 1

# The v2 shim, under the name containerd resolves the runtime io.containerd.tinyshim.v2 to.
install: build
	install -D -m 0755 $(SHIM_V2) $(DESTDIR)$(PREFIX)/bin/containerd-shim-tinyshim-v2

# The v2 shim named containerd-shim-runc-v2, in a directory of its own for the front of
# containerd's PATH (the only way Docker 20.10 can use another shim): see the README.
install-as-runc-v2: build
	install -D -m 0755 $(SHIM_V2) $(DESTDIR)$(LIBDIR)/runc-v2/containerd-shim-runc-v2

# The v0.2 shim, off PATH: Debian's containerd 1.6 ships its own /usr/bin/containerd-shim (the
# v1 runtime's shim, another protocol), which a containerd-shim earlier on PATH would shadow.
# containerd v0.2.x takes it with --shim $(LIBDIR)/v0.2/containerd-shim.
install-v0.2: build
	install -D -m 0755 $(SHIM) $(DESTDIR)$(LIBDIR)/v0.2/containerd-shim
	ln -sf containerd-shim $(DESTDIR)$(LIBDIR)/v0.2/docker-containerd-shim

# Every cargo-fuzz target for FUZZ_SECONDS each (nightly toolchain; installs cargo-fuzz when
# missing); prints executions and coverage. See fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run.sh

clean:
	$(CARGO) clean
	rm -rf fuzz/target
