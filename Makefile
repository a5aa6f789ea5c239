# Meridian — make run | make test | make bench
SHELL := /bin/bash
CONFIG ?= meridian.yaml
SWIFT_BUILD_FLAGS ?=

.PHONY: run test build release deps test-deps install-packages bench clean install

# `make install`: the server, dnsctl, the systemd unit and its sysusers/tmpfiles snippets,
# man pages and an example configuration (never over an existing one). DESTDIR for packaging.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=

# System packages the build, the demo and the tests need (Debian/Ubuntu).
DEBIAN_PACKAGES := libmaxminddb-dev mmdb-bin dnsutils knot-dnsutils nsd python3 python3-pip openssl curl
# Only the tests need these: a reference Prometheus parser, a browser for the dashboard and
# DNSSEC validators (Unbound, BIND's delv) with BIND's signing tools.
TEST_PACKAGES := chromium python3-prometheus-client gcc knot knot-dnssecutils bind9-utils bind9-dnsutils unbound prometheus etcd-server etcd-client libfaketime systemd man-db groff-base procps dnstap-ldns fstrm-bin

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

# The demo edges' health endpoints run beside the server and stop with it; once it answers,
# scripts/run-demo says where to look.
run: release data/GeoLite2-City.mmdb
	@mkdir -p run
	@scripts/run-demo $(CONFIG)

test: release test-deps
	swift build -c release --build-tests $(SWIFT_BUILD_FLAGS)
	swift test -c release --skip-build
	MERIDIAN_BIN=$(CURDIR)/.build/release/meridian DNSCTL_BIN=$(CURDIR)/.build/release/dnsctl \
		python3 -m unittest discover -s Tests/EndToEnd -p 'test_*.py' -v

bench: release
	bench/run

install: release
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(SYSCONFDIR)/meridian/zones \
		$(DESTDIR)$(PREFIX)/share/doc/meridian
	install -m 0755 .build/release/meridian $(DESTDIR)$(PREFIX)/sbin/meridian
	install -m 0755 .build/release/dnsctl $(DESTDIR)$(PREFIX)/bin/dnsctl
	install -m 0644 contrib/man/meridian.8 contrib/man/dnsctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 contrib/man/meridian.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 contrib/prometheus/alerts.yml contrib/grafana/meridian.json $(DESTDIR)$(PREFIX)/share/doc/meridian/
	sed -e 's#/usr/sbin/meridian#$(PREFIX)/sbin/meridian#' -e 's#/usr/bin/dnsctl#$(PREFIX)/bin/dnsctl#g' \
		-e 's#/etc/meridian#$(SYSCONFDIR)/meridian#g' contrib/systemd/meridian.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/meridian.service
	install -m 0644 contrib/systemd/meridian.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/meridian.conf
	sed -e 's#/etc/meridian#$(SYSCONFDIR)/meridian#g' contrib/systemd/meridian.tmpfiles \
		> $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/meridian.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/meridian/meridian.yaml \
		|| install -m 0644 contrib/meridian.yaml $(DESTDIR)$(SYSCONFDIR)/meridian/meridian.yaml

clean:
	rm -rf .build
