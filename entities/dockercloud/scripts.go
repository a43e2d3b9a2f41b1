package dockercloud

// The Docker Engine Gantry runs on a machine: where its files go and the shell scripts
// that install, start, stop and remove it. Everything here is pure (text from a
// daemonPlan); provision.go runs the scripts as root on the machine.
//
// On a machine, the engine of host <id> keeps:
//
//	/etc/gantry-docker/<id>/          its TLS files (ca.pem, server-cert.pem, server-key.pem), mode 0700
//	/var/lib/gantry-docker/<id>/      its state: the port and bridge chosen, pre-start.sh, daemon.json,
//	                                  and (isolated) its data root, docker/
//	/run/gantry-docker/<id>/          its pid file, and (isolated) its socket and exec root
//	/var/log/gantry-docker/<id>.log   its log, when it runs without systemd
//
// It runs as a systemd service when systemd runs the machine, else as a process of its
// own session (setsid nohup) with a pid file. Two modes:
//
//   - the machine's engine (default): the dockerd of the machine (its data root, its
//     socket; under systemd, docker.service with a drop-in that adds the TCP listener
//     and TLS), listening on tcp://<listen>:<port> with --tlsverify;
//   - isolated (docker.host.isolated: true), for a machine that runs other engines (a
//     test box, `make engines`): a dockerd of its own next to them, as
//     scripts/engines.sh starts them: own data root, exec root, socket, pid file,
//     config file, bridge (gd-<id>, 10.232.N.1/24), address pool (10.233.N.0/24),
//     cgroup parent, and --iptables=false --ip-forward=false --ip-masq=false so that
//     nothing of the machine's firewall or other engines is touched. Before every start
//     its network store is removed (with the bridges it names): a dockerd with
//     --default-address-pool that finds its old default network in its store deletes
//     the interface named docker0 (moby's removeDefaultBridgeInterface), which is the
//     machine's main engine's bridge.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/sensors"
)

// Where the engines Gantry runs keep their files on a machine.
const (
	certRoot  = "/etc/gantry-docker"
	stateRoot = "/var/lib/gantry-docker"
	runRoot   = "/run/gantry-docker"
	logRoot   = "/var/log/gantry-docker"
)

// Names of the TLS files in an engine's certificate directory.
const (
	fileCA         = "ca.pem"
	fileServerCert = "server-cert.pem"
	fileServerKey  = "server-key.pem"
)

// Ports and subnets chosen on a machine when none is configured.
const (
	autoPortLow    = 23800
	autoPortHigh   = 23999
	autoBridgeNet  = "10.232" // 10.232.N.1/24, N in 1..254
	autoPoolPrefix = "10.233" // 10.233.N.0/24 for the bridge 10.232.N.1/24
)

// DefaultHostPort is the TCP port of the engines Gantry installs, as Clocker's.
const DefaultHostPort = 2376

// daemonPlan is how the engine of one host runs on its machine.
type daemonPlan struct {
	// ID is the host entity's id: it names every file, the service and the bridge.
	ID string `json:"id"`
	// Port is the engine's TCP port; 0 until one is chosen on the machine.
	Port int `json:"port"`
	// Listen is the address it listens on (0.0.0.0: all).
	Listen string `json:"listen"`
	// Isolated runs an engine of its own next to the machine's (see above).
	Isolated bool `json:"isolated"`
	// BridgeCIDR is the isolated engine's bridge address (10.232.N.1/24); empty until
	// one is chosen on the machine.
	BridgeCIDR string `json:"bridge,omitempty"`
	// Pool is the isolated engine's --default-address-pool base (a CIDR).
	Pool string `json:"pool,omitempty"`
}

func (p daemonPlan) Service() string  { return "gantry-docker-" + p.ID }
func (p daemonPlan) CertDir() string  { return certRoot + "/" + p.ID }
func (p daemonPlan) StateDir() string { return stateRoot + "/" + p.ID }
func (p daemonPlan) RunDir() string   { return runRoot + "/" + p.ID }
func (p daemonPlan) LogFile() string  { return logRoot + "/" + p.ID + ".log" }
func (p daemonPlan) PidFile() string  { return p.RunDir() + "/docker.pid" }

// DataRoot is the isolated engine's data root ("" for the machine's engine: its own).
func (p daemonPlan) DataRoot() string {
	if !p.Isolated {
		return ""
	}
	return p.StateDir() + "/docker"
}

