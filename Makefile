# tinyshim: a single-threaded drop-in containerd-shim for containerd v0.2.x.

PREFIX ?= /usr/local
CARGO ?= cargo
RELEASE := target/release
DEMO_BUNDLE := target/demo/bundle
# The integration tests mostly wait on containers, not on the CPU.
TEST_THREADS ?= 4

.PHONY: all build test lint deps demo install fuzz bench clean

all: build

# Debian packages the demo and the tests need, installed only when missing (needs root).
deps:
	@missing=""; \
	command -v runc >/dev/null 2>&1 || missing="$$missing runc"; \
	/bin/busybox --list >/dev/null 2>&1 || missing="$$missing busybox-static"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

build:
	$(CARGO) build --release --locked

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

test: deps lint
	RUST_TEST_THREADS=$(TEST_THREADS) $(CARGO) test --locked

demo: deps build
	$(RELEASE)/shim-driver make-bundle $(DEMO_BUNDLE)
	$(RELEASE)/shim-driver --timing $(DEMO_BUNDLE) -- sh -c \
	  'echo "hello from busybox, pid $$$$ in its own namespace, through tinyshim"; \
	   echo "stderr is a separate stream" >&2; ls -l /proc/self/fd/; exit 7' \
	  < /dev/null; test $$? -eq 7

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
