package main

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func TestParseTakesFlagsAnywhere(t *testing.T) {
	cases := []struct {
		args []string
		pos  []string
		out  string
	}{
		{[]string{"a", "-o", "json", "b"}, []string{"a", "b"}, "json"},
		{[]string{"-o=yaml", "a", "b"}, []string{"a", "b"}, "yaml"},
		{[]string{"a", "--", "-o", "b"}, []string{"a", "-o", "b"}, ""},
		{[]string{"a", "-"}, []string{"a", "-"}, ""},
	}
	for _, tc := range cases {
		c := &cli{cmd: &command{name: "x"}, stdout: &bytes.Buffer{}}
		pos, err := c.parse(c.flags(), tc.args, 0, -1)
		if err != nil || !slices.Equal(pos, tc.pos) || c.output != tc.out {
			t.Errorf("parse %q = %q, -o %q, %v; want %q, -o %q", tc.args, pos, c.output, err, tc.pos, tc.out)
		}
	}
	c := &cli{cmd: &command{name: "x", args: "A"}, stdout: &bytes.Buffer{}}
	if _, err := c.parse(c.flags(), []string{"a", "b"}, 1, 1); exitCode(err) != exitUsage {
		t.Errorf("too many arguments: %v", err)
	}
	if _, err := c.parse(c.flags(), []string{"-h"}, 1, 1); !errors.Is(err, errHelp) {
		t.Errorf("-h: %v", err)
	}
}

func exitCode(err error) int {
	code, _ := explain(err, nil)
	return code
}

func TestRefusedNamesFileLineColumn(t *testing.T) {
	err := refused("app.yaml", &client.Error{StatusCode: 400, Message: "line 4, column 9: services[1].type: unknown type \"x\"\nline 7, column 3: services[2]: a service needs a type"})
	want := "app.yaml:4:9: services[1].type: unknown type \"x\"\napp.yaml:7:3: services[2]: a service needs a type"
	if err.Error() != want || exitCode(err) != exitUsage {
		t.Errorf("refused = %q (exit %d), want %q", err, exitCode(err), want)
	}
	other := &client.Error{StatusCode: 500, Message: "boom"}
	if err := refused("app.yaml", other); err != other || exitCode(err) != exitFailed {
		t.Errorf("a 500 is not a refusal: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	for status, want := range map[int]int{400: 2, 401: 4, 403: 4, 404: 3, 409: 2, 500: 1, 503: 1} {
		if got := exitCode(&client.Error{StatusCode: status, Message: "m"}); got != want {
			t.Errorf("status %d: exit %d, want %d", status, got, want)
		}
	}
}

func TestConvertParameters(t *testing.T) {
	cases := []struct {
		in, typ string
		want    any
	}{
		{"3", "java.lang.Integer", int64(3)},
		{"x", "java.lang.Integer", "x"},
		{"true", "java.lang.Boolean", true},
		{"1.5", "java.lang.Double", 1.5},
		{"3", "java.lang.String", "3"},
		{`{"a":1}`, "java.util.Map", map[string]any{"a": 1.0}},
		{"plain", "", "plain"},
	}
	for _, tc := range cases {
		got := convert(tc.in, tc.typ)
		if display(got) != display(tc.want) {
			t.Errorf("convert(%q, %s) = %#v, want %#v", tc.in, tc.typ, got, tc.want)
		}
	}
	if v := typedValue(`["a", 1]`); display(v) != `["a",1]` {
		t.Errorf("typedValue list = %#v", v)
	}
	if v := typedValue("42"); v != "42" {
		t.Errorf("typedValue 42 = %#v, want the text for the server to convert", v)
	}
}

func TestCatalogKind(t *testing.T) {
	for in, want := range map[string]string{"ent": "entities", "entity": "entities", "entities": "entities", "pol": "policies", "app": "applications", "enricher": "enrichers"} {
		if got, ok := catalogKind(in); !ok || got != want {
			t.Errorf("catalogKind(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := catalogKind("e"); ok {
		t.Error("catalogKind(e) is ambiguous")
	}
}

func TestDisplay(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{{nil, ""}, {"RUNNING", "RUNNING"}, {api.StatusRunning, "RUNNING"}, {true, "true"}, {1795352266147.0, "1795352266147"}, {map[string]any{"a": 1}, `{"a":1}`}} {
		if got := display(tc.v); got != tc.want {
			t.Errorf("display(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := normalizeURL("127.0.0.1:8081/"); got != "http://127.0.0.1:8081" {
		t.Errorf("normalizeURL = %q", got)
	}
}
