package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// ErrReload says that HAProxy did not load a config that passed its check (a port it
// cannot bind, ...): the previous config stays in place and keeps serving.
var ErrReload = errors.New("haproxy reload failed")

// Runner runs a shell script where HAProxy runs, with /bin/sh -c, and returns its exit
// code, as locations.ContainerExecutor does for a container (entities.ExecOn for an
// entity).
type Runner func(ctx context.Context, cmd locations.Command) (exitCode int, err error)

// chunkSize bounds each environment variable that carries the config to applyScript.
const chunkSize = 64 << 10

// Exit codes of applyScript.
const (
	exitInvalid = 2 // haproxy -c refused the config
	exitReload  = 3 // the master did not load it, or did not answer
)

// applyScript writes the config (base64, so that nothing in it needs quoting, in
// environment variables CONFIG_B64_0, _1, ... of at most chunkSize bytes each, as Linux
// limits one argument or variable to 128 KiB) next to ConfigPath, checks it with
// haproxy -c, and when it differs from the running one swaps it in and sends SIGUSR2 to
// the master. It then waits until the master's reload count (from `show proc` on the
// master CLI) goes up: "failed: 0" means the new worker runs; else the previous config
// is put back, so that the file always says what runs. SIGUSR2 is sent again when the
// master did not count it within 3 s (a signal that arrives while the master
// re-executes is lost). It prints "unchanged", or "reloaded" followed by the old
// worker's statistics (CSV): through the master CLI (@!<pid> show stat) after the
// reload while that worker still finishes requests, else as read from $STATS$URI just
// before SIGUSR2. Applies in one container never overlap: the script holds a lock
// directory meanwhile.
const applyScript = `set -u
cfg=` + ConfigPath + `
master() {
	echo "show proc" | nc "${CLI%:*}" "${CLI##*:}" 2>/dev/null |
		awk '$2 == "master" { sub(/\]/, "", $5); print $3 " " $5; exit }'
}
wait_master() {
	i=0
	while :; do
		state=$(master)
		[ -n "$state" ] && return 0
		i=$((i + 1))
		if [ "$i" -ge 150 ]; then
			echo "haproxy's master CLI ($CLI) does not answer" >&2
			exit 3
		fi
		sleep 0.1
	done
}
# One apply at a time: the lock is on /dev/shm, which the engine empties when the
# container starts again; one older than 60 s is taken as left by a killed apply.
lock=/dev/shm/gantry-haproxy-apply
i=0
until mkdir "$lock" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -ge 600 ]; then
		rmdir "$lock" 2>/dev/null
		i=0
	fi
	sleep 0.1
done
trap 'rmdir "$lock" 2>/dev/null' EXIT
wait_master
n=0
while eval "chunk=\${CONFIG_B64_$n:-}"; [ -n "$chunk" ]; do
	printf '%s' "$chunk"
	n=$((n + 1))
done | base64 -d > "$cfg.new" || exit 3
if ! out=$(haproxy -c -f "$cfg.new" 2>&1); then
	rm -f "$cfg.new"
	alerts=$(echo "$out" | grep -F '[ALERT]' | sed 's/^\[ALERT\] *([0-9]*) : //')
	echo "${alerts:-$out}" >&2
	exit 2
fi
if cmp -s "$cfg.new" "$cfg"; then
	rm -f "$cfg.new"
	echo unchanged
	exit 0
fi
before=${state% *}
cp "$cfg" "$cfg.prev" && mv "$cfg.new" "$cfg" || exit 3
# The old worker's counts: its successor counts from 0. Read now, and again through
# the master CLI once the new worker runs, while the old one finishes its requests.
last_stats=""
if [ -n "${STATS:-}" ]; then
	last_stats=$(timeout 5 wget -q -O - "http://$STATS$URI;csv" 2>/dev/null)
fi
old_worker=$(echo "show proc" | nc "${CLI%:*}" "${CLI##*:}" 2>/dev/null |
	awk '/^# workers/ { w = 1; next } /^#/ { w = 0 } w && NF { print $1; exit }')
kill -USR2 "$(cat ` + PIDFile + `)" || exit 3
i=0
while :; do
	sleep 0.1
	i=$((i + 1))
	state=$(master)
	if [ -n "$state" ] && [ "${state% *}" -gt "$before" ]; then
		break
	fi
	if [ "$i" -ge 300 ]; then
		mv "$cfg.prev" "$cfg"
		echo "haproxy's master did not reload within 30 s" >&2
		exit 3
	fi
	if [ $((i % 30)) -eq 0 ]; then
		kill -USR2 "$(cat ` + PIDFile + `)" || exit 3
	fi
done
if [ "${state#* }" != 0 ]; then
	mv "$cfg.prev" "$cfg"
	echo "haproxy did not load the new config; the previous one keeps serving (see the container's log)" >&2
	exit 3
fi
rm -f "$cfg.prev"
if [ -n "$old_worker" ]; then
	later=$(echo "@!$old_worker show stat" | nc "${CLI%:*}" "${CLI##*:}" 2>/dev/null)
	case "$later" in "# pxname"*) last_stats=$later ;; esac
fi
echo reloaded
[ -z "$last_stats" ] || printf '%s\n' "$last_stats"
`

