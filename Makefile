# Meridian — make run | make test | make bench
SHELL := /bin/bash
CONFIG ?= meridian.yaml
SWIFT_BUILD_FLAGS ?=

.PHONY: run test build release deps test-deps install-packages bench clean

# System packages the build, the demo and the tests need (Debian/Ubuntu).
DEBIAN_PACKAGES := libmaxminddb-dev mmdb-bin dnsutils knot-dnsutils nsd python3 python3-pip openssl curl
# Only the tests need these: a reference Prometheus parser, a browser for the dashboard and
# DNSSEC validators (Unbound, BIND's delv) with BIND's signing tools.
TEST_PACKAGES := chromium python3-prometheus-client gcc knot knot-dnssecutils bind9-utils bind9-dnsutils unbound prometheus etcd-server etcd-client libfaketime

deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEBIAN_PACKAGES)"

test-deps: deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_PACKAGES)"
	@# The python3 on PATH may not be Debian's: make sure it can import the parser too.
	@python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install --quiet prometheus_client \
		|| python3 -m pip install --quiet --break-system-packages prometheus_client

install-packages:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# NSD, Knot and Unbound are only test oracles: do not leave Debian's own instances running on port 53.
	@for service in nsd knot unbound prometheus; do \
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet $$service 2>/dev/null; then systemctl stop $$service || true; fi; \
	done

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

test: release test-deps
	swift build -c release --build-tests $(SWIFT_BUILD_FLAGS)
	swift test -c release --skip-build
	MERIDIAN_BIN=$(CURDIR)/.build/release/meridian DNSCTL_BIN=$(CURDIR)/.build/release/dnsctl \
		python3 -m unittest discover -s Tests/EndToEnd -p 'test_*.py' -v

bench: release
	bench/run

clean:
	rm -rf .build
