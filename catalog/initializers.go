package catalog

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// initializers reads a brooklyn.initializers list. Each entry has a type (an
// initializer kind: its Brooklyn class name or short name) and its config, written at
// the top level of the entry or under brooklyn.config. Each is built once here, so
// that a bad entry is an error at its line before anything starts.
func (r *resolver) initializers(v *blueprints.Value) []entities.InitializerSpec {
	if v == nil || v.Raw == nil {
		return nil
	}
	items, _ := v.Raw.([]any)
	var out []entities.InitializerSpec
	for i := range items {
		item, _ := v.Index(i)
		if in, ok := r.initializer(item); ok {
			out = append(out, in)
		}
	}
	return out
}

func (r *resolver) initializer(item *blueprints.Value) (entities.InitializerSpec, bool) {
	m, isMap := item.Raw.(map[string]any)
	if !isMap {
		r.fail(item.Pos, item.Path, "an initializer is a map with a type and its config, not %s", kind(item.Raw))
		return entities.InitializerSpec{}, false
	}
	typeAt, hasType := item.At("type")
	name := ""
	if hasType {
		name, _ = typeAt.Raw.(string)
	}
	if strings.TrimSpace(name) == "" {
		r.fail(item.Pos, item.Path, "an initializer needs a type, such as ssh-command-sensor or %s", entities.SshCommandSensorType)
		return entities.InitializerSpec{}, false
	}
	k, err := entities.LookupInitializer(name)
	if err != nil {
		msg := err.Error()
		if s := blueprints.Suggest(name, initializerNames()); s != "" {
			msg = fmt.Sprintf("unknown initializer type %q; did you mean %q?", name, s)
		}
		r.fail(typeAt.Pos, typeAt.Path, "%s", strings.TrimSuffix(msg, ": "+entities.ErrNotFound.Error()))
		return entities.InitializerSpec{}, false
	}
	// Where each config key is written, for errors.
	where := map[string]*blueprints.Value{}
	cfg := map[string]any{}
	for key := range m {
		switch key {
		case "type":
		case "brooklyn.config":
			bc, _ := item.At(key)
			inner, ok := bc.Raw.(map[string]any)
			if bc.Raw != nil && !ok {
				r.fail(bc.Pos, bc.Path, "must be a map of config keys to values, not %s", kind(bc.Raw))
				return entities.InitializerSpec{}, false
			}
			for ik := range inner {
				at, _ := bc.At(ik)
				if first, dup := where[ik]; dup {
					r.fail(at.Pos, at.Path, "%q is also given at %s", ik, first.Pos)
					return entities.InitializerSpec{}, false
				}
				where[ik], cfg[ik] = at, inner[ik]
			}
		default:
			at, _ := item.At(key)
			if first, dup := where[key]; dup {
				r.fail(at.Pos, at.Path, "%q is also given at %s", key, first.Pos)
				return entities.InitializerSpec{}, false
			}
			where[key], cfg[key] = at, m[key]
		}
	}
	// $brooklyn: values are evaluated when used (a poll, a call); their syntax now.
	bad := false
	for _, key := range sortedKeys(where) {
		_, errs := blueprints.FindDSL(nil, where[key])
		r.errs = append(r.errs, errs...)
		bad = bad || len(errs) > 0
	}
	if bad {
		return entities.InitializerSpec{}, false
	}
	if _, err := k.Build(cfg); err != nil {
		pos, path := item.Pos, item.Path
		var ke *entities.KeyError
		if errors.As(err, &ke) && where[ke.Key] != nil {
			pos, path = where[ke.Key].Pos, where[ke.Key].Path
		}
		r.fail(pos, path, "%s: %v", k.Aliases[0], err)
		return entities.InitializerSpec{}, false
	}
	return entities.InitializerSpec{Type: k.Name, Config: maps.Clone(cfg)}, true
}

func initializerNames() []string {
	var names []string
	for _, k := range entities.InitializerKinds() {
		names = append(names, k.Name)
		names = append(names, k.Aliases...)
	}
	return names
}