// Applied says what Apply did.
type Applied struct {
	// Reloaded is false when the config was what HAProxy already ran.
	Reloaded bool
	// Last is the statistics of the worker that stopped (its successor counts from 0),
	// read as late as it answered: after the reload while it finished its requests, else
	// just before; nil when it did not reload or they could not be read.
	Last []StatRow
}

// Apply makes cfg HAProxy's config and reloads HAProxy without dropping a connection
// (see Command), and returns the last statistics of the worker it replaced (see
// Applied; stats says where they are served, a zero Stats takes the defaults, as
// Render does). A config that haproxy -c refuses is an
// error wrapping entities.ErrInvalid, with HAProxy's message; one that it checks but
// does not load wraps ErrReload. Either way the running config keeps serving. It waits
// for HAProxy's master to answer, so it may be called as soon as the container started;
// calls for one container wait for each other.
func Apply(ctx context.Context, run Runner, cfg []byte, stats Stats) (Applied, error) {
	stats = stats.withDefaults()
	env := map[string]string{"CLI": MasterCLI, "STATS": stats.Bind, "URI": stats.URI}
	b64 := base64.StdEncoding.EncodeToString(cfg)
	for i := 0; len(b64) > 0; i++ {
		n := min(len(b64), chunkSize)
		env["CONFIG_B64_"+strconv.Itoa(i)] = b64[:n]
		b64 = b64[n:]
	}
	var stdout, stderr bytes.Buffer
	code, err := run(ctx, locations.Command{
		Script: applyScript,
		Env:    env,
		Stdout: &stdout,
		Stderr: &stderr,
	})
	if err != nil {
		return Applied{}, fmt.Errorf("apply haproxy config: %w", err)
	}
	msg := strings.TrimSpace(stderr.String())
	switch code {
	case 0:
		status, rest, _ := strings.Cut(stdout.String(), "\n")
		a := Applied{Reloaded: strings.TrimSpace(status) == "reloaded"}
		if a.Reloaded && strings.TrimSpace(rest) != "" {
			a.Last, _ = ParseStats([]byte(rest)) // figures only: a reload without them is still one
		}
		return a, nil
	case exitInvalid:
		return Applied{}, fmt.Errorf("haproxy refuses the config: %s: %w", msg, entities.ErrInvalid)
	case exitReload:
		return Applied{}, fmt.Errorf("%s: %w", msg, ErrReload)
	}
	return Applied{}, fmt.Errorf("apply haproxy config: exit code %d: %s: %w", code, msg, ErrReload)
}

// ReadStats reads HAProxy's statistics from the stats frontend (busybox wget on
// s.Bind inside the container). When nothing answers there the error wraps
// locations.ErrUnavailable.
func ReadStats(ctx context.Context, run Runner, s Stats) ([]StatRow, error) {
	s = s.withDefaults()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	code, err := run(ctx, locations.Command{
		// busybox 1.35's wget -T crashes: timeout(1) bounds it instead.
		Script: `exec timeout 5 wget -q -O - "http://$STATS$URI;csv"`,
		Env:    map[string]string{"STATS": s.Bind, "URI": s.URI},
		Stdout: &stdout,
		Stderr: &stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("read haproxy stats: %w", err)
	}
	if code != 0 {
		return nil, fmt.Errorf("read haproxy stats: wget exit code %d: %s: %w", code, strings.TrimSpace(stderr.String()), locations.ErrUnavailable)
	}
	return ParseStats(stdout.Bytes())
}