// ExecRoot is the isolated engine's exec root ("" for the machine's engine).
func (p daemonPlan) ExecRoot() string {
	if !p.Isolated {
		return ""
	}
	return p.RunDir() + "/exec"
}

// Socket is the engine's unix socket (a path).
func (p daemonPlan) Socket() string {
	if !p.Isolated {
		return "/var/run/docker.sock"
	}
	return p.RunDir() + "/docker.sock"
}

// Bridge is the isolated engine's bridge (at most 15 characters, as Linux wants).
func (p daemonPlan) Bridge() string {
	b := "gd-" + p.ID
	if len(b) > 15 {
		b = b[:15]
	}
	return b
}

// CgroupName is the isolated engine's cgroup parent, without its slash.
func (p daemonPlan) CgroupName() string { return "gantry-docker-" + p.ID }

// Unit is the systemd unit file Gantry writes: the isolated engine's own service, or a
// drop-in of the machine's docker.service.
func (p daemonPlan) Unit() string {
	if p.Isolated {
		return "/etc/systemd/system/" + p.Service() + ".service"
	}
	return "/etc/systemd/system/docker.service.d/" + p.Service() + ".conf"
}

// SystemdService is the systemd service that runs the engine.
func (p daemonPlan) SystemdService() string {
	if p.Isolated {
		return p.Service()
	}
	return "docker.service"
}

// Endpoint is where Gantry reaches the engine: tcp://<address>:<port>.
func (p daemonPlan) Endpoint(address string) string {
	return "tcp://" + net.JoinHostPort(strings.Trim(address, "[]"), strconv.Itoa(p.Port))
}

// check says what is wrong with the plan, for people (nil when nothing): every value
// goes into shell scripts and unit files, so only plain ones are taken.
func (p daemonPlan) check() error {
	if p.ID == "" || strings.Trim(p.ID, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return fmt.Errorf("host id %q: want letters, digits, - and _", p.ID)
	}
	if p.Port < 0 || p.Port > 65535 {
		return fmt.Errorf("%s %d: want a TCP port (0: a free one of the machine)", KeyHostPort, p.Port)
	}
	if ip := net.ParseIP(strings.Trim(p.Listen, "[]")); ip == nil {
		return fmt.Errorf("%s %q: want an IP address of the machine, such as 0.0.0.0 (all)", KeyHostListen, p.Listen)
	}
	if p.BridgeCIDR != "" {
		pre, err := netip.ParsePrefix(p.BridgeCIDR)
		if err != nil || !pre.Addr().Is4() || pre.Addr() == pre.Masked().Addr() || pre.Bits() > 30 {
			return fmt.Errorf("%s %q: want the bridge's IPv4 address and prefix, such as 10.232.7.1/24", KeyHostBridgeCIDR, p.BridgeCIDR)
		}
	}
	if p.Pool != "" {
		pre, err := netip.ParsePrefix(p.Pool)
		if err != nil || !pre.Addr().Is4() || pre != pre.Masked() || pre.Bits() > 28 {
			return fmt.Errorf("%s %q: want an IPv4 network of /28 or more, such as 10.233.7.0/24", KeyHostAddressPool, p.Pool)
		}
	}
	return nil
}

// bridgeSubnet is the network of the bridge's address: 10.232.7.0/24 for 10.232.7.1/24.
func (p daemonPlan) bridgeSubnet() string {
	pre, err := netip.ParsePrefix(p.BridgeCIDR)
	if err != nil {
		return ""
	}
	return pre.Masked().String()
}

// pool is the isolated engine's default address pool: the configured one, else
// 10.233.N.0/24 for the bridge 10.232.N.1/24 (or whatever its third number is).
func (p daemonPlan) pool() string {
	if p.Pool != "" {
		return p.Pool
	}
	pre, err := netip.ParsePrefix(p.BridgeCIDR)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s.%d.0/24", autoPoolPrefix, pre.Addr().As4()[2])
}

// poolSize is the prefix length of each network of the pool: /24 from a big pool,
// else eight networks of it.
func (p daemonPlan) poolSize() int {
	pre, err := netip.ParsePrefix(p.pool())
	if err != nil {
		return 24
	}
	return max(24, pre.Bits()+3)
}

