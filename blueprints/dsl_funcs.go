package blueprints

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DSLFunc describes a function of the $brooklyn: DSL.
type DSLFunc struct {
	Name     string
	Min, Max int  // how many arguments; Max < 0 for any number
	Scope    bool // names an entity: a chain may go on after it, as in entity("db").config("k")
	Method   bool // may follow an entity in a chain
	Raw      bool // its argument is data, returned as written (literal, entitySpec, object)
	Doc      string
}

var dslFuncs = map[string]DSLFunc{}

func init() {
	for _, f := range []DSLFunc{
		{Name: "self", Scope: true, Method: true, Doc: "the entity itself"},
		{Name: "parent", Scope: true, Method: true, Doc: "the entity's parent"},
		{Name: "root", Scope: true, Method: true, Doc: "the application"},
		{Name: "scopeRoot", Scope: true, Method: true, Doc: "the root of the blueprint or catalog item the entity comes from"},
		{Name: "entity", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the nearest entity of the application with this id"},
		{Name: "component", Min: 1, Max: 2, Scope: true, Method: true, Doc: "entity(id), or component(scope, id) with a scope such as \"child\""},
		{Name: "child", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the child with this id"},
		{Name: "sibling", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the sibling with this id"},
		{Name: "descendant", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the nearest descendant with this id"},
		{Name: "ancestor", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the nearest ancestor with this id"},
		{Name: "member", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the nearest descendant or group member with this id"},
		{Name: "application", Min: 1, Max: 1, Scope: true, Method: true, Doc: "the entity with this id in this application, else in any other"},
		{Name: "config", Min: 1, Max: 1, Method: true, Doc: "a config value, the entity's own or inherited"},
		{Name: "attributeWhenReady", Min: 1, Max: 2, Method: true, Doc: "a sensor value, once it is truthy; options {timeout, timeout_if_down, abort_if_on_fire, wait_for_truthy}"},
		{Name: "sensor", Min: 1, Max: 2, Method: true, Doc: "a sensor, by name (or class and name)"},
		{Name: "entityId", Method: true, Doc: "the entity's id"},
		{Name: "formatString", Min: 1, Max: -1, Doc: "Java's String.format: %s, %d, %f, %x, %%..."},
		{Name: "urlEncode", Min: 1, Max: 1, Doc: "the value encoded for a URL (application/x-www-form-urlencoded)"},
		{Name: "regexReplacement", Min: 3, Max: 3, Doc: "replace every match of a regular expression ($1 for groups)"},
		{Name: "literal", Min: 1, Max: 1, Raw: true, Doc: "the argument as written, with no DSL evaluated"},
		{Name: "entitySpec", Min: 1, Max: 1, Raw: true, Doc: "an entity spec (a map), evaluated later by whoever creates the entity"},
		{Name: "object", Min: 1, Max: 1, Raw: true, Doc: "an object spec (a map with type and fields)"},
		{Name: "external", Min: 2, Max: 2, Doc: "a value from an external config provider, such as external(\"env\", \"NAME\")"},
	} {
		dslFuncs[f.Name] = f
	}
}

// LookupDSLFunc describes the function name.
func LookupDSLFunc(name string) (DSLFunc, bool) {
	f, ok := dslFuncs[name]
	return f, ok
}

// DSLFunctions lists every function of the DSL, by name.
func DSLFunctions() []DSLFunc {
	out := make([]DSLFunc, 0, len(dslFuncs))
	for _, n := range slices.Sorted(maps.Keys(dslFuncs)) {
		out = append(out, dslFuncs[n])
	}
	return out
}

// componentScopes are the scope names component(scope, id) takes, as Brooklyn spells
// them, and the function each stands for.
var componentScopes = map[string]string{
	"global": "entity", "child": "child", "parent": "parent", "sibling": "sibling",
	"descendant": "descendant", "ancestor": "ancestor", "root": "root", "scopeRoot": "scopeRoot",
	"this": "self", "member": "member", "application": "application",
}

// ComponentScope returns the scope function that component(scope, id) stands for.
func ComponentScope(scope string) (string, bool) {
	f, ok := componentScopes[scope]
	return f, ok
}

// attributeOptions are the keys of attributeWhenReady's options.
var attributeOptions = []string{"timeout", "timeout_if_down", "abort_if_on_fire", "wait_for_truthy"}

func dslErrorf(x Expr, format string, args ...any) *DSLError {
	return &DSLError{Offset: x.Offset(), Msg: fmt.Sprintf(format, args...)}
}

// checkExpr checks that every call names a known function, in a place where it may
// be, with the arguments it takes.
func checkExpr(x Expr) error {
	switch n := x.(type) {
	case *List:
		for _, e := range n.Items {
			if err := checkExpr(e); err != nil {
				return err
			}
		}
	case *Map:
		for _, k := range n.Keys {
			if err := checkExpr(n.Entries[k]); err != nil {
				return err
			}
		}
	case *Call:
		return checkCall(n)
	}
	return nil
}

func checkCall(c *Call) error {
	f, ok := dslFuncs[c.Name]
	if c.Target != nil {
		if err := checkExpr(c.Target); err != nil {
			return err
		}
		if t, isCall := c.Target.(*Call); !isCall || !dslFuncs[t.Name].Scope {
			return dslErrorf(c, "%s gives a value, not an entity: .%s cannot follow it", describeCall(c.Target), c.Name)
		}
		if !ok || !f.Method {
			return dslErrorf(c, "%s cannot follow an entity (that takes config, attributeWhenReady, sensor, entityId or a scope such as child)%s", c.Name, suggestFunc(c.Name, true))
		}
	} else if !ok {
		return dslErrorf(c, "unknown function %s%s", c.Name, suggestFunc(c.Name, false))
	}
	if n := len(c.Args); n < f.Min || (f.Max >= 0 && n > f.Max) {
		return dslErrorf(c, "%s takes %s, not %d", c.Name, arity(f), n)
	}
	for _, a := range c.Args {
		if err := checkExpr(a); err != nil {
			return err
		}
	}
	return checkArgs(c, f)
}

func describeCall(x Expr) string {
	if c, ok := x.(*Call); ok {
		return c.Name + "(...)"
	}
	return x.String()
}

func suggestFunc(name string, method bool) string {
	var names []string
	for _, f := range dslFuncs {
		if !method || f.Method {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	if s := Suggest(name, names); s != "" {
		return fmt.Sprintf("; did you mean %s?", s)
	}
	return ""
}

func arity(f DSLFunc) string {
	plural := func(n int) string {
		words := []string{"no arguments", "one argument", "two arguments", "three arguments"}
		if n < len(words) {
			return words[n]
		}
		return fmt.Sprintf("%d arguments", n)
	}
	switch {
	case f.Max < 0:
		return "at least " + plural(f.Min)
	case f.Min == f.Max:
		return plural(f.Min)
	default:
		return fmt.Sprintf("%d or %d arguments", f.Min, f.Max)
	}
}

// checkArgs checks what can be checked of the arguments before anything runs: those
// written as literals.
func checkArgs(c *Call, f DSLFunc) error {
	switch c.Name {
	case "entity", "child", "sibling", "descendant", "ancestor", "member", "application":
		return stringArg(c, 0, "an id")
	case "component":
		if len(c.Args) == 2 {
			if s, ok := litString(c.Args[0]); ok {
				if _, known := componentScopes[s]; !known {
					return dslErrorf(c.Args[0], "component: unknown scope %s (scopes: %s)", quote(s), strings.Join(slices.Sorted(maps.Keys(componentScopes)), ", "))
				}
			} else if err := stringArg(c, 0, "a scope"); err != nil {
				return err
			}
			return stringArg(c, 1, "an id")
		}
		return stringArg(c, 0, "an id")
	case "config":
		return stringArg(c, 0, "a config key")
	case "sensor":
		for i := range c.Args {
			if err := stringArg(c, i, "a sensor name"); err != nil {
				return err
			}
		}
	case "attributeWhenReady":
		if err := stringArg(c, 0, "a sensor name"); err != nil {
			return err
		}
		if len(c.Args) == 2 {
			return checkWaitOptions(c.Args[1])
		}
	case "formatString":
		if _, isLit := c.Args[0].(*Lit); isLit {
			if err := stringArg(c, 0, "a format"); err != nil {
				return err
			}
			s, _ := litString(c.Args[0])
			if err := checkFormat(s, len(c.Args)-1); err != nil {
				return dslErrorf(c.Args[0], "formatString: %v", err)
			}
		} else if err := stringArg(c, 0, "a format"); err != nil {
			return err
		}
	case "regexReplacement":
		for i := range c.Args {
			if err := scalarArg(c, i); err != nil {
				return err
			}
		}
		groups, names := 99, []string(nil) // any, while the pattern is not known
		if s, ok := litString(c.Args[1]); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				return dslErrorf(c.Args[1], "regexReplacement: bad pattern: %v", err)
			}
			groups, names = re.NumSubexp(), re.SubexpNames()
		}
		if s, ok := litString(c.Args[2]); ok {
			if _, err := javaReplacement(s, groups, names); err != nil {
				return dslErrorf(c.Args[2], "regexReplacement: bad replacement: %v", err)
			}
		}
	case "urlEncode":
		return scalarArg(c, 0)
	case "external":
		if err := stringArg(c, 0, "a provider name"); err != nil {
			return err
		}
		return stringArg(c, 1, "a key")
	case "entitySpec", "object":
		switch a := c.Args[0].(type) {
		case *Map:
		case *Lit:
			if _, isMap := a.Value.(map[string]any); !isMap {
				return dslErrorf(a, "%s takes a map, not %s", c.Name, a.String())
			}
		case *Call:
		default:
			return dslErrorf(a, "%s takes a map, not %s", c.Name, a.String())
		}
	}
	return nil
}

func litString(x Expr) (string, bool) {
	l, ok := x.(*Lit)
	if !ok {
		return "", false
	}
	s, ok := l.Value.(string)
	return s, ok
}

// stringArg checks that argument i is a non-empty string or a call that gives one.
func stringArg(c *Call, i int, what string) error {
	switch a := c.Args[i].(type) {
	case *Call:
		return nil
	case *Lit:
		s, ok := a.Value.(string)
		if !ok {
			return dslErrorf(a, "%s takes %s as a string, not %s", c.Name, what, a.String())
		}
		if strings.TrimSpace(s) == "" {
			return dslErrorf(a, "%s takes %s, not an empty string", c.Name, what)
		}
		return nil
	default:
		return dslErrorf(a, "%s takes %s as a string, not %s", c.Name, what, a.String())
	}
}

// scalarArg checks that argument i is not a list or a map.
func scalarArg(c *Call, i int) error {
	switch a := c.Args[i].(type) {
	case *List, *Map:
		return dslErrorf(a, "%s takes a string, not %s", c.Name, a.String())
	case *Lit:
		switch a.Value.(type) {
		case []any, map[string]any:
			return dslErrorf(a, "%s takes a string, not %s", c.Name, a.String())
		}
	}
	return nil
}

func checkWaitOptions(x Expr) error {
	m, ok := x.(*Map)
	if !ok {
		if _, isCall := x.(*Call); isCall {
			return nil
		}
		return dslErrorf(x, "attributeWhenReady takes its options as a map, as in {timeout: 5m}, not %s", x.String())
	}
	for _, k := range m.Keys {
		v := m.Entries[k]
		if !slices.Contains(attributeOptions, k) {
			hint := ""
			if s := Suggest(k, attributeOptions); s != "" {
				hint = fmt.Sprintf("; did you mean %s?", s)
			}
			return dslErrorf(v, "attributeWhenReady: unknown option %s (options: %s)%s", k, strings.Join(attributeOptions, ", "), hint)
		}
		lit, isLit := v.(*Lit)
		if !isLit {
			continue
		}
		switch k {
		case "timeout", "timeout_if_down":
			if _, err := ParseDuration(lit.Value); err != nil {
				return dslErrorf(v, "attributeWhenReady: %s: %v", k, err)
			}
		default:
			if _, err := parseBool(lit.Value); err != nil {
				return dslErrorf(v, "attributeWhenReady: %s: %v", k, err)
			}
		}
	}
	return nil
}

// WaitOptions are attributeWhenReady's options, as Brooklyn names them.
type WaitOptions struct {
	Timeout       time.Duration // how long to wait in all; Forever by default
	TimeoutIfDown time.Duration // how long to wait once the target is stopping or stopped (1m)
	AbortIfOnFire bool          // fail as soon as the target is on fire (default true)
	WaitForTruthy bool          // wait for a truthy value, not just any (default true)
}

// DefaultWaitOptions are Brooklyn's defaults.
func DefaultWaitOptions() WaitOptions {
	return WaitOptions{Timeout: Forever, TimeoutIfDown: time.Minute, AbortIfOnFire: true, WaitForTruthy: true}
}

// ParseWaitOptions reads attributeWhenReady's options from an evaluated map.
func ParseWaitOptions(v any) (WaitOptions, error) {
	o := DefaultWaitOptions()
	if v == nil {
		return o, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return o, fmt.Errorf("options must be a map, as in {timeout: 5m}, not %s", writeValue(v))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var err error
		switch k {
		case "timeout":
			o.Timeout, err = ParseDuration(m[k])
		case "timeout_if_down":
			o.TimeoutIfDown, err = ParseDuration(m[k])
		case "abort_if_on_fire":
			o.AbortIfOnFire, err = parseBool(m[k])
		case "wait_for_truthy":
			o.WaitForTruthy, err = parseBool(m[k])
		default:
			err = fmt.Errorf("unknown option (options: %s)", strings.Join(attributeOptions, ", "))
		}
		if err != nil {
			return o, fmt.Errorf("%s: %w", k, err)
		}
	}
	return o, nil
}

func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes":
			return true, nil
		case "false", "no":
			return false, nil
		}
	}
	return false, fmt.Errorf("must be true or false, not %s", writeValue(v))
}

// Truthy is Groovy's truth, as attributeWhenReady waits for it: not null, false, zero,
// an empty string, list or map.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case int64:
		return x != 0
	case uint64:
		return x != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}
