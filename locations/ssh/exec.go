package ssh

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/gantry-dev/gantry/locations"
)

// outputGrace is how long a command's output is still read after it exited
// while something it left in the background holds the output open (as
// locations/localhost does); then the session is closed.
const outputGrace = time.Second

// closeWait bounds the wait for the output readers once the session is closed.
const closeWait = 2 * time.Second

// Script is what runs for cmd: the environment exported, the directory
// entered (made when missing; when it cannot be, a line starting with
// "\036gantry-nodir " on stderr says why and the exit code is 1), then
// cmd.Script, in one /bin/sh. Env names must be shell identifiers (an error
// wrapping locations.ErrInvalid).
func Script(cmd locations.Command) (string, error) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(cmd.Env)) {
		if !identifier(k) {
			return "", fmt.Errorf("environment variable name %q: use letters, digits and '_', not starting with a digit: %w", k, locations.ErrInvalid)
		}
		b.WriteString("export " + k + "=" + Quote(cmd.Env[k]) + "\n")
	}
	if cmd.Dir != "" {
		d := Quote(cmd.Dir)
		b.WriteString("cd -- " + d + " 2>/dev/null || { e=$(mkdir -p -- " + d + " 2>&1) && cd -- " + d + "; } ||" +
			` { printf '\036gantry-nodir %s\n' "${e:-cannot enter it}" >&2; exit 1; }` + "\n")
	}
	b.WriteString(cmd.Script)
	return b.String(), nil
}

// Quote quotes s in single quotes for a POSIX shell; a single quote inside
// becomes: quote, backslash, quote, quote.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// signals maps the signal names of exit-signal to Linux numbers, to report a
// command killed by a signal as a shell does: 128+number.
var signals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

// errLost is a session that ended without an exit status.
var errLost = errors.New("the connection ended before the command finished")

// run runs command (a line for the remote login shell) in a new session of
// cl: stdin (nil for none) is its standard input, its output goes to stdout
// and stderr as it comes. It returns the exit code; err is non-nil when the
// session could not be opened (opened false: the connection is broken), when
// it ended without an exit status, or when ctx was done (then the command is
// sent SIGKILL, and err wraps ctx.Err()).
//
// onCancel, when not nil, is called when ctx is done, before the session is
// closed: it may kill what the signal did not.
func run(ctx context.Context, cl *xssh.Client, command string, stdin io.Reader, stdout, stderr io.Writer, onCancel func()) (code int, opened bool, err error) {
	ch, reqs, err := cl.OpenChannel("session", nil)
	if err != nil {
		var oce *xssh.OpenChannelError
		if errors.As(err, &oce) {
			// The server is there but said no (MaxSessions, ...).
			return -1, true, fmt.Errorf("open session: %w (%w)", err, locations.ErrUnavailable)
		}
		return -1, false, err
	}
	defer ch.Close()

	status := make(chan int, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		sent := false
		for req := range reqs {
			code := -1
			switch req.Type {
			case "exit-status":
				if len(req.Payload) >= 4 {
					code = int(binary.BigEndian.Uint32(req.Payload))
				}
			case "exit-signal":
				var sig struct {
					Signal     string
					CoreDumped bool
					Error      string
					Lang       string
				}
				code = 128
				if xssh.Unmarshal(req.Payload, &sig) == nil {
					if n, ok := signals[sig.Signal]; ok {
						code = 128 + n
					}
				}
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
			if code >= 0 && !sent {
				status <- code
				sent = true
			}
		}
	}()

	ok, err := ch.SendRequest("exec", true, xssh.Marshal(struct{ Command string }{command}))
	if err != nil {
		return -1, true, fmt.Errorf("start command: %w (%w)", err, locations.ErrUnavailable)
	}
	if !ok {
		return -1, true, fmt.Errorf("start command: the SSH server refused to run it: %w", locations.ErrUnavailable)
	}

	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// One write at a time across both streams, as exec.Cmd does when they are
	// the same writer: callers may pass one buffer for both.
	var wmu sync.Mutex
	stdout, stderr = &lockedWriter{mu: &wmu, w: stdout}, &lockedWriter{mu: &wmu, w: stderr}
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go func() { io.Copy(stdout, ch); close(outDone) }()
	go func() { io.Copy(stderr, ch.Stderr()); close(errDone) }()
	inErr := make(chan error, 1)
	go func() {
		var err error
		if stdin != nil {
			_, err = io.Copy(ch, stdin)
		}
		ch.CloseWrite()
		inErr <- err
	}()

	waitOutput := func(d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		for _, c := range []chan struct{}{outDone, errDone} {
			select {
			case <-c:
			case <-t.C:
				return
			}
		}
	}
	select {
	case code = <-status:
		waitOutput(outputGrace)
		ch.Close()
		waitOutput(closeWait)
		if stdin != nil {
			select {
			case err := <-inErr:
				if err != nil {
					return code, true, fmt.Errorf("send input: %w", err)
				}
			case <-time.After(closeWait):
				return code, true, errors.New("send input: still sending after the command ended")
			}
		}
		return code, true, nil
	case <-ended:
		// Closed without a status: perhaps the status came with the close.
		select {
		case code = <-status:
			waitOutput(closeWait)
			return code, true, nil
		default:
		}
		return -1, true, fmt.Errorf("%w (%w)", errLost, locations.ErrUnavailable)
	case <-ctx.Done():
		ch.SendRequest("signal", false, xssh.Marshal(struct{ Signal string }{"KILL"}))
		if onCancel != nil {
			onCancel()
		}
		ch.Close()
		waitOutput(closeWait)
		return -1, true, ctx.Err()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
