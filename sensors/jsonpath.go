package sensors

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrNoValue is wrapped by JSONPath when the path selects nothing in the document.
var ErrNoValue = errors.New("no value at path")

// JSONPath selects a value of a decoded JSON document (maps, lists, strings, numbers,
// booleans, nil), as HttpRequestSensor's jsonPath does. It reads the usual subset of
// JSONPath: "$" (the whole document), ".name" and "['name']" (a member), "[2]" and
// "[-1]" (an element, counted from the end when negative) and "[*]" or ".*" (every
// element or member, which makes the result a list). The leading "$" may be left out.
// A path that selects nothing is an error wrapping ErrNoValue; a malformed path is
// another error.
func JSONPath(doc any, path string) (any, error) {
	steps, err := parseJSONPath(path)
	if err != nil {
		return nil, err
	}
	cur, many := []any{doc}, false
	for _, s := range steps {
		var next []any
		for _, v := range cur {
			next = append(next, s.apply(v)...)
		}
		if s.wildcard {
			many = true
		}
		cur = next
	}
	switch {
	case many:
		if cur == nil {
			cur = []any{}
		}
		return cur, nil
	case len(cur) == 0:
		return nil, fmt.Errorf("%s: %w", path, ErrNoValue)
	}
	return cur[0], nil
}

type jsonStep struct {
	key      string
	index    int
	isIndex  bool
	wildcard bool
}

func (s jsonStep) apply(v any) []any {
	switch {
	case s.wildcard:
		switch x := v.(type) {
		case []any:
			return x
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			out := make([]any, len(keys))
			for i, k := range keys {
				out[i] = x[k]
			}
			return out
		}
	case s.isIndex:
		if l, ok := v.([]any); ok {
			i := s.index
			if i < 0 {
				i += len(l)
			}
			if i >= 0 && i < len(l) {
				return []any{l[i]}
			}
		}
	default:
		if m, ok := v.(map[string]any); ok {
			if x, ok := m[s.key]; ok {
				return []any{x}
			}
		}
	}
	return nil
}

func parseJSONPath(path string) ([]jsonStep, error) {
	p := strings.TrimSpace(path)
	bad := func(why string) error { return fmt.Errorf("json path %q: %s", path, why) }
	p = strings.TrimPrefix(p, "$")
	if p != "" && p[0] != '.' && p[0] != '[' {
		p = "." + p // "a.b" means "$.a.b"
	}
	var steps []jsonStep
	for p != "" {
		switch p[0] {
		case '.':
			p = p[1:]
			if strings.HasPrefix(p, ".") {
				return nil, bad("deep scan (..) is not supported")
			}
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			name := p[:end]
			p = p[end:]
			switch name {
			case "":
				return nil, bad("empty member name")
			case "*":
				steps = append(steps, jsonStep{wildcard: true})
			default:
				steps = append(steps, jsonStep{key: name})
			}
		case '[':
			end := strings.IndexByte(p, ']')
			if q := p[1:]; len(q) > 0 && (q[0] == '\'' || q[0] == '"') {
				close := strings.IndexByte(q[1:], q[0])
				if close < 0 {
					return nil, bad("unterminated quoted name")
				}
				rest := q[1+close+1:]
				if !strings.HasPrefix(rest, "]") {
					return nil, bad("missing ] after quoted name")
				}
				steps = append(steps, jsonStep{key: q[1 : 1+close]})
				p = rest[1:]
				continue
			}
			if end < 0 {
				return nil, bad("missing ]")
			}
			inner := strings.TrimSpace(p[1:end])
			p = p[end+1:]
			if inner == "*" {
				steps = append(steps, jsonStep{wildcard: true})
				continue
			}
			i, err := strconv.Atoi(inner)
			if err != nil {
				return nil, bad(fmt.Sprintf("[%s] is not an index, a quoted name or *", inner))
			}
			steps = append(steps, jsonStep{index: i, isIndex: true})
		default:
			return nil, bad(fmt.Sprintf("unexpected %q", p[0]))
		}
	}
	return steps, nil
}
