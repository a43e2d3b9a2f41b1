package proxy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// TypeName is Brooklyn's name of its nginx load balancer, accepted for blueprints written
// for Brooklyn; Gantry's load balancer runs HAProxy.
const TypeName = "org.apache.brooklyn.entity.proxy.nginx.NginxController"

// Config keys of the load-balancer kind, with Brooklyn's names where it has them.
const (
	KeyServerPool     = "loadbalancer.serverpool"
	KeyPort           = "proxy.http.port"
	KeyHostnameSensor = "member.sensor.hostname"
	KeyPortSensor     = "member.sensor.portNumber"
	KeyDebounce       = "proxy.reload.debounce"
	KeyStatsPeriod    = "proxy.stats.period"
	KeyResync         = "proxy.resync.period"
)

// Sensors of the load-balancer kind, beyond a container's.
const (
	// SensorTargets lists the members HAProxy routes to, "host:port", in member id order.
	SensorTargets = "serverpool.targets"
	// SensorPort is the port HAProxy listens on in its container (proxy.http.port).
	SensorPort = "proxy.http.port"
	// SensorReqsTotal counts the HTTP requests received since the load balancer started,
	// across reloads. HAProxy's new worker counts from 0 at each reload and the old one's
	// last counts are read as late as it answers: what it takes after that is missed,
	// so under load the total runs a little short.
	SensorReqsTotal = sensors.RequestsTotal
	// SensorReqsPerSec is the request rate over the last stats period (Brooklyn's name).
	SensorReqsPerSec = sensors.RequestsPerSecond
	// SensorReqsInFlight is the number of requests being served or queued for a member.
	SensorReqsInFlight = sensors.RequestsInFlight
)

// indicator keys this kind's not-up and problem entries.
const indicator = "loadbalancer"

// lifecycle runs HAProxy as the entity's container: gantry/haproxy's command (HAProxy's
// master as the main process, no init: it reaps its workers and handles signals itself,
// and a reload re-executes it in place, so the container never exits for one), and the
// proxy port published on a host port.
var lifecycle = container.Lifecycle{Adjust: func(e *entities.Entity, spec *locations.ContainerSpec) error {
	port, err := proxyPort(e)
	if err != nil {
		return err
	}
	spec.Command = Command()
	spec.Init = false
	if !slices.Contains(spec.OpenPorts, port) && spec.PortBindings[port] == 0 {
		spec.OpenPorts = append(spec.OpenPorts, port)
	}
	return nil
}}

func init() {
	t := &entities.Type{
		Name:    TypeName,
		Aliases: []string{"load-balancer", "NginxController", "haproxy"},
		Description: "A load balancer: HAProxy in a container (gantry/haproxy) on a Docker engine location, " +
			"round robin over the up members of loadbalancer.serverpool, reloaded without dropping connections when they change",
		Config: []entities.ConfigKey{
			{Name: KeyServerPool, Aliases: []string{"serverPool"}, Type: "object",
				Description: "The group or cluster whose members to balance: an entity, e.g. $brooklyn:entity(\"cluster\")"},
			{Name: KeyPort, Type: "integer", Default: DefaultPort,
				Description: "The port HAProxy listens on in its container, published on a host port (mapped.port.<port>, main.uri)"},
			{Name: KeyHostnameSensor, Type: "string", Default: sensors.HostAddress,
				Description: "The members' sensor that holds the address to reach them at"},
			{Name: KeyPortSensor, Type: "string", Default: sensors.HTTPPort,
				Description: "The members' sensor that holds the port to reach them at"},
			{Name: KeyDebounce, Type: "duration", Default: "200ms",
				Description: "How long changes of the pool are gathered before HAProxy is reconfigured"},
			{Name: KeyStatsPeriod, Type: "duration", Default: "2s",
				Description: "How often HAProxy's statistics are read for the webapp.reqs.* sensors (0 turns them off)"},
			{Name: KeyResync, Type: "duration", Default: "30s",
				Description: "How often the pool is compared with HAProxy's config even when no change was seen"},
		},
		Sensors: []entities.SensorType{
			{Name: SensorTargets, Type: "java.util.List", Description: "The members HAProxy routes to, as host:port, in member id order"},
			{Name: SensorPort, Type: "java.lang.Integer", Description: "The port HAProxy listens on in its container"},
			{Name: SensorReqsTotal, Type: "java.lang.Long", Description: "HTTP requests received since the load balancer started"},
			{Name: SensorReqsPerSec, Type: "java.lang.Double", Description: "HTTP requests per second over the last stats period"},
			{Name: SensorReqsInFlight, Type: "java.lang.Integer", Description: "Requests being served by a member or queued for one"},
		},
		Location: func(l locations.Location) error {
			if _, ok := l.(locations.ContainerHost); !ok {
				return fmt.Errorf("it is a %s location, not a Docker engine", l.Kind())
			}
			return nil
		},
		Start:   start,
		Stop:    lifecycle.Stop,
		Restart: restart,
		Rebind:  rebind,
		Destroy: lifecycle.Destroy,
		Exec:    lifecycle.Exec,
	}
	// The container kind's keys and sensors too (env, memory, portBindings, ...; container.id,
	// host.address, main.uri, mapped.port.<port>, machine.*), with gantry/haproxy as the
	// image. Its command, init and http.port are this kind's to decide.
	if ct, err := entities.LookupType(container.TypeName); err == nil {
		for _, k := range ct.Config {
			switch k.Name {
			case "command", "init", sensors.HTTPPort:
				continue
			case "image":
				k.Default = Image
				k.Description = "Image to run: gantry/haproxy, built locally from images/haproxy, or one laid out as it is"
			}
			t.Config = append(t.Config, k)
		}
		t.Sensors = append(t.Sensors, ct.Sensors...)
	}
	entities.Register(t)
}

