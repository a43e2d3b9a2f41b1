package catalog

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// Adjunct keys resolved here; policies and enrichers are in adjuncts.go.
const (
	parametersKey   = "brooklyn.parameters"
	initializersKey = "brooklyn.initializers"
)

// parameterKeys are the keys of one brooklyn.parameters entry; the last four are
// Brooklyn's and accepted without effect. secret marks a key whose values are masked.
var parameterKeys = []string{"name", "label", "description", "type", "default", "pinned", "secret", "constraints",
	"reconfigurable", "priority", "inheritance.parent", "inheritance.type", "inheritance.reconfigure"}

// parameterTypes maps the types a parameter may have, Brooklyn's short names and Java
// names alike, to the config types of Coerce.
var parameterTypes = map[string]string{
	"string": "string", "java.lang.String": "string",
	"integer": "integer", "int": "integer", "long": "integer", "short": "integer",
	"java.lang.Integer": "integer", "java.lang.Long": "integer", "java.lang.Short": "integer",
	"float": "number", "double": "number", "number": "number", "bigdecimal": "number",
	"java.lang.Float": "number", "java.lang.Double": "number", "java.lang.Number": "number",
	"boolean": "boolean", "bool": "boolean", "java.lang.Boolean": "boolean",
	"duration": "duration", "org.apache.brooklyn.util.time.Duration": "duration",
	"port": "port", "org.apache.brooklyn.api.location.PortRange": "port",
	"timestamp": "timestamp", "java.util.Date": "timestamp", "java.time.Instant": "timestamp",
	"list": "list", "java.util.List": "list", "java.util.Collection": "list", "java.util.Set": "list",
	"map": "map", "java.util.Map": "map",
	"object": "object", "java.lang.Object": "object",
}

// paramCheck is a declared parameter whose constraints are checked once the whole
// tree is resolved, since a value may come from an ancestor's config.
type paramCheck struct {
	spec *entities.Spec
	key  entities.ConfigKey
	pos  blueprints.Pos
	path string
}

// parameters reads a brooklyn.parameters list into the config keys it declares. Each
// entry is a name, or a map with name, label, description, type (default string),
// default, pinned and constraints ("required", {regex: ...}, {glob: ...}).
func (r *resolver) parameters(v *blueprints.Value, spec *entities.Spec) []entities.ConfigKey {
	if v == nil || v.Raw == nil {
		return nil
	}
	items, _ := v.Raw.([]any)
	var out []entities.ConfigKey
	seen := map[string]string{}
	for i := range items {
		item, _ := v.Index(i)
		k, ok := r.parameter(item)
		if !ok {
			continue
		}
		if first, dup := seen[k.Name]; dup {
			r.fail(item.Pos, item.Path, "parameter %q is declared twice (first at %s)", k.Name, first)
			continue
		}
		seen[k.Name] = item.Path
		out = append(out, k)
		r.paramChecks = append(r.paramChecks, paramCheck{spec: spec, key: k, pos: item.Pos, path: item.Path})
	}
	return out
}

