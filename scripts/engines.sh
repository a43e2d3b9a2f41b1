#!/bin/sh
# Extra local Docker Engines on this machine, to try a Docker cloud on one box
# and for the tests that need several engines (internal/testenv.Engines).
#
# Usage:
#   scripts/engines.sh up N   make sure engines 1..N run (reusing running ones),
#                             then print their endpoints, one per line
#   scripts/engines.sh list   print the endpoints of the engines that answer
#   scripts/engines.sh down [I ...]
#                             stop every extra engine (or engines I ...) and remove
#                             its containers, networks, bridge and data root; with
#                             the last one, the TLS files and the firewall chain
#
# Output (standard output; messages go to standard error): one engine a line,
# its endpoint followed by space-separated key=value pairs, the keys being
# those of a docker location's config. Engine 1 is reached over TCP with TLS
# (it also has a unix socket, used by this script); the others by unix socket:
#
#   tcp://127.0.0.1:23760 tls.ca=/var/lib/gantry-engines/tls/ca.pem tls.cert=/var/lib/gantry-engines/tls/cert.pem tls.key=/var/lib/gantry-engines/tls/key.pem
#   unix:///run/gantry-engines/2.sock
#
# Engine i (1 <= i <= 10) is a dockerd of its own, next to the main engine
# (unix:///var/run/docker.sock), which it never touches:
#   socket      unix:///run/gantry-engines/i.sock   (pidfile /run/gantry-engines/i.pid)
#   exec root   /run/gantry-engines/i/               (its own containerd)
#   data root   /var/lib/gantry-engines/i/docker    (config, trust key, state in /var/lib/gantry-engines/i)
#   log         /var/log/gantry-engines/i.log
#   bridge      gantry-bri, 10.230.i.1/24 (its default "bridge" network)
#   networks    --default-address-pool 10.231.(16*i).0/20, /24 each: no overlap with
#               each other nor with the main engine's default pools (172.17-31/16,
#               192.168/16)
#   hostname    gantry-engine-i (its own UTS namespace: `docker info` tells engines apart)
#   ports       random published ports from 61000+400*(i-1) .. +399 (outside the
#               kernel's ephemeral range and each other's), so that engines sharing
#               this machine's ports do not pick the same one
#   cgroups     under /gantry-engine-i
# The TLS files (CA, server and client certificates made with openssl) are kept
# in /var/lib/gantry-engines/tls (ca.pem, cert.pem, key.pem: usable as
# DOCKER_CERT_PATH; the server's under tls/server); engine 1 listens on
# tcp://127.0.0.1:$GANTRY_ENGINES_TLS_PORT (default 23760) with --tlsverify.
#
# Firewall: a dockerd that manages iptables flushes the DOCKER chains when it
# starts, which would drop the main engine's rules; so extra engines run with
# --iptables=false (and --ip-forward=false: nothing global is changed). Their
# published ports are served by docker-proxy, on this machine's addresses as
# the main engine's are. One chain of ours, GANTRY-ENGINES, jumped to from the
# END of FORWARD (after every rule of the main engine, which decides all the
# traffic of its own bridges first) accepts frames bridged within an extra
# engine's bridges (gantry-br*, br-*): containers of one network talk. Nothing
# else is accepted, so networks of an extra engine are isolated from each
# other (FORWARD's DROP policy) as the main engine's are. `down` removes the
# chain. Containers of extra engines are not masqueraded: they reach this
# machine and each other's published ports, not outside networks.
#
# Restarts: `up` starts again an engine whose dockerd died, with its images and
# (stopped) containers but without its networks: their bridges and its network
# store are removed first, because a dockerd with --default-address-pool that
# finds its old default network in its store deletes the interface named
# docker0, the main engine's bridge (moby's removeDefaultBridgeInterface).
#
# Images: a new engine has an empty image store; gantry/busybox:latest (which
# must be on the main engine: `make images`) and gantry/haproxy:latest (when
# present) are copied from the main engine (docker save | load) whenever the
# engine's copy differs.
#
# Needs root, dockerd and the docker CLI, iproute2, iptables, openssl,
# util-linux (flock, unshare). Concurrent runs are serialized by a lock
# (/run/gantry-engines.lock). Exits non-zero, saying why, when it cannot.
set -eu

ROOT=/var/lib/gantry-engines
RUN=/run/gantry-engines
LOGDIR=/var/log/gantry-engines
TLS=$ROOT/tls
LOCK=/run/gantry-engines.lock
CHAIN=GANTRY-ENGINES
MAX=10
TLS_PORT=${GANTRY_ENGINES_TLS_PORT:-23760}
WAIT=${GANTRY_ENGINES_WAIT:-60}