// args are dockerd's arguments. Under systemd, the machine's engine takes its socket
// from systemd (-H fd://) as docker.service does; containerd is the given one
// (docker.service's, when there is one).
func (p daemonPlan) args(systemd bool, containerd string) []string {
	var a []string
	switch {
	case p.Isolated:
		a = append(a,
			"--data-root", p.DataRoot(),
			"--exec-root", p.ExecRoot(),
			"--pidfile", p.PidFile(),
			"--config-file", p.StateDir()+"/daemon.json",
			"-H", "unix://"+p.Socket(),
			"--bridge", p.Bridge(),
			"--default-address-pool", fmt.Sprintf("base=%s,size=%d", p.pool(), p.poolSize()),
			"--iptables=false", "--ip-forward=false", "--ip-masq=false",
			"--exec-opt", "native.cgroupdriver=cgroupfs",
			"--cgroup-parent", "/"+p.CgroupName())
	case systemd:
		a = append(a, "-H", "fd://")
		if containerd != "" {
			a = append(a, "--containerd="+containerd)
		}
	default:
		a = append(a, "--pidfile", p.PidFile(), "-H", "unix://"+p.Socket())
	}
	return append(a,
		"-H", "tcp://"+net.JoinHostPort(strings.Trim(p.Listen, "[]"), strconv.Itoa(p.Port)),
		"--tlsverify",
		"--tlscacert="+p.CertDir()+"/"+fileCA,
		"--tlscert="+p.CertDir()+"/"+fileServerCert,
		"--tlskey="+p.CertDir()+"/"+fileServerKey)
}

// launchSum fingerprints what a running engine was started with (its arguments and
// certificates): a start finding it running with another one restarts it.
func launchSum(p daemonPlan, caCert, serverCert string) string {
	h := sha256.New()
	for _, systemd := range []bool{false, true} {
		fmt.Fprintln(h, strings.Join(p.args(systemd, ""), "\x00"))
	}
	fmt.Fprintln(h, caCert)
	fmt.Fprintln(h, serverCert)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellArgs quotes each of args and joins them.
func shellArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shq(a)
	}
	return strings.Join(q, " ")
}

// asRoot runs script as root: directly when the login is root, else with sudo -n
// (a user that may sudo without a password).
func asRoot(script string) string {
	q := shq(script)
	return `if [ "$(id -u)" -eq 0 ]; then exec /bin/sh -c ` + q + `; fi
if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then exec sudo -n /bin/sh -c ` + q + `; fi
echo "this needs root: log in as root, or as a user that may run sudo without a password" >&2
exit 1
`
}

// vars sets the plan's shell variables.
func (p daemonPlan) vars() string {
	v := [][2]string{
		{"ID", p.ID},
		{"SERVICE", p.Service()},
		{"CERT_ROOT", certRoot}, {"STATE_ROOT", stateRoot}, {"RUN_ROOT", runRoot}, {"LOG_ROOT", logRoot},
		{"CERTS", p.CertDir()},
		{"STATE", p.StateDir()},
		{"RUN", p.RunDir()},
		{"LOG", p.LogFile()},
		{"PIDFILE", p.PidFile()},
		{"UNIT", p.Unit()},
		{"SYSTEMD_SERVICE", p.SystemdService()},
		{"ISOLATED", boolDigit(p.Isolated)},
		{"PORT", strconv.Itoa(p.Port)},
		{"DATA_ROOT", p.DataRoot()},
		{"EXEC_ROOT", p.ExecRoot()},
		{"BRIDGE", p.Bridge()},
		{"BRIDGE_CIDR", p.BridgeCIDR},
		{"BRIDGE_SUBNET", p.bridgeSubnet()},
		{"CGROUP", p.CgroupName()},
	}
	var b strings.Builder
	for _, kv := range v {
		b.WriteString(kv[0] + "=" + shq(kv[1]) + "\n")
	}
	// The pool's bridges (br-*) are found by their address: its first two numbers and
	// the range of the third.
	a, bb, lo, hi := poolRange(p.pool())
	fmt.Fprintf(&b, "POOL_A=%d\nPOOL_B=%d\nPOOL_LO=%d\nPOOL_HI=%d\n", a, bb, lo, hi)
	return b.String()
}

