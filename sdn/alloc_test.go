package sdn_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/sdn"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func pfxs(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, pfx(s))
	}
	return out
}

func TestNewAllocatorRefuses(t *testing.T) {
	for _, tc := range []struct {
		pool string
		size int
		want error
	}{
		{"10.240.0.0/12", 24, nil},
		{"172.16.0.0/12", 16, nil},
		{"192.168.100.0/24", 30, nil},
		{"10.0.0.0/8", 8, nil},
		{"50.0.0.0/16", 24, sdn.ErrInvalid},    // Clocker's Calico default: public
		{"169.254.0.0/16", 24, sdn.ErrInvalid}, // Clocker's default: link-local, not private
		{"8.8.8.0/24", 28, sdn.ErrInvalid},
		{"172.0.0.0/8", 24, sdn.ErrInvalid},   // only 172.16/12 of it is private
		{"10.0.0.0/7", 24, sdn.ErrInvalid},    // runs into 11/8
		{"fd00::/8", 64, sdn.ErrInvalid},      // IPv4 only
		{"10.240.0.0/16", 12, sdn.ErrInvalid}, // shorter than the pool
		{"10.240.0.0/16", 31, sdn.ErrInvalid}, // too small for a gateway and a container
	} {
		_, err := sdn.NewAllocator(pfx(tc.pool), tc.size)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("NewAllocator(%s, %d) = %v, want %v", tc.pool, tc.size, err, tc.want)
		}
	}
}

func TestParsePool(t *testing.T) {
	if p, err := sdn.ParsePool(""); err != nil || p != sdn.DefaultPool {
		t.Errorf(`ParsePool("") = %v, %v`, p, err)
	}
	if _, err := sdn.ParsePool("10.1.2.3"); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("ParsePool without bits = %v", err)
	}
	// The default pool overlaps none of Docker's default address pools.
	for _, d := range pfxs("172.17.0.0/16", "172.18.0.0/16", "172.31.0.0/16", "192.168.0.0/16") {
		if sdn.DefaultPool.Overlaps(d) {
			t.Errorf("default pool %s overlaps Docker's %s", sdn.DefaultPool, d)
		}
	}
}

// op is one step of an allocation scenario.
type op struct {
	alloc    []string // existing networks given to Allocate
	release  string
	reserve  string
	want     string // the subnet expected from Allocate (or "" for release/reserve)
	wantErr  error
	wantUsed []string // when not nil, the used list after the step
}

