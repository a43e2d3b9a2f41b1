package docker

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/gantry-dev/gantry/locations"
)

// createConfig turns a ContainerSpec into the Docker create request. It is
// pure; an invalid spec is an error wrapping locations.ErrInvalid.
func createConfig(spec locations.ContainerSpec) (*container.Config, *container.HostConfig, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("container spec: %s: %w", fmt.Sprintf(format, args...), locations.ErrInvalid)
	}
	if strings.TrimSpace(spec.Image) == "" {
		return nil, nil, invalid("no image")
	}
	if spec.CPUShares < 0 {
		return nil, nil, invalid("negative CPU shares %d", spec.CPUShares)
	}
	if spec.MemoryBytes < 0 {
		return nil, nil, invalid("negative memory %d", spec.MemoryBytes)
	}
	if spec.CPUs < 0 {
		return nil, nil, invalid("negative CPUs %g", spec.CPUs)
	}

	cfg := &container.Config{
		Image:  spec.Image,
		Labels: maps.Clone(spec.Labels),
	}
	if len(spec.Command) > 0 {
		cfg.Cmd = slices.Clone(spec.Command)
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, nil, invalid("bad environment variable name %q", k)
		}
		cfg.Env = append(cfg.Env, k+"="+spec.Env[k])
	}

	hc := &container.HostConfig{
		Resources: container.Resources{CPUShares: spec.CPUShares, Memory: spec.MemoryBytes, NanoCPUs: int64(spec.CPUs * 1e9)},
	}
	if spec.Init {
		hc.Init = &spec.Init
	}
	for _, l := range spec.Links {
		if name, alias, ok := strings.Cut(l, ":"); !ok || name == "" || alias == "" {
			return nil, nil, invalid("link %q: want container-name:alias", l)
		}
		hc.Links = append(hc.Links, l)
	}

	if len(spec.OpenPorts)+len(spec.PortBindings) > 0 {
		cfg.ExposedPorts = nat.PortSet{}
		hc.PortBindings = nat.PortMap{}
	}
	for _, p := range spec.OpenPorts {
		if p < 1 || p > 65535 {
			return nil, nil, invalid("open port %d out of range", p)
		}
		port := tcp(p)
		cfg.ExposedPorts[port] = struct{}{}
		if _, fixed := spec.PortBindings[p]; !fixed {
			// An empty HostPort asks the engine for a random one.
			hc.PortBindings[port] = []nat.PortBinding{{HostPort: ""}}
		}
	}
	for _, cp := range slices.Sorted(maps.Keys(spec.PortBindings)) {
		hp := spec.PortBindings[cp]
		if cp < 1 || cp > 65535 {
			return nil, nil, invalid("container port %d out of range", cp)
		}
		if hp < 0 || hp > 65535 {
			return nil, nil, invalid("host port %d for container port %d out of range", hp, cp)
		}
		port := tcp(cp)
		cfg.ExposedPorts[port] = struct{}{}
		host := ""
		if hp != 0 {
			host = strconv.Itoa(hp)
		}
		hc.PortBindings[port] = []nat.PortBinding{{HostPort: host}}
	}

	for _, v := range spec.Volumes {
		parts := strings.Split(v, ":")
		switch len(parts) {
		case 1: // anonymous volume at a container path
			if !strings.HasPrefix(v, "/") {
				return nil, nil, invalid("volume %q: container path must be absolute", v)
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
		case 2, 3: // host-path-or-named-volume:container-path[:mode]
			if parts[0] == "" {
				return nil, nil, invalid("volume %q: empty source", v)
			}
			if !strings.HasPrefix(parts[1], "/") {
				return nil, nil, invalid("volume %q: container path must be absolute", v)
			}
			if len(parts) == 3 && parts[2] == "" {
				return nil, nil, invalid("volume %q: empty mode", v)
			}
			hc.Binds = append(hc.Binds, v)
		default:
			return nil, nil, invalid("volume %q: want host:container[:mode] or container", v)
		}
	}
	return cfg, hc, nil
}

func tcp(port int) nat.Port { return nat.Port(strconv.Itoa(port) + "/tcp") }

// fromInspect converts the engine's inspect answer.
func fromInspect(r container.InspectResponse) *locations.Container {
	c := &locations.Container{Ports: map[int]int{}, Labels: map[string]string{}}
	if b := r.ContainerJSONBase; b != nil {
		c.ID = b.ID
		c.Name = strings.TrimPrefix(b.Name, "/")
		c.Image = b.Image // the image id; replaced by the reference below
		if s := b.State; s != nil {
			c.Running = s.Running
			c.Status = string(s.Status)
			c.ExitCode = s.ExitCode
		}
	}
	if cfg := r.Config; cfg != nil {
		if cfg.Image != "" {
			c.Image = cfg.Image
		}
		c.Hostname = cfg.Hostname
		maps.Copy(c.Labels, cfg.Labels)
	}
	if ns := r.NetworkSettings; ns != nil {
		for port, bindings := range ns.Ports {
			if port.Proto() != "tcp" {
				continue
			}
			for _, b := range bindings {
				if hp, err := strconv.Atoi(b.HostPort); err == nil && hp > 0 {
					c.Ports[port.Int()] = hp
					break
				}
			}
		}
		c.IP = ns.IPAddress //nolint:staticcheck // the default bridge's address; still set by the engine
		if c.IP == "" {
			ips := map[string]string{}
			for name, ep := range ns.Networks {
				if ep != nil {
					ips[name] = ep.IPAddress
				}
			}
			c.IP = pickIP(ips)
		}
	}
	return c
}

// fromSummary converts an entry of the engine's container list, which has no
// hostname and states the exit code only in its human status.
func fromSummary(s container.Summary) *locations.Container {
	c := &locations.Container{
		ID:      s.ID,
		Image:   s.Image,
		Running: s.State == container.StateRunning,
		Status:  string(s.State),
		Ports:   map[int]int{},
		Labels:  maps.Clone(s.Labels),
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if len(s.Names) > 0 {
		c.Name = strings.TrimPrefix(s.Names[0], "/")
	}
	c.ExitCode = exitCodeFromStatus(s.Status)
	for _, p := range s.Ports {
		if p.Type == "tcp" && p.PublicPort != 0 {
			c.Ports[int(p.PrivatePort)] = int(p.PublicPort)
		}
	}
	if ns := s.NetworkSettings; ns != nil {
		ips := map[string]string{}
		for name, ep := range ns.Networks {
			if ep != nil {
				ips[name] = ep.IPAddress
			}
		}
		c.IP = pickIP(ips)
	}
	return c
}

// pickIP returns the address on the default bridge, or else on the first
// network by name that has one.
func pickIP(byNetwork map[string]string) string {
	if ip := byNetwork["bridge"]; ip != "" {
		return ip
	}
	names := make([]string, 0, len(byNetwork))
	for n := range byNetwork {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ip := byNetwork[n]; ip != "" {
			return ip
		}
	}
	return ""
}

// exitCodeFromStatus reads N from the list's "Exited (N) 3 seconds ago".
func exitCodeFromStatus(status string) int {
	rest, ok := strings.CutPrefix(status, "Exited (")
	if !ok {
		return 0
	}
	n, _, ok := strings.Cut(rest, ")")
	if !ok {
		return 0
	}
	code, err := strconv.Atoi(n)
	if err != nil {
		return 0
	}
	return code
}
