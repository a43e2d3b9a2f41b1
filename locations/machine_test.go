package locations_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

type fakeMachine struct{ id string }

func (m fakeMachine) Exec(context.Context, locations.Command) (int, error) { return 0, nil }
func (m fakeMachine) MachineID() string                                    { return m.id }
func (m fakeMachine) Address() string                                      { return "10.0.0.1" }
func (m fakeMachine) Hostname() string                                     { return "h" }

type fakePool struct {
	fakeLocation
	held     map[string]string
	released []string
}

func (p *fakePool) Obtain(_ context.Context, e string) (locations.Machine, error) {
	if m, ok := p.held[e]; ok {
		return fakeMachine{m}, nil
	}
	if len(p.held) > 0 {
		return nil, locations.ErrNoCapacity
	}
	p.held[e] = "m1"
	return fakeMachine{"m1"}, nil
}

func (p *fakePool) Holding(e string) (locations.Machine, bool) {
	m, ok := p.held[e]
	return fakeMachine{m}, ok
}

func (p *fakePool) Release(_ context.Context, e string) error {
	delete(p.held, e)
	p.released = append(p.released, e)
	return nil
}

type fakeExecutor struct{ fakeLocation }

func (fakeExecutor) Exec(context.Context, locations.Command) (int, error) { return 0, nil }

func TestExecutorFor(t *testing.T) {
	ctx := t.Context()
	pool := &fakePool{fakeLocation: fakeLocation{"byon-1", "byon"}, held: map[string]string{}}
	x, err := locations.ExecutorFor(ctx, pool, "e1")
	if err != nil || x.(locations.Machine).MachineID() != "m1" {
		t.Fatalf("ExecutorFor(pool) = %v, %v", x, err)
	}
	if _, err := locations.ExecutorFor(ctx, pool, "e2"); !errors.Is(err, locations.ErrNoCapacity) {
		t.Fatalf("second entity: %v", err)
	}
	if err := locations.ReleaseFor(ctx, pool, "e1"); err != nil || len(pool.released) != 1 {
		t.Fatalf("ReleaseFor: %v %v", err, pool.released)
	}
	ex := fakeExecutor{fakeLocation{"localhost", "localhost"}}
	if x, err := locations.ExecutorFor(ctx, ex, "e1"); err != nil || x != locations.Executor(ex) {
		t.Fatalf("ExecutorFor(executor) = %v, %v", x, err)
	}
	if err := locations.ReleaseFor(ctx, ex, "e1"); err != nil {
		t.Fatal(err)
	}
	if _, err := locations.ExecutorFor(ctx, loc("docker"), "e1"); !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), "cannot run commands") {
		t.Fatalf("ExecutorFor(other) = %v", err)
	}
	for _, tt := range []struct {
		l    locations.Location
		want bool
	}{{pool, true}, {ex, true}, {loc("docker"), false}} {
		if got := locations.RunsCommands(tt.l); got != tt.want {
			t.Errorf("RunsCommands(%s) = %v", tt.l.Kind(), got)
		}
	}
}

type recordCopier struct {
	path string
	mode fs.FileMode
	data []byte
}

func (c *recordCopier) CopyFile(_ context.Context, r io.Reader, path string, mode fs.FileMode) error {
	c.path, c.mode = path, mode
	var b bytes.Buffer
	_, err := io.Copy(&b, r)
	c.data = b.Bytes()
	return err
}

func TestCopyLocalFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(src, []byte("#!/bin/sh\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	var c recordCopier
	if err := locations.CopyLocalFile(t.Context(), &c, src, "/opt/x/run.sh", 0); err != nil {
		t.Fatal(err)
	}
	if c.path != "/opt/x/run.sh" || c.mode != 0o750 || string(c.data) != "#!/bin/sh\n" {
		t.Fatalf("copied %+v", c)
	}
	if err := locations.CopyLocalFile(t.Context(), &c, src, "/x", 0o600); err != nil || c.mode != 0o600 {
		t.Fatalf("explicit mode: %v %o", err, c.mode)
	}
	if err := locations.CopyLocalFile(t.Context(), &c, filepath.Dir(src), "/x", 0); !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("directory: %v", err)
	}
	if err := locations.CopyLocalFile(t.Context(), &c, src+".missing", "/x", 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}
