package localhost_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
)

func TestMachine(t *testing.T) {
	var m locations.Machine = localhost.New()
	if m.MachineID() != "localhost" || m.Address() != "127.0.0.1" || m.Hostname() == "" {
		t.Fatalf("machine %q %q %q", m.MachineID(), m.Address(), m.Hostname())
	}
	x, err := locations.ExecutorFor(t.Context(), localhost.New(), "e1")
	if err != nil || x == nil {
		t.Fatalf("ExecutorFor(localhost) = %v, %v", x, err)
	}
}

func TestCopyFile(t *testing.T) {
	h := localhost.New()
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		path string
		mode os.FileMode
		want os.FileMode
	}{
		{name: "parents made", data: []byte("hi\n"), path: filepath.Join(dir, "a", "b", "f"), want: 0o644},
		{name: "mode kept despite umask", data: []byte("x"), path: filepath.Join(dir, "x"), mode: 0o777, want: 0o777},
		{name: "overwrite", data: []byte("again"), path: filepath.Join(dir, "a", "b", "f"), mode: 0o600, want: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.CopyFile(t.Context(), bytes.NewReader(tt.data), tt.path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(tt.path)
			fi, _ := os.Stat(tt.path)
			if err != nil || !bytes.Equal(got, tt.data) || fi.Mode().Perm() != tt.want {
				t.Fatalf("read %q, %v, mode %o; want %q %o", got, err, fi.Mode().Perm(), tt.data, tt.want)
			}
		})
	}
	// A failing reader leaves nothing, not even a partial file.
	target := filepath.Join(dir, "failed")
	err := h.CopyFile(t.Context(), io.MultiReader(strings.NewReader("part"), failing{}), target, 0)
	if err == nil || !strings.Contains(err.Error(), "broken source") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "failed") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.CopyFile(ctx, strings.NewReader("x"), filepath.Join(dir, "c"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := h.CopyFile(t.Context(), strings.NewReader("x"), "", 0); !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("empty path: %v", err)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("broken source") }
