#!/bin/sh
# Make sure OpenSSH's sshd is installed, as the tests of SSH machines (byon
# locations) need it: they start their own sshd processes on loopback ports,
# each with its own configuration, host key and authorized key. Nothing is
# started here and the system's sshd configuration is not touched.
#
#  - If /usr/sbin/sshd (or sshd on PATH) exists, nothing is installed.
#  - Otherwise, as root on Debian: apt-get install openssh-server. Debian's
#    package may try to start the system's sshd; that is harmless for the
#    tests, which use their own ports.
#  - As root, the privilege separation directory /run/sshd is created when
#    missing (sshd refuses to start without it; systemd usually creates it).
#
# Idempotent. Exits non-zero, saying why, when it cannot get there.
set -eu

say() { echo "ensure-sshd: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

sshd_bin() {
	for c in /usr/sbin/sshd "$(command -v sshd 2>/dev/null || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

if ! sshd_bin >/dev/null; then
	is_root || die "no sshd, and installing openssh-server needs root (run: sudo $0)"
	is_debian || die "no sshd and this is not Debian: install OpenSSH's server by hand"
	say "no sshd: installing Debian's openssh-server"
	say "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	say "apt-get install openssh-server"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >&2 \
		|| die "apt-get install openssh-server failed"
	sshd_bin >/dev/null || die "openssh-server installed but no sshd found"
fi
if is_root && [ ! -d /run/sshd ]; then
	say "creating the privilege separation directory /run/sshd"
	mkdir -p /run/sshd && chmod 0755 /run/sshd
fi
command -v ssh-keygen >/dev/null 2>&1 || say "note: ssh-keygen is missing (the tests do not need it)"
say "sshd: $(sshd_bin) ($("$(sshd_bin)" -V 2>&1 | head -n 1 || true))"
