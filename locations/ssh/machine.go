package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

// Machine is one SSH host. It is safe for concurrent use: commands run in
// sessions of one shared connection.
type Machine struct {
	dialer *Dialer
	t      target

	mu      sync.Mutex
	address string // resolved once
}

var (
	_ locations.Machine    = (*Machine)(nil)
	_ locations.FileCopier = (*Machine)(nil)
)

// NewMachine returns the machine h, connected through d when first used.
// knownHostsFile ("" for the Dialer's) and timeout (0 for the Dialer's) are
// the location's overrides.
func NewMachine(d *Dialer, h Host, knownHostsFile string, timeout time.Duration) *Machine {
	return &Machine{dialer: d, t: target{host: h, knownHostsFile: knownHostsFile, timeout: timeout}}
}

// Host is how the machine is reached.
func (m *Machine) Host() Host { return m.t.host }

// MachineID is "user@host:port".
func (m *Machine) MachineID() string { return m.t.host.ID() }

// Hostname is the host as the location names it.
func (m *Machine) Hostname() string { return m.t.host.Host }

// SSHAddress is "user@host:port", as Brooklyn's host.sshAddress.
func (m *Machine) SSHAddress() string { return m.t.host.ID() }

// Address is the host's IP address: the host itself when it is one, else the
// first address it resolves to (within two seconds), else the host name.
func (m *Machine) Address() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.address != "" {
		return m.address
	}
	h := m.t.host.Host
	if net.ParseIP(h) != nil {
		m.address = h
		return h
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(ctx, h); err == nil && len(addrs) > 0 {
		m.address = addrs[0]
		return m.address
	}
	return h
}

// Exec runs cmd.Script with /bin/sh on the machine, after exporting cmd.Env
// and entering cmd.Dir (made when missing), its output streamed to cmd.Stdout
// and cmd.Stderr. The exit code is the script's; a script killed by a signal
// gives 128+signal, as a shell reports it. err is non-nil when the command
// could not be run (no connection, refused login, changed host key, the
// directory could not be made: its message says which) or did not finish
// (the connection broke; ctx was done, then the command's process group is
// sent SIGKILL and err wraps ctx.Err()).
//
// Processes the script leaves in the background survive it; if they hold
// its output open, Exec stops reading it one second after the script exits.
func (m *Machine) Exec(ctx context.Context, cmd locations.Command) (int, error) {
	id := m.MachineID()
	if strings.TrimSpace(cmd.Script) == "" {
		return -1, fmt.Errorf("exec on %s: empty script: %w", id, locations.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("exec on %s: %w", id, err)
	}
	script, err := Script(cmd)
	if err != nil {
		return -1, fmt.Errorf("exec on %s: %w", id, err)
	}
	// The script first tells its pid, on stderr (taken out of the output), so
	// that a cancelled command's process group can be killed: sshd does not
	// deliver signals to the sessions of root logins.
	stderr := &pidFilter{w: cmd.Stderr}
	kill := func() {
		if pid := stderr.PID(); pid > 0 {
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			m.run(kctx, "/bin/sh -c "+Quote(killScript(pid)), nil, nil, nil, nil)
		}
	}
	code, err := m.run(ctx, "/bin/sh -c "+Quote(pidLine+script), nil, cmd.Stdout, stderr, kill)
	stderr.Flush()
	if err != nil {
		return -1, fmt.Errorf("exec on %s: %w", id, err)
	}
	if msg, failed := stderr.DirError(); failed {
		return -1, fmt.Errorf("exec on %s: create dir %s: %s: %w", id, cmd.Dir, msg, locations.ErrInvalid)
	}
	return code, nil
}

// pidLine is the first line of every script: its pid on stderr, marked for
// pidFilter.
const pidLine = `printf '\036gantry-pid %s\n' "$$" >&2` + "\n"

// Markers of the lines the wrapper writes on stderr before the script runs.
const (
	markerPrefix = "\036gantry-"
	pidMarker    = markerPrefix + "pid "
	dirMarker    = markerPrefix + "nodir "
)

// killScript kills the process group of pid (found in /proc, or with ps), or
// else pid itself.
func killScript(pid int) string {
	return fmt.Sprintf(`p=%d; g=$(sed -n 's/^.*) [A-Za-z] [0-9]* \([0-9]*\).*$/\1/p' /proc/$p/stat 2>/dev/null)
[ -n "$g" ] || g=$(ps -o pgid= -p $p 2>/dev/null | tr -d ' ')
[ -n "$g" ] && [ "$g" -gt 1 ] && kill -9 "-$g" 2>/dev/null
kill -9 $p 2>/dev/null
exit 0`, pid)
}

// pidFilter passes stderr on, except the marked lines the wrapper writes
// (its pid, a directory it could not make), which it keeps. It holds back
// only the start of a line that may be a marked one (output of the login
// shell may come first), so the rest streams as it comes.
type pidFilter struct {
	w       io.Writer
	mu      sync.Mutex
	hold    []byte // the start of a line that may be a marked one
	midLine bool   // the last byte passed on was not a newline
	pid     int
	dirErr  *string
}

func (f *pidFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(p)
	var out []byte
	for len(p) > 0 {
		chunk := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			chunk = p[:i+1]
		}
		p = p[len(chunk):]
		if f.midLine && len(f.hold) == 0 {
			out = append(out, chunk...)
			f.midLine = chunk[len(chunk)-1] != '\n'
			continue
		}
		f.hold = append(f.hold, chunk...)
		k := min(len(f.hold), len(markerPrefix))
		complete := f.hold[len(f.hold)-1] == '\n'
		if string(f.hold[:k]) != markerPrefix[:k] || len(f.hold) > 4096 || (complete && len(f.hold) <= len(markerPrefix)) {
			out = append(out, f.hold...)
			f.midLine = !complete
			f.hold = nil
			continue
		}
		if !complete {
			continue // wait for the rest of the line
		}
		line := strings.TrimSuffix(string(f.hold), "\n")
		f.hold = nil
		switch {
		case strings.HasPrefix(line, pidMarker):
			f.pid, _ = strconv.Atoi(line[len(pidMarker):])
		case strings.HasPrefix(line, dirMarker):
			msg := line[len(dirMarker):]
			f.dirErr = &msg
		default:
			out = append(out, line+"\n"...)
		}
	}
	if f.w != nil && len(out) > 0 {
		if _, err := f.w.Write(out); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Flush passes on what is held back at the end of the output.
func (f *pidFilter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hold) > 0 && f.w != nil {
		f.w.Write(f.hold)
	}
	f.hold = nil
}

// DirError is why the directory could not be made, when it could not.
func (f *pidFilter) DirError() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dirErr == nil {
		return "", false
	}
	return *f.dirErr, true
}

