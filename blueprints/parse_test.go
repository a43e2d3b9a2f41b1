package blueprints

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with the golden file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no testdata in %s: %v", dir, err)
	}
	return names
}

func TestValid(t *testing.T) {
	for _, name := range files(t, "valid") {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(plan.Source, data) {
				t.Error("Source is not the input")
			}
			got, err := json.MarshalIndent(plan, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(name, ".yaml")+".golden.json", append(got, '\n'))
		})
	}
}

func TestInvalid(t *testing.T) {
	for _, name := range files(t, "invalid") {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Parse(data)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", plan)
			}
			if plan != nil {
				t.Error("Parse returned a plan with its error")
			}
			checkError(t, err)
			golden(t, strings.TrimSuffix(name, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// checkError asserts what every Parse error promises.
func checkError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%v: not ErrInvalid", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v (%T): not an *Error", err, err)
	}
	all := []*Error{e}
	if es, ok := err.(Errors); ok {
		all = es
	}
	for _, e := range all {
		if e.Pos.Line < 1 || e.Pos.Column < 1 {
			t.Errorf("%v: position %+v", e, e.Pos)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{Errorf(Pos{3, 5}, "services[0].brooklyn.config.env", "must be a map of %s", "strings"),
			"line 3, column 5: services[0].brooklyn.config.env: must be a map of strings"},
		{Errorf(Pos{1, 1}, "", "empty blueprint"), "line 1, column 1: empty blueprint"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, ErrInvalid) {
			t.Errorf("%v is not ErrInvalid", tt.err)
		}
	}
	es := Errors{Errorf(Pos{1, 1}, "a", "x"), Errorf(Pos{2, 1}, "b", "y")}
	var e *Error
	if !errors.Is(es, ErrInvalid) || !errors.As(es, &e) || e != es[0] {
		t.Errorf("Errors: Is/As do not reach the first error")
	}
	if got, want := es.Error(), "line 1, column 1: a: x\nline 2, column 1: b: y"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("services:\n")
	for range 25 {
		b.WriteString("- {name: x}\n")
	}
	_, err := Parse([]byte(b.String()))
	es, ok := err.(Errors)
	if !ok || len(es) != maxErrors+1 {
		t.Fatalf("got %T with %d errors, want %d: %v", err, len(es), maxErrors+1, err)
	}
	if got, want := es[maxErrors].Error(), "line 22, column 3: and 5 more errors"; got != want {
		t.Errorf("last error %q, want %q", got, want)
	}
}

const navYAML = `services:
- type: basic-entity
  brooklyn.config:
    defaults: &d {port: 80, tags: [a, b]}
    env:
      <<: *d
      HOST: example.com
`

func TestValueNavigation(t *testing.T) {
	plan, err := Parse([]byte(navYAML))
	if err != nil {
		t.Fatal(err)
	}
	env := plan.Services[0].Config["env"]
	tests := []struct {
		get  func() (*Value, bool)
		ok   bool
		pos  Pos
		path string
		raw  any
	}{
		{func() (*Value, bool) { return env.At("HOST") }, true, Pos{7, 13}, "services[0].brooklyn.config.env.HOST", "example.com"},
		// merged keys keep the position where they are written
		{func() (*Value, bool) { return env.At("port") }, true, Pos{4, 25}, "services[0].brooklyn.config.env.port", 80},
		{func() (*Value, bool) { return env.At("missing") }, false, Pos{}, "", nil},
		{func() (*Value, bool) {
			tags, _ := env.At("tags")
			return tags.Index(1)
		}, true, Pos{4, 39}, "services[0].brooklyn.config.env.tags[1]", "b"},
		{func() (*Value, bool) { return env.Index(0) }, false, Pos{}, "", nil},
		{func() (*Value, bool) {
			v := &Value{Node: env.Node, Path: "p"} // no Raw: decoded on demand
			return v.At("port")
		}, true, Pos{4, 25}, "p.port", 80},
	}
	for i, tt := range tests {
		v, ok := tt.get()
		if ok != tt.ok {
			t.Errorf("%d: ok = %v", i, ok)
			continue
		}
		if !ok {
			continue
		}
		if v.Pos != tt.pos || v.Path != tt.path || !reflect.DeepEqual(v.Raw, tt.raw) {
			t.Errorf("%d: got %+v %q %#v, want %+v %q %#v", i, v.Pos, v.Path, v.Raw, tt.pos, tt.path, tt.raw)
		}
	}
}

func TestWalk(t *testing.T) {
	plan, err := Parse([]byte(`
services:
- type: a
  brooklyn.children:
  - type: b
    brooklyn.children: [{type: c}]
  - type: d
- type: e
brooklyn.children:
- type: f
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = plan.Walk(func(s *Service) error {
		got = append(got, s.Type+"@"+s.Path)
		return nil
	})
	want := []string{
		"a@services[0]",
		"b@services[0].brooklyn.children[0]",
		"c@services[0].brooklyn.children[0].brooklyn.children[0]",
		"d@services[0].brooklyn.children[1]",
		"e@services[1]",
		"f@brooklyn.children[0]",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Walk = %v, %v; want %v", got, err, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := plan.Walk(func(*Service) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Walk did not stop at the first error: %v after %d calls", err, n)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ key, want string }{
		{"service", "services"},
		{"Services", "services"},
		{"nmae", "name"},
		{"locaton", "location"},
		{"brooklyn.conifg", "brooklyn.config"},
		{"brooklyn.policy", "brooklyn.policies"},
		{"wrappedApp", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.key, rootKeys); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestRawTypes(t *testing.T) {
	plan, err := Parse([]byte(`services:
- type: basic-entity
  brooklyn.config:
    int: 8080
    big: 18446744073709551615
    float: 1.5
    bool: true
    str: "8080"
    nil: ~
    date: 2001-12-14
    list: [1, a]
    map: {k: [v]}
    <<: {merged: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int": 8080, "big": uint64(18446744073709551615), "float": 1.5, "bool": true,
		"str": "8080", "nil": nil, "date": "2001-12-14", "list": []any{1, "a"},
		"map": map[string]any{"k": []any{"v"}}, "merged": 1,
	}
	got := map[string]any{}
	for k, v := range plan.Services[0].Config {
		got[k] = v.Raw
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestServiceAt(t *testing.T) {
	plan, err := Parse([]byte(`services:
- type: cluster
  brooklyn.config:
    memberspec:
      type: docker:web
      id: member
      brooklyn.children: [{type: basic-entity, id: sidecar}]
      brooklyn.policies: [{type: autoscaler}]
    bad:
      name: no type
      id: [x]
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := plan.Services[0].Config
	s, err := ServiceAt(cfg["memberspec"])
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != "docker:web" || s.ID != "member" || s.Path != "services[0].brooklyn.config.memberspec" ||
		s.TypePos != (Pos{5, 13}) || len(s.Children) != 1 || s.Children[0].Path != "services[0].brooklyn.config.memberspec.brooklyn.children[0]" ||
		s.Adjuncts["brooklyn.policies"] == nil || s.Adjuncts["brooklyn.policies"].Pos != (Pos{8, 26}) {
		t.Errorf("service %+v", s)
	}
	_, err = ServiceAt(cfg["bad"])
	want := "line 10, column 7: services[0].brooklyn.config.bad: a service needs a type\n" +
		"line 11, column 11: services[0].brooklyn.config.bad.id: must be a string, not a list"
	if !errors.Is(err, ErrInvalid) || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
	// A value made from data has every position at its own.
	s, err = ServiceAt(&Value{Pos: Pos{3, 4}, Path: "x", Raw: map[string]any{"type": "basic-entity", "brooklyn.config": map[string]any{"a": 1}}})
	if err != nil || s.Type != "basic-entity" || s.TypePos != (Pos{3, 4}) || s.Config["a"].Raw != 1 || s.Config["a"].Path != "x.brooklyn.config.a" {
		t.Errorf("from data: %+v, %v", s, err)
	}
	if _, err := ServiceAt(&Value{Pos: Pos{2, 2}, Path: "y", Raw: "basic-entity"}); err == nil || !strings.Contains(err.Error(), "line 2, column 2: y: a service must be a map with a type, not a string") {
		t.Errorf("a string: %v", err)
	}
}
