package container

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/network"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// TypeName is Clocker's name for the kind.
const TypeName = "org.apache.brooklyn.container.entity.docker.DockerContainer"

// Labels every container Gantry creates carries, so that it can be found again, re-adopted,
// and removed with its application.
const (
	LabelServer = "dev.gantry.server"
	LabelApp    = "dev.gantry.app"
	LabelEntity = "dev.gantry.entity"
)

// KeyStrategies holds an entity's own placement strategies (Clocker's name), which a
// Docker cloud merges with its own and its hosts'.
const KeyStrategies = "docker.container.strategies"

// indicator is the key of this kind's not-up and problem entries.
const indicator = "container"

// httpPorts are the container ports taken to serve HTTP, for main.uri, in order of preference.
var httpPorts = []int{80, 8080, 8000, 3000, 5000, 8081}

func init() {
	entities.Register(&entities.Type{
		Name:        TypeName,
		Aliases:     []string{"docker-container", "DockerContainer"},
		Description: "A Docker container on a Docker engine location",
		Prefix:      "docker:",
		PrefixKey:   "image",
		Config: append([]entities.ConfigKey{
			{Name: "image", Aliases: []string{"docker.image.name", "imageName"}, Type: "string", Description: "Image to run, e.g. redis:7 (it must exist on the engine: no registry is contacted unless the engine pulls)"},
			{Name: "imageTag", Aliases: []string{"docker.image.tag"}, Type: "string", Description: "Tag appended to image when image has none"},
			{Name: "command", Aliases: []string{"docker.container.command"}, Type: "strings", Description: "Command: a list of arguments, or one string run by /bin/sh -c"},
			{Name: "env", Aliases: []string{"docker.container.environment", "environment"}, Type: "stringmap", Description: "Environment variables"},
			{Name: "openPorts", Aliases: []string{"docker.container.openPorts"}, Type: "ports", Description: "Container ports published on random host ports (sensor mapped.port.<port>)"},
			{Name: "portBindings", Aliases: []string{"docker.container.portBindings"}, Type: "portmap", Description: "Host port -> container port"},
			{Name: "volumes", Aliases: []string{"docker.container.volumes"}, Type: "strings", Description: "Volumes, as docker -v: host:container[:ro] or container"},
			{Name: "labels", Aliases: []string{"docker.container.labels"}, Type: "stringmap", Description: "Extra container labels"},
			{Name: "cpuShares", Aliases: []string{"docker.cpuShares"}, Type: "integer", Description: "Relative CPU weight"},
			{Name: "memory", Aliases: []string{"docker.memory"}, Type: "string", Description: "Memory limit: bytes, or with a unit such as 256m or 1g; a Docker cloud counts it against its hosts' memory (max-memory)"},
			{Name: "cpus", Aliases: []string{"docker.cpus"}, Type: "number", Description: "CPUs the container may use (docker --cpus); a Docker cloud counts them against its hosts' CPUs (max-cpu)"},
			{Name: KeyStrategies, Type: "list", Description: "Placement strategies of this container in a Docker cloud, narrowing the cloud's: [{type: max-containers, max: 2}, {type: breadth-first}]"},
			{Name: "init", Type: "boolean", Default: true, Description: "Run an init process as PID 1, so that the command gets SIGTERM on stop and zombies are reaped"},
			{Name: "stop.timeout", Type: "duration", Default: "10s", Description: "How long stop waits after SIGTERM before it kills the container"},
		}, slices.Concat(clockerKeys, monitorKeys, network.ConfigKeys)...),
		Sensors: append([]entities.SensorType{
			{Name: sensors.ContainerID, Type: "java.lang.String", Description: "Docker container id"},
			{Name: sensors.HostAddress, Type: "java.lang.String", Description: "The container's IP address"},
			{Name: sensors.HostName, Type: "java.lang.String", Description: "The container's host name"},
			{Name: sensors.MainURI, Type: "java.net.URI", Description: "URL of the container's HTTP port, when it has one"},
			{Name: sensors.MappedPrefix + "<port>", Type: "java.lang.Integer", Description: "Host port a container port is published on"},
		}, slices.Concat(monitorSensors, network.Sensors)...),
		Location: func(l locations.Location) error {
			if _, ok := l.(locations.ContainerHost); !ok {
				return fmt.Errorf("it is a %s location, not a Docker engine", l.Kind())
			}
			return nil
		},
		Start:   start,
		Stop:    stop,
		Restart: restart,
		Rebind:  rebind,
		Destroy: destroy,
		Exec:    execIn,
	})
}

// host finds the engine an entity runs on.
func host(e *entities.Entity) (locations.ContainerHost, error) {
	return entities.LocationOf[locations.ContainerHost](e, "a Docker engine")
}

func containerID(e *entities.Entity) string {
	v, _ := e.Attribute(sensors.ContainerID)
	s, _ := v.(string)
	return s
}

func start(ctx context.Context, e *entities.Entity) error { return startWith(ctx, e, nil) }

