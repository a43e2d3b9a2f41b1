package policies

import (
	"strings"
	"testing"
	"time"
)

func TestDecideHeadroom(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := HeadroomConfig{Count: 2, UpDelay: 30 * time.Second, DownDelay: 5 * time.Minute, RemoveEmpty: true, RetryDelay: time.Minute}
	host := func(id string, containers, slots int) HeadroomHost {
		return HeadroomHost{ID: id, Up: true, Containers: containers, Slots: slots}
	}
	full := []HeadroomHost{host("h1", 2, 2), host("h2", 2, 2), host("h3", 1, 2)} // 1 free
	cases := []struct {
		name    string
		cfg     HeadroomConfig
		obs     HeadroomObservation
		mem     HeadroomMemory
		now     time.Time
		action  HeadroomAction
		host    string
		needed  int
		problem string // a part of the problem; "" for none
		recheck time.Time
		mem2    HeadroomMemory
	}{
		{name: "enough free: nothing",
			obs:    HeadroomObservation{Hosts: []HeadroomHost{host("h1", 0, 2), host("h2", 0, 2)}, PoolAvailable: 1, MinHosts: 2},
			now:    t0,
			needed: -2},
		{name: "deficit starts: wait for the up delay",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1, MinHosts: 3}, now: t0,
			needed: 1, recheck: t0.Add(30 * time.Second), mem2: HeadroomMemory{DeficitSince: t0}},
		{name: "deficit lasted the up delay: add",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1, MinHosts: 3}, mem: HeadroomMemory{DeficitSince: t0},
			now: t0.Add(30 * time.Second), action: HeadroomAddHost, needed: 1},
		{name: "containers waiting: add at once",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 2, 2)}, Waiting: 1, PoolAvailable: 1, MinHosts: 1},
			now: t0, action: HeadroomAddHost, needed: 3},
		{name: "busy adding: wait",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1, Busy: true}, mem: HeadroomMemory{DeficitSince: t0},
			now: t0.Add(time.Hour), needed: 1, mem2: HeadroomMemory{DeficitSince: t0}},
		{name: "pool used up: on fire, no action",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 0, MinHosts: 3}, mem: HeadroomMemory{DeficitSince: t0},
			now: t0.Add(time.Hour), needed: 1, problem: "no host can be added", mem2: HeadroomMemory{DeficitSince: t0}},
		{name: "pool used up with waiting containers: on fire, no action",
			obs: HeadroomObservation{Hosts: full, Waiting: 2, PoolAvailable: 0}, now: t0,
			needed: 3, problem: "no host can be added", mem2: HeadroomMemory{DeficitSince: t0}},
		{name: "recent failure: on fire, retry after the retry delay, not before",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1},
			mem: HeadroomMemory{DeficitSince: t0, LastFailure: t0.Add(10 * time.Second), LastFailureReason: "engine does not answer"},
			now: t0.Add(40 * time.Second), needed: 1, problem: "engine does not answer", recheck: t0.Add(70 * time.Second),
			mem2: HeadroomMemory{DeficitSince: t0, LastFailure: t0.Add(10 * time.Second), LastFailureReason: "engine does not answer"}},
		{name: "failure older than the retry delay: add again",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1},
			mem: HeadroomMemory{DeficitSince: t0, LastFailure: t0, LastFailureReason: "x"},
			now: t0.Add(2 * time.Minute), action: HeadroomAddHost, needed: 1,
			mem2: HeadroomMemory{LastFailure: t0, LastFailureReason: "x"}},
		{name: "recent failure but containers wait: the next endpoint is tried, the failure stays reported",
			obs: HeadroomObservation{Hosts: full, Waiting: 1, PoolAvailable: 1},
			mem: HeadroomMemory{LastFailure: t0, LastFailureReason: "tls: bad certificate"},
			now: t0.Add(time.Second), action: HeadroomAddHost, needed: 2, problem: "tls: bad certificate",
			mem2: HeadroomMemory{LastFailure: t0, LastFailureReason: "tls: bad certificate"}},
		{name: "a failure a moment ago with containers waiting: not in a tight loop",
			obs: HeadroomObservation{Hosts: full, Waiting: 1, PoolAvailable: 1},
			mem: HeadroomMemory{LastFailure: t0, LastFailureReason: "x"},
			now: t0.Add(100 * time.Millisecond), needed: 2, problem: "failed", recheck: t0.Add(time.Second),
			mem2: HeadroomMemory{DeficitSince: t0.Add(100 * time.Millisecond), LastFailure: t0, LastFailureReason: "x"}},
		{name: "surplus: an empty host becomes removable, wait for the down delay",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 1, 2), host("h2", 0, 2), host("h3", 0, 2)}, PoolAvailable: 1, MinHosts: 1},
			now: t0, needed: -3, recheck: t0.Add(5 * time.Minute), mem2: HeadroomMemory{SurplusSince: t0}},
		{name: "surplus lasted the down delay: remove the newest empty host",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 1, 2), host("h2", 0, 2), host("h3", 0, 2)}, PoolAvailable: 1, MinHosts: 1},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(5 * time.Minute), action: HeadroomRemoveHost, host: "h3", needed: -3},
		{name: "a host with containers is never chosen, however spare the cloud",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 1, 8), host("h2", 1, 8), host("h3", 1, 8)}, PoolAvailable: 1, MinHosts: 1},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(time.Hour), needed: -19},
		{name: "removing would break the headroom: keep it",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 2, 2), host("h2", 1, 2), host("h3", 0, 2)}, PoolAvailable: 1, MinHosts: 1},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(time.Hour), needed: -1},
		{name: "never below the initial hosts",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 0, 2), host("h2", 0, 2)}, PoolAvailable: 1, MinHosts: 2},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(time.Hour), needed: -2},
		{name: "removeEmpty false: keep every host",
			cfg: HeadroomConfig{Count: 2, DownDelay: time.Minute},
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 0, 2), host("h2", 0, 2), host("h3", 0, 2)}, PoolAvailable: 1},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(time.Hour), needed: -4},
		{name: "an empty down host goes first",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 0, 2), {ID: "h2", Slots: 2}, host("h3", 0, 2)}, PoolAvailable: 1},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(5 * time.Minute), action: HeadroomRemoveHost, host: "h2", needed: -2},
		{name: "a down host with containers is not chosen, though down hosts go first",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 0, 2), host("h2", 0, 2), {ID: "h3", Slots: 2, Containers: 2}}, PoolAvailable: 1, MinHosts: 2},
			mem: HeadroomMemory{SurplusSince: t0}, now: t0.Add(5 * time.Minute), action: HeadroomRemoveHost, host: "h2", needed: -2},
		{name: "draining hosts give no slots and are not chosen",
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 1, 2), {ID: "h2", Up: true, Slots: 2, Draining: true}}, PoolAvailable: 1, MinHosts: 1},
			now: t0, needed: 1, recheck: t0.Add(30 * time.Second), mem2: HeadroomMemory{DeficitSince: t0}},
		{name: "percent of the capacity, rounded up",
			cfg: HeadroomConfig{Percent: 25, UpDelay: 0, RemoveEmpty: true, DownDelay: time.Minute},
			obs: HeadroomObservation{Hosts: []HeadroomHost{host("h1", 8, 8), host("h2", 7, 8)}, PoolAvailable: 1, MinHosts: 2},
			now: t0, action: HeadroomAddHost, needed: 3},
		{name: "a deficit ends the surplus clock",
			obs: HeadroomObservation{Hosts: full, PoolAvailable: 1, MinHosts: 3}, mem: HeadroomMemory{SurplusSince: t0},
			now: t0.Add(time.Minute), needed: 1, recheck: t0.Add(90 * time.Second), mem2: HeadroomMemory{DeficitSince: t0.Add(time.Minute)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := cfg
			if c.cfg != (HeadroomConfig{}) {
				conf = c.cfg
			}
			d := DecideHeadroom(conf, c.obs, c.mem, c.now)
			if d.Action != c.action || d.HostID != c.host {
				t.Errorf("action %v %q, want %v %q (%s)", d.Action, d.HostID, c.action, c.host, d.Reason)
			}
			if d.Needed != c.needed {
				t.Errorf("needed %d, want %d (%s)", d.Needed, c.needed, d.Reason)
			}
			if (c.problem == "") != (d.Problem == "") || !strings.Contains(d.Problem, c.problem) {
				t.Errorf("problem %q, want one with %q", d.Problem, c.problem)
			}
			if !d.RecheckAt.Equal(c.recheck) {
				t.Errorf("recheck at %v, want %v", d.RecheckAt, c.recheck)
			}
			if d.Memory != c.mem2 {
				t.Errorf("memory %+v, want %+v", d.Memory, c.mem2)
			}
		})
	}
}

