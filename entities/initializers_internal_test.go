package entities

import (
	"reflect"
	"testing"
)

func TestCoerceSensorValue(t *testing.T) {
	cases := []struct {
		in     any
		target string
		want   any
		bad    bool
	}{
		{in: "hello \n", target: "", want: "hello"},
		{in: "  indented\n", target: "String", want: "  indented"},
		{in: "42\n", target: "integer", want: 42},
		{in: "42", target: "java.lang.Long", want: 42},
		{in: 42.0, target: "int", want: 42},
		{in: "4.5", target: "integer", bad: true},
		{in: "1.5\n", target: "double", want: 1.5},
		{in: "true\n", target: "boolean", want: true},
		{in: "yes", target: "boolean", bad: true},
		{in: "a: 1\nb: [x]\n", target: "map", want: map[string]any{"a": 1, "b": []any{"x"}}},
		{in: `{"a": 1}`, target: "java.util.Map", want: map[string]any{"a": 1}},
		{in: map[string]any{"a": 1}, target: "object", want: map[string]any{"a": 1}},
		{in: 7, target: "string", want: "7"},
		{in: nil, target: "integer", want: nil},
		{in: "x", target: "java.net.URL", bad: true},
	}
	for _, c := range cases {
		got, err := coerceSensorValue(c.in, c.target)
		if c.bad {
			if err == nil {
				t.Errorf("coerceSensorValue(%#v, %q) = %#v, want an error", c.in, c.target, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("coerceSensorValue(%#v, %q) = %#v, %v; want %#v", c.in, c.target, got, err, c.want)
		}
	}
}

func TestWithParameters(t *testing.T) {
	base := &Type{Name: "k", Config: []ConfigKey{
		{Name: "a", Aliases: []string{"alpha"}, Type: "integer", Description: "A", Default: 1},
		{Name: "b", Type: "string"},
	}}
	got := WithParameters(base, []ConfigKey{
		{Name: "a", Label: "The A", Default: 2.0}, // redeclared; 2.0 as the store gives it back
		{Name: "c", Type: "port", Default: 8080.0},
	})
	want := []ConfigKey{
		{Name: "a", Aliases: []string{"alpha"}, Type: "integer", Description: "A", Default: 2, Label: "The A"},
		{Name: "b", Type: "string"},
		{Name: "c", Type: "port", Default: 8080},
	}
	if !reflect.DeepEqual(got.Config, want) {
		t.Errorf("WithParameters:\n got %+v\nwant %+v", got.Config, want)
	}
	if len(base.Config) != 2 || base.Config[0].Default != 1 {
		t.Errorf("base changed: %+v", base.Config)
	}
	if WithParameters(base, nil) != base {
		t.Error("no parameters: want the type itself")
	}
}
