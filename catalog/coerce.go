package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
)

// isDSL reports whether v is a $brooklyn: expression, evaluated at run time, whose type
// cannot be checked now.
func isDSL(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(strings.TrimSpace(s), "$brooklyn:")
}

// specType is the config type of keys that hold an entity spec (a cluster's
// dynamiccluster.memberspec): $brooklyn:entitySpec: {type: ...}, or the service map.
const specType = "spec"

// errUnknownType is wrapped by Coerce's error for a type it does not know.
var errUnknownType = errors.New("unknown config type")

// Coerce checks a blueprint value against a declared config type and converts it to the
// form the kind reads. Types: string, integer, number, boolean, duration, list, map,
// stringmap (a map of scalars, kept as strings), strings (a list of scalars, or one
// string), ports (a list of port numbers, or one), portmap (host port -> container port),
// port (a port or a port range), timestamp, object (anything), and spec (an entity spec,
// kept as written: the resolver reads it into Spec.EntitySpecs).
func Coerce(typ string, v any) (any, error) {
	if v == nil || isDSL(v) {
		return v, nil
	}
	switch typ {
	case "", "object", specType:
		return v, nil
	case "string":
		if s, ok := scalar(v); ok {
			return s, nil
		}
		return nil, fmt.Errorf("must be a string, not %s", kind(v))
	case "integer":
		if n, ok := blueprints.AsInteger(v); ok {
			return int(n), nil
		}
		return nil, fmt.Errorf("must be a whole number, not %s", describeValue(v))
	case "number":
		if f, ok := blueprints.AsNumber(v); ok {
			return f, nil
		}
		return nil, fmt.Errorf("must be a number, not %s", describeValue(v))
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("must be true or false, not %s", describeValue(v))
	case "duration":
		switch x := v.(type) {
		case int:
			return (time.Duration(x) * time.Millisecond).String(), nil
		case string:
			x = strings.TrimSpace(x)
			if ms, err := strconv.Atoi(x); err == nil {
				return (time.Duration(ms) * time.Millisecond).String(), nil
			}
			if d, err := time.ParseDuration(x); err == nil {
				return d.String(), nil
			}
		}
		return nil, fmt.Errorf("must be a duration such as 30s or 5m, not %s", describeValue(v))
	case "list":
		if l, ok := v.([]any); ok {
			return l, nil
		}
		return nil, fmt.Errorf("must be a list, not %s", kind(v))
	case "strings":
		if s, ok := v.(string); ok {
			return s, nil
		}
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a list of strings or one string, not %s", kind(v))
		}
		out := make([]any, len(l))
		for i, x := range l {
			s, ok := scalar(x)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string, not %s", i, kind(x))
			}
			out[i] = s
		}
		return out, nil
	case "ports":
		l, ok := v.([]any)
		if !ok {
			l = []any{v}
		}
		out := make([]any, len(l))
		for i, x := range l {
			n, err := port(x)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = n
		}
		return out, nil
	case "portmap":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("must be a map of host port to container port, not %s", kind(v))
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if _, err := port(k); err != nil {
				return nil, fmt.Errorf("host port %q: %w", k, err)
			}
			n, err := port(x)
			if err != nil {
				return nil, fmt.Errorf("container port for host port %s: %w", k, err)
			}
			out[k] = n
		}
		return out, nil
	case "port":
		return coercePort(v)
	case "timestamp":
		return coerceTimestamp(v)
	case "map":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return nil, fmt.Errorf("must be a map, not %s", kind(v))
	case "stringmap":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("must be a map of names to values, not %s", kind(v))
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if x == nil || isDSL(x) {
				out[k] = x
				continue
			}
			s, ok := scalar(x)
			if !ok {
				return nil, fmt.Errorf("value of %q must be a string, not %s", k, kind(x))
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w %q", errUnknownType, typ)
}

// port reads a TCP port number from a number or a string.
func port(v any) (int, error) {
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case float64:
		n = int(x)
		if float64(n) != x {
			return 0, fmt.Errorf("port must be a whole number, not %v", x)
		}
	case string:
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			return 0, fmt.Errorf("port must be a number, not %q", x)
		}
	default:
		return 0, fmt.Errorf("port must be a number, not %s", kind(v))
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range 1-65535", n)
	}
	return n, nil
}

// scalar renders a string, number or boolean as text.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, bool:
		return fmt.Sprint(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func describeValue(v any) string {
	if s, ok := scalar(v); ok {
		return fmt.Sprintf("%q", s)
	}
	return kind(v)
}