// poolRange is a pool of /16 or longer as its first two numbers and the range [lo, hi)
// of its third; -1s for none.
func poolRange(pool string) (a, b, lo, hi int) {
	pre, err := netip.ParsePrefix(pool)
	if err != nil || !pre.Addr().Is4() || pre.Bits() < 16 {
		return -1, -1, -1, -1
	}
	x := pre.Masked().Addr().As4()
	span := 1
	if pre.Bits() < 24 {
		span = 1 << (24 - pre.Bits())
	}
	return int(x[0]), int(x[1]), int(x[2]), int(x[2]) + span
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// scriptLib are the shell functions the scripts share.
const scriptLib = `say() { printf '%s\n' "$*"; }
die() { printf '%s\n' "$*" >&2; exit 1; }
systemd_runs() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
# alive PID: the process runs (and is not a zombie).
alive() { [ -d "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# our_pid prints the pid of this host's dockerd started without systemd, when it runs.
our_pid() {
	for f in "$PIDFILE" "$RUN/launch.pid"; do
		p=$(cat "$f" 2>/dev/null) || continue
		[ -n "$p" ] && alive "$p" || continue
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--pidfile $PIDFILE" || continue
		echo "$p"
		return 0
	done
	return 1
}
# stop_pid PID: SIGTERM, up to 40 s to exit, then SIGKILL.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	n=0
	while alive "$1" && [ "$n" -lt 160 ]; do
		sleep 0.25
		n=$((n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}
# kill_rest kills what an isolated engine left running: its containerd, shims and
# proxies (which name its exec root) and the processes of its cgroups.
kill_rest() {
	[ "$ISOLATED" -eq 1 ] || return 0
	for d in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
		case $c in *"$EXEC_ROOT"*) ;; *) continue ;; esac
		case ${c%% *} in
		*containerd* | *docker-proxy* | *dockerd* | *runc*) kill -KILL "${d#/proc/}" 2>/dev/null || true ;;
		esac
	done
	for cg in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "$CGROUP" 2>/dev/null); do
		for f in $(find "$cg" -name cgroup.procs 2>/dev/null); do
			for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		done
	done
}
# mounts_under DIR...: the mount points at or under the directories, deepest first.
mounts_under() {
	for r in "$@"; do
		[ -n "$r" ] || continue
		awk -v r="$r" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts
	done | sort -r
}
unmount_under() {
	for m in $(mounts_under "$@"); do umount -l "$m" 2>/dev/null || true; done
}
# forget_networks removes an isolated engine's network store and the bridges of its
# networks (named in the store, or addressed from its pool). It runs before every
# start: a dockerd with --default-address-pool that finds its old default network in
# its store deletes the interface named docker0, the machine's main engine's bridge.
forget_networks() {
	[ "$ISOLATED" -eq 1 ] || return 0
	db=$DATA_ROOT/network/files/local-kv.db
	if [ -f "$db" ]; then
		for id in $(grep -aoE 'network/v1\.0/network/[0-9a-f]{64}' "$db" 2>/dev/null | sed 's|.*/||' | cut -c1-12 | sort -u); do
			ip link del "br-$id" 2>/dev/null || true
		done
		rm -f "$db"
	fi
	if [ "$POOL_A" -ge 0 ]; then
		for b in $(ip -o -4 addr show 2>/dev/null | awk '$2 ~ /^br-/ {print $2, $4}' |
			awk -v a="$POOL_A" -v b="$POOL_B" -v lo="$POOL_LO" -v hi="$POOL_HI" \
				'{split($2, q, "[./]"); if (q[1] == a && q[2] == b && q[3] >= lo && q[3] < hi) print $1}'); do
			ip link del "$b" 2>/dev/null || true
		done
	fi
}
`

// installScript installs the Docker Engine when the machine has none (Debian's or
// Ubuntu's docker.io), and, for an isolated engine, iproute2.
func installScript(isolated bool) string {
	s := `set -u
if command -v dockerd >/dev/null 2>&1; then
	echo "the Docker Engine is installed: $(dockerd --version 2>/dev/null)"
else
	command -v apt-get >/dev/null 2>&1 ||
		{ echo "$(hostname) has no dockerd, and no apt-get to install docker.io: install the Docker Engine there" >&2; exit 1; }
	echo "installing docker.io with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || echo "apt-get update failed; installing anyway" >&2
	apt-get install -y -q docker.io || exit 1
	command -v dockerd >/dev/null 2>&1 || { echo "docker.io is installed but there is no dockerd" >&2; exit 1; }
	echo "installed: $(dockerd --version 2>/dev/null)"
fi
`
	if isolated {
		s += `if ! command -v ip >/dev/null 2>&1; then
	echo "installing iproute2 with apt-get (the engine's bridge)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q iproute2 || exit 1
fi
`
	}
	return s
}

// prepareScript chooses, once, what the plan leaves open on the machine: a free TCP port
// (Port 0) and, for an isolated engine, a free bridge subnet; both are kept in the
// engine's state directory, so that the next start uses them again. It prints
// "port=<port> bridge=<cidr>".
func prepareScript(p daemonPlan) string {
	return "set -eu\n" + p.vars() + scriptLib + fmt.Sprintf(`mkdir -p "$STATE_ROOT" "$STATE"
chmod 700 "$STATE"
# Hosts of one machine prepare one at a time.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$STATE_ROOT/.lock"
	flock -w 120 9 || die "another engine of this machine holds $STATE_ROOT/.lock"
fi
# listening: the TCP ports listened on, as 4 hex digits.
listening() {
	awk 'NR > 1 && $4 == "0A" {n = split($2, a, ":"); print a[n]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
if [ "$PORT" -eq 0 ]; then
	if [ -s "$STATE/port" ]; then
		PORT=$(cat "$STATE/port")
	else
		used=$(listening)
		others=$(cat "$STATE_ROOT"/*/port 2>/dev/null || true)
		p=%[1]d
		while [ "$p" -le %[2]d ]; do
			if ! printf '%%s\n' "$used" | grep -qx "$(printf '%%04X' "$p")" && ! printf '%%s\n' "$others" | grep -qx "$p"; then
				break
			fi
			p=$((p + 1))
		done
		[ "$p" -le %[2]d ] || die "no free TCP port in %[1]d-%[2]d for the engine: set docker.host.port"
		PORT=$p
	fi
fi
echo "$PORT" >"$STATE/port"
if [ "$ISOLATED" -eq 1 ]; then
	if [ -z "$BRIDGE_CIDR" ] && [ -s "$STATE/bridge" ]; then
		BRIDGE_CIDR=$(cat "$STATE/bridge")
	fi
	if [ -z "$BRIDGE_CIDR" ]; then
		others=$(cat "$STATE_ROOT"/*/bridge 2>/dev/null || true)
		n=1
		while [ "$n" -le 254 ]; do
			if [ -z "$(ip -4 route show root "%[3]s.$n.0/24" 2>/dev/null)" ] && ! printf '%%s\n' "$others" | grep -qx "%[3]s.$n.1/24"; then
				break
			fi
			n=$((n + 1))
		done
		[ "$n" -le 254 ] || die "no free /24 in %[3]s.0.0/16 for the engine's bridge: set docker.host.bridge.cidr"
		BRIDGE_CIDR=%[3]s.$n.1/24
	fi
	echo "$BRIDGE_CIDR" >"$STATE/bridge"
fi
echo "port=$PORT bridge=$BRIDGE_CIDR"
`, autoPortLow, autoPortHigh, autoBridgeNet)
}

// parsePrepared reads what prepareScript printed.
func parsePrepared(out string) (port int, bridge string, err error) {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "port=") {
			continue
		}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "port":
				port, err = strconv.Atoi(v)
			case "bridge":
				bridge = v
			}
		}
		if err == nil && port > 0 && port <= 65535 {
			return port, bridge, nil
		}
	}
	return 0, "", fmt.Errorf("the machine chose no port (it said %q)", strings.TrimSpace(out))
}

