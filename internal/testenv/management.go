package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
	"github.com/gantry-dev/gantry/store"
)

// OpenManagement opens a Management on the bbolt store in dir, with opts (its Store is
// set here; FlushInterval defaults to 20ms), and rebinds it. The caller closes both, in
// the order its test needs (closing only the store stands for a kill -9).
func OpenManagement(t testing.TB, dir string, opts entities.Options) (*entities.Management, store.Store) {
	t.Helper()
	s, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = s
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 20 * time.Millisecond
	}
	m, err := entities.New(context.Background(), opts)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	m.Rebind(context.Background())
	return m, s
}

// Management is OpenManagement on a new directory, closed when the test ends.
func Management(t testing.TB, opts entities.Options) *entities.Management {
	t.Helper()
	m, s := OpenManagement(t, t.TempDir(), opts)
	t.Cleanup(func() { m.Close(); s.Close() })
	return m
}

// Localhost returns a location registry holding the localhost location.
func Localhost(t testing.TB) *locations.Registry {
	t.Helper()
	r := locations.NewRegistry()
	if err := r.Add(localhost.New()); err != nil {
		t.Fatal(err)
	}
	return r
}
