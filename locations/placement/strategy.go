package placement

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

type kind uint8

const (
	kindNone kind = iota
	// filters
	kindMaxContainers
	kindMaxCPU
	kindMaxMemory
	kindHostname
	kindLabel
	kindGroup
	kindAffinity
	kindAntiAffinity
	// sorters
	kindBreadthFirst
	kindDepthFirst
	kindLeastContainers
	kindRandom

	numKinds
)

func (k kind) sorter() bool { return k >= kindBreadthFirst }

// limit kinds are replaced by a host's own strategy of the same kind.
func (k kind) limit() bool { return k == kindMaxContainers || k == kindMaxCPU || k == kindMaxMemory }

type typeInfo struct {
	name   string
	kind   kind
	params map[string]string // accepted key -> canonical key
}

var types = []typeInfo{
	{"max-containers", kindMaxContainers, map[string]string{"max": "max", "maxcontainers": "max"}},
	{"max-cpu", kindMaxCPU, map[string]string{"ratio": "ratio"}},
	{"max-memory", kindMaxMemory, map[string]string{"ratio": "ratio"}},
	{"hostname", kindHostname, map[string]string{"pattern": "pattern", "regex": "pattern"}},
	{"label", kindLabel, map[string]string{"labels": "labels"}},
	{"group", kindGroup, map[string]string{}},
	{"affinity", kindAffinity, map[string]string{"expr": "expr", "rule": "expr"}},
	{"anti-affinity", kindAntiAffinity, map[string]string{"expr": "expr", "rule": "expr"}},
	{"breadth-first", kindBreadthFirst, map[string]string{}},
	{"depth-first", kindDepthFirst, map[string]string{}},
	{"least-containers", kindLeastContainers, map[string]string{}},
	{"random", kindRandom, map[string]string{"seed": "seed"}},
}

// Types lists the strategy types, filters first.
func Types() []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.name
	}
	return out
}

func typeNames() string { return strings.Join(Types(), ", ") }

// normalizeType maps "BreadthFirst", "breadth_first", "BREADTH-FIRST" and Clocker's
// "clocker.docker.location.strategy.basic.BreadthFirstPlacementStrategy" to "breadth-first".
func normalizeType(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, "PlacementStrategy")
	s = strings.TrimSuffix(s, "Strategy")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' || r == ' ':
			b.WriteByte('-')
		case r >= 'A' && r <= 'Z':
			if i > 0 && s[i-1] != '-' && s[i-1] != '_' && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteRune(r)
		}
	}
	n := b.String()
	switch n {
	case "antiaffinity":
		n = "anti-affinity"
	case "labels":
		n = "label"
	case "host-name":
		n = "hostname"
	case "breadthfirst":
		n = "breadth-first"
	case "depthfirst":
		n = "depth-first"
	case "max-cpu-usage", "maxcpu":
		n = "max-cpu"
	}
	return n
}

// compiled is a validated strategy ready to run.
type compiled struct {
	kind  kind
	name  string // canonical type
	label string // as in messages: "max-containers 2", "hostname ^web"

	max     int
	ratio   float64
	re      *regexp.Regexp
	labels  []labelPair // sorted by key
	program *vm.Program
	src     string
	seed    uint64
}

type labelPair struct{ key, value string }

func (s Strategy) compile() (*compiled, error) {
	if s.c != nil {
		return s.c, nil
	}
	return compileStrategy(s.Type, s.Params)
}

