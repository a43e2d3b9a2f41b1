#!/bin/sh
# Make sure Debian's Chromium is installed, as the web UI's browser test
# (web/browser_test.go) drives a real headless Chromium through chromedp. No
# browser is downloaded by any test tool: the test uses /usr/bin/chromium.
#
#  - If chromium (/usr/bin/chromium, or chromium on PATH) exists, nothing is
#    installed.
#  - Otherwise, as root on Debian: apt-get install chromium (with
#    fonts-dejavu-core, so that pages and screenshots have readable text).
#    Nothing else of the system's configuration is touched.
#
# Idempotent. Exits non-zero, saying why, when it cannot get there.
set -eu

say() { echo "ensure-chromium: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

chromium_bin() {
	for c in /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

if ! chromium_bin >/dev/null; then
	is_root || die "no chromium, and installing it needs root (run: sudo $0)"
	is_debian || die "no chromium and this is not Debian: install Chromium and put it on PATH (or set GANTRY_CHROMIUM)"
	say "no chromium: installing Debian's chromium"
	say "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	say "apt-get install chromium"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 \
		|| die "apt-get install chromium failed"
	chromium_bin >/dev/null || die "chromium installed but no chromium binary found"
fi
say "chromium: $(chromium_bin) ($("$(chromium_bin)" --version 2>/dev/null | head -n 1 || true))"
