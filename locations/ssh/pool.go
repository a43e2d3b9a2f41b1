package ssh

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/locations"
)

// Pool is a byon location: a fixed list of machines, one per entity.
type Pool struct {
	def      locations.Definition
	cfg      Config
	machines []*Machine
	byID     map[string]*Machine
	save     locations.SaveFunc

	mu     sync.Mutex
	leases map[string]string // entity id -> machine id
}

var _ locations.MachinePool = (*Pool)(nil)

// poolState is what a Pool saves.
type poolState struct {
	// Leases maps entity ids to the ids of the machines they hold.
	Leases map[string]string `json:"leases,omitempty"`
}

// NewPool makes the pool of def (see ParseConfig), its machines connected
// through d; def.State, when set, says which entity holds which machine.
// save (nil: nothing is saved) records each change of that.
func NewPool(d *Dialer, def locations.Definition, save locations.SaveFunc) (*Pool, error) {
	cfg, err := ParseConfig(def, d.DefaultUser())
	if err != nil {
		return nil, err
	}
	p := &Pool{def: def, cfg: cfg, save: save, byID: map[string]*Machine{}, leases: map[string]string{}}
	for _, h := range cfg.Hosts {
		m := NewMachine(d, h, cfg.KnownHostsFile, cfg.ConnectTimeout)
		p.machines = append(p.machines, m)
		p.byID[m.MachineID()] = m
	}
	if len(def.State) > 0 {
		var st poolState
		if err := json.Unmarshal(def.State, &st); err != nil {
			return nil, fmt.Errorf("byon location %s: saved state: %v: %w", def.ID, err, locations.ErrInvalid)
		}
		for e, mid := range st.Leases {
			if _, ok := p.byID[mid]; ok {
				p.leases[e] = mid
			}
		}
	}
	return p, nil
}

// Provider makes byon pools whose machines connect through d.
func Provider(d *Dialer) locations.Provider {
	return func(_ context.Context, def locations.Definition, save locations.SaveFunc) (locations.Location, error) {
		return NewPool(d, def, save)
	}
}

// Register adds the byon provider, its machines connected through d, to r.
func Register(r *locations.Registry, d *Dialer) error {
	return r.AddProvider(Kind, Provider(d))
}

func (p *Pool) ID() string   { return p.def.ID }
func (p *Pool) Kind() string { return Kind }
func (p *Pool) Spec() string { return p.def.Spec }

// DisplayName is the location's name, or "byon" and its hosts.
func (p *Pool) DisplayName() string {
	if p.cfg.Name != "" {
		return p.cfg.Name
	}
	if p.def.Name != "" {
		return p.def.Name
	}
	ids := p.machineIDs()
	if len(ids) > 3 {
		ids = append(ids[:3], fmt.Sprintf("%d more", len(ids)-3))
	}
	return "byon (" + strings.Join(ids, ", ") + ")"
}

// Config shows the hosts and who holds them; never passwords or key data.
func (p *Pool) Config() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	hosts := make([]any, 0, len(p.machines))
	for _, m := range p.machines {
		hosts = append(hosts, m.MachineID())
	}
	leases := make(map[string]any, len(p.leases))
	for e, mid := range p.leases {
		leases[mid] = e
	}
	out := map[string]any{
		"hosts":    hosts,
		"machines": len(p.machines),
		"free":     len(p.machines) - len(p.leases),
		"inUse":    leases,
	}
	if p.def.Name != "" {
		out["named"] = p.def.Name
	}
	if p.cfg.KnownHostsFile != "" {
		out["knownHostsFile"] = p.cfg.KnownHostsFile
	}
	return out
}

// Machines returns the machines in the order the hosts were written.
func (p *Pool) Machines() []*Machine { return slices.Clone(p.machines) }

func (p *Pool) machineIDs() []string {
	ids := make([]string, 0, len(p.machines))
	for _, m := range p.machines {
		ids = append(ids, m.MachineID())
	}
	return ids
}

// Obtain returns the machine entityID holds, or else the first free one,
// recorded as held by it. With none free, the error wraps
// locations.ErrNoCapacity.
func (p *Pool) Obtain(_ context.Context, entityID string) (locations.Machine, error) {
	if entityID == "" {
		return nil, fmt.Errorf("byon location %s: obtain a machine: empty entity id: %w", p.def.ID, locations.ErrInvalid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if mid, ok := p.leases[entityID]; ok {
		return p.byID[mid], nil
	}
	held := make(map[string]string, len(p.leases))
	for e, mid := range p.leases {
		held[mid] = e
	}
	for _, m := range p.machines {
		if _, taken := held[m.MachineID()]; taken {
			continue
		}
		p.leases[entityID] = m.MachineID()
		if err := p.saveLocked(); err != nil {
			delete(p.leases, entityID)
			return nil, fmt.Errorf("byon location %s: obtain a machine for entity %s: %w", p.def.ID, entityID, err)
		}
		return m, nil
	}
	var holders []string
	for _, mid := range slices.Sorted(maps.Keys(held)) {
		holders = append(holders, mid+" by entity "+held[mid])
	}
	return nil, fmt.Errorf("byon location %s: no machine free for entity %s: all %d are in use (%s); add hosts to the location, or stop and delete an application that holds one: %w",
		p.def.ID, entityID, len(p.machines), strings.Join(holders, ", "), locations.ErrNoCapacity)
}

// Release gives back the machine entityID holds.
func (p *Pool) Release(_ context.Context, entityID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	mid, ok := p.leases[entityID]
	if !ok {
		return nil
	}
	delete(p.leases, entityID)
	if err := p.saveLocked(); err != nil {
		p.leases[entityID] = mid
		return fmt.Errorf("byon location %s: release %s held by entity %s: %w", p.def.ID, mid, entityID, err)
	}
	return nil
}

// Holding returns the machine entityID holds, if any.
func (p *Pool) Holding(entityID string) (locations.Machine, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mid, ok := p.leases[entityID]
	if !ok {
		return nil, false
	}
	return p.byID[mid], true
}

// Holder returns the entity holding the machine with that id, if any.
func (p *Pool) Holder(machineID string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for e, mid := range p.leases {
		if mid == machineID {
			return e, true
		}
	}
	return "", false
}

func (p *Pool) saveLocked() error {
	if p.save == nil {
		return nil
	}
	b, err := json.Marshal(poolState{Leases: p.leases})
	if err != nil {
		return err
	}
	return p.save(b)
}
