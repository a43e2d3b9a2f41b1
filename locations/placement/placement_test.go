package placement

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// hosts builds up hosts h1..hn with the given container counts (containers of app "other").
func hosts(counts ...int) []Host {
	out := make([]Host, len(counts))
	for i, n := range counts {
		h := Host{ID: fmt.Sprintf("h%d", i+1), Name: fmt.Sprintf("host-%d", i+1), Up: true, CPUs: 4, MemoryBytes: 8 << 30}
		for j := 0; j < n; j++ {
			h.Containers = append(h.Containers, Placed{ID: fmt.Sprintf("%s-c%d", h.ID, j), App: "other"})
		}
		out[i] = h
	}
	return out
}

func with(hs []Host, i int, f func(*Host)) []Host {
	f(&hs[i])
	return hs
}

func mustParse(t testing.TB, v any) []Strategy {
	t.Helper()
	s, err := ParseStrategies(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func m(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// place records the placement on the chosen host, as the Docker cloud does.
func place(t testing.TB, hs []Host, r Request, chain []Strategy) (string, error) {
	t.Helper()
	d, err := Place(hs, r, chain)
	if err != nil {
		return "", err
	}
	for i := range hs {
		if hs[i].ID == d.HostID {
			hs[i].Containers = append(hs[i].Containers, r.Placed())
			return d.HostID, nil
		}
	}
	t.Fatalf("decision names unknown host %q", d.HostID)
	return "", nil
}

// Acceptance 1 of issue 5, as a pure test: 3 hosts, max-containers 2 + breadth-first, six
// requests spread 2/2/2, the seventh does not fit and the error names max-containers.
func TestAcceptance1Spread(t *testing.T) {
	chain := mustParse(t, []any{m("type", "max-containers", "max", 2), m("type", "breadth-first")})
	hs := hosts(0, 0, 0)
	var got []string
	for i := 1; i <= 6; i++ {
		id, err := place(t, hs, Request{ID: fmt.Sprintf("web-%d", i), App: "app1"}, chain)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got = append(got, id)
	}
	if want := "h1 h2 h3 h1 h2 h3"; strings.Join(got, " ") != want {
		t.Errorf("placements %v, want %s", got, want)
	}
	for _, h := range hs {
		if len(h.Containers) != 2 {
			t.Errorf("%s has %d containers, want 2", h.ID, len(h.Containers))
		}
	}
	_, err := place(t, hs, Request{ID: "web-7", App: "app1"}, chain)
	if !errors.Is(err, ErrNoFit) {
		t.Fatalf("7th: %v, want ErrNoFit", err)
	}
	var nf *NoFitError
	if !errors.As(err, &nf) {
		t.Fatalf("7th: %T is not a *NoFitError", err)
	}
	want := []Exclusion{{Constraint: "max-containers 2", Excluded: 3, Reason: "all 3 hosts full"}}
	if fmt.Sprint(nf.Exclusions) != fmt.Sprint(want) {
		t.Errorf("exclusions %+v, want %+v", nf.Exclusions, want)
	}
	if msg := err.Error(); msg != `no host fits request "web-7": max-containers 2: all 3 hosts full` {
		t.Errorf("message %q", msg)
	}
	// A fourth host comes (headroom): the 7th lands there.
	hs = append(hs, Host{ID: "h4", Up: true})
	if id, err := place(t, hs, Request{ID: "web-7"}, chain); err != nil || id != "h4" {
		t.Errorf("7th after a host was added: %q, %v; want h4", id, err)
	}
}

func TestStrategies(t *testing.T) {
	big := Request{ID: "r", App: "a", CPUs: 1.5, MemoryBytes: 3 << 30}
	tests := []struct {
		name  string
		hosts []Host
		req   Request
		chain any    // for ParseStrategies
		want  string // host id, or "" when no host fits
		// when no host fits: the error's text after the request
		wantErr string
	}{
		// Default chain: max-containers 8 and breadth-first.
		{name: "default spreads", hosts: hosts(2, 1, 3), want: "h2"},
		{name: "default ties by id", hosts: hosts(1, 1, 1), want: "h1"},
		{name: "default max 8", hosts: hosts(8, 8), wantErr: "max-containers 8 (default): all 2 hosts full"},
		{name: "default max 8, one left", hosts: hosts(8, 7, 8), want: "h2"},
		{name: "no hosts", hosts: nil, wantErr: "no hosts"},

		{name: "breadth-first", hosts: hosts(3, 1, 2), chain: "breadth-first", want: "h2"},
		{name: "depth-first fills the fullest that fits", hosts: hosts(3, 7, 8), chain: "depth-first", want: "h2"},
		{name: "depth-first from empty takes the first", hosts: hosts(0, 0, 0), chain: "depth-first", want: "h1"},
		{name: "least-containers", hosts: hosts(5, 4, 6), chain: "least-containers", want: "h2"},
		{name: "least-containers counts, breadth-first weighs limits",
			hosts: with(hosts(3, 2), 0, func(h *Host) { h.Strategies = mustParse(t, "[{\"type\":\"max-containers\",\"max\":16}]") }),
			chain: "breadth-first", want: "h1"},
		{name: "least-containers ignores limits",
			hosts: with(hosts(3, 2), 0, func(h *Host) { h.Strategies = mustParse(t, "[{\"type\":\"max-containers\",\"max\":16}]") }),
			chain: "least-containers", want: "h2"},
		{name: "breadth-first weighs CPU when max-cpu is in force",
			hosts: with(hosts(1, 0), 1, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 3}} }),
			chain: []any{m("type", "max-cpu"), m("type", "breadth-first")}, want: "h1"},

		{name: "max-containers", hosts: hosts(2, 1, 2), chain: []any{m("type", "max-containers", "max", 2)}, want: "h2"},
		{name: "max-containers full", hosts: hosts(2, 3), chain: []any{m("type", "max-containers", "max", 2)},
			wantErr: "max-containers 2: all 2 hosts full"},
		{name: "max-containers some full, others down",
			hosts:   with(hosts(2, 0), 1, func(h *Host) { h.Up = false }),
			chain:   []any{m("type", "max-containers", "max", 2)},
			wantErr: "down: 1 of 2 hosts are down; max-containers 2: the only up host full"},

		{name: "max-cpu", req: big,
			hosts: with(hosts(0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 3}} }),
			chain: "max-cpu", want: "h2"},
		{name: "max-cpu exact fit", req: big,
			hosts: with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 2.5}} }),
			chain: "max-cpu", want: "h1"},
		{name: "max-cpu ratio", req: big,
			hosts:   with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 2.5}} }),
			chain:   []any{m("type", "max-cpu", "ratio", 0.75)},
			wantErr: "max-cpu 0.75x: the only host is without 1.5 CPUs free (most free: 0.5)"},
		{name: "max-cpu overcommit", req: big,
			hosts: with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 6}} }),
			chain: []any{m("type", "max-cpu", "ratio", 2)}, want: "h1"},
		{name: "max-cpu unknown CPUs", req: big,
			hosts: with(hosts(0, 0), 0, func(h *Host) { h.CPUs = 0; h.Containers = []Placed{{ID: "x", CPUs: 3}} }),
			chain: "max-cpu", want: "h2"},
		{name: "max-cpu full", req: big,
			hosts:   with(with(hosts(0, 0), 0, func(h *Host) { h.CPUs = 0 }), 1, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 3}} }),
			chain:   "max-cpu",
			wantErr: "max-cpu: all 2 hosts are without 1.5 CPUs free (most free: 1); 1 of them with unknown CPUs"},
		{name: "max-cpu off: declared CPUs ignored", req: big,
			hosts: with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 4}} }), want: "h1"},

		{name: "max-memory", req: big,
			hosts: with(hosts(0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", MemoryBytes: 6 << 30}} }),
			chain: "max-memory", want: "h2"},
		{name: "max-memory full", req: big,
			hosts:   with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", MemoryBytes: 6 << 30}} }),
			chain:   "max-memory",
			wantErr: "max-memory: the only host is without 3 GiB of memory free (most free: 2 GiB)"},
		{name: "max-memory ratio", req: big,
			hosts: with(hosts(0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", MemoryBytes: 6 << 30}} }),
			chain: []any{m("type", "max-memory", "ratio", 1.5)}, want: "h1"},

		{name: "hostname", hosts: hosts(0, 5, 5), chain: []any{m("type", "hostname", "pattern", "^host-[23]$")}, want: "h2"},
		{name: "hostname none", hosts: hosts(0, 0), chain: []any{m("type", "hostname", "pattern", "^db")},
			wantErr: "hostname ^db: all 2 hosts are named otherwise"},

		{name: "label",
			hosts: with(with(hosts(0, 1, 2), 1, func(h *Host) { h.Labels = map[string]string{"zone": "eu", "ssd": "yes"} }),
				2, func(h *Host) { h.Labels = map[string]string{"zone": "eu"} }),
			chain: []any{m("type", "label", "labels", m("zone", "eu"))}, want: "h2"},
		{name: "label any value",
			hosts: with(hosts(0, 1), 1, func(h *Host) { h.Labels = map[string]string{"ssd": "nvme"} }),
			chain: []any{m("type", "label", "labels", m("ssd", "*"))}, want: "h2"},
		{name: "label all must match",
			hosts:   with(hosts(0, 1), 1, func(h *Host) { h.Labels = map[string]string{"zone": "eu"} }),
			chain:   []any{m("type", "label", "labels", m("zone", "eu", "ssd", "yes"))},
			wantErr: "label ssd=yes,zone=eu: all 2 hosts are without these labels"},

		{name: "group co-locates", req: Request{ID: "r", App: "shop"},
			hosts: with(hosts(0, 0, 0), 2, func(h *Host) { h.Containers = []Placed{{ID: "x", App: "shop"}} }),
			chain: "group", want: "h3"},
		{name: "group keeps others away", req: Request{ID: "r", App: "shop"},
			hosts: hosts(1, 0, 1), chain: "group", want: "h2"},
		{name: "group by group, not app", req: Request{ID: "r", App: "shop", Group: "db"},
			hosts: with(hosts(0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", App: "shop", Group: "web"}} }),
			chain: "group", want: "h2"},
		{name: "group host full", req: Request{ID: "r", App: "shop"},
			hosts:   with(hosts(0, 1), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", App: "shop"}, {ID: "y", App: "shop"}} }),
			chain:   []any{m("type", "max-containers", "max", 2), m("type", "group")},
			wantErr: `max-containers 2: 1 of 2 hosts full; group: 1 of 2 hosts is excluded: 1 hold other groups`},
		{name: "group elsewhere", req: Request{ID: "r", App: "shop"},
			hosts:   with(hosts(0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", App: "shop"}, {ID: "y", App: "other"}} }),
			chain:   "group",
			wantErr: `group: all 2 hosts are excluded: 1 hold other groups, 1 do not hold group "shop", which is on h1`},

		{name: "affinity on labels", req: Request{ID: "r", Labels: map[string]string{"zone": "us"}},
			hosts: with(with(hosts(0, 1, 2), 1, func(h *Host) { h.Labels = map[string]string{"zone": "eu"} }),
				2, func(h *Host) { h.Labels = map[string]string{"zone": "us"} }),
			chain: []any{m("type", "affinity", "expr", `host.labels.zone == request.labels.zone`)}, want: "h3"},
		{name: "anti-affinity spreads an app", req: Request{ID: "r", App: "db"},
			hosts: with(hosts(0, 3), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", App: "db"}} }),
			chain: []any{m("type", "anti-affinity", "expr", `any(containers, .app == request.app)`)}, want: "h2"},
		{name: "affinity empty host", hosts: hosts(1, 0, 2),
			chain: []any{m("type", "affinity", "expr", `used.containers == 0`), m("type", "depth-first")}, want: "h2"},
		{name: "affinity on used resources", req: Request{ID: "r", CPUs: 1},
			hosts: with(hosts(0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "x", CPUs: 3.5}} }),
			chain: []any{m("type", "affinity", "expr", `host.cpus - used.cpus >= request.cpus && host.memory > 0 && host.up`)}, want: "h2"},
		{name: "affinity names and ids", req: Request{ID: "r", Name: "web", Entity: "e1", Group: "g"},
			hosts: hosts(0, 0, 0),
			chain: []any{m("type", "affinity", "expr", `host.id == "h2" && host.name == "host-2" && request.name == "web" && request.entity == "e1" && request.group == "g" && request.memory == 0`)}, want: "h2"},
		{name: "affinity fails everywhere", hosts: hosts(0, 0),
			chain:   []any{m("type", "affinity", "expr", `host.labels.gpu == "yes"`)},
			wantErr: `affinity "host.labels.gpu == \"yes\"": all 2 hosts are excluded by the rule`},
		{name: "anti-affinity excludes everywhere", hosts: hosts(0, 0),
			chain:   []any{m("type", "anti-affinity", "expr", `true`)},
			wantErr: `anti-affinity "true": all 2 hosts are excluded by the rule`},
		{name: "affinity runtime error excludes and is reported", hosts: hosts(1),
			chain:   []any{m("type", "affinity", "expr", `containers[5].app == "x"`)},
			wantErr: `affinity "containers[5].app == \"x\"": the only host is excluded by the rule (error: host h1: index out of range: 5 (array length is 1) (1:11))`},

		{name: "random is seeded by the request", hosts: hosts(0, 0, 0, 0, 0), req: Request{ID: "req-1"}, chain: "random",
			want: pickRandom("req-1", 5)},
		{name: "random filters still apply", hosts: hosts(2, 2, 0, 2), req: Request{ID: "req-1"},
			chain: []any{m("type", "max-containers", "max", 2), m("type", "random")}, want: "h3"},

		{name: "down hosts never get anything", hosts: with(hosts(0, 5), 0, func(h *Host) { h.Up = false }), want: "h2"},
		{name: "all down", hosts: with(with(hosts(0, 0), 0, func(h *Host) { h.Up = false }), 1, func(h *Host) { h.Up = false }),
			wantErr: "down: all 2 hosts are down"},

		// Combinations.
		{name: "cpu, memory and count: the only host with room for all three",
			req: Request{ID: "r", CPUs: 1, MemoryBytes: 2 << 30},
			hosts: with(with(with(hosts(0, 0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "a", CPUs: 3.5}} }),
				1, func(h *Host) { h.Containers = []Placed{{ID: "b", MemoryBytes: 7 << 30}} }),
				2, func(h *Host) { h.Containers = []Placed{{ID: "c"}, {ID: "d"}} }),
			chain: []any{m("type", "max-containers", "max", 3), m("type", "max-cpu"), m("type", "max-memory"), m("type", "depth-first")},
			want:  "h3"},
		{name: "each constraint is named with what it excluded",
			req: Request{ID: "r", CPUs: 1, MemoryBytes: 2 << 30},
			hosts: with(with(with(hosts(0, 0, 0), 0, func(h *Host) { h.Containers = []Placed{{ID: "a", CPUs: 3.5}} }),
				1, func(h *Host) { h.Containers = []Placed{{ID: "b", MemoryBytes: 7 << 30}} }),
				2, func(h *Host) { h.Containers = []Placed{{ID: "c"}, {ID: "d"}} }),
			chain: []any{m("type", "max-containers", "max", 2), m("type", "max-cpu"), m("type", "max-memory"),
				m("type", "hostname", "pattern", "-[12]$")},
			wantErr: "max-containers 2: 1 of 3 hosts full; max-cpu: 1 of 3 hosts is without 1 CPUs free (most free: 0.5); " +
				"max-memory: 1 of 3 hosts is without 2 GiB of memory free (most free: 1 GiB); hostname -[12]$: 1 of 3 hosts is named otherwise"},
		{name: "label then depth-first",
			hosts: with(with(hosts(1, 3, 5), 0, func(h *Host) { h.Labels = map[string]string{"tier": "web"} }),
				1, func(h *Host) { h.Labels = map[string]string{"tier": "web"} }),
			chain: []any{m("type", "label", "labels", m("tier", "web")), m("type", "depth-first")}, want: "h2"},
		{name: "first sorter decides, the next breaks ties", hosts: hosts(2, 1, 1, 3), req: Request{ID: "x"},
			chain: []any{m("type", "least-containers"), m("type", "random")}, want: pickRandomAmong("x", "h2", "h3")},
		{name: "random first, least-containers only breaks its (absent) ties", hosts: hosts(2, 1, 1, 3), req: Request{ID: "x"},
			chain: []any{m("type", "random"), m("type", "least-containers")}, want: pickRandom("x", 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := mustParse(t, tt.chain)
			req := tt.req
			if req.ID == "" {
				req.ID = "r"
			}
			d, err := Place(tt.hosts, req, chain)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoFit) {
					t.Fatalf("got %+v, %v; want ErrNoFit", d, err)
				}
				prefix := fmt.Sprintf("no host fits request %q: ", req.ID)
				if got := strings.TrimPrefix(err.Error(), prefix); !strings.HasPrefix(got, tt.wantErr) {
					t.Errorf("error\n got: %s\nwant: %s", got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.HostID != tt.want {
				t.Errorf("placed on %s, want %s (reasons %q)", d.HostID, tt.want, d.Reasons)
			}
			if len(d.Reasons) < 2 {
				t.Errorf("reasons %q: want the fit count and one per sorter", d.Reasons)
			}
		})
	}
}

// pickRandom is the host (of h1..hn) the random sorter chooses for a request, computed
// independently of the sorter.
func pickRandom(id string, n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("h%d", i+1)
	}
	return pickRandomAmong(id, ids...)
}

func pickRandomAmong(id string, ids ...string) string {
	best, bestKey := "", uint64(0)
	for _, h := range ids {
		k := randomKey(fnvOffset, id, h) >> 11
		if best == "" || k < bestKey {
			best, bestKey = h, k
		}
	}
	return best
}

func TestRandomDeterministicAndSpread(t *testing.T) {
	chain := mustParse(t, "random")
	hs := hosts(0, 0, 0, 0)
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		id := fmt.Sprintf("req-%d", i)
		a, err := Place(hs, Request{ID: id}, chain)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Place(hs, Request{ID: id}, chain)
		if a.HostID != b.HostID {
			t.Fatalf("%s: %s then %s", id, a.HostID, b.HostID)
		}
		counts[a.HostID]++
	}
	for _, h := range hs {
		if counts[h.ID] < 60 {
			t.Errorf("random placed %v: %s is rarely chosen", counts, h.ID)
		}
	}
	// A seed changes the choice for some requests.
	seeded := mustParse(t, []any{m("type", "random", "seed", 7)})
	differ := 0
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("req-%d", i)
		a, _ := Place(hs, Request{ID: id}, chain)
		b, _ := Place(hs, Request{ID: id}, seeded)
		if a.HostID != b.HostID {
			differ++
		}
	}
	if differ == 0 {
		t.Error("the seed changes nothing")
	}
}

// The three levels: infrastructure chain, host filters, entity strategies.
func TestLevels(t *testing.T) {
	infra := mustParse(t, []any{m("type", "max-containers", "max", 2), m("type", "breadth-first")})
	tests := []struct {
		name    string
		hosts   []Host
		req     Request
		want    string
		wantErr string
	}{
		{name: "a host's own max-containers replaces the infrastructure's",
			hosts: with(hosts(2, 2), 1, func(h *Host) { h.Strategies = mustParse(t, []any{m("type", "max-containers", "max", 4)}) }),
			want:  "h2"},
		{name: "a host may lower its limit",
			hosts:   with(hosts(2, 1), 1, func(h *Host) { h.Strategies = mustParse(t, []any{m("type", "max-containers", "max", 1)}) }),
			wantErr: "max-containers 2: 1 of 2 hosts full; max-containers 1 (host h2): 1 of 2 hosts full"},
		{name: "a host's other filters add to the infrastructure's",
			hosts: with(hosts(0, 1), 0, func(h *Host) {
				h.Strategies = mustParse(t, []any{m("type", "anti-affinity", "expr", `request.app == "db"`)})
			}),
			req:  Request{App: "db"},
			want: "h2"},
		{name: "host filters apply only to that host",
			hosts: with(hosts(0, 1), 1, func(h *Host) {
				h.Strategies = mustParse(t, []any{m("type", "anti-affinity", "expr", `request.app == "db"`)})
			}),
			req:  Request{App: "db"},
			want: "h1"},
		{name: "entity filters narrow",
			hosts: hosts(0, 1),
			req:   Request{Strategies: mustParse(t, []any{m("type", "hostname", "pattern", "2$")})},
			want:  "h2"},
		{name: "an entity cannot lift a limit",
			hosts:   hosts(2, 2),
			req:     Request{Strategies: mustParse(t, []any{m("type", "max-containers", "max", 5)})},
			wantErr: "max-containers 2: all 2 hosts full"},
		{name: "an entity can lower a limit",
			hosts:   hosts(1, 1),
			req:     Request{Strategies: mustParse(t, []any{m("type", "max-containers", "max", 1)})},
			wantErr: "max-containers 1: all 2 hosts full"},
		{name: "entity sorters come first",
			hosts: hosts(0, 1),
			req:   Request{Strategies: mustParse(t, "depth-first")},
			want:  "h2"},
		{name: "entity strategies as literals, compiled on use",
			hosts: hosts(0, 1),
			req:   Request{Strategies: []Strategy{{Type: "DepthFirst"}}},
			want:  "h2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.ID = "r"
			d, err := Place(tt.hosts, tt.req, infra)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoFit) || !strings.HasSuffix(err.Error(), ": "+tt.wantErr) {
					t.Fatalf("got %+v, %v; want ErrNoFit %q", d, err, tt.wantErr)
				}
				return
			}
			if err != nil || d.HostID != tt.want {
				t.Fatalf("got %+v, %v; want %s", d, err, tt.want)
			}
		})
	}
	if n, err := MaxContainers(hosts(0)[0], infra); err != nil || n != 2 {
		t.Errorf("MaxContainers: %d, %v; want 2", n, err)
	}
	h := hosts(0)[0]
	h.Strategies = mustParse(t, []any{m("type", "max-containers", "max", 16)})
	if n, err := MaxContainers(h, infra); err != nil || n != 16 {
		t.Errorf("MaxContainers with a host override: %d, %v; want 16", n, err)
	}
	if n, err := MaxContainers(h, nil); err != nil || n != 16 {
		t.Errorf("MaxContainers: %d, %v; want 16", n, err)
	}
	if n, err := MaxContainers(hosts(0)[0], nil); err != nil || n != DefaultMaxContainers {
		t.Errorf("MaxContainers default: %d, %v", n, err)
	}
}