say() { echo "engines: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	echo "usage: $0 up N | list | down [I ...]   (1 <= N <= $MAX)" >&2
	exit 2
}

need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root (run: sudo $0 $1 ...)"; }

need_tools() {
	for c in dockerd docker ip iptables openssl flock unshare setsid; do
		command -v "$c" >/dev/null 2>&1 || die "no $c on PATH$(hint "$c")"
	done
}

hint() {
	case $1 in
	dockerd | docker) echo "; run scripts/ensure-docker.sh (as root on Debian it installs docker.io)" ;;
	ip) echo "; install iproute2" ;;
	iptables) echo "; install iptables" ;;
	openssl) echo "; install openssl" ;;
	*) echo "; install util-linux" ;;
	esac
}

lock() {
	mkdir -p "$RUN"
	exec 9>"$LOCK"
	flock -w 600 9 || die "another engines.sh still holds $LOCK after 600 s"
}

# vars I sets the paths and addresses of engine I.
vars() {
	i=$1
	sock=$RUN/$i.sock
	pidfile=$RUN/$i.pid
	execroot=$RUN/$i
	home=$ROOT/$i
	dataroot=$home/docker
	log=$LOGDIR/$i.log
	br=gantry-br$i
	brnet=10.230.$i
	pool=10.231.$((16 * i)).0/20
	portlo=$((61000 + 400 * (i - 1)))
	porthi=$((portlo + 399))
}

dk() { docker -H "unix://$sock" "$@"; }

answers() { [ -S "$sock" ] && dk version -f '{{.Server.Version}}' >/dev/null 2>&1; }

