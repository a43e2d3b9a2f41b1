package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// Config keys and sensors of ControlledDynamicWebAppCluster, with Brooklyn's names.
const (
	KeyControllerSpec = "controlleddynamicwebappcluster.controllerSpec"
	KeyWebClusterSpec = "controlleddynamicwebappcluster.webClusterSpec"
	// SensorCluster and SensorController are the ids of its two children.
	SensorCluster    = "controlleddynamicwebappcluster.cluster"
	SensorController = "controlleddynamicwebappcluster.controller"
)

// The load balancer a ControlledDynamicWebAppCluster makes when no controllerSpec is
// given: the load-balancer kind (entities/proxy), pointed at the cluster by its
// loadbalancer.serverpool config, which holds the cluster's entity id.
const (
	LoadBalancerType = "load-balancer"
	KeyServerPool    = "loadbalancer.serverpool"
)

func init() {
	entities.Register(&entities.Type{
		Name:    ControlledType,
		Aliases: []string{"controlled-cluster", "ControlledDynamicWebAppCluster"},
		Description: "A DynamicCluster of web servers behind a load balancer (its controller), both made on the first start; " +
			"resizes go to the cluster, its members are mirrored here, and the load balancer's main.uri is published as its own",
		Config: []entities.ConfigKey{
			{Name: KeyInitialSize, Aliases: []string{"initialSize"}, Type: "integer", Default: 1, Description: "Number of web servers made at the first start"},
			{Name: KeyMaxSize, Aliases: []string{"maxSize"}, Type: "integer", Description: "Most web servers the cluster grows to (default: no limit)"},
			{Name: KeyMemberSpec, Aliases: []string{"memberSpec"}, Type: "spec", Description: "Spec of the web servers ($brooklyn:entitySpec)"},
			{Name: KeyControllerSpec, Aliases: []string{"controllerSpec"}, Type: "spec", Description: "Spec of the load balancer (default: a load-balancer)"},
			{Name: KeyWebClusterSpec, Aliases: []string{"webClusterSpec"}, Type: "spec", Description: "Spec of the cluster (default: a DynamicCluster)"},
		},
		Sensors: append(groupSensors(),
			entities.SensorType{Name: sensors.MainURI, Type: "java.net.URI", Description: "The load balancer's main.uri"},
			entities.SensorType{Name: sensors.RequestsPerSecond, Type: "java.lang.Double", Description: "The load balancer's request rate"},
			entities.SensorType{Name: sensors.RequestsInFlight, Type: "java.lang.Integer", Description: "The load balancer's requests in flight"},
			entities.SensorType{Name: sensors.RequestsTotal, Type: "java.lang.Long", Description: "The load balancer's request count"},
			entities.SensorType{Name: sensors.RequestsPerSecondPerNode, Type: "java.lang.Double", Description: "The request rate divided by the number of members: the metric to autoscale on"},
			entities.SensorType{Name: SensorCluster, Type: "java.lang.String", Description: "Id of the cluster"},
			entities.SensorType{Name: SensorController, Type: "java.lang.String", Description: "Id of the load balancer"},
		),
		Effectors: []entities.Effector{
			{Name: "resize", Description: "Change the number of web servers", ReturnType: "java.lang.Integer",
				Params: []entities.Param{{Name: "desiredSize", Type: "java.lang.Integer", Description: "The new number of web servers"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					n, err := intParam(p, "desiredSize")
					if err != nil {
						return nil, err
					}
					c, err := controlledCluster(e)
					if err != nil {
						return nil, err
					}
					var size int
					err = entities.StepOn(ctx, c, "Resizing "+c.Name(), func(ctx context.Context) (err error) {
						size, err = Resize(ctx, c, n)
						return err
					})
					return size, err
				}},
			{Name: "resizeByDelta", Description: "Change the number of web servers by delta; returns the ids of those added or removed", ReturnType: "java.util.Collection",
				Params: []entities.Param{{Name: "delta", Type: "java.lang.Integer", Description: "The change in number of web servers"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					d, err := intParam(p, "delta")
					if err != nil {
						return nil, err
					}
					c, err := controlledCluster(e)
					if err != nil {
						return nil, err
					}
					var ids []string
					err = entities.StepOn(ctx, c, "Resizing "+c.Name(), func(ctx context.Context) (err error) {
						ids, err = ResizeByDelta(ctx, c, d)
						return err
					})
					return ids, err
				}},
			{Name: "replaceMember", Description: "Start a new web server, then remove the given one; returns the new one's id", ReturnType: "java.lang.String",
				Params: []entities.Param{{Name: "memberId", Type: "java.lang.String", Description: "The id of the web server to replace"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					id, err := stringParam(p, "memberId")
					if err != nil {
						return nil, err
					}
					c, err := controlledCluster(e)
					if err != nil {
						return nil, err
					}
					var nid string
					err = entities.StepOn(ctx, c, "Replacing a member of "+c.Name(), func(ctx context.Context) (err error) {
						nid, err = ReplaceMember(ctx, c, id)
						return err
					})
					return nid, err
				}},
		},
		Start: startControlled,
		Rebind: func(ctx context.Context, e *entities.Entity) error {
			if x := e.Expected(); x != entities.Running && x != entities.Starting {
				return nil
			}
			c, lb := childByAttr(e, SensorCluster), childByAttr(e, SensorController)
			if c != nil && lb != nil {
				follow(e, c, lb)
			}
			return nil
		},
	})
}

// controlledCluster returns the cluster of a ControlledDynamicWebAppCluster.
func controlledCluster(e *entities.Entity) (*entities.Entity, error) {
	c := childByAttr(e, SensorCluster)
	if c == nil {
		return nil, fmt.Errorf("%s has no cluster yet: start it first: %w", e, entities.ErrInvalid)
	}
	return c, nil
}

// childByAttr returns the child of e whose id the sensor holds, or nil.
func childByAttr(e *entities.Entity, sensor string) *entities.Entity {
	id := attrString(e, sensor)
	if id == "" {
		return nil
	}
	c, err := e.Management().Entity(id)
	if err != nil || c.Parent() != e {
		return nil
	}
	return c
}

// startControlled makes the cluster and the load balancer the first time (the lifecycle
// starts them next, in parallel), and follows them.
func startControlled(ctx context.Context, e *entities.Entity) error {
	m := e.Management()
	c := childByAttr(e, SensorCluster)
	if c == nil {
		spec := &entities.Spec{Type: ClusterType, Name: "cluster"}
		if s, ok := e.EntitySpec(KeyWebClusterSpec); ok && s != nil {
			spec = s
		}
		var err error
		if c, err = m.AddChild(ctx, e, spec); err != nil {
			return fmt.Errorf("make the cluster of %s: %w", e, err)
		}
		e.SetAttribute(SensorCluster, c.ID())
	}
	lb := childByAttr(e, SensorController)
	if lb == nil {
		spec := &entities.Spec{Type: LoadBalancerType, Name: "controller"}
		if s, ok := e.EntitySpec(KeyControllerSpec); ok && s != nil {
			spec = s
		} else if _, err := entities.LookupType(LoadBalancerType); err != nil {
			return fmt.Errorf("%s needs a load balancer: no %s kind is registered; set %s: %w", e, LoadBalancerType, KeyControllerSpec, entities.ErrInvalid)
		}
		s := *spec
		s.Config = maps.Clone(spec.Config)
		if s.Config == nil {
			s.Config = map[string]any{}
		}
		if _, set := s.Config[KeyServerPool]; !set {
			s.Config[KeyServerPool] = c.ID()
		}
		var err error
		if lb, err = m.AddChild(ctx, e, &s); err != nil {
			return fmt.Errorf("make the load balancer of %s: %w", e, err)
		}
		e.SetAttribute(SensorController, lb.ID())
	}
	follow(e, c, lb)
	return nil
}

// fromController are the load balancer's sensors the pair publishes as its own.
var fromController = []string{sensors.MainURI, sensors.RequestsTotal, sensors.RequestsPerSecond, sensors.RequestsInFlight}

// follow keeps e's members the cluster's, and the load balancer's main.uri and request
// sensors e's own, until e stops; it also publishes the request rate per member
// (webapp.reqs.perSec.perNode), the metric an autoscaler on the pair watches.
func follow(e, c, lb *entities.Entity) {
	m := e.Management()
	perNode := func() {
		rate, ok := lb.Attribute(sensors.RequestsPerSecond)
		f, isNum := rate.(float64)
		if !ok || !isNum {
			return
		}
		e.SetAttribute(sensors.RequestsPerSecondPerNode, f/float64(max(len(c.Members()), 1)))
	}
	m.StartFeed(e, trackFeed, trackPeriod, func(ctx context.Context) {
		cancel := m.Bus().Subscribe(func(ev sensors.Event) bool {
			return (ev.Entity == c.ID() && ev.Sensor == sensors.GroupMembers) ||
				(ev.Entity == lb.ID() && slices.Contains(fromController, ev.Sensor))
		}, func(ev sensors.Event) {
			if ev.Entity == c.ID() {
				mirror(e, c)
			} else {
				e.SetAttribute(ev.Sensor, ev.Value)
			}
			perNode()
		})
		defer cancel()
		mirror(e, c)
		for _, s := range fromController {
			if v, ok := lb.Attribute(s); ok {
				e.SetAttribute(s, v)
			}
		}
		perNode()
		<-ctx.Done()
	})
}

// mirror makes e's members those of the cluster c (a read-only view, as Brooklyn's).
func mirror(e, c *entities.Entity) {
	want := c.Members()
	for _, x := range e.Members() {
		if !slices.Contains(want, x) {
			e.RemoveMember(x)
		}
	}
	for _, x := range want {
		e.AddMember(x)
	}
}
