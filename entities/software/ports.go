package software

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// portsMu makes choosing a port and publishing it one step, so that two entities
// starting at once on a machine never take the same port.
var portsMu sync.Mutex

// portKeys are the config keys of e that hold ports: those declared of type port
// (brooklyn.parameters with type: port) and, as Brooklyn's inboundPorts.configRegex,
// the keys named *.port set on the entity itself (not those inherited, which are
// usually another entity's port); sorted.
func portKeys(e *entities.Entity) []string {
	var out []string
	for _, k := range e.Type().Config {
		if k.Type == "port" || strings.HasSuffix(k.Name, ".port") {
			out = append(out, k.Name)
		}
	}
	for k := range e.OwnConfig() {
		if strings.HasSuffix(k, ".port") && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// choosePorts resolves each port key of e to a port and publishes it as a sensor of the
// same name: a port as it is, a range (8000+) to its first port that no other entity on
// the same location holds and that is not found in use on the machine.
func choosePorts(ctx context.Context, e *entities.Entity, x locations.Executor) error {
	keys := portKeys(e)
	if len(keys) == 0 {
		return nil
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	held := portsHeld(e)
	host := machineAddress(x)
	for _, k := range keys {
		v, ok := e.Config(k)
		if !ok || v == nil {
			continue
		}
		r, err := locations.ParsePortRange(v)
		if err != nil {
			if isDSL(v) {
				continue // known only once evaluated
			}
			return fmt.Errorf("config %s: %w", k, err)
		}
		if p, single := r.Single(); single {
			e.SetAttribute(k, p)
			held[p] = true
			continue
		}
		p, err := locations.ChoosePort(r, func(p int) bool { return !held[p] && !inUse(ctx, host, p) })
		if err != nil {
			return fmt.Errorf("config %s: %w", k, err)
		}
		entities.Logf(ctx, "%s: port %d (from %s)", k, p, r)
		e.SetAttribute(k, p)
		held[p] = true
	}
	return nil
}

// portsHeld are the ports published by the other entities on e's location.
func portsHeld(e *entities.Entity) map[int]bool {
	held := map[int]bool{}
	mine := e.Locations()
	for _, app := range e.Management().Applications() {
		for _, o := range app.Descendants() {
			if o == e || !slices.Equal(o.Locations(), mine) {
				continue
			}
			for _, k := range portKeys(o) {
				if v, ok := o.Attribute(k); ok {
					if p, ok := v.(int); ok {
						held[p] = true
					} else if f, ok := v.(float64); ok {
						held[int(f)] = true
					}
				}
			}
		}
	}
	return held
}

// machineAddress is where the machine that x runs commands on is reached from here:
// "" for this machine.
func machineAddress(x locations.Executor) string {
	if m, ok := x.(interface{ Address() string }); ok {
		if a := m.Address(); a != "127.0.0.1" && a != "localhost" && a != "::1" {
			return a
		}
	}
	return ""
}

// inUse says whether a port is taken on the machine: on this machine, when it cannot
// be listened on; on another, when something answers a connection to it.
func inUse(ctx context.Context, host string, port int) bool {
	if host == "" {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			return true
		}
		l.Close()
		return false
	}
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false // refused, or not reachable from here: taken as free
	}
	c.Close()
	return true
}

func isDSL(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(strings.TrimSpace(s), "$brooklyn:")
}