# pid of engine $i's dockerd when it runs, else nothing (and exit 1).
engine_pid() {
	[ -f "$pidfile" ] || return 1
	p=$(cat "$pidfile" 2>/dev/null) || return 1
	[ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "dockerd.* unix://$sock" || return 1
	echo "$p"
}

tls_args() {
	echo "--tlsverify --tlscacert=$TLS/ca.pem --tlscert=$TLS/cert.pem --tlskey=$TLS/key.pem"
}

# endpoint I prints engine I's line.
endpoint() {
	vars "$1"
	if [ "$1" -eq 1 ]; then
		port=$(cat "$home/tls-port" 2>/dev/null || echo "$TLS_PORT")
		echo "tcp://127.0.0.1:$port tls.ca=$TLS/ca.pem tls.cert=$TLS/cert.pem tls.key=$TLS/key.pem"
	else
		echo "unix://$sock"
	fi
}

# ---- TLS -------------------------------------------------------------------

# ensure_tls makes the TLS files unless valid ones are there; tls_made=1 when it made them.
tls_made=0
ensure_tls() {
	if [ -s "$TLS/ca.pem" ] && [ -s "$TLS/cert.pem" ] && [ -s "$TLS/key.pem" ] &&
		[ -s "$TLS/server/cert.pem" ] && [ -s "$TLS/server/key.pem" ] &&
		openssl verify -CAfile "$TLS/ca.pem" "$TLS/cert.pem" "$TLS/server/cert.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$TLS/server/cert.pem" -noout -checkend 86400 >/dev/null 2>&1; then
		return 0
	fi
	say "making a CA and server/client certificates in $TLS (openssl)"
	tls_made=1
	rm -rf "$TLS"
	mkdir -p "$TLS/server"
	chmod 755 "$ROOT" "$TLS"
	chmod 700 "$TLS/server"
	(
		umask 077
		cd "$TLS"
		ossl() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed (in $TLS)"; }
		ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca-key.pem -out ca.pem -days 3650 -subj "/CN=gantry-engines CA"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >server/ext.cnf
		ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout server/key.pem -out server/csr.pem -subj "/CN=localhost"
		ossl x509 -req -in server/csr.pem -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
			-out server/cert.pem -days 825 -extfile server/ext.cnf
		printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >client-ext.cnf
		ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout key.pem -out client.csr -subj "/CN=gantry-engines client"
		ossl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
			-out cert.pem -days 825 -extfile client-ext.cnf
		rm -f server/csr.pem server/ext.cnf client.csr client-ext.cnf ca.srl
		chmod 644 ca.pem cert.pem server/cert.pem
		chmod 600 ca-key.pem key.pem server/key.pem
	)
}

# ---- network ---------------------------------------------------------------

ensure_bridge() {
	if ! ip link show "$br" >/dev/null 2>&1; then
		other=$(ip -4 route show root "$brnet.0/24" 2>/dev/null | head -n 1)
		[ -z "$other" ] || die "cannot make $br with $brnet.1/24: that subnet is already routed ($other)"
		ip link add "$br" type bridge || die "ip link add $br type bridge failed (need CAP_NET_ADMIN)"
	fi
	if ! ip -4 addr show dev "$br" | grep -q "inet $brnet.1/24"; then
		ip addr flush dev "$br"
		ip addr add "$brnet.1/24" dev "$br" || die "cannot give $br the address $brnet.1/24"
	fi
	ip link set "$br" up
}

ensure_firewall() {
	iptables -w -t filter -n -L "$CHAIN" >/dev/null 2>&1 || iptables -w -t filter -N "$CHAIN" ||
		die "iptables -N $CHAIN failed"
	for in in 'gantry-br+' 'br-+'; do
		rule="-i $in -m physdev --physdev-is-bridged -m comment --comment gantry-engines -j ACCEPT"
		# shellcheck disable=SC2086
		iptables -w -C "$CHAIN" $rule 2>/dev/null || iptables -w -A "$CHAIN" $rule ||
			die "iptables: cannot add '$rule' to $CHAIN (is the physdev match available?)"
	done
	# At the end of FORWARD: the main engine's rules, inserted at the top, come first.
	iptables -w -C FORWARD -j "$CHAIN" 2>/dev/null || iptables -w -A FORWARD -j "$CHAIN" ||
		die "iptables -A FORWARD -j $CHAIN failed"
}

remove_firewall() {
	while iptables -w -D FORWARD -j "$CHAIN" 2>/dev/null; do :; done
	if iptables -w -t filter -n -L "$CHAIN" >/dev/null 2>&1; then
		iptables -w -F "$CHAIN" && iptables -w -X "$CHAIN" || say "could not remove iptables chain $CHAIN"
	fi
}

# ---- engines ---------------------------------------------------------------

dockerd_major() { dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p'; }

start_engine() {
	vars "$1"
	# What an earlier dockerd of this engine left (its containerd, shims and
	# containers after a kill -9) would keep the new one waiting for them.
	kill_rest "$i"
	rm -f "$execroot/containerd/containerd.pid"
	forget_networks "$i"
	mkdir -p "$home" "$dataroot" "$execroot" "$LOGDIR"
	ensure_bridge
	printf '%s\t%s\n' "$portlo" "$porthi" >"$home/port_range"
	# Its own config file, so that /etc/docker/daemon.json (the main engine's)
	# does not apply; before 23.0 the engine id came from a trust key shared
	# through /etc/docker: give each engine its own.
	major=$(dockerd_major)
	if [ -n "$major" ] && [ "$major" -lt 23 ]; then
		printf '{"deprecated-key-path": "%s/key.json"}\n' "$home" >"$home/daemon.json"
	else
		echo '{}' >"$home/daemon.json"
	fi
	rm -f "$pidfile" "$sock"
	set -- --data-root "$dataroot" --exec-root "$execroot" --pidfile "$pidfile" \
		--config-file "$home/daemon.json" -H "unix://$sock" \
		--bridge "$br" --default-address-pool "base=$pool,size=24" \
		--iptables=false --ip-forward=false --ip-masq=false \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/gantry-engine-$i"
	if [ "$i" -eq 1 ]; then
		ensure_tls
		echo "$TLS_PORT" >"$home/tls-port"
		set -- "$@" -H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert="$TLS/ca.pem" \
			--tlscert="$TLS/server/cert.pem" --tlskey="$TLS/server/key.pem"
	fi
	say "starting engine $i: dockerd $* (log: $log)"
	{
		echo "==== $(date -u +%FT%TZ) engines.sh: dockerd $*"
	} >>"$log"
	# Its own mount namespace (to give it its own ip_local_port_range, which
	# dockerd reads for random host ports) and UTS namespace (its hostname).
	# setsid + no inherited descriptors: it outlives this script and whoever ran it.
	# shellcheck disable=SC2016
	setsid unshare --mount --uts --propagation slave sh -c '
		echo "gantry-engine-$1" >/proc/sys/kernel/hostname || echo "engines.sh: could not set the hostname" >&2
		mount --bind "$2" /proc/sys/net/ipv4/ip_local_port_range ||
			echo "engines.sh: could not bind $2 over ip_local_port_range; random host ports may collide with other engines" >&2
		shift 2
		exec dockerd "$@"' sh "$i" "$home/port_range" "$@" </dev/null >>"$log" 2>&1 9>&- &
	# setsid and unshare exec (no fork), and so does sh: $! becomes dockerd.
	echo $! >"$home/launch.pid"
}

# launched_alive: the process start_engine launched still runs (not a zombie).
launched_alive() {
	p=$(cat "$home/launch.pid" 2>/dev/null) || return 1
	st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_engine I waits for engine I to answer on its socket (and over TLS for engine 1).
wait_engine() {
	vars "$1"
	tries=0
	while :; do
		if answers; then
			if [ "$i" -ne 1 ]; then break; fi
			port=$(cat "$home/tls-port")
			# shellcheck disable=SC2046
			if docker $(tls_args) -H "tcp://127.0.0.1:$port" version >/dev/null 2>&1; then break; fi
		fi
		tries=$((tries + 1))
		if [ "$tries" -gt $((WAIT * 4)) ]; then
			say "engine $i did not answer within $WAIT s; last lines of $log:"
			tail -n 20 "$log" >&2 || true
			die "engine $i is not up"
		fi
		if ! engine_pid >/dev/null && ! launched_alive; then
			say "engine $i's dockerd exited; last lines of $log:"
			tail -n 20 "$log" >&2 || true
			die "engine $i did not start"
		fi
		sleep 0.25
	done
	p=$(engine_pid) && readlink "/proc/$p/ns/mnt" >"$home/mntns" 2>/dev/null || true
}

# sync_images I copies the main engine's gantry images to engine I where they differ.
sync_images() {
	vars "$1"
	for img in gantry/busybox:latest gantry/haproxy:latest; do
		want=$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null) || {
			case $img in
			gantry/busybox:*) die "$img is not on the main engine ($(docker context inspect -f '{{.Endpoints.docker.Host}}' 2>/dev/null || echo default)); run: make images" ;;
			*) continue ;;
			esac
		}
		have=$(dk image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)
		[ "$want" = "$have" ] && continue
		tar=$ROOT/images/$(echo "$want" | sed 's/^sha256://').tar
		mkdir -p "$ROOT/images"
		if [ ! -s "$tar" ]; then
			docker save -o "$tar.part" "$img" || { rm -f "$tar.part"; die "docker save $img failed"; }
			mv "$tar.part" "$tar"
		fi
		say "loading $img into engine $i"
		dk load -q -i "$tar" >/dev/null || die "loading $img into engine $i failed"
	done
}

