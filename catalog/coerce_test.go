package catalog

import (
	"fmt"
	"strings"
	"testing"
)

func TestCoerce(t *testing.T) {
	cases := []struct {
		typ     string
		in      any
		want    any
		wantErr string
	}{
		{"string", "a", "a", ""},
		{"string", 8080, "8080", ""},
		{"string", true, "true", ""},
		{"string", []any{"a"}, nil, "must be a string, not a list"},
		{"integer", 5, 5, ""},
		{"integer", "42", 42, ""},
		{"integer", 2.0, 2, ""},
		{"integer", 2.5, nil, "must be a whole number"},
		{"integer", "many", nil, `not "many"`},
		{"number", 3, 3.0, ""},
		{"boolean", "true", true, ""},
		{"boolean", "yes please", nil, "must be true or false"},
		{"duration", "30s", "30s", ""},
		{"duration", 1500, "1.5s", ""},
		{"duration", "1000", "1s", ""},
		{"duration", "soon", nil, "must be a duration"},
		{"list", []any{1, "a"}, []any{1, "a"}, ""},
		{"list", "a", nil, "must be a list"},
		{"strings", "echo hi", "echo hi", ""},
		{"strings", []any{"sh", "-c", 1}, []any{"sh", "-c", "1"}, ""},
		{"strings", []any{map[string]any{}}, nil, "item 0 must be a string"},
		{"map", map[string]any{"a": 1}, map[string]any{"a": 1}, ""},
		{"stringmap", map[string]any{"PORT": 80}, map[string]any{"PORT": "80"}, ""},
		{"stringmap", map[string]any{"X": []any{}}, nil, `value of "X" must be a string`},
		{"stringmap", []any{"A=1"}, nil, "must be a map"},
		{"integer", "$brooklyn:config(\"port\")", "$brooklyn:config(\"port\")", ""},
		{"object", []any{1}, []any{1}, ""},
		{"ports", []any{80, "8080"}, []any{80, 8080}, ""},
		{"ports", 6379, []any{6379}, ""},
		{"ports", []any{70000}, nil, "out of range"},
		{"ports", []any{"http"}, nil, `item 0: port must be a number, not "http"`},
		{"portmap", map[string]any{"8080": 80}, map[string]any{"8080": 80}, ""},
		{"portmap", map[string]any{"web": 80}, nil, `host port "web"`},
		{"spec", map[string]any{"$brooklyn:entitySpec": map[string]any{"type": "basic-entity"}}, map[string]any{"$brooklyn:entitySpec": map[string]any{"type": "basic-entity"}}, ""},
		{"spec", map[string]any{"type": "basic-entity"}, map[string]any{"type": "basic-entity"}, ""},
		{"spec", "anything", "anything", ""}, // the resolver checks its shape
		{"no-such-type", 1, nil, "unknown config type"},
	}
	for _, c := range cases {
		got, err := Coerce(c.typ, c.in)
		name := fmt.Sprintf("Coerce(%s, %#v)", c.typ, c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s error = %v, want %q", name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("%s = %#v, want %#v", name, got, c.want)
		}
	}
}