// certDirScript makes the engine's certificate directory, root's only; with stage, it
// moves the files copied there into it.
func certDirScript(p daemonPlan, stage string) string {
	s := "set -eu\n" + p.vars() + `umask 077
mkdir -p "$CERT_ROOT"
chmod 755 "$CERT_ROOT"
mkdir -p "$CERTS"
chown 0:0 "$CERTS" 2>/dev/null || true
chmod 700 "$CERTS"
`
	if stage != "" {
		s += "STAGE=" + shq(stage) + "\n" + `for f in ` + strings.Join([]string{fileCA, fileServerCert, fileServerKey}, " ") + `; do
	install -m 600 -o 0 -g 0 "$STAGE/$f" "$CERTS/$f"
done
rm -rf -- "$STAGE"
rmdir -- "$(dirname "$STAGE")" 2>/dev/null || true
`
	}
	return s + `echo "certificates in $CERTS"
`
}

// preStartScript is what runs before every start of an isolated engine (systemd's
// ExecStartPre, or the start script): what an earlier one left running is killed, its
// network store forgotten, its bridge made.
func preStartScript(p daemonPlan) string {
	return "#!/bin/sh\n# Written by Gantry: runs before every start of the Docker Engine of host " + p.ID + ".\nset -eu\n" +
		p.vars() + scriptLib + `kill_rest
rm -f "$EXEC_ROOT/containerd/containerd.pid"
forget_networks
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
	other=$(ip -4 route show root "$BRIDGE_SUBNET" 2>/dev/null | head -n 1)
	[ -z "$other" ] || die "cannot make $BRIDGE with $BRIDGE_CIDR: $BRIDGE_SUBNET is routed already ($other); set docker.host.bridge.cidr"
	ip link add "$BRIDGE" type bridge || die "ip link add $BRIDGE type bridge failed (it needs CAP_NET_ADMIN)"
fi
if ! ip -4 addr show dev "$BRIDGE" | grep -qF "inet $BRIDGE_CIDR "; then
	ip addr flush dev "$BRIDGE"
	ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" || die "cannot give $BRIDGE the address $BRIDGE_CIDR"
fi
ip link set "$BRIDGE" up
if ip link show docker0 >/dev/null 2>&1; then touch "$STATE/had-docker0"; else rm -f "$STATE/had-docker0"; fi
`
}