func TestAllocatorScenarios(t *testing.T) {
	for _, tc := range []struct {
		name string
		pool string
		size int
		ops  []op
	}{
		{"sequential", "10.240.0.0/12", 24, []op{
			{want: "10.240.0.0/24"},
			{want: "10.240.1.0/24"},
			{want: "10.240.2.0/24", wantUsed: []string{"10.240.0.0/24", "10.240.1.0/24", "10.240.2.0/24"}},
		}},
		{"released subnets are reused", "10.240.0.0/12", 24, []op{
			{want: "10.240.0.0/24"},
			{want: "10.240.1.0/24"},
			{want: "10.240.2.0/24"},
			{release: "10.240.1.0/24", wantUsed: []string{"10.240.0.0/24", "10.240.2.0/24"}},
			{want: "10.240.1.0/24"},
			{want: "10.240.3.0/24"},
		}},
		{"existing networks are avoided", "10.240.0.0/16", 24, []op{
			{alloc: []string{"10.240.0.0/23", "172.17.0.0/16"}, want: "10.240.2.0/24"},
			{alloc: []string{"10.240.0.0/16"}, wantErr: sdn.ErrExhausted},                // the whole pool is taken by another network
			{alloc: []string{"10.240.0.0/23", "10.240.3.128/25"}, want: "10.240.4.0/24"}, // a smaller network inside a candidate
		}},
		{"a larger existing network is skipped in one jump", "10.0.0.0/8", 24, []op{
			{alloc: []string{"10.0.0.0/9"}, want: "10.128.0.0/24"},
		}},
		{"exhausted", "192.168.10.0/24", 26, []op{
			{want: "192.168.10.0/26"},
			{want: "192.168.10.64/26"},
			{want: "192.168.10.128/26"},
			{want: "192.168.10.192/26"},
			{wantErr: sdn.ErrExhausted},
			{release: "192.168.10.64/26"},
			{want: "192.168.10.64/26"},
		}},
		{"reserve configured subnets", "10.240.0.0/16", 24, []op{
			{reserve: "10.240.0.0/24"},
			{reserve: "10.240.0.0/24"}, // idempotent
			{reserve: "10.240.0.128/25", wantErr: sdn.ErrOverlap},
			{reserve: "10.241.0.0/24", wantUsed: []string{"10.240.0.0/24"}}, // outside the pool: checked, not held
			{reserve: "10.240.5.0/24", alloc: []string{"10.240.4.0/22"}, wantErr: sdn.ErrOverlap},
			{reserve: "50.0.0.0/24", wantErr: sdn.ErrInvalid},
			{want: "10.240.1.0/24"},
		}},
		{"a /30 pool of one subnet", "10.9.9.0/30", 30, []op{
			{want: "10.9.9.0/30"},
			{wantErr: sdn.ErrExhausted},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := sdn.NewAllocator(pfx(tc.pool), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range tc.ops {
				switch {
				case o.release != "":
					a.Release(pfx(o.release))
				case o.reserve != "":
					err := a.Reserve(pfx(o.reserve), pfxs(o.alloc...)...)
					if !errors.Is(err, o.wantErr) || (o.wantErr == nil) != (err == nil) {
						t.Fatalf("step %d: Reserve(%s) = %v, want %v", i, o.reserve, err, o.wantErr)
					}
				default:
					got, err := a.Allocate(pfxs(o.alloc...)...)
					if o.wantErr != nil {
						if !errors.Is(err, o.wantErr) {
							t.Fatalf("step %d: Allocate = %v, %v; want error %v", i, got, err, o.wantErr)
						}
						if !strings.Contains(err.Error(), tc.pool) {
							t.Errorf("step %d: error %q does not name the pool", i, err)
						}
						break
					}
					if err != nil || got != pfx(o.want) {
						t.Fatalf("step %d: Allocate = %v, %v; want %s", i, got, err, o.want)
					}
				}
				if o.wantUsed != nil {
					if got := a.Used(); !equal(got, pfxs(o.wantUsed...)) {
						t.Fatalf("step %d: used %v, want %v", i, got, o.wantUsed)
					}
				}
			}
		})
	}
}

func equal(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAllocatorJSON(t *testing.T) {
	a, _ := sdn.NewAllocator(pfx("10.240.0.0/12"), 24)
	for range 3 {
		if _, err := a.Allocate(); err != nil {
			t.Fatal(err)
		}
	}
	a.Release(pfx("10.240.1.0/24"))
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"pool":"10.240.0.0/12","size":24,"used":["10.240.0.0/24","10.240.2.0/24"]}`; string(b) != want {
		t.Fatalf("json %s, want %s", b, want)
	}
	var back sdn.Allocator
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, err := back.Allocate(); err != nil || got != pfx("10.240.1.0/24") {
		t.Fatalf("after a round trip Allocate = %v, %v", got, err)
	}
	for _, bad := range []string{
		`{"pool":"50.0.0.0/16","size":24}`,
		`{"pool":"10.0.0.0/16","size":24,"used":["10.0.0.0/24","10.0.0.0/23"]}`,
		`[1]`,
	} {
		var x sdn.Allocator
		if err := json.Unmarshal([]byte(bad), &x); !errors.Is(err, sdn.ErrInvalid) && !errors.Is(err, sdn.ErrOverlap) {
			t.Errorf("Unmarshal(%s) = %v", bad, err)
		}
	}
}

func TestRegistry(t *testing.T) {
	if _, err := sdn.Open(t.Context(), "no-such-provider", sdn.Config{}); !errors.Is(err, sdn.ErrNotFound) {
		t.Fatalf("Open unknown = %v", err)
	}
}