func TestInvalidAtPlace(t *testing.T) {
	hs := hosts(0)
	for _, tc := range []struct {
		name  string
		hosts []Host
		req   Request
		chain []Strategy
		want  string
	}{
		{name: "sorter on a host",
			hosts: with(hosts(0), 0, func(h *Host) { h.Strategies = []Strategy{{Type: "breadth-first"}} }),
			want:  "host h1: strategies[0] (breadth-first) is a sorter; a host takes filters only"},
		{name: "bad host strategy",
			hosts: with(hosts(0), 0, func(h *Host) { h.Strategies = []Strategy{{Type: "max-containers", Params: m("max", 0)}} }),
			want:  "host h1: invalid placement: strategies[0] (max-containers): key max: want an integer >= 1, got 0 (int)"},
		{name: "bad entity strategy", hosts: hs, req: Request{Strategies: []Strategy{{Type: "nope"}}},
			want: `request r: invalid placement: strategies[0] (nope): unknown type "nope"`},
		{name: "bad chain literal", hosts: hs, chain: []Strategy{{Type: "hostname", Params: m("pattern", "(")}},
			want: "invalid placement: strategies[0] (hostname): key pattern: error parsing regexp"},
		{name: "limit twice in one chain", hosts: hs, chain: []Strategy{{Type: "max-cpu"}, {Type: "max-cpu", Params: m("ratio", 2)}},
			want: "invalid placement: strategies[1] (max-cpu): max-cpu is already strategies[0]; give it once"},
		{name: "negative request", hosts: hs, req: Request{CPUs: -1}, want: "invalid placement: request r: negative CPUs or memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.ID = "r"
			_, err := Place(tc.hosts, tc.req, tc.chain)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

func TestDecisionReasons(t *testing.T) {
	hs := with(hosts(2, 1, 0), 2, func(h *Host) { h.Up = false })
	d, err := Place(hs, Request{ID: "r"}, mustParse(t, []any{m("type", "max-containers", "max", 2), m("type", "least-containers")}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 of 3 hosts fit (excluded: 1 down, 1 by max-containers)",
		"least-containers: 1 containers before placement",
	}
	if d.HostID != "h2" || d.Candidates != 1 || fmt.Sprint(d.Reasons) != fmt.Sprint(want) {
		t.Errorf("got %+v, want h2 with %q", d, want)
	}
	d, _ = Place(hosts(0, 1), Request{ID: "r"}, nil)
	if want := "breadth-first (default): least used, 0.125 of its limit after placement"; d.Reasons[1] != want {
		t.Errorf("reasons %q, want %q", d.Reasons, want)
	}
}

// Whatever the requests, a placement never breaks a limit: random requests placed one
// after another until nothing fits.
func TestNoViolations(t *testing.T) {
	chain := mustParse(t, []any{m("type", "max-containers", "max", 6), m("type", "max-cpu", "ratio", 1.5),
		m("type", "max-memory"), m("type", "breadth-first")})
	c, err := Compile(chain)
	if err != nil {
		t.Fatal(err)
	}
	for _, sorter := range []string{"breadth-first", "depth-first", "random", "least-containers"} {
		hs := make([]Host, 10)
		for i := range hs {
			hs[i] = Host{ID: fmt.Sprintf("h%02d", i), Up: i != 3, CPUs: float64(2 + i%3), MemoryBytes: int64(4+i%2*4) << 30}
		}
		hs[5].Strategies = mustParse(t, []any{m("type", "max-containers", "max", 9)})
		x := uint64(42)
		next := func(n uint64) uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x % n }
		placed, noFit := 0, 0
		for i := 0; noFit < 20 && i < 1000; i++ {
			req := Request{ID: fmt.Sprintf("r%d", i), CPUs: float64(next(8)) * 0.25, MemoryBytes: int64(next(6)) << 28,
				Strategies: []Strategy{{Type: sorter}}}
			d, err := c.Place(hs, req)
			if errors.Is(err, ErrNoFit) {
				noFit++
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			placed++
			for j := range hs {
				if hs[j].ID == d.HostID {
					hs[j].Containers = append(hs[j].Containers, req.Placed())
				}
			}
		}
		if v := violations(hs, func(h Host) (int, float64, int64) {
			n, _ := c.MaxContainers(h)
			return n, h.CPUs * 1.5, h.MemoryBytes
		}); v != nil {
			t.Errorf("%s: %v", sorter, v)
		}
		if placed < 40 || len(hs[3].Containers) != 0 {
			t.Errorf("%s: %d placed, %d on the down host", sorter, placed, len(hs[3].Containers))
		}
	}
}

func violations(hs []Host, limits func(Host) (int, float64, int64)) []string {
	var out []string
	for _, h := range hs {
		maxC, cpus, mem := limits(h)
		var c float64
		var b int64
		for _, p := range h.Containers {
			c += p.CPUs
			b += p.MemoryBytes
		}
		if len(h.Containers) > maxC || c > cpus+1e-9 || b > mem {
			out = append(out, fmt.Sprintf("%s: %d containers (max %d), %g CPUs (max %g), %d bytes (max %d)",
				h.ID, len(h.Containers), maxC, c, cpus, b, mem))
		}
	}
	return out
}

// One Chain serves concurrent decisions (run with -race).
func TestChainConcurrent(t *testing.T) {
	c, err := Compile(mustParse(t, []any{m("type", "max-cpu"), m("type", "anti-affinity", "expr", `any(containers, .app == request.app)`), "random"}))
	if err != nil {
		t.Fatal(err)
	}
	hs := with(hosts(3, 2, 1, 0), 0, func(h *Host) { h.Containers[0].App = "db" })
	want, err := c.Place(hs, Request{ID: "r", App: "db"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			var got string
			for j := 0; j < 200; j++ {
				d, err := c.Place(hs, Request{ID: "r", App: "db"})
				if err != nil {
					got = err.Error()
					break
				}
				got = d.HostID
			}
			done <- got
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != want.HostID {
			t.Errorf("concurrent decision: %s, want %s", got, want.HostID)
		}
	}
}