// compileStrategy validates one strategy; errors name the type and the key, not the
// position (the caller adds it) and wrap ErrInvalid.
func compileStrategy(typ string, params map[string]any) (*compiled, error) {
	name := normalizeType(typ)
	var info *typeInfo
	for i := range types {
		if types[i].name == name {
			info = &types[i]
			break
		}
	}
	if info == nil {
		if typ == "" {
			return nil, fmt.Errorf("%w: missing type (one of %s)", ErrInvalid, typeNames())
		}
		return nil, fmt.Errorf("%w: unknown type %q (one of %s)", ErrInvalid, typ, typeNames())
	}
	c := &compiled{kind: info.kind, name: info.name, label: info.name, ratio: 1}
	p := make(map[string]any, len(params))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		canon, ok := info.params[strings.ToLower(k)]
		if !ok {
			if len(info.params) == 0 {
				return nil, fmt.Errorf("%w: %s: unknown key %q (it takes no parameters)", ErrInvalid, info.name, k)
			}
			return nil, fmt.Errorf("%w: %s: unknown key %q (keys: %s)", ErrInvalid, info.name, k, paramNames(info))
		}
		if _, dup := p[canon]; dup {
			return nil, fmt.Errorf("%w: %s: key %q given twice (as %q)", ErrInvalid, info.name, canon, k)
		}
		p[canon] = params[k]
	}
	bad := func(key, want string) error {
		return fmt.Errorf("%w: %s: key %s: want %s, got %s", ErrInvalid, info.name, key, want, show(p[key]))
	}
	missing := func(key, want string) error {
		return fmt.Errorf("%w: %s: missing key %s (%s)", ErrInvalid, info.name, key, want)
	}
	switch info.kind {
	case kindMaxContainers:
		c.max = DefaultMaxContainers
		if v, ok := p["max"]; ok {
			n, ok := toInt(v)
			if !ok || n < 1 {
				return nil, bad("max", "an integer >= 1")
			}
			c.max = n
		}
		c.label = info.name + " " + strconv.Itoa(c.max)
	case kindMaxCPU, kindMaxMemory:
		if v, ok := p["ratio"]; ok {
			f, ok := toFloat(v)
			if !ok || f <= 0 || math.IsInf(f, 0) {
				return nil, bad("ratio", "a number > 0")
			}
			c.ratio = f
		}
		if c.ratio != 1 {
			c.label = info.name + " " + strconv.FormatFloat(c.ratio, 'g', -1, 64) + "x"
		}
	case kindHostname:
		v, ok := p["pattern"]
		if !ok {
			return nil, missing("pattern", "a regular expression matched against the host name")
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return nil, bad("pattern", "a regular expression")
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: key pattern: %v", ErrInvalid, info.name, err)
		}
		c.re = re
		c.label = info.name + " " + s
	case kindLabel:
		v, ok := p["labels"]
		if !ok {
			return nil, missing("labels", "a map of label to value")
		}
		m, ok := toStringMap(v)
		if !ok || len(m) == 0 {
			return nil, bad("labels", "a non-empty map of label to value")
		}
		for k, val := range m {
			c.labels = append(c.labels, labelPair{k, val})
		}
		sort.Slice(c.labels, func(i, j int) bool { return c.labels[i].key < c.labels[j].key })
		parts := make([]string, len(c.labels))
		for i, l := range c.labels {
			parts[i] = l.key + "=" + l.value
		}
		c.label = info.name + " " + strings.Join(parts, ",")
	case kindAffinity, kindAntiAffinity:
		v, ok := p["expr"]
		if !ok {
			return nil, missing("expr", "an expr-lang rule")
		}
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, bad("expr", "an expr-lang rule (a string)")
		}
		prog, err := expr.Compile(s, expr.Env(&Env{}), expr.AsBool())
		if err != nil {
			return nil, fmt.Errorf("%w: %s: key expr: %v", ErrInvalid, info.name, err)
		}
		c.program, c.src = prog, s
		c.label = info.name + " " + strconv.Quote(s)
	case kindRandom:
		c.seed = fnvOffset
		if v, ok := p["seed"]; ok {
			c.seed = hashString(c.seed, fmt.Sprint(v))
		}
	}
	return c, nil
}

func paramNames(info *typeInfo) string {
	seen := map[string]bool{}
	var out []string
	for _, canon := range info.params {
		if !seen[canon] {
			seen[canon] = true
			out = append(out, canon)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "nothing"
	default:
		return fmt.Sprintf("%v (%T)", v, v)
	}
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case uint:
		return int(n), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case uint64:
		if n > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	case float32, float64, json.Number, string:
		f, ok := toFloat(n)
		if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return 0, false
		}
		return int(f), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n)
	case float32:
		return float64(n), !math.IsNaN(float64(n))
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f)
	}
	if i, ok := toInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

func toStringMap(v any) (map[string]string, bool) {
	out := map[string]string{}
	switch m := v.(type) {
	case map[string]string:
		for k, val := range m {
			out[k] = val
		}
	case map[string]any:
		for k, val := range m {
			s, ok := scalarString(val)
			if !ok {
				return nil, false
			}
			out[k] = s
		}
	case map[any]any:
		for k, val := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			s, ok := scalarString(val)
			if !ok {
				return nil, false
			}
			out[ks] = s
		}
	default:
		return nil, false
	}
	return out, true
}

func scalarString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(s), true
	}
	return "", false
}

// FNV-1a, inlined so that the random sorter does not allocate.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}
