# tinyshim: a single-threaded drop-in containerd-shim for containerd v0.2.x.

PREFIX ?= /usr/local
CARGO ?= cargo
RELEASE := target/release
DEMO_BUNDLE := target/demo/bundle
# The integration tests mostly wait on containers, not on the CPU.
TEST_THREADS ?= 4

.PHONY: all build test lint deps demo install fuzz bench clean

all: build

# Debian packages the demo and the tests need, installed only when missing (needs root): runc and
# busybox-static for every container, crun for the second-runtime test, criu for checkpoint/restore.
deps:
	@missing=""; \
	command -v runc >/dev/null 2>&1 || missing="$$missing runc"; \
	/bin/busybox --list >/dev/null 2>&1 || missing="$$missing busybox-static"; \
	command -v crun >/dev/null 2>&1 || missing="$$missing crun"; \
	command -v criu >/dev/null 2>&1 || missing="$$missing criu"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

build:
	$(CARGO) build --release --locked

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Checks that cannot run on this host (criu, youki) print a SKIP: line; they are listed again at
# the end so that a skip is never mistaken for a pass.
test: deps lint
	@mkdir -p target
	@{ RUST_TEST_THREADS=$(TEST_THREADS) $(CARGO) test --locked 2>&1; echo $$? > target/test.status; } \
	  | tee target/test.log
	@skipped=$$(grep -c '^SKIP:' target/test.log); \
	if [ "$$skipped" -gt 0 ]; then \
	  echo "$$skipped check(s) did NOT run on this host:"; grep '^SKIP:' target/test.log | sed 's/^/  /'; \
	fi
	@exit $$(cat target/test.status)

demo: deps build
	$(RELEASE)/shim-driver make-bundle $(DEMO_BUNDLE)
	$(RELEASE)/shim-driver --timing $(DEMO_BUNDLE) -- sh -c \
	  'echo "hello from busybox, pid $$$$ in its own namespace, through tinyshim"; \
	   echo "stderr is a separate stream" >&2; ls -l /proc/self/fd/; exit 7' \
	  < /dev/null; test $$? -eq 7

# Benchmark program (not a test): prints medians and targets; BENCH_ARGS=--quick for a smoke run.
BENCH_ARGS ?=
bench: deps
	$(CARGO) build --release --locked
	$(CARGO) bench --locked --bench shim -- --chart target/bench-chart.svg $(BENCH_ARGS)

install: build
	install -D -m 0755 $(RELEASE)/containerd-shim $(DESTDIR)$(PREFIX)/bin/containerd-shim
	ln -sf containerd-shim $(DESTDIR)$(PREFIX)/bin/docker-containerd-shim

# Every cargo-fuzz target for FUZZ_SECONDS each (nightly toolchain; installs cargo-fuzz when
# missing); prints executions and coverage. See fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run.sh

clean:
	$(CARGO) clean
