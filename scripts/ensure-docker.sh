#!/bin/sh
# Make sure a Docker Engine answers and a static busybox is available, as the
# tests and `make images` need them.
#
#  - If `docker info` answers, nothing is done about Docker.
#  - Otherwise, as root on Debian with a local engine expected (DOCKER_HOST
#    unset or unix:///var/run/docker.sock): install Debian's docker.io when
#    dockerd is missing, start dockerd in the background (log in
#    /var/log/gantry-dockerd.log) and wait up to 60 s for it to answer.
#  - /usr/bin/busybox (Debian's busybox-static) is installed when missing.
#
# Idempotent: running it again when all is in place changes nothing.
# Exits non-zero, saying why, when it cannot get there.
set -eu

say() { echo "ensure-docker: $*" >&2; }
die() { say "$*"; exit 1; }

log=/var/log/gantry-dockerd.log
updated=0

is_root() { [ "$(id -u)" -eq 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
	is_root || die "need root to install $* (run: sudo $0)"
	is_debian || die "cannot install $* automatically: not a Debian system with apt-get; install it by hand"
	if [ "$updated" -eq 0 ]; then
		say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
		updated=1
	fi
	say "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
		|| die "apt-get install $* failed"
}

docker_cli() {
	# A preinstalled CLI may be at /usr/local/bin/docker; Debian's is /usr/bin/docker.
	for c in "$(command -v docker 2>/dev/null || true)" /usr/local/bin/docker /usr/bin/docker; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

engine_answers() {
	cli=$(docker_cli) || return 1
	"$cli" info >/dev/null 2>&1
}

dockerd_bin() {
	for c in "$(command -v dockerd 2>/dev/null || true)" /usr/sbin/dockerd /usr/bin/dockerd; do
		if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
	done
	return 1
}

dockerd_running() {
	[ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null
}

ensure_busybox() {
	bb=""
	for p in /usr/bin/busybox /bin/busybox; do
		if [ -x "$p" ]; then bb=$p; break; fi
	done
	if [ -z "$bb" ]; then
		say "no /usr/bin/busybox: installing Debian's busybox-static"
		apt_install busybox-static
	elif command -v ldd >/dev/null 2>&1 && ldd "$bb" >/dev/null 2>&1; then
		say "$bb is dynamically linked: installing Debian's busybox-static (images need a static one)"
		apt_install busybox-static
	else
		return 0
	fi
	[ -x /usr/bin/busybox ] || [ -x /bin/busybox ] || die "busybox-static installed but no busybox binary found"
}

ensure_engine() {
	if engine_answers; then
		return 0
	fi
	case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
	unix:///var/run/docker.sock) ;;
	*) die "no Docker Engine answered at DOCKER_HOST=$DOCKER_HOST; start it there (this script only starts a local dockerd)" ;;
	esac
	is_root || die "no Docker Engine answered, and starting one needs root (run: sudo $0)"

	if ! dockerd_bin >/dev/null || ! docker_cli >/dev/null; then
		say "no Docker Engine answered: installing Debian's docker.io and starting dockerd"
		is_debian || die "no Docker Engine answered and this is not Debian: install Docker Engine by hand"
		apt_install docker.io
	else
		say "no Docker Engine answered: starting dockerd"
	fi
	dockerd=$(dockerd_bin) || die "docker.io installed but no dockerd found"

	if dockerd_running; then
		say "dockerd (pid $(cat /var/run/docker.pid)) is already running; waiting for it"
	elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		say "systemctl start docker"
		systemctl start docker >&2 || say "systemctl start docker failed; see journalctl -u docker"
	else
		say "starting $dockerd in the background (log: $log)"
		nohup "$dockerd" >>"$log" 2>&1 </dev/null &
	fi

	i=0
	while [ "$i" -lt 60 ]; do
		if engine_answers; then
			say "Docker Engine is up ($($(docker_cli) version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
			return 0
		fi
		sleep 1
		i=$((i + 1))
	done
	say "last lines of $log:"
	tail -n 20 "$log" >&2 2>/dev/null || true
	die "dockerd did not answer within 60 s"
}

ensure_engine
ensure_busybox