// A cloud whose pool cannot give hosts is reported on fire at every decision, and no
// add is ever attempted, however long the deficit lasts; a steady load never makes the
// policy alternate between adding and removing.
func TestDecideHeadroomNeverFlaps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := HeadroomConfig{Count: 2, UpDelay: 0, DownDelay: time.Minute, RemoveEmpty: true, RetryDelay: time.Minute}

	obs := HeadroomObservation{Hosts: []HeadroomHost{{ID: "h1", Up: true, Containers: 2, Slots: 2}}, PoolAvailable: 0, MinHosts: 1}
	var mem HeadroomMemory
	for i := range 100 {
		d := DecideHeadroom(cfg, obs, mem, t0.Add(time.Duration(i)*10*time.Second))
		if d.Action != HeadroomNothing || d.Problem == "" {
			t.Fatalf("step %d: %v, problem %q: want nothing and a problem", i, d.Action, d.Problem)
		}
		mem = d.Memory
	}

	// A steady load of 3 containers on hosts of 2 slots, headroom 2: simulate the cloud.
	hosts := []HeadroomHost{{ID: "h1", Up: true, Containers: 2, Slots: 2}, {ID: "h2", Up: true, Containers: 1, Slots: 2}}
	mem = HeadroomMemory{}
	var actions []string
	for i := range 200 {
		now := t0.Add(time.Duration(i) * 10 * time.Second)
		d := DecideHeadroom(cfg, HeadroomObservation{Hosts: hosts, PoolAvailable: 5, MinHosts: 1}, mem, now)
		mem = d.Memory
		switch d.Action {
		case HeadroomAddHost:
			hosts = append(hosts, HeadroomHost{ID: "new", Up: true, Slots: 2})
			actions = append(actions, "add")
		case HeadroomRemoveHost:
			for j, h := range hosts {
				if h.ID == d.HostID {
					if h.Containers > 0 {
						t.Fatalf("step %d: removing %s, which has containers", i, h.ID)
					}
					hosts = append(hosts[:j], hosts[j+1:]...)
					break
				}
			}
			actions = append(actions, "remove")
		}
	}
	if len(actions) != 1 || actions[0] != "add" {
		t.Errorf("actions %v, want one add and nothing after", actions)
	}
}

func TestHeadroomConfigValidate(t *testing.T) {
	for _, c := range []HeadroomConfig{{Count: -1}, {Percent: 120}, {Count: 1, Percent: 10}, {Count: 1, UpDelay: -time.Second}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (HeadroomConfig{Count: 4}).Validate(); err != nil {
		t.Error(err)
	}
}
