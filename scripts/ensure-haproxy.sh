#!/bin/sh
# Make sure Debian's haproxy binary is installed, as images/haproxy/prepare.sh
# needs it: gantry/haproxy:latest is built FROM scratch with that binary and
# the shared libraries ldd finds for it (the load-balancer kind runs it; tests
# build the image through internal/testenv.HAProxyImage).
#
#  - If /usr/sbin/haproxy exists, nothing is installed.
#  - Otherwise, as root on Debian: apt-get install haproxy. Debian's package
#    starts a system haproxy service; it is stopped and disabled at once, so
#    that no haproxy on the host holds a port or a pid file the tests use.
#    Nothing else of the system's configuration is touched.
#
# Idempotent. Exits non-zero, saying why, when it cannot get there.
set -eu

say() { echo "ensure-haproxy: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

haproxy_bin() {
	for c in /usr/sbin/haproxy "$(command -v haproxy 2>/dev/null || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

# stop_service stops and disables the system's haproxy service, which Debian's
# package enables and starts on installation.
stop_service() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now haproxy >/dev/null 2>&1 || true
	else
		if [ -x /etc/init.d/haproxy ]; then
			/etc/init.d/haproxy stop >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null 2>&1; then
			update-rc.d haproxy disable >/dev/null 2>&1 || true
		fi
	fi
	# Whatever started it, the service's pid file names it.
	if [ -f /run/haproxy.pid ]; then
		for pid in $(cat /run/haproxy.pid); do
			kill "$pid" 2>/dev/null || true
		done
		rm -f /run/haproxy.pid
	fi
}

if ! haproxy_bin >/dev/null; then
	is_root || die "no haproxy, and installing it needs root (run: sudo $0)"
	is_debian || die "no haproxy and this is not Debian: install HAProxy 2.x by hand"
	say "no haproxy: installing Debian's haproxy"
	say "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	say "apt-get install haproxy"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >&2 \
		|| die "apt-get install haproxy failed"
	haproxy_bin >/dev/null || die "haproxy installed but no haproxy binary found"
	say "stopping and disabling the system's haproxy service (Gantry runs its own, in containers)"
	stop_service
fi
say "haproxy: $(haproxy_bin) ($("$(haproxy_bin)" -v 2>&1 | head -n 1 || true))"