// proxyPort is proxy.http.port.
func proxyPort(e *entities.Entity) (int, error) {
	v, _ := e.Config(KeyPort)
	p, ok := toPort(v)
	if !ok {
		return 0, fmt.Errorf("%s: %v is not a TCP port: %w", KeyPort, v, entities.ErrInvalid)
	}
	return p, nil
}

// toPort reads a port from a config or sensor value: a number, or a string of one.
func toPort(v any) (int, bool) {
	var p int
	switch x := v.(type) {
	case int:
		p = x
	case int64:
		p = int(x)
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		p = int(x)
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, false
		}
		p = n
	default:
		return 0, false
	}
	return p, p > 0 && p <= 65535
}

func start(ctx context.Context, e *entities.Entity) error {
	if err := lifecycle.Start(ctx, e); err != nil {
		return err
	}
	return adopt(ctx, e, true)
}

func restart(ctx context.Context, e *entities.Entity) error {
	e.Management().StopFeeds(e)
	if err := lifecycle.Restart(ctx, e); err != nil {
		return err
	}
	return adopt(ctx, e, true)
}

// rebind re-adopts the container, then, when it runs, watches the pool again and puts
// HAProxy's config right (no reload when the pool did not change while the server was
// down).
func rebind(ctx context.Context, e *entities.Entity) error {
	if err := lifecycle.Rebind(ctx, e); err != nil {
		return err
	}
	if container.ContainerID(e) == "" || e.Expected() != entities.Running || !e.IsUp() {
		return nil
	}
	return adopt(ctx, e, false)
}

// adopt publishes the load balancer's own sensors, writes HAProxy's config for the pool
// as it is, and starts the watch of the pool and the stats feed. In a start (strict), a
// config HAProxy does not take fails the start; on rebind it is a problem of the entity,
// tried again at the next change.
func adopt(ctx context.Context, e *entities.Entity, strict bool) error {
	port, err := proxyPort(e)
	if err != nil {
		return err
	}
	e.SetAttribute(SensorPort, port)
	e.SetAttribute(sensors.HTTPPort, port)
	if v, ok := e.Attribute(sensors.MappedPrefix + strconv.Itoa(port)); ok {
		if hp, ok := toPort(v); ok {
			e.SetAttribute(sensors.MainURI, fmt.Sprintf("http://127.0.0.1:%d/", hp))
		}
	}
	var stats *tracker
	period := e.ConfigDuration(KeyStatsPeriod, 2*time.Second)
	if period > 0 {
		stats = &tracker{e: e}
	}
	w := newWatcher(e, port, stats)
	err = entities.Step(ctx, "Configure HAProxy for the server pool", func(ctx context.Context) error {
		return w.sync(ctx)
	})
	if err != nil && strict {
		return err
	}
	m := e.Management()
	m.StartFeed(e, watchFeed, time.Hour, w.run)
	if stats != nil {
		m.StartFeed(e, statsFeedName, period, stats.poll)
	}
	return nil
}