// unitText is the systemd unit of the engine: the isolated engine's own service, or the
// drop-in that makes docker.service listen on TCP with TLS. dockerd is its path on the
// machine, args its arguments (plain words: see daemonPlan.check).
func unitText(p daemonPlan, dockerd string, args []string) string {
	exec := dockerd + " " + strings.Join(args, " ")
	if !p.Isolated {
		return "# Written by Gantry for host " + p.ID + ": the machine's engine listens on TCP with TLS.\n" +
			"[Service]\nExecStart=\nExecStart=" + exec + "\n"
	}
	return "# Written by Gantry: the Docker Engine of host " + p.ID + ".\n" +
		"[Unit]\nDescription=Docker Engine of Gantry host " + p.ID + "\nAfter=network-online.target\nWants=network-online.target\n\n" +
		"[Service]\nType=notify\nExecStartPre=/bin/sh " + p.StateDir() + "/pre-start.sh\nExecStart=" + exec + "\n" +
		"ExecReload=/bin/kill -s HUP $MAINPID\nRestart=on-failure\nRestartSec=2\nKillMode=process\nDelegate=yes\n" +
		"LimitNOFILE=infinity\nLimitNPROC=infinity\nTimeoutStartSec=0\n\n" +
		"[Install]\nWantedBy=multi-user.target\n"
}

