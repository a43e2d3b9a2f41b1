package dockercloud

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/sensors"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations/placement"
)

// endpoint is one entry of docker.hosts or docker.hosts.pool: where an engine answers,
// and the config its host gets. An entry with a location instead (a host Gantry makes on
// a machine there) has Endpoint "location:<location spec>", and a free machine of
// docker.host.spec's location "machine:<location id>" (machines.go): what identifies
// it among the entries and in docker.hosts.pool.failed.
type endpoint struct {
	Endpoint string
	Name     string
	// Config is the host's own config: its endpoint, and the entry's labels, strategies
	// and TLS files.
	Config map[string]any
	Pool   bool // from docker.hosts.pool
}

// entryKeys are the keys an endpoint map may have, with the host config key each sets.
var entryKeys = map[string]string{
	"endpoint": KeyEndpoint, KeyEndpoint: KeyEndpoint, "host": KeyEndpoint,
	"name":   "",
	"labels": KeyHostLabels, KeyHostLabels: KeyHostLabels,
	"strategies": KeyStrategies, KeyStrategies: KeyStrategies,
	"tls.ca": KeyTLSCA, KeyTLSCA: KeyTLSCA,
	"tls.cert": KeyTLSCert, KeyTLSCert: KeyTLSCert,
	"tls.key": KeyTLSKey, KeyTLSKey: KeyTLSKey,
	// A host Gantry makes on a machine of a location (provision.go).
	"location": KeyHostLocation, KeyHostLocation: KeyHostLocation,
	"port": KeyHostPort, KeyHostPort: KeyHostPort,
	"address": KeyHostAddress, KeyHostAddress: KeyHostAddress,
	"listen": KeyHostListen, KeyHostListen: KeyHostListen,
	"isolated": KeyHostIsolated, KeyHostIsolated: KeyHostIsolated,
	"install": KeyHostInstall, KeyHostInstall: KeyHostInstall,
	KeyHostBridgeCIDR: KeyHostBridgeCIDR, KeyHostAddressPool: KeyHostAddressPool, KeyHostStartTimeout: KeyHostStartTimeout,
}

// machineKeys are the entry keys that only a host made on a machine takes.
var machineKeys = []string{KeyHostPort, KeyHostAddress, KeyHostListen, KeyHostIsolated, KeyHostInstall, KeyHostBridgeCIDR, KeyHostAddressPool, KeyHostStartTimeout}

// locationPrefix starts the Endpoint of an entry with a location.
const locationPrefix = "location:"

// parseEndpoints reads docker.hosts or docker.hosts.pool: a list of endpoints (strings
// or maps), a single one, or a comma-separated string.
func parseEndpoints(key string, v any, pool bool) ([]endpoint, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		items = x
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	case map[string]any:
		items = []any{x}
	default:
		return nil, fmt.Errorf("%s: want a list of endpoints such as [tcp://10.0.0.5:2376], not %T: %w", key, v, entities.ErrInvalid)
	}
	out := make([]endpoint, 0, len(items))
	for i, it := range items {
		ep := endpoint{Pool: pool, Config: map[string]any{}}
		switch x := it.(type) {
		case string:
			ep.Endpoint = strings.TrimSpace(x)
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				target, known := entryKeys[k]
				if !known {
					return nil, fmt.Errorf("%s[%d]: unknown key %q (known: endpoint, name, labels, strategies, tls.ca, tls.cert, tls.key; "+
						"or location, port, address, listen, isolated, install for a host made on a machine): %w", key, i, k, entities.ErrInvalid)
				}
				switch {
				case k == "name":
					ep.Name = fmt.Sprint(x[k])
				case target == KeyEndpoint:
					ep.Endpoint = strings.TrimSpace(fmt.Sprint(x[k]))
				default:
					ep.Config[target] = x[k]
				}
			}
		default:
			return nil, fmt.Errorf("%s[%d]: want an endpoint string or a map with endpoint, not %T: %w", key, i, it, entities.ErrInvalid)
		}
		if s, ok := ep.Config[KeyStrategies]; ok {
			if _, err := placement.ParseStrategies(s); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
			}
		}
		if v, ok := ep.Config[KeyHostLocation]; ok {
			loc, _ := v.(string)
			loc = strings.TrimSpace(loc)
			switch {
			case loc == "":
				return nil, fmt.Errorf("%s[%d]: location: want a location spec such as byon:(hosts=\"root@10.0.0.5\") or localhost, not %v: %w", key, i, v, entities.ErrInvalid)
			case ep.Endpoint != "":
				return nil, fmt.Errorf("%s[%d]: give endpoint (an engine that runs) or location (a machine to install one on), not both: %w", key, i, entities.ErrInvalid)
			}
			ep.Config[KeyHostLocation] = loc
			ep.Endpoint = locationPrefix + loc
			out = append(out, ep)
			continue
		}
		for _, k := range machineKeys {
			if _, ok := ep.Config[k]; ok {
				return nil, fmt.Errorf("%s[%d]: %s is for a host made on a machine (an entry with location), not for an endpoint: %w", key, i, k, entities.ErrInvalid)
			}
		}
		if err := checkEndpoint(ep.Endpoint); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		ep.Config[KeyEndpoint] = ep.Endpoint
		out = append(out, ep)
	}
	return out, nil
}

