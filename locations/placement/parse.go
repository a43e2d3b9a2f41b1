package placement

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParseStrategies reads a chain from configuration, as decoded from YAML or JSON:
//
//	[{type: max-containers, max: 2}, {type: breadth-first}]
//
// It accepts a list whose entries are maps ({type: ..., <params>} or {type: ...,
// params: {...}}, the JSON form of Strategy), bare type names ("breadth-first"), or
// Strategy values; a single such entry; a []Strategy; or a string, either JSON (starting
// with '[' or '{') or comma-separated type names ("max-memory, breadth-first"). nil gives
// an empty chain. Every strategy is validated and compiled; errors wrap ErrInvalid and name
// the entry and the key: `strategies[0] (max-containers): key max: want an integer >= 1,
// got "two"`.
func ParseStrategies(v any) ([]Strategy, error) {
	entries, err := entriesOf(v)
	if err != nil {
		return nil, err
	}
	out := make([]Strategy, 0, len(entries))
	for i, e := range entries {
		s, err := parseEntry(e)
		if err == nil {
			s.c, err = compileStrategy(s.Type, s.Params)
			if err == nil {
				s.Type = s.c.name
			}
		}
		if err != nil {
			where := fmt.Sprintf("strategies[%d]", i)
			if s.Type != "" {
				where += " (" + s.Type + ")"
			}
			// The compile error starts with the type already: keep one.
			msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
			if s.c == nil && s.Type != "" {
				msg = strings.TrimPrefix(msg, normalizeType(s.Type)+": ")
			}
			return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, where, msg)
		}
		out = append(out, s)
	}
	return out, nil
}

func entriesOf(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []Strategy:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, nil
	case map[string]any, map[any]any, Strategy:
		return []any{x}, nil
	case string:
		t := strings.TrimSpace(x)
		if t == "" {
			return nil, nil
		}
		if t[0] == '[' || t[0] == '{' {
			var decoded any
			dec := json.NewDecoder(strings.NewReader(t))
			dec.UseNumber()
			if err := dec.Decode(&decoded); err != nil {
				return nil, fmt.Errorf("%w: strategies: not a JSON list: %v", ErrInvalid, err)
			}
			return entriesOf(decoded)
		}
		var out []any
		for _, name := range strings.Split(t, ",") {
			out = append(out, strings.TrimSpace(name))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: strategies: want a list of {type: ..., ...}, got %T", ErrInvalid, v)
}

func parseEntry(e any) (Strategy, error) {
	switch x := e.(type) {
	case Strategy:
		return Strategy{Type: x.Type, Params: x.Params}, nil
	case string:
		return Strategy{Type: x}, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			ks, ok := k.(string)
			if !ok {
				return Strategy{}, fmt.Errorf("%w: key %v is not a string", ErrInvalid, k)
			}
			m[ks] = v
		}
		return parseEntry(m)
	case map[string]any:
		var s Strategy
		t, ok := x["type"]
		if !ok {
			return s, fmt.Errorf("%w: missing key type (one of %s)", ErrInvalid, typeNames())
		}
		if s.Type, ok = t.(string); !ok {
			return s, fmt.Errorf("%w: key type: want a string, got %s", ErrInvalid, show(t))
		}
		for k, v := range x {
			if k == "type" {
				continue
			}
			if k == "params" {
				pm, err := paramsMap(v)
				if err != nil {
					return s, err
				}
				for pk, pv := range pm {
					if s.Params == nil {
						s.Params = map[string]any{}
					}
					if _, dup := s.Params[pk]; dup {
						return s, fmt.Errorf("%w: key %s given twice", ErrInvalid, pk)
					}
					s.Params[pk] = pv
				}
				continue
			}
			if s.Params == nil {
				s.Params = map[string]any{}
			}
			if _, dup := s.Params[k]; dup {
				return s, fmt.Errorf("%w: key %s given twice", ErrInvalid, k)
			}
			s.Params[k] = v
		}
		return s, nil
	}
	return Strategy{}, fmt.Errorf("%w: want {type: ..., ...} or a type name, got %s", ErrInvalid, show(e))
}

func paramsMap(v any) (map[string]any, error) {
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%w: key params: key %v is not a string", ErrInvalid, k)
			}
			out[ks] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: key params: want a map, got %s", ErrInvalid, show(v))
}
