package container

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// clockerKeys are Clocker's container keys beyond the basic ones: links between
// containers and ports bound one to one on the host.
var clockerKeys = []entities.ConfigKey{
	{Name: "links", Aliases: []string{"docker.container.links"}, Type: "object",
		Description: "Other containers of the application this one links to, as Docker's links: a list of their ids ([db], or [db:alias]) or a map of alias to id (or $brooklyn:component(...)). The container gets ALIAS_PORT_* environment variables and the alias as a host name; it starts once the linked containers run"},
	{Name: "directPorts", Aliases: []string{"docker.container.directPorts"}, Type: "ports",
		Description: "Container ports bound to the same port on the host (sensor mapped.port.<port>)"},
	{Name: "links.timeout", Type: "duration", Default: "10m",
		Description: "How long start waits for the linked containers to run"},
}

// directPorts adds the ports bound one to one on the host to spec.
func directPorts(e *entities.Entity, spec *locations.ContainerSpec) error {
	v, ok := e.Config("directPorts")
	if !ok || v == nil {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		l = []any{v}
	}
	for _, p := range l {
		n, err := toInt(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("directPorts: %v is not a port: %w", p, entities.ErrInvalid)
		}
		if spec.PortBindings == nil {
			spec.PortBindings = map[int]int{}
		}
		spec.PortBindings[n] = n
	}
	return nil
}

// link is one entry of the links config: the alias the linking container knows the
// other by, and what names the other.
type link struct {
	alias string
	ref   any // a blueprint id, entity id or name; an entity
}

// dslEntity reads the entity references of Clocker's links maps that the DSL has not
// turned into entities: $brooklyn:component("db") and $brooklyn:entity("db").
var dslEntity = regexp.MustCompile(`^\$brooklyn:(?:component|entity|sibling)\(\s*"([^"]+)"\s*\)$`)

// parseLinks reads the links config: a list of ids (an id, or "id:alias"), a map of
// alias to id or entity, or one id.
func parseLinks(v any) ([]link, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return parseLinks([]any{x})
	case []any:
		var out []link
		for i, item := range x {
			s, ok := item.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("links: item %d must be the id of a container entity, not %v: %w", i, item, entities.ErrInvalid)
			}
			ref, alias, _ := strings.Cut(s, ":")
			out = append(out, link{alias: cmp.Or(alias, ref), ref: ref})
		}
		return out, nil
	case map[string]any:
		var out []link
		for _, alias := range slices.Sorted(maps.Keys(x)) {
			if x[alias] == nil {
				return nil, fmt.Errorf("links: %s links to nothing: %w", alias, entities.ErrInvalid)
			}
			out = append(out, link{alias: alias, ref: x[alias]})
		}
		return out, nil
	}
	return nil, fmt.Errorf("links must be a list of ids or a map of alias to id, not %T: %w", v, entities.ErrInvalid)
}

// linkTarget finds the entity a link names, in e's application: by blueprint id, then
// entity id, then name.
func linkTarget(e *entities.Entity, ref any) (*entities.Entity, error) {
	var name string
	switch r := ref.(type) {
	case *entities.Entity:
		return r, nil
	case interface{ ID() string }:
		name = r.ID()
	case string:
		name = strings.TrimSpace(r)
		if m := dslEntity.FindStringSubmatch(name); m != nil {
			name = m[1]
		}
	case map[string]any:
		name, _ = r["id"].(string)
	default:
		return nil, fmt.Errorf("links: %v does not name an entity: %w", ref, entities.ErrInvalid)
	}
	all := e.Application().Descendants()
	for _, match := range []func(*entities.Entity) bool{
		func(o *entities.Entity) bool { return o.BlueprintID() == name },
		func(o *entities.Entity) bool { return o.ID() == name },
		func(o *entities.Entity) bool { return o.Name() == name },
	} {
		for _, o := range all {
			if o != e && match(o) {
				return o, nil
			}
		}
	}
	var ids []string
	for _, o := range all {
		if o != e && o.Type().Name == TypeName {
			ids = append(ids, cmp.Or(o.BlueprintID(), o.ID()))
		}
	}
	return nil, fmt.Errorf("links: no entity %q in the application (its containers: %s): %w", name, strings.Join(ids, ", "), entities.ErrNotFound)
}

// resolveLinks turns the links config into Docker's legacy links,
// "gantry-<entity id>:alias", once each linked container runs. Each wait is a subtask,
// so that the task tree says what a container waits for.
func resolveLinks(ctx context.Context, e *entities.Entity) ([]string, error) {
	v, _ := e.Config("links")
	ls, err := parseLinks(v)
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	timeout := e.ConfigDuration("links.timeout", 10*time.Minute)
	var out []string
	for _, l := range ls {
		target, err := linkTarget(e, l.ref)
		if err != nil {
			return nil, err
		}
		if target.Type().Name != TypeName {
			return nil, fmt.Errorf("links: %s is a %s, not a container: %w", target, target.Type().Name, entities.ErrInvalid)
		}
		if mine, theirs := e.Locations(), target.Locations(); len(mine) == 0 || len(theirs) == 0 || mine[0] != theirs[0] {
			return nil, fmt.Errorf("links: %s runs on %v, %s on %v: links need one engine: %w", target, theirs, e, mine, entities.ErrInvalid)
		}
		err = entities.Step(ctx, fmt.Sprintf("Wait for linked container %s (as %s)", target.Name(), l.alias), func(ctx context.Context) error {
			opts := blueprints.DefaultWaitOptions()
			opts.Timeout = timeout
			if _, err := entities.AttributeWhenReady(ctx, target, sensors.ContainerID, opts); err != nil {
				return err
			}
			_, err := entities.AttributeWhenReady(ctx, target, sensors.ServiceUp, opts)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("link %s: %w", l.alias, err)
		}
		out = append(out, containerName(target)+":"+l.alias)
	}
	return out, nil
}

// containerName is the name of the container of an entity.
func containerName(e *entities.Entity) string { return "gantry-" + e.ID() }

// execIn runs an initializer's command in the entity's container, as docker exec does.
func execIn(ctx context.Context, e *entities.Entity, cmd locations.Command) (int, error) {
	h, err := host(e)
	if err != nil {
		return -1, err
	}
	x, ok := h.(locations.ContainerExecutor)
	if !ok {
		return -1, fmt.Errorf("the engine of %s cannot run commands in containers: %w", e, locations.ErrInvalid)
	}
	id := containerID(e)
	if id == "" {
		return -1, fmt.Errorf("%s has no container: %w", e, locations.ErrNotFound)
	}
	return x.ExecContainer(ctx, id, cmd)
}