// startWith starts the entity's container, creating it from Spec(e) when there is none,
// changed by adjust when it is not nil (see Lifecycle).
func startWith(ctx context.Context, e *entities.Entity, adjust func(*entities.Entity, *locations.ContainerSpec) error) error {
	h, err := host(e)
	if err != nil {
		return err
	}
	if id := containerID(e); id != "" {
		var c *locations.Container
		err := entities.Step(ctx, "Start container "+short(id), func(ctx context.Context) error {
			c, err = h.StartContainer(ctx, id)
			return err
		})
		switch {
		case err == nil:
			publish(e, c)
			return nil
		case !errors.Is(err, locations.ErrNotFound):
			return err
		}
		entities.Logf(ctx, "container %s is gone; creating a new one", short(id))
	}
	spec, err := Spec(e)
	if err != nil {
		return err
	}
	if adjust != nil {
		if err := adjust(e, &spec); err != nil {
			return err
		}
	}
	if spec.Links, err = resolveLinks(ctx, e); err != nil {
		return err
	}
	join, err := joinNetworks(ctx, e, &spec) // networks.go
	if err != nil {
		return err
	}
	var c *locations.Container
	err = entities.Step(ctx, "Create and start container from "+spec.Image, func(ctx context.Context) error {
		entities.Logf(ctx, "image %s, name %s, ports %v", spec.Image, spec.Name, spec.OpenPorts)
		c, err = h.RunContainer(ctx, spec)
		if err == nil {
			entities.Logf(ctx, "container %s running at %s", short(c.ID), c.IP)
		}
		return err
	})
	if err != nil {
		if c = adoptUnrecorded(ctx, h, e, spec, err); c == nil { // adopt.go
			return err
		}
	}
	if c, err = attachNetworks(ctx, h, e, join, c); err != nil {
		return err
	}
	publish(e, c)
	return nil
}

// Spec builds the container to create from the entity's config.
func Spec(e *entities.Entity) (locations.ContainerSpec, error) {
	image := e.ConfigString("image")
	if image == "" {
		return locations.ContainerSpec{}, fmt.Errorf("%s has no image: set `image` or use type docker:<image>: %w", e, entities.ErrInvalid)
	}
	if tag := e.ConfigString("imageTag"); tag != "" && !strings.Contains(image[strings.LastIndex(image, "/")+1:], ":") {
		image += ":" + tag
	}
	init, _ := e.Config("init")
	spec := locations.ContainerSpec{
		Init:   init == true,
		Name:   "gantry-" + e.ID(),
		Image:  image,
		Env:    stringMap(e, "env"),
		Labels: stringMap(e, "labels"),
	}
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels[LabelServer] = e.Management().ServerID()
	spec.Labels[LabelApp] = e.Application().ID()
	spec.Labels[LabelEntity] = e.ID()
	switch cmd, _ := e.Config("command"); c := cmd.(type) {
	case string:
		spec.Command = []string{"/bin/sh", "-c", c}
	case []any:
		for _, a := range c {
			spec.Command = append(spec.Command, fmt.Sprint(a))
		}
	}
	if v, ok := e.Config("openPorts"); ok {
		l, _ := v.([]any)
		for _, p := range l {
			n, err := toInt(p)
			if err != nil {
				return spec, fmt.Errorf("openPorts: %w", err)
			}
			spec.OpenPorts = append(spec.OpenPorts, n)
		}
	}
	if v, ok := e.Config("portBindings"); ok {
		m, _ := v.(map[string]any)
		spec.PortBindings = make(map[int]int, len(m))
		for hp, cp := range m {
			h, err := toInt(hp)
			if err != nil {
				return spec, fmt.Errorf("portBindings: %w", err)
			}
			c, err := toInt(cp)
			if err != nil {
				return spec, fmt.Errorf("portBindings: %w", err)
			}
			spec.PortBindings[c] = h
		}
	}
	if v, ok := e.Config("volumes"); ok {
		switch vs := v.(type) {
		case string:
			spec.Volumes = []string{vs}
		case []any:
			for _, x := range vs {
				spec.Volumes = append(spec.Volumes, fmt.Sprint(x))
			}
		}
	}
	if v, ok := e.Config("cpuShares"); ok {
		n, err := toInt(v)
		if err != nil {
			return spec, fmt.Errorf("cpuShares: %w", err)
		}
		spec.CPUShares = int64(n)
	}
	if m := e.ConfigString("memory"); m != "" {
		n, err := units.RAMInBytes(m)
		if err != nil {
			return spec, fmt.Errorf("memory %q: use bytes or a unit such as 256m: %w", m, entities.ErrInvalid)
		}
		spec.MemoryBytes = n
	}
	if v, ok := e.Config("cpus"); ok && v != nil && v != "" {
		f, err := toFloat(v)
		if err != nil || f < 0 {
			return spec, fmt.Errorf("cpus %v: want a number of CPUs such as 0.5: %w", v, entities.ErrInvalid)
		}
		spec.CPUs = f
	}
	switch v, _ := e.Config(KeyStrategies); x := v.(type) {
	case nil:
	case []any:
		spec.Strategies = x
	default:
		spec.Strategies = []any{x}
	}
	if err := directPorts(e, &spec); err != nil {
		return spec, err
	}
	return spec, nil
}

