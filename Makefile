# Meridian — make run | make test | make bench
SHELL := /bin/bash
CONFIG ?= meridian.yaml
SWIFT_BUILD_FLAGS ?=

.PHONY: run test build release deps bench clean

# System packages the build, the demo and the tests need (Debian/Ubuntu).
DEBIAN_PACKAGES := libmaxminddb-dev mmdb-bin dnsutils knot-dnsutils nsd python3 python3-pip

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# NSD is only a test oracle: do not leave Debian's own instance running on port 53.
	@if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nsd 2>/dev/null; then systemctl stop nsd || true; fi

release: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

# The sample GeoLite2-City database (CC BY-SA 4.0, MaxMind) for the demo and the benchmark.
data/GeoLite2-City.mmdb:
	scripts/fetch-sample-geoip $@

# The demo edges' health endpoints run beside the server and stop with it.
run: release data/GeoLite2-City.mmdb
	@mkdir -p run
	@scripts/demo-edges serve & demo=$$!; trap 'kill $$demo 2>/dev/null' EXIT INT TERM; \
		.build/release/meridian --config $(CONFIG)

test: release
	swift build -c release --build-tests $(SWIFT_BUILD_FLAGS)
	swift test -c release --skip-build
	MERIDIAN_BIN=$(CURDIR)/.build/release/meridian DNSCTL_BIN=$(CURDIR)/.build/release/dnsctl \
		python3 -m unittest discover -s Tests/EndToEnd -p 'test_*.py' -v

bench: release
	bench/run

clean:
	rm -rf .build