func (r *resolver) parameter(item *blueprints.Value) (entities.ConfigKey, bool) {
	switch x := item.Raw.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			r.fail(item.Pos, item.Path, "a parameter needs a name")
			return entities.ConfigKey{}, false
		}
		return entities.ConfigKey{Name: x}, true
	case map[string]any:
	default:
		r.fail(item.Pos, item.Path, "a parameter is a name, or a map with name, type, default, description...; not %s", kind(item.Raw))
		return entities.ConfigKey{}, false
	}
	m := item.Raw.(map[string]any)
	ok := true
	for _, k := range sortedKeys(m) {
		if !slices.Contains(parameterKeys, k) {
			at, _ := item.At(k)
			msg := fmt.Sprintf("unknown key %q of a parameter", k)
			if s := blueprints.Suggest(k, parameterKeys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += " (use name, label, description, type, default, pinned, constraints)"
			}
			r.fail(at.Pos, at.Path, "%s", msg)
			ok = false
		}
	}
	text := func(key string) string {
		at, given := item.At(key)
		if !given || at.Raw == nil {
			return ""
		}
		s, isText := scalar(at.Raw)
		if !isText {
			r.fail(at.Pos, at.Path, "must be a string, not %s", kind(at.Raw))
			ok = false
		}
		return s
	}
	k := entities.ConfigKey{Name: text("name"), Label: text("label"), Description: text("description")}
	if strings.TrimSpace(k.Name) == "" {
		r.fail(item.Pos, item.Path, "a parameter needs a name")
		return k, false
	}
	// Without a type, a parameter is a string, or redeclares a key of the entity's
	// type with that key's type (see entities.WithParameters).
	typ := text("type")
	switch t, known := parameterTypes[typ]; {
	case typ == "":
	case known:
		k.Type = t
	case strings.Contains(typ, "."):
		k.Type = "object" // another Java type: taken as it comes
	default:
		at, _ := item.At("type")
		names := make([]string, 0, len(parameterTypes))
		for n := range parameterTypes {
			if !strings.Contains(n, ".") {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		msg := fmt.Sprintf("unknown parameter type %q", typ)
		if s := blueprints.Suggest(typ, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += " (use " + strings.Join(names, ", ") + ")"
		}
		r.fail(at.Pos, at.Path, "%s", msg)
		ok = false
	}
	for key, flag := range map[string]*bool{"pinned": &k.Pinned, "secret": &k.Secret} {
		if at, given := item.At(key); given && at.Raw != nil {
			b, err := Coerce("boolean", at.Raw)
			if err != nil {
				r.fail(at.Pos, at.Path, "%s", err)
				ok = false
			} else {
				*flag = b.(bool)
			}
		}
	}
	if at, given := item.At("default"); given && at.Raw != nil {
		d, err := Coerce(k.Type, at.Raw)
		if err != nil {
			r.fail(at.Pos, at.Path, "default of parameter %q: %s", k.Name, err)
			ok = false
		}
		k.Default = d
	}
	if at, given := item.At("constraints"); given && at.Raw != nil {
		cs, isList := at.Raw.([]any)
		if !isList {
			cs = []any{at.Raw}
		}
		for i, c := range cs {
			cat := at
			if isList {
				cat, _ = at.Index(i)
			}
			if err := checkConstraint(c); err != nil {
				r.fail(cat.Pos, cat.Path, "parameter %q: %s", k.Name, err)
				ok = false
			}
		}
		k.Constraints = cs
	}
	return k, ok
}

// checkConstraint accepts the constraints this server enforces: "required", and maps
// {regex: pattern} and {glob: pattern}.
func checkConstraint(c any) error {
	switch x := c.(type) {
	case string:
		if x == "required" {
			return nil
		}
	case map[string]any:
		if len(x) == 1 {
			for name, arg := range x {
				pattern, isText := arg.(string)
				switch {
				case name != "regex" && name != "glob":
				case !isText:
					return fmt.Errorf("constraint %s takes a pattern, not %s", name, kind(arg))
				case name == "regex":
					if _, err := regexp.Compile("^(?:" + pattern + ")$"); err != nil {
						return fmt.Errorf("constraint regex %q: %w", pattern, err)
					}
					return nil
				default:
					if _, err := path.Match(pattern, ""); err != nil {
						return fmt.Errorf("constraint glob %q: %w", pattern, err)
					}
					return nil
				}
			}
		}
	}
	return fmt.Errorf("constraint %s is not supported: use required, {regex: <pattern>} or {glob: <pattern>}", describeValue(c))
}

// violation says how value breaks a constraint, or "" when it holds. A DSL value, known
// only at run time, holds.
func violation(c any, value any, given bool) string {
	if c == "required" {
		if !given || value == nil {
			return "is required"
		}
		return ""
	}
	m, _ := c.(map[string]any)
	s, isText := scalar(value)
	if !given || value == nil || !isText || isDSL(value) {
		return ""
	}
	if p, ok := m["regex"].(string); ok {
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil && !re.MatchString(s) {
			return fmt.Sprintf("must match regex %q, not %q", p, s)
		}
	}
	if p, ok := m["glob"].(string); ok {
		if match, err := path.Match(p, s); err == nil && !match {
			return fmt.Sprintf("must match %q, not %q", p, s)
		}
	}
	return ""
}

// checkParameters checks the constraints of every declared parameter against the value
// its entity sees: its own config, else the nearest ancestor's, else the default.
func (r *resolver) checkParameters(root *entities.Spec, top []*entities.Spec) {
	if len(r.paramChecks) == 0 {
		return
	}
	parents := map[*entities.Spec]*entities.Spec{}
	for _, s := range top {
		specTree(s, func(x, parent *entities.Spec) {
			parents[x] = cmp.Or(parent, root)
		})
	}
	for _, pc := range r.paramChecks {
		value, given := any(nil), false
		for s := pc.spec; s != nil && !given; s = parents[s] {
			value, given = s.Config[pc.key.Name]
		}
		if !given && pc.key.Default != nil {
			value, given = pc.key.Default, true
		}
		for _, c := range pc.key.Constraints {
			if v := violation(c, value, given); v != "" {
				hint := ""
				if c == "required" {
					hint = ": give it a value in brooklyn.config, or a default"
				}
				r.fail(pc.pos, pc.path, "parameter %q %s%s", pc.key.Name, v, hint)
			}
		}
	}
}

// rootParameters declares the blueprint's own brooklyn.parameters on the application
// and coerces the root's brooklyn.config values of those keys.
func (r *resolver) rootParameters(plan *blueprints.Plan, app *entities.Spec) {
	app.Parameters = r.parameters(plan.Adjuncts[parametersKey], app)
	app.Initializers = r.initializers(plan.Adjuncts[initializersKey])
	for _, k := range app.Parameters {
		v, given := plan.Config[k.Name]
		if !given {
			continue
		}
		val, err := Coerce(k.Type, v.Raw)
		if err != nil {
			r.fail(v.Pos, v.Path, "%s", err)
			continue
		}
		app.Config[k.Name] = val
	}
}

// coercePort checks a port or port range (8080, "8000+", "8000-8100"); a single port
// is kept as a number.
func coercePort(v any) (any, error) {
	pr, err := locations.ParsePortRange(v)
	if err != nil {
		return nil, fmt.Errorf("must be a port or a port range such as 8080 or 8000+, not %s", describeValue(v))
	}
	if p, ok := pr.Single(); ok {
		return p, nil
	}
	return pr.String(), nil
}

// timestampLayouts are the forms of a timestamp parameter, besides epoch milliseconds.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// coerceTimestamp checks a timestamp (RFC 3339, a date, or epoch milliseconds) and
// keeps it in RFC 3339.
func coerceTimestamp(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return time.UnixMilli(int64(x)).UTC().Format(time.RFC3339Nano), nil
	case string:
		s := strings.TrimSpace(x)
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), nil
		}
		for _, l := range timestampLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC().Format(time.RFC3339Nano), nil
			}
		}
	}
	return nil, fmt.Errorf("must be a timestamp such as 2026-01-31T12:00:00Z, not %s", describeValue(v))
}