// startScript starts the engine, unless it runs already as planned (same arguments and
// certificates, as sum says): as a systemd service when systemd runs, else in a session
// of its own with a pid file. It does not wait for the engine to answer.
func startScript(p daemonPlan, sum string) string {
	var b strings.Builder
	b.WriteString("set -eu\n" + p.vars() + "SUM=" + shq(sum) + "\n" + scriptLib)
	fmt.Fprintf(&b, "ARGS_PLAIN=%s\n", shq(shellArgs(p.args(false, ""))))
	b.WriteString(`for f in ` + fileCA + " " + fileServerCert + " " + fileServerKey + `; do
	[ -s "$CERTS/$f" ] || die "$CERTS/$f is missing"
done
DOCKERD=$(command -v dockerd) || die "there is no dockerd on this machine: install the Docker Engine (docker.host.install)"
mkdir -p "$STATE" "$RUN" "$LOG_ROOT"
chmod 700 "$STATE"
if [ "$ISOLATED" -eq 1 ]; then
	# Its own config file, so that /etc/docker/daemon.json (the machine's engine's) does
	# not apply; before Docker 23 the engine id came from a trust key in /etc/docker:
	# it gets its own.
	major=$(dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
	if [ -n "$major" ] && [ "$major" -lt 23 ]; then
		printf '{"deprecated-key-path": "%s/key.json"}\n' "$STATE" >"$STATE/daemon.json"
	else
		echo '{}' >"$STATE/daemon.json"
	fi
	cat >"$STATE/pre-start.sh" <<'GANTRY_PRE_START'
`)
	b.WriteString(preStartScript(p))
	b.WriteString(`GANTRY_PRE_START
	chmod 700 "$STATE/pre-start.sh"
fi
if systemd_runs; then
	mkdir -p "$(dirname "$UNIT")"
	cat >"$UNIT.new" <<'GANTRY_UNIT'
`)
	b.WriteString(unitText(p, "@DOCKERD@", p.args(true, "@CONTAINERD@")))
	b.WriteString(`GANTRY_UNIT
	# dockerd's path, and docker.service's containerd when there is one, are known here.
	if [ "$ISOLATED" -eq 0 ] && [ -S /run/containerd/containerd.sock ]; then
		sed -i -e "s|@DOCKERD@|$DOCKERD|" -e "s|@CONTAINERD@|/run/containerd/containerd.sock|" "$UNIT.new"
	else
		sed -i -e "s|@DOCKERD@|$DOCKERD|" -e "s| --containerd=@CONTAINERD@||" "$UNIT.new"
	fi
	changed=0
	if ! cmp -s "$UNIT.new" "$UNIT"; then
		mv -f "$UNIT.new" "$UNIT"
		changed=1
		systemctl daemon-reload
	else
		rm -f "$UNIT.new"
	fi
	systemctl enable "$SYSTEMD_SERVICE" >/dev/null 2>&1 || true
	if [ "$changed" -eq 0 ] && systemctl is-active --quiet "$SYSTEMD_SERVICE" && [ "$(cat "$STATE/launched.sum" 2>/dev/null)" = "$SUM" ]; then
		say "$SYSTEMD_SERVICE runs already, as configured: left as it is"
		exit 0
	fi
	say "(re)starting $SYSTEMD_SERVICE"
	systemctl restart "$SYSTEMD_SERVICE"
	echo "$SUM" >"$STATE/launched.sum"
	say "started $SYSTEMD_SERVICE"
	exit 0
fi
if p=$(our_pid); then
	if [ "$(cat "$STATE/launched.sum" 2>/dev/null)" = "$SUM" ]; then
		say "dockerd runs already (pid $p), as configured: left as it is"
		exit 0
	fi
	say "dockerd (pid $p) runs with other settings or certificates: restarting it"
	stop_pid "$p"
fi
if [ "$ISOLATED" -eq 1 ]; then
	/bin/sh "$STATE/pre-start.sh"
else
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = dockerd ] && alive "${d#/proc/}" || continue
		die "a Docker Engine that Gantry did not start runs on this machine (pid ${d#/proc/}): stop it, or set docker.host.isolated: true to run one next to it"
	done
fi
rm -f "$PIDFILE" "$RUN/launch.pid"
eval "set -- $ARGS_PLAIN"
echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) gantry: dockerd $*" >>"$LOG"
if command -v setsid >/dev/null 2>&1; then
	setsid nohup "$DOCKERD" "$@" </dev/null >>"$LOG" 2>&1 &
else
	nohup "$DOCKERD" "$@" </dev/null >>"$LOG" 2>&1 &
fi
echo $! >"$RUN/launch.pid"
echo "$SUM" >"$STATE/launched.sum"
say "dockerd started (pid $!), its log in $LOG"
`)
	return b.String()
}

// statusScript prints "running" when the engine runs, else "exited" and the end of its
// log.
func statusScript(p daemonPlan) string {
	return "set -u\n" + p.vars() + scriptLib + `if systemd_runs && [ -f "$UNIT" ]; then
	if systemctl is-active --quiet "$SYSTEMD_SERVICE"; then echo running; exit 0; fi
	echo exited
	journalctl -u "$SYSTEMD_SERVICE" -n 20 --no-pager 2>/dev/null
	exit 0
fi
if our_pid >/dev/null; then echo running; exit 0; fi
echo exited
tail -n 20 "$LOG" 2>/dev/null
exit 0
`
}

// checkScript fails when the machine's docker0 vanished while the isolated engine
// started (it must never happen: see forget_networks).
func checkScript(p daemonPlan) string {
	return "set -u\n" + p.vars() + `if [ "$ISOLATED" -eq 1 ] && [ -f "$STATE/had-docker0" ] && ! ip link show docker0 >/dev/null 2>&1; then
	echo "BUG: the interface docker0 (the machine's main Docker Engine's bridge) vanished while the engine of host $ID started; restart the main dockerd" >&2
	exit 1
fi
exit 0
`
}

