package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/server"
)

func newLocationsServer(t *testing.T, dir, locationsFile string) (*server.Server, error) {
	t.Helper()
	return server.New(context.Background(), server.Config{
		DataDir:       dir,
		DockerHost:    "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		LocationsFile: locationsFile,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// Named locations come from the --locations file; locations made from specs, and
// which entity holds which byon machine, survive a restart with their ids.
func TestLocationsNamedAndRestored(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "locations.yaml")
	os.WriteFile(file, []byte("lab:\n  byon:\n    user: deploy\n    hosts: [\"10.0.0.{1,2}\"]\nhere: localhost\n"), 0o644)
	s, err := newLocationsServer(t, dir, file)
	if err != nil {
		t.Fatal(err)
	}
	reg := s.Management().Locations()
	lab, err := reg.Resolve("named:lab", nil)
	if err != nil {
		t.Fatal(err)
	}
	if here, err := reg.Resolve("here", nil); err != nil || here.ID() != "localhost" {
		t.Fatalf("named here = %v, %v", here, err)
	}
	inline, err := reg.Resolve(`byon:(hosts="10.0.0.9",user=x)`, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := lab.(locations.MachinePool)
	m, err := pool.Obtain(t.Context(), "entity-1")
	if err != nil || m.MachineID() != "deploy@10.0.0.1:22" {
		t.Fatalf("Obtain = %v, %v", m, err)
	}
	if _, err := pool.Obtain(t.Context(), "entity-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Obtain(t.Context(), "entity-3"); !errors.Is(err, locations.ErrNoCapacity) {
		t.Fatalf("third: %v", err)
	}
	if err := pool.Release(t.Context(), "entity-2"); err != nil {
		t.Fatal(err)
	}
	// No engine answers: docker specs without an endpoint are not found, as before.
	if _, err := reg.Resolve("docker", nil); !errors.Is(err, locations.ErrNotFound) {
		t.Fatalf("docker without engine: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Again, without the file: the locations made are there, with their state.
	s2, err := newLocationsServer(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	reg2 := s2.Management().Locations()
	for _, id := range []string{lab.ID(), inline.ID()} {
		if _, err := reg2.Get(id); err != nil {
			t.Errorf("after restart: %v", err)
		}
	}
	l, _ := reg2.Get(lab.ID())
	pool2 := l.(locations.MachinePool)
	if m, ok := pool2.Holding("entity-1"); !ok || m.MachineID() != "deploy@10.0.0.1:22" {
		t.Fatalf("after restart entity-1 holds %v, %v", m, ok)
	}
	if _, ok := pool2.Holding("entity-2"); ok {
		t.Fatal("after restart entity-2 holds the machine it released")
	}
	if m, err := pool2.Obtain(t.Context(), "entity-3"); err != nil || m.MachineID() != "deploy@10.0.0.2:22" {
		t.Fatalf("after restart entity-3 gets %v, %v", m, err)
	}
	if _, err := reg2.Resolve("named:lab", nil); !errors.Is(err, locations.ErrNotFound) {
		t.Fatalf("named location without the file: %v", err)
	}
}

func TestLocationsFileErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("lab: 'byon:('\n"), 0o644)
	for _, tt := range []struct{ file, want string }{
		{bad, "bad.yaml"},
		{filepath.Join(t.TempDir(), "missing.yaml"), "missing.yaml"},
	} {
		s, err := newLocationsServer(t, t.TempDir(), tt.file)
		if err == nil {
			s.Close()
			t.Fatalf("%s: server started", tt.file)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v does not name %s", err, tt.want)
		}
	}
}
