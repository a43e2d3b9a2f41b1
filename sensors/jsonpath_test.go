package sensors

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestJSONPath(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{
		"status": "ok", "count": 3, "up": true, "nothing": null,
		"db": {"host": "10.0.0.2", "ports": [5432, 5433], "a.b": "dotted"},
		"items": [{"name": "x"}, {"name": "y"}]
	}`), &doc); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path    string
		want    any
		noValue bool
		bad     bool
	}{
		{path: "$", want: doc},
		{path: "", want: doc},
		{path: "$.status", want: "ok"},
		{path: "status", want: "ok"},
		{path: "$.count", want: 3.0},
		{path: "$.up", want: true},
		{path: "$.nothing", want: nil},
		{path: "$.db.host", want: "10.0.0.2"},
		{path: "$['db']['a.b']", want: "dotted"},
		{path: `$["db"].host`, want: "10.0.0.2"},
		{path: "$.db.ports[1]", want: 5433.0},
		{path: "$.db.ports[-1]", want: 5433.0},
		{path: "$.items[0].name", want: "x"},
		{path: "$.items[*].name", want: []any{"x", "y"}},
		{path: "$.db.ports.*", want: []any{5432.0, 5433.0}},
		{path: "$.missing[*]", want: []any{}},
		{path: "$.missing", noValue: true},
		{path: "$.db.ports[5]", noValue: true},
		{path: "$.status.deeper", noValue: true},
		{path: "$..host", bad: true},
		{path: "$.db[", bad: true},
		{path: "$.db[x]", bad: true},
		{path: "$['db", bad: true},
		{path: "$.", bad: true},
	}
	for _, c := range cases {
		got, err := JSONPath(doc, c.path)
		switch {
		case c.noValue:
			if !errors.Is(err, ErrNoValue) {
				t.Errorf("JSONPath(%q) = %v, %v; want ErrNoValue", c.path, got, err)
			}
		case c.bad:
			if err == nil || errors.Is(err, ErrNoValue) {
				t.Errorf("JSONPath(%q) = %v, %v; want a syntax error", c.path, got, err)
			}
		case err != nil:
			t.Errorf("JSONPath(%q): %v", c.path, err)
		case !reflect.DeepEqual(got, c.want):
			t.Errorf("JSONPath(%q) = %#v, want %#v", c.path, got, c.want)
		}
	}
}