// PID is the script's pid, once it told it (0 before).
func (f *pidFilter) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pid
}

// CopyFile writes r to path on the machine with mode (0: 0644), making the
// parent directories. The content goes to a temporary file next to path, whose
// size is checked before it is renamed into place: a failed copy leaves
// nothing behind and never a partial file at path.
func (m *Machine) CopyFile(ctx context.Context, r io.Reader, dst string, mode fs.FileMode) error {
	id := m.MachineID()
	if dst == "" || strings.HasSuffix(dst, "/") {
		return fmt.Errorf("copy to %s:%s: want a file path: %w", id, dst, locations.ErrInvalid)
	}
	if mode == 0 {
		mode = 0o644
	}
	var nonce [6]byte
	rand.Read(nonce[:])
	tmp := Quote(path.Join(path.Dir(dst), "."+path.Base(dst)+".gantry-"+hex.EncodeToString(nonce[:])))
	var out bytes.Buffer
	fail := func(err error) error {
		m.run(context.WithoutCancel(ctx), "rm -f -- "+tmp, nil, nil, nil, nil)
		return fmt.Errorf("copy to %s:%s: %w", id, dst, err)
	}
	cr := &countingReader{r: r}
	code, err := m.run(ctx, "/bin/sh -c "+Quote("mkdir -p -- "+Quote(path.Dir(dst))+" && cat > "+tmp), cr, &out, &out, nil)
	switch {
	case err != nil:
		return fail(err)
	case code != 0:
		return fail(fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(out.String())))
	}
	out.Reset()
	script := fmt.Sprintf(`n=$(wc -c < %s) && [ "$n" -eq %d ] || { echo "received $n of %d bytes" >&2; rm -f -- %s; exit 1; }; chmod %o %s && mv -f -- %s %s || { rm -f -- %s; exit 1; }`,
		tmp, cr.n, cr.n, tmp, mode.Perm(), tmp, tmp, Quote(dst), tmp)
	code, err = m.run(ctx, "/bin/sh -c "+Quote(script), nil, &out, &out, nil)
	switch {
	case err != nil:
		return fail(err)
	case code != 0:
		return fmt.Errorf("copy to %s:%s: %s", id, dst, strings.TrimSpace(out.String()))
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// run runs command in a session of the machine's connection, dialling it
// again (once) when it turns out broken.
func (m *Machine) run(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer, onCancel func()) (int, error) {
	for attempt := 1; ; attempt++ {
		cl, err := m.dialer.client(ctx, m.t)
		if err != nil {
			return -1, err
		}
		code, opened, err := run(ctx, cl, command, stdin, stdout, stderr, onCancel)
		if !opened {
			m.dialer.drop(m.t, cl)
			if attempt < 2 && ctx.Err() == nil {
				continue
			}
			return -1, fmt.Errorf("open a session on %s: %v: %w", m.MachineID(), err, locations.ErrUnavailable)
		}
		if errors.Is(err, errLost) {
			m.dialer.drop(m.t, cl)
		}
		return code, err
	}
}