// checkEndpoint checks the syntax of an engine endpoint.
func checkEndpoint(ep string) error {
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "unix") || (u.Scheme == "tcp" && u.Host == "") || (u.Scheme == "unix" && u.Path == "") {
		return fmt.Errorf("engine endpoint %q: write tcp://HOST:PORT or unix:///PATH: %w", ep, entities.ErrInvalid)
	}
	return nil
}

// endpointsOf reads the infrastructure's endpoints: docker.hosts, then docker.hosts.pool.
func endpointsOf(e *entities.Entity) (initial, pool []endpoint, err error) {
	v, _ := e.Config(KeyHosts)
	if initial, err = parseEndpoints(KeyHosts, v, false); err != nil {
		return nil, nil, kindError(e, KeyHosts, err)
	}
	v, _ = e.Config(KeyHostsPool)
	if pool, err = parseEndpoints(KeyHostsPool, v, true); err != nil {
		return nil, nil, kindError(e, KeyHostsPool, err)
	}
	return initial, pool, nil
}

// poolFailure is why and when an endpoint failed to become a host.
type poolFailure struct {
	Reason string `json:"reason"`
	Time   int64  `json:"time"` // milliseconds since the epoch
}

// poolFailures reads the infrastructure's record of failed endpoints.
func poolFailures(e *entities.Entity) map[string]poolFailure {
	out := map[string]poolFailure{}
	v, _ := e.Attribute(SensorPoolFailed)
	m, _ := v.(map[string]any)
	for ep, x := range m {
		switch f := x.(type) {
		case poolFailure:
			out[ep] = f
		case map[string]any:
			r, _ := f["reason"].(string)
			t, _ := sensors.Number(f["time"])
			out[ep] = poolFailure{Reason: r, Time: int64(t)}
		}
	}
	return out
}

func setPoolFailure(e *entities.Entity, ep string, f *poolFailure) {
	all := poolFailures(e)
	if f == nil {
		if _, had := all[ep]; !had {
			return
		}
		delete(all, ep)
	} else {
		all[ep] = *f
	}
	out := make(map[string]any, len(all))
	for k, v := range all {
		out[k] = map[string]any{"reason": v.Reason, "time": v.Time}
	}
	if len(out) == 0 {
		e.SetAttribute(SensorPoolFailed, nil)
		return
	}
	e.SetAttribute(SensorPoolFailed, out)
}

// freeEndpoints lists the endpoints a host can be added from, in order (docker.hosts,
// then docker.hosts.pool, then, when the pool is empty, the free machines of
// docker.host.spec's location): those no host uses, and that did not fail within retry
// of now. failed lists those left out for a recent failure.
func freeEndpoints(infra *entities.Entity, now time.Time) (free []endpoint, failed []string, err error) {
	initial, pool, err := endpointsOf(infra)
	if err != nil {
		return nil, nil, err
	}
	used := map[string]int{}
	for _, h := range hostsOf(infra) {
		used[hostKey(h)]++
	}
	fails := poolFailures(infra)
	retry := infra.ConfigDuration(KeyPoolRetry, 5*time.Minute)
	seen := map[string]bool{}
	for _, ep := range append(initial, pool...) {
		if takenBy(ep, used, seen) {
			continue
		}
		if f, ok := fails[ep.Endpoint]; ok && now.Sub(time.UnixMilli(f.Time)) < retry {
			failed = append(failed, fmt.Sprintf("%s (%s)", ep.Endpoint, f.Reason))
			continue
		}
		free = append(free, ep)
	}
	if len(pool) == 0 {
		more, why := specMachines(infra, fails, retry, now) // machines.go
		free = append(free, more...)
		failed = append(failed, why...)
	}
	return free, failed, nil
}

// takenBy says whether an entry is taken: an endpoint by a host at it (or by an entry
// before it: one host per endpoint), an entry with a location by one host made from
// such an entry (used counts them down: two such entries make two hosts).
func takenBy(ep endpoint, used map[string]int, seen map[string]bool) bool {
	if strings.HasPrefix(ep.Endpoint, locationPrefix) {
		if used[ep.Endpoint] > 0 {
			used[ep.Endpoint]--
			return true
		}
		return false
	}
	if used[ep.Endpoint] > 0 || seen[ep.Endpoint] {
		return true
	}
	seen[ep.Endpoint] = true
	return false
}
