package placement

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestParseStrategies(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string // the chain, as Strategy.String of each, joined by " | "
	}{
		{name: "nil", in: nil, want: ""},
		{name: "empty string", in: "", want: ""},
		{name: "issue example", in: []any{m("type", "max-containers", "max", 2), m("type", "breadth-first")},
			want: "max-containers 2 | breadth-first"},
		{name: "yaml.v2 maps", in: []any{map[any]any{"type": "max-containers", "max": 3}},
			want: "max-containers 3"},
		{name: "json numbers and params form",
			in:   `[{"type":"max-cpu","params":{"ratio":0.8}},{"type":"max-containers","max":4.0},"depth-first"]`,
			want: "max-cpu 0.8x | max-containers 4 | depth-first"},
		{name: "comma-separated names", in: "max-memory, least-containers", want: "max-memory | least-containers"},
		{name: "one map", in: m("type", "random", "seed", "abc"), want: "random"},
		{name: "[]string", in: []string{"group", "random"}, want: "group | random"},
		{name: "[]map", in: []map[string]any{{"type": "hostname", "regex": "^web"}}, want: "hostname ^web"},
		{name: "[]Strategy", in: []Strategy{{Type: "label", Params: m("labels", map[string]string{"b": "2", "a": "1"})}},
			want: "label a=1,b=2"},
		{name: "max-containers without max is the default", in: "max-containers", want: "max-containers 8"},
		{name: "numeric strings", in: []any{m("type", "max-containers", "max", "5")}, want: "max-containers 5"},
		{name: "Clocker and camel-case names",
			in: []any{"clocker.docker.location.strategy.basic.BreadthFirstPlacementStrategy", "DepthFirst",
				m("type", "MaxContainers", "maxContainers", 16), "LeastContainers", "Random", "Group", "max_cpu",
				m("type", "AntiAffinity", "rule", "true")},
			want: `breadth-first | depth-first | max-containers 16 | least-containers | random | group | max-cpu | anti-affinity "true"`},
		{name: "affinity", in: []any{m("type", "affinity", "expr", `len(containers) < 3`)}, want: `affinity "len(containers) < 3"`},
		{name: "label values of other scalars", in: []any{m("type", "label", "labels", m("gpu", true, "n", 2))},
			want: "label gpu=true,n=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStrategies(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for i, st := range got {
				if i > 0 {
					s += " | "
				}
				s += st.String()
				if st.c == nil {
					t.Errorf("%s: not compiled", st.Type)
				}
			}
			if s != tt.want {
				t.Errorf("got %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestParseStrategiesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{name: "not a list", in: 42, want: "strategies: want a list of {type: ..., ...}, got int"},
		{name: "bad json", in: "[{", want: "strategies: not a JSON list"},
		{name: "missing type", in: []any{m("max", 2)},
			want: "strategies[0]: missing key type (one of max-containers, max-cpu, max-memory, hostname, label, group, affinity, anti-affinity, breadth-first, depth-first, least-containers, random)"},
		{name: "type not a string", in: []any{m("type", 3)}, want: "strategies[0]: key type: want a string, got 3 (int)"},
		{name: "unknown type", in: []any{"breadth-first", m("type", "fastest")},
			want: `strategies[1] (fastest): unknown type "fastest" (one of max-containers,`},
		{name: "entry not a map", in: []any{[]any{1}}, want: "strategies[0]: want {type: ..., ...} or a type name, got [1] ([]interface {})"},
		{name: "bad max", in: []any{m("type", "max-containers", "max", "two")},
			want: `strategies[0] (max-containers): key max: want an integer >= 1, got "two"`},
		{name: "zero max", in: []any{m("type", "max-containers", "max", 0)},
			want: `strategies[0] (max-containers): key max: want an integer >= 1, got 0 (int)`},
		{name: "fractional max", in: []any{m("type", "max-containers", "max", 2.5)},
			want: `strategies[0] (max-containers): key max: want an integer >= 1, got 2.5 (float64)`},
		{name: "unknown key", in: []any{m("type", "max-containers", "maximum", 2)},
			want: `strategies[0] (max-containers): unknown key "maximum" (keys: max)`},
		{name: "key for a sorter", in: []any{m("type", "breadth-first", "max", 2)},
			want: `strategies[0] (breadth-first): unknown key "max" (it takes no parameters)`},
		{name: "alias twice", in: []any{m("type", "max-containers", "max", 2, "maxContainers", 3)},
			want: `strategies[0] (max-containers): key "max" given twice (as "maxContainers")`},
		{name: "bad ratio", in: []any{m("type", "max-cpu", "ratio", -1)},
			want: `strategies[0] (max-cpu): key ratio: want a number > 0, got -1 (int)`},
		{name: "missing pattern", in: []any{"hostname"},
			want: `strategies[0] (hostname): missing key pattern (a regular expression matched against the host name)`},
		{name: "bad regexp", in: []any{m("type", "hostname", "pattern", "web[")},
			want: "strategies[0] (hostname): key pattern: error parsing regexp: missing closing ]: `[`"},
		{name: "labels not a map", in: []any{m("type", "label", "labels", "zone=eu")},
			want: `strategies[0] (label): key labels: want a non-empty map of label to value, got "zone=eu"`},
		{name: "missing expr", in: []any{m("type", "affinity")}, want: `strategies[0] (affinity): missing key expr (an expr-lang rule)`},
		{name: "expr does not compile", in: []any{m("type", "affinity", "expr", "host.nope == 1")},
			want: "strategies[0] (affinity): key expr: type placement.Host has no field nope"},
		{name: "expr not boolean", in: []any{m("type", "anti-affinity", "expr", "host.cpus")},
			want: "strategies[0] (anti-affinity): key expr: expected bool, but got float64"},
		{name: "params not a map", in: []any{m("type", "random", "params", 3)},
			want: "strategies[0] (random): key params: want a map, got 3 (int)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStrategies(tt.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			want := "invalid placement: " + tt.want
			if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// A parsed chain survives JSON (the form the Docker cloud may persist) and parses again.
func TestStrategiesJSONRoundTrip(t *testing.T) {
	in := mustParse(t, []any{m("type", "max-containers", "max", 2), m("type", "affinity", "expr", "true"), "breadth-first"})
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	out := mustParse(t, decoded)
	if fmt.Sprint(out) != fmt.Sprint(in) || len(out) != 3 {
		t.Errorf("round trip: %s -> %v", b, out)
	}
	if want := `[{"type":"max-containers","params":{"max":2}},{"type":"affinity","params":{"expr":"true"}},{"type":"breadth-first"}]`; string(b) != want {
		t.Errorf("json %s, want %s", b, want)
	}
}