// stopScript stops the engine; its files stay, for the next start.
func stopScript(p daemonPlan) string {
	return "set -u\n" + p.vars() + scriptLib + stopPart + `say "the Docker Engine of host $ID is stopped"
`
}

const stopPart = `if systemd_runs && [ -f "$UNIT" ]; then
	say "stopping $SYSTEMD_SERVICE"
	if [ "$ISOLATED" -eq 1 ]; then
		systemctl stop "$SYSTEMD_SERVICE" 2>/dev/null || true
	else
		systemctl stop docker.service docker.socket 2>/dev/null || true
	fi
fi
if p=$(our_pid); then
	say "stopping dockerd (pid $p)"
	stop_pid "$p"
fi
kill_rest
[ "$ISOLATED" -eq 0 ] || unmount_under "$DATA_ROOT" "$EXEC_ROOT"
rm -f "$PIDFILE" "$RUN/launch.pid" "$STATE/launched.sum"
`

// destroyScript stops the engine and removes everything Gantry made for it on the
// machine (its service or drop-in, certificates, state and, isolated, its data root,
// bridge and cgroups); the Docker package stays, and so does the data of the machine's
// own engine.
func destroyScript(p daemonPlan) string {
	return "set -u\n" + p.vars() + scriptLib + stopPart + `if systemd_runs && [ -f "$UNIT" ]; then
	[ "$ISOLATED" -eq 0 ] || systemctl disable "$SYSTEMD_SERVICE" >/dev/null 2>&1 || true
	rm -f "$UNIT"
	rmdir /etc/systemd/system/docker.service.d 2>/dev/null || true
	systemctl daemon-reload || true
fi
if [ "$ISOLATED" -eq 1 ]; then
	forget_networks
	ip link del "$BRIDGE" 2>/dev/null || true
	for cg in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "$CGROUP" 2>/dev/null); do
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
	unmount_under "$DATA_ROOT" "$EXEC_ROOT"
fi
left=$(mounts_under "$STATE" "$RUN")
[ -z "$left" ] || die "not removing $STATE and $RUN: still mounted: $left"
rm -rf -- "$CERTS" "$STATE" "$RUN" "$LOG"
rmdir "$CERT_ROOT" "$RUN_ROOT" "$LOG_ROOT" 2>/dev/null || true
if [ -d "$STATE_ROOT" ] && [ -z "$(ls -A "$STATE_ROOT" | grep -Fvx .lock)" ]; then
	rm -f "$STATE_ROOT/.lock"
	rmdir "$STATE_ROOT" 2>/dev/null || true
fi
say "removed the Docker Engine of host $ID (the Docker package stays)"
`
}

// planFields are the daemon plan as a sensor value.
func (p daemonPlan) sensor(address string) map[string]any {
	m := map[string]any{
		"id": p.ID, "port": p.Port, "listen": p.Listen, "isolated": p.Isolated,
		"certs": p.CertDir(), "state": p.StateDir(), "socket": "unix://" + p.Socket(),
		"service": p.SystemdService() + " (under systemd), else a process with the pid file " + p.PidFile(),
		"log":     p.LogFile(),
	}
	if address != "" {
		m["endpoint"] = p.Endpoint(address)
	}
	if p.Isolated {
		m["dataRoot"], m["execRoot"], m["bridge"], m["bridgeAddress"], m["pool"] = p.DataRoot(), p.ExecRoot(), p.Bridge(), p.BridgeCIDR, p.pool()
	}
	return m
}

// planFromSensor reads the daemon plan back from its sensor (as set, or as loaded).
func planFromSensor(v any) (daemonPlan, bool) {
	m, _ := v.(map[string]any)
	if m == nil {
		return daemonPlan{}, false
	}
	p := daemonPlan{}
	p.ID, _ = m["id"].(string)
	if f, ok := sensors.Number(m["port"]); ok {
		p.Port = int(f)
	}
	p.Listen, _ = m["listen"].(string)
	p.Isolated, _ = m["isolated"].(bool)
	p.BridgeCIDR, _ = m["bridgeAddress"].(string)
	if pool, _ := m["pool"].(string); pool != "" && pool != p.pool() {
		p.Pool = pool
	}
	return p, p.ID != ""
}

// lastLines is the end of a command's output, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
