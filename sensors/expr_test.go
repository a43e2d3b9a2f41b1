package sensors

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func exprEnv() map[string]any {
	return Env{
		ID: "e1", Name: "web-1", Type: "docker-container", Parent: "c1", App: "a1",
		Tags:    []any{"prod", "eu"},
		Config:  map[string]any{"http.port": 8080, "role": "web", "image": "nginx"},
		Sensors: map[string]any{"service.isUp": true, "machine.cpu": 0.92, "count": 3, "host.address": "10.0.0.5"},
		Value:   21,
	}.Map()
}

func TestExpressionEval(t *testing.T) {
	cases := []struct {
		src  string
		want any
	}{
		{`sensors["service.isUp"]`, true},
		{`sensors["machine.cpu"] > 0.8 && config["role"] == "web"`, true},
		{`config.role`, "web"},
		{`sensors.count + 1`, 4},
		{`config["http.port"] + 1`, 8081},
		{`value * 2`, 42},
		{`id + "/" + name + "/" + type + "/" + parent + "/" + app + "/" + catalogItemId`, "e1/web-1/docker-container/c1/a1/"},
		{`"prod" in tags`, true},
		{`sensors["missing"]`, nil},
		{`sensors["missing"] ?? 0`, 0},
		{`sensors["host.address"] startsWith "10."`, true},
		{`upper(name)`, "WEB-1"},
		{`len(tags)`, 2},
		{`type == "docker-container" && sensors["service.isUp"] == true`, true},
	}
	for _, c := range cases {
		x, err := Compile(c.src)
		if err != nil {
			t.Errorf("Compile(%s): %v", c.src, err)
			continue
		}
		got, err := x.Eval(exprEnv())
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, %v; want %#v", c.src, got, err, c.want)
		}
	}
}

func TestExpressionEvalBool(t *testing.T) {
	cases := []struct {
		src     string
		want    bool
		wantErr string
	}{
		{`sensors["service.isUp"]`, true, ""},
		{`sensors["machine.cpu"] < 0.5`, false, ""},
		{`sensors["missing"]`, false, ""}, // nil: no match yet
		{`name`, false, `gives web-1 (string), not true or false`},
		{`sensors["missing"] > 3`, false, `line 1, column 20: invalid operation: <nil> > int`},
	}
	for _, c := range cases {
		x, err := Compile(c.src)
		if err != nil {
			t.Errorf("Compile(%s): %v", c.src, err)
			continue
		}
		got, err := x.EvalBool(exprEnv())
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v; want %q", c.src, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`sensor["service.isUp"]`, `line 1, column 1: unknown name sensor`},
		{`name + 1`, `line 1, column 6: invalid operation: + (mismatched types string and int)`},
		{"sensors[\"a\"] &&\n  (1 +", `line 2, column 6: unexpected token EOF`},
		{`  `, `expression is empty`},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %v; want ErrInvalid with %q", c.src, err, c.want)
		}
	}
}

func TestExpressionExtraVariables(t *testing.T) {
	if _, err := Compile(`members > 2`); err == nil {
		t.Fatal("an undeclared variable should not compile")
	}
	x, err := Compile(`members > 2 && value == nil`, "members")
	if err != nil {
		t.Fatal(err)
	}
	env := Env{}.Map()
	env["members"] = 3
	if ok, err := x.EvalBool(env); err != nil || !ok {
		t.Errorf("EvalBool = %v, %v", ok, err)
	}
	// An empty Env has every variable, with empty maps: nothing is nil but value.
	y, err := Compile(`len(sensors) + len(config) + len(tags) == 0 && name == ""`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := y.EvalBool(Env{}.Map()); err != nil || !ok {
		t.Errorf("empty env: %v, %v", ok, err)
	}
	if ok, err := y.EvalBool(nil); err == nil {
		t.Errorf("nil env: %v; want an error (len of nil)", ok)
	}
}

func TestExpressionConcurrent(t *testing.T) {
	x, err := Compile(`value * 2`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				v, err := x.Eval(Env{Value: i*1000 + j}.Map())
				if err != nil || v != (i*1000+j)*2 {
					t.Errorf("Eval = %v, %v", v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