up() {
	count=$1
	need_root up
	need_tools
	docker version -f '{{.Server.Version}}' >/dev/null 2>&1 ||
		die "the main Docker Engine does not answer (images come from it); run scripts/ensure-docker.sh"
	lock
	mkdir -p "$ROOT" "$LOGDIR"
	chmod 755 "$ROOT"
	ensure_firewall
	# A tripwire: nothing here may touch the main engine's bridge.
	had_docker0=0
	if ip link show docker0 >/dev/null 2>&1; then had_docker0=1; fi
	started=""
	i=1
	while [ "$i" -le "$count" ]; do
		vars "$i"
		if p=$(engine_pid); then
			ensure_bridge
			if [ "$i" -eq 1 ]; then
				ensure_tls
				if [ "$tls_made" -eq 1 ]; then
					say "engine 1: new TLS certificates, restarting it"
					stop_dockerd "$p"
					start_engine 1
					started="$started 1"
				fi
			fi
		else
			start_engine "$i"
			started="$started $i"
		fi
		i=$((i + 1))
	done
	i=1
	while [ "$i" -le "$count" ]; do
		wait_engine "$i"
		sync_images "$i"
		i=$((i + 1))
	done
	rm -rf "$ROOT/images"
	if [ "$had_docker0" -eq 1 ] && ! ip link show docker0 >/dev/null 2>&1; then
		die "BUG: the main engine's docker0 vanished while engines started; restart the main dockerd"
	fi
	[ -z "$started" ] || say "started engine(s)$started; reused the others"
	i=1
	while [ "$i" -le "$count" ]; do
		endpoint "$i"
		i=$((i + 1))
	done
}

# known lists the numbers of the engines that have any state on this machine.
known() {
	{
		for d in "$ROOT"/[0-9]* "$RUN"/[0-9]*.pid "$RUN"/[0-9]*; do
			[ -e "$d" ] || continue
			basename "$d" .pid
		done
		ip -o link show type bridge 2>/dev/null | sed -n 's/^[0-9]*: gantry-br\([0-9]*\)[:@].*/\1/p'
	} | grep -E '^[0-9]+$' | sort -n -u
}

