package placement

import (
	"errors"
	"strconv"
	"strings"
)

// DefaultMaxContainers is the limit of containers per host when neither the infrastructure
// chain nor the host has a max-containers strategy (Clocker's default).
const DefaultMaxContainers = 8

// Sentinel errors, tested with errors.Is.
var (
	// ErrNoFit: no host passes the filters; the error is a *NoFitError.
	ErrNoFit = errors.New("no host fits")
	// ErrInvalid: a strategy, a chain or a request is malformed.
	ErrInvalid = errors.New("invalid placement")
)

// Host is a Docker host as placement sees it.
type Host struct {
	ID     string            `json:"id" expr:"id"`
	Name   string            `json:"name,omitempty" expr:"name"`
	Labels map[string]string `json:"labels,omitempty" expr:"labels"`
	// CPUs and MemoryBytes are the host's capacity (0: unknown, which max-cpu and max-memory
	// refuse).
	CPUs        float64 `json:"cpus,omitempty" expr:"cpus"`
	MemoryBytes int64   `json:"memoryBytes,omitempty" expr:"memory"`
	// Up: only hosts that are up get containers.
	Up bool `json:"up" expr:"up"`
	// Containers already placed on the host (including those still starting).
	Containers []Placed `json:"containers,omitempty" expr:"containers"`
	// Strategies of this host: filters only (see the package documentation); a limit given
	// here (max-containers, max-cpu, max-memory) replaces the infrastructure's for this host.
	Strategies []Strategy `json:"strategies,omitempty" expr:"-"`
}

// Placed is a container already on a host.
type Placed struct {
	ID     string `json:"id" expr:"id"`
	App    string `json:"app,omitempty" expr:"app"`
	Entity string `json:"entity,omitempty" expr:"entity"`
	// Group used by the group strategy; App when empty.
	Group       string            `json:"group,omitempty" expr:"group"`
	CPUs        float64           `json:"cpus,omitempty" expr:"cpus"`
	MemoryBytes int64             `json:"memoryBytes,omitempty" expr:"memory"`
	Labels      map[string]string `json:"labels,omitempty" expr:"labels"`
}

// Request is a container to place.
type Request struct {
	// ID identifies the request (the entity id is a good one); it seeds the random strategy.
	ID     string `json:"id" expr:"id"`
	App    string `json:"app,omitempty" expr:"app"`
	Entity string `json:"entity,omitempty" expr:"entity"`
	Name   string `json:"name,omitempty" expr:"name"`
	// Group used by the group strategy; App when empty.
	Group       string            `json:"group,omitempty" expr:"group"`
	CPUs        float64           `json:"cpus,omitempty" expr:"cpus"`
	MemoryBytes int64             `json:"memoryBytes,omitempty" expr:"memory"`
	Labels      map[string]string `json:"labels,omitempty" expr:"labels"`
	// Strategies of the entity: filters narrow the choice, sorters come first.
	Strategies []Strategy `json:"strategies,omitempty" expr:"-"`
}

// Placed returns the request as a container placed on a host, to append to
// Host.Containers once it is there.
func (r Request) Placed() Placed {
	return Placed{ID: r.ID, App: r.App, Entity: r.Entity, Group: r.Group, CPUs: r.CPUs,
		MemoryBytes: r.MemoryBytes, Labels: r.Labels}
}

// Strategy is one element of a chain: a type such as "max-containers" and its parameters
// such as {"max": 2}. Build chains with ParseStrategies, which validates them and compiles
// what needs compiling (expressions, regular expressions) once; a Strategy written as a
// literal is compiled at each use. Do not change Params of a parsed Strategy: parse again.
type Strategy struct {
	Type   string         `json:"type"`
	Params map[string]any `json:"params,omitempty"`

	c *compiled // set by ParseStrategies and Compile
}

// String is the strategy as it reads in messages, e.g. "max-containers 2".
func (s Strategy) String() string {
	if c, err := s.compile(); err == nil {
		return c.label
	}
	return s.Type
}

// Decision is where a request goes and why.
type Decision struct {
	HostID   string
	HostName string
	// Candidates is the number of hosts that passed every filter.
	Candidates int
	// Reasons: how many hosts fit and what excluded the others, then what each sorter saw
	// on the chosen host.
	Reasons []string
}

// Env is the environment of affinity and anti-affinity rules (see the package
// documentation for the names).
type Env struct {
	Host       *Host    `expr:"host"`
	Request    *Request `expr:"request"`
	Containers []Placed `expr:"containers"`
	Used       Usage    `expr:"used"`
}

// Usage totals the containers of a host by their declared resources.
type Usage struct {
	Containers  int     `expr:"containers"`
	CPUs        float64 `expr:"cpus"`
	MemoryBytes int64   `expr:"memory"`
}

// NoFitError is returned when no host passes the filters; it wraps ErrNoFit.
type NoFitError struct {
	Request string // the request's ID (or name)
	Hosts   int    // hosts considered, up or not
	// Exclusions, one per constraint that excluded at least one host, in chain order. A host
	// can be excluded by several constraints: each is counted.
	Exclusions []Exclusion
}

// Exclusion is what one constraint did to the hosts of a failed decision.
type Exclusion struct {
	Constraint string // "max-containers 2", "down", "max-cpu 1x", "affinity <rule>", ...
	Excluded   int    // number of hosts it excluded
	Reason     string // "all 3 hosts full"
}

func (e *NoFitError) Error() string {
	var b strings.Builder
	b.WriteString("no host fits request ")
	b.WriteString(strconv.Quote(e.Request))
	b.WriteString(": ")
	if e.Hosts == 0 {
		b.WriteString("no hosts")
		return b.String()
	}
	for i, x := range e.Exclusions {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Constraint)
		b.WriteString(": ")
		b.WriteString(x.Reason)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrNoFit) true.
func (e *NoFitError) Unwrap() error { return ErrNoFit }

// Place chooses a host for req among hosts with the infrastructure chain, merged with each
// host's and the request's own strategies. It returns a *NoFitError (ErrNoFit) when no host
// fits and an error wrapping ErrInvalid when a strategy is malformed. To place many
// requests with one chain, Compile it once and call Chain.Place.
func Place(hosts []Host, req Request, chain []Strategy) (Decision, error) {
	c, err := Compile(chain)
	if err != nil {
		return Decision{}, err
	}
	return c.Place(hosts, req)
}

// MaxContainers is the container limit of h under the infrastructure chain (the host's own
// max-containers, else the chain's, else DefaultMaxContainers): the slots headroom counts.
func MaxContainers(h Host, chain []Strategy) (int, error) {
	c, err := Compile(chain)
	if err != nil {
		return 0, err
	}
	return c.MaxContainers(h)
}
