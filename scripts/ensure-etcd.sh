#!/bin/sh
# Make sure Debian's etcd server binary is installed, as the tests of the
# calico network provider (sdn/calico) need a real etcd: each test starts its
# own private etcd on loopback ports with a data directory of its own
# (internal/testenv.StartEtcd). Nothing is started here, and no system etcd
# service is left enabled or running.
#
#  - If etcd (/usr/bin/etcd, or etcd on PATH) exists, nothing is installed.
#  - Otherwise, as root on Debian: apt-get install etcd-server. Debian's
#    package would enable and start a system etcd on 127.0.0.1:2379; while it
#    installs, a policy-rc.d (when the machine has none) tells the package
#    scripts not to start services, and afterwards the etcd service is stopped
#    and disabled all the same, so that no etcd on the host holds a port.
#    Nothing else of the system's configuration is touched.
#
# Idempotent. Exits non-zero, saying why, when it cannot get there.
set -eu

say() { echo "ensure-etcd: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

etcd_bin() {
	for c in /usr/bin/etcd "$(command -v etcd 2>/dev/null || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

# stop_service stops and disables the system's etcd service, in case the
# package started it anyway.
stop_service() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now etcd >/dev/null 2>&1 || true
	else
		if [ -x /etc/init.d/etcd ]; then
			/etc/init.d/etcd stop >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null 2>&1; then
			update-rc.d etcd disable >/dev/null 2>&1 || true
		fi
	fi
}

if ! etcd_bin >/dev/null; then
	is_root || die "no etcd, and installing etcd-server needs root (run: sudo $0)"
	is_debian || die "no etcd and this is not Debian: install etcd 3.4 or later by hand"
	say "no etcd: installing Debian's etcd-server"
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		# Exit status 101 means "action forbidden" to invoke-rc.d and
		# deb-systemd-invoke: the package does not start its service.
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		trap 'rm -f "$policy"' EXIT INT TERM
	fi
	say "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	say "apt-get install etcd-server"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >&2 \
		|| die "apt-get install etcd-server failed"
	if [ -n "$policy" ]; then
		rm -f "$policy"
		trap - EXIT INT TERM
	fi
	stop_service
	etcd_bin >/dev/null || die "etcd-server installed but no etcd binary found"
fi
say "etcd: $(etcd_bin) ($("$(etcd_bin)" --version 2>&1 | head -n 1 || true))"