list() {
	for i in $(known); do
		vars "$i"
		if answers; then
			endpoint "$i"
		elif [ -S "$sock" ]; then
			say "engine $i: $sock does not answer (not running, or no permission to use it)"
		fi
	done
}

# forget_networks I removes the networks a stopped engine I had: their bridges
# (br-<id>, found in its network store, and any addressed from its pool) and the
# store itself. It must run before every start with an existing data root: a
# dockerd with --default-address-pool that finds its old "bridge" network in
# its store deletes the interface named docker0 (moby's
# removeDefaultBridgeInterface), which is the MAIN engine's bridge.
forget_networks() {
	vars "$1"
	db=$dataroot/network/files/local-kv.db
	if [ -f "$db" ]; then
		for id in $(grep -aoE 'network/v1\.0/network/[0-9a-f]{64}' "$db" 2>/dev/null |
			sed 's|.*/||' | cut -c1-12 | sort -u); do
			ip link del "br-$id" 2>/dev/null || true
		done
	fi
	a=$((16 * i))
	for b in $(ip -o -4 addr show 2>/dev/null | awk '$2 ~ /^br-/ {print $2, $4}' |
		awk -v a="$a" '{split($2, q, "[./]"); if (q[1] == 10 && q[2] == 231 && q[3] >= a && q[3] < a + 16) print $1}'); do
		ip link del "$b" 2>/dev/null || true
	done
	rm -f "$db"
}

# kill_rest I kills what engine I left behind: processes in its dockerd's
# mount namespace (containerd, shims, docker-proxy) and in its cgroups.
kill_rest() {
	vars "$1"
	ns=$(cat "$home/mntns" 2>/dev/null || true)
	if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ]; then
		tries=0
		while [ "$tries" -lt 20 ]; do
			left=0
			for p in /proc/[0-9]*; do
				if [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && [ "$(cut -d' ' -f3 "$p/stat" 2>/dev/null)" != Z ]; then
					kill -KILL "${p#/proc/}" 2>/dev/null || true
					left=1
				fi
			done
			[ "$left" -eq 1 ] || break
			sleep 0.25
			tries=$((tries + 1))
		done
	fi
	for cg in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "gantry-engine-$i" 2>/dev/null); do
		for f in $(find "$cg" -name cgroup.procs 2>/dev/null); do
			for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		done
		sleep 0.2
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# stop_dockerd PID: SIGTERM, up to 30 s to exit, then SIGKILL.
stop_dockerd() {
	kill -TERM "$1" 2>/dev/null || true
	tries=0
	while [ -d "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ] && [ "$tries" -lt 120 ]; do
		sleep 0.25
		tries=$((tries + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}

stop_engine() {
	vars "$1"
	if answers; then
		ids=$(dk ps -aq)
		if [ -n "$ids" ]; then
			say "engine $i: removing $(echo "$ids" | wc -l) container(s)"
			# shellcheck disable=SC2086
			dk rm -f -v $ids >/dev/null || say "engine $i: some containers could not be removed"
		fi
		dk network prune -f >/dev/null 2>&1 || true
	fi
	if p=$(engine_pid); then
		say "engine $i: stopping dockerd (pid $p)"
		stop_dockerd "$p"
	fi
	# A dead engine is not started again to clean up: what it left is removed here.
	kill_rest "$i"
	forget_networks "$i"
	ip link del "$br" 2>/dev/null || true
	grep -E " ($home|$execroot)[/ ]" /proc/mounts | awk '{print $2}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$home" "$execroot" "$sock" "$pidfile"
	say "engine $i removed"
}

# down [I ...] removes the given engines, all by default; the firewall chain
# and the TLS files go with the last one.
down() {
	need_root down
	lock
	which=${*:-$(known)}
	for i in $which; do
		stop_engine "$i"
	done
	if [ -z "$(known)" ]; then
		remove_firewall
		rm -rf "$ROOT"
		rmdir "$RUN" 2>/dev/null || true
	fi
}

cmd=${1:-}
case $cmd in
up)
	[ $# -eq 2 ] || usage
	case $2 in '' | *[!0-9]*) usage ;; esac
	[ "$2" -ge 1 ] && [ "$2" -le "$MAX" ] || usage
	up "$2"
	;;
list)
	[ $# -eq 1 ] || usage
	list
	;;
down)
	shift
	for a in "$@"; do
		case $a in '' | *[!0-9]*) usage ;; esac
	done
	down "$@"
	;;
*) usage ;;
esac