func stringMap(e *entities.Entity, key string) map[string]string {
	v, _ := e.Config(key)
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		return int(x), nil
	case string:
		return strconv.Atoi(x)
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// publish sets the sensors that describe a running container, marks it up and starts
// its stats feed.
func publish(e *entities.Entity, c *locations.Container) {
	e.SetAttribute(sensors.ContainerID, c.ID)
	e.SetAttribute(sensors.HostAddress, address(e, c)) // networks.go
	e.SetAttribute(sensors.HostName, c.Hostname)
	for _, p := range slices.Sorted(maps.Keys(c.Ports)) {
		e.SetAttribute(sensors.MappedPrefix+strconv.Itoa(p), c.Ports[p])
	}
	uri := mainURI(c)
	configured, _ := e.Config(sensors.HTTPPort)
	if p, ok := httpPort(configured, c.Ports); ok {
		e.SetAttribute(sensors.HTTPPort, p)
		if hp := c.Ports[p]; hp > 0 && configured != nil && configured != "" {
			uri = fmt.Sprintf("http://127.0.0.1:%d/", hp) // the port said to serve HTTP comes first
		}
	}
	if uri != "" {
		e.SetAttribute(sensors.MainURI, uri)
	}
	markRunning(e, c)
	startStats(e)
}

// mainURI is the address of the container's HTTP port as this machine reaches it: the
// published host port when there is one, else the container's own address.
func mainURI(c *locations.Container) string {
	for _, p := range httpPorts {
		if hp, ok := c.Ports[p]; ok && hp > 0 {
			return fmt.Sprintf("http://127.0.0.1:%d/", hp)
		}
	}
	return ""
}

func markRunning(e *entities.Entity, c *locations.Container) {
	if c.Running {
		e.SetNotUp(indicator, "")
		e.SetProblem(indicator, "")
		return
	}
	e.SetNotUp(indicator, fmt.Sprintf("container %s is %s", short(c.ID), c.Status))
}

// died records that the container stopped. Unless the entity was being stopped, that is
// a problem: the entity goes on fire.
func died(e *entities.Entity, exitCode int) {
	msg := fmt.Sprintf("container %s exited with code %d", short(containerID(e)), exitCode)
	e.SetNotUp(indicator, msg)
	if e.Expected() == entities.Running {
		e.SetProblem(indicator, msg+" while expected to be running")
	}
}

// onContainer calls fn with the entity's engine and container id; it does nothing when
// the entity has no container.
func onContainer(e *entities.Entity, fn func(h locations.ContainerHost, id string) error) error {
	id := containerID(e)
	if id == "" {
		return nil
	}
	h, err := host(e)
	if err != nil {
		return err
	}
	return fn(h, id)
}

func stop(ctx context.Context, e *entities.Entity) error {
	err := onContainer(e, func(h locations.ContainerHost, id string) error {
		return entities.Step(ctx, "Stop container "+short(id), func(ctx context.Context) error {
			return h.StopContainer(ctx, id, e.ConfigDuration("stop.timeout", 10*time.Second))
		})
	})
	if errors.Is(err, locations.ErrNotFound) {
		err = nil
	}
	e.SetNotUp(indicator, "container stopped")
	e.SetProblem(indicator, "")
	return err
}

func restart(ctx context.Context, e *entities.Entity) error {
	if err := stop(ctx, e); err != nil {
		return err
	}
	return start(ctx, e)
}

func destroy(ctx context.Context, e *entities.Entity) error {
	return onContainer(e, func(h locations.ContainerHost, id string) error {
		if err := h.RemoveContainer(ctx, id); err != nil {
			return fmt.Errorf("remove container %s: %w", short(id), err)
		}
		entities.Logf(ctx, "removed container %s", short(id))
		e.SetAttribute(sensors.ContainerID, nil)
		return leaveNetworks(ctx, e, id) // networks.go
	})
}

// rebind re-adopts the entity's container by id after a server restart: nothing is
// created. A container that vanished, or died, while the server was down puts the
// entity on fire.
func rebind(ctx context.Context, e *entities.Entity) error {
	return onContainer(e, func(h locations.ContainerHost, id string) error {
		c, err := h.InspectContainer(ctx, id)
		if errors.Is(err, locations.ErrNotFound) {
			msg := fmt.Sprintf("container %s no longer exists", short(id))
			e.SetNotUp(indicator, msg)
			e.SetProblem(indicator, msg)
			return nil
		}
		if err != nil {
			return fmt.Errorf("inspect container %s: %w", short(id), err)
		}
		switch {
		case c.Running:
			publish(e, c)
		case e.Expected() == entities.Running:
			died(e, c.ExitCode)
		default:
			markRunning(e, c)
		}
		return nil
	})
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
