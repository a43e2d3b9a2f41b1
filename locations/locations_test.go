package locations_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

type fakeLocation struct{ id, kind string }

func (f fakeLocation) ID() string             { return f.id }
func (f fakeLocation) Kind() string           { return f.kind }
func (f fakeLocation) DisplayName() string    { return f.kind + " " + f.id }
func (f fakeLocation) Spec() string           { return f.id }
func (f fakeLocation) Config() map[string]any { return map[string]any{} }

func loc(id string) locations.Location { return fakeLocation{id: id, kind: "fake"} }

func TestRegistryAdd(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		add      locations.Location
		wantErr  error
	}{
		{name: "first", add: loc("docker")},
		{name: "second", existing: []string{"docker"}, add: loc("localhost")},
		{name: "duplicate", existing: []string{"docker"}, add: loc("docker"), wantErr: locations.ErrInvalid},
		{name: "empty id", add: loc(""), wantErr: locations.ErrInvalid},
		{name: "nil", add: nil, wantErr: locations.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := locations.NewRegistry()
			for _, id := range tt.existing {
				if err := r.Add(loc(id)); err != nil {
					t.Fatalf("setup Add(%q): %v", id, err)
				}
			}
			err := r.Add(tt.add)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Add: err = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				got, gerr := r.Get(tt.add.ID())
				if gerr != nil || got.ID() != tt.add.ID() {
					t.Fatalf("Get after Add = %v, %v", got, gerr)
				}
			}
		})
	}
}

func TestRegistryGet(t *testing.T) {
	tests := []struct {
		name      string
		existing  []string
		id        string
		wantErr   error
		wantInMsg []string
	}{
		{name: "found", existing: []string{"docker", "localhost"}, id: "docker"},
		{name: "missing lists known", existing: []string{"localhost", "docker"}, id: "aws",
			wantErr: locations.ErrNotFound, wantInMsg: []string{`"aws"`, "known: docker, localhost"}},
		{name: "missing in empty", id: "docker", wantErr: locations.ErrNotFound, wantInMsg: []string{"known: none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := locations.NewRegistry()
			for _, id := range tt.existing {
				if err := r.Add(loc(id)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.Get(tt.id)
			if tt.wantErr == nil {
				if err != nil || got.ID() != tt.id {
					t.Fatalf("Get(%q) = %v, %v", tt.id, got, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get(%q): err = %v, want %v", tt.id, err, tt.wantErr)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestRegistryRemove(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		id       string
		wantErr  error
		wantLeft []string
	}{
		{name: "present", existing: []string{"a", "b"}, id: "a", wantLeft: []string{"b"}},
		{name: "missing", existing: []string{"a"}, id: "b", wantErr: locations.ErrNotFound, wantLeft: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := locations.NewRegistry()
			for _, id := range tt.existing {
				if err := r.Add(loc(id)); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Remove(tt.id); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Remove(%q): err = %v, want %v", tt.id, err, tt.wantErr)
			}
			if got := ids(r.List()); !slices.Equal(got, tt.wantLeft) {
				t.Fatalf("List after Remove = %v, want %v", got, tt.wantLeft)
			}
		})
	}
}

func TestRegistryListSorted(t *testing.T) {
	tests := []struct {
		name string
		add  []string
		want []string
	}{
		{name: "empty", add: nil, want: []string{}},
		{name: "one", add: []string{"docker"}, want: []string{"docker"}},
		{name: "unsorted", add: []string{"localhost", "docker", "byon-1", "aws"}, want: []string{"aws", "byon-1", "docker", "localhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := locations.NewRegistry()
			for _, id := range tt.add {
				if err := r.Add(loc(id)); err != nil {
					t.Fatal(err)
				}
			}
			if got := ids(r.List()); !slices.Equal(got, tt.want) {
				t.Fatalf("List = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := locations.NewRegistry()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("loc-%02d", i)
			if err := r.Add(loc(id)); err != nil {
				t.Error(err)
			}
			if _, err := r.Get(id); err != nil {
				t.Error(err)
			}
			_ = r.List()
		}()
	}
	wg.Wait()
	if n := len(r.List()); n != 50 {
		t.Fatalf("List has %d locations, want 50", n)
	}
}

func ids(locs []locations.Location) []string {
	out := []string{}
	for _, l := range locs {
		out = append(out, l.ID())
	}
	return out
}
