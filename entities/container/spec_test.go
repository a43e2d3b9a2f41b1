package container_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
)

// entity creates a container entity with config, in a Management of its own.
func entity(t *testing.T, config map[string]any) *entities.Entity {
	t.Helper()
	m := testenv.Management(t, entities.Options{ServerID: "srv1", FlushInterval: time.Hour})
	app, _, err := m.Deploy(context.Background(), &entities.Spec{
		Type:     "basic-application",
		Children: []*entities.Spec{{Type: "docker-container", Name: "c", Config: config}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return app.Children()[0]
}

func TestSpec(t *testing.T) {
	cases := []struct {
		name    string
		config  map[string]any
		want    []string // fragments of the spec printed with %+v
		wantErr string
	}{
		{"minimal", map[string]any{"image": "gantry/busybox"},
			[]string{"Image:gantry/busybox", "Command:[]", "dev.gantry.server:srv1", "Init:true"}, ""},
		{"init off", map[string]any{"image": "x", "init": false}, []string{"Init:false"}, ""},
		{"tag appended", map[string]any{"image": "redis", "imageTag": "7"}, []string{"Image:redis:7"}, ""},
		{"tag not doubled", map[string]any{"image": "localhost:5000/redis:6", "imageTag": "7"}, []string{"Image:localhost:5000/redis:6 "}, ""},
		{"string command runs in sh", map[string]any{"image": "x", "command": "echo hi"}, []string{"Command:[/bin/sh -c echo hi]"}, ""},
		{"list command", map[string]any{"image": "x", "command": []any{"sleep", "10"}}, []string{"Command:[sleep 10]"}, ""},
		{"ports and bindings", map[string]any{"image": "x", "openPorts": []any{80, 443}, "portBindings": map[string]any{"8080": 80}},
			[]string{"OpenPorts:[80 443]", "PortBindings:map[80:8080]"}, ""},
		{"env and labels", map[string]any{"image": "x", "env": map[string]any{"A": "1"}, "labels": map[string]any{"team": "web"}},
			[]string{"Env:map[A:1]", "team:web"}, ""},
		{"limits", map[string]any{"image": "x", "cpuShares": 512, "memory": "256m"}, []string{"CPUShares:512", "MemoryBytes:268435456"}, ""},
		{"volumes", map[string]any{"image": "x", "volumes": []any{"/data"}}, []string{"Volumes:[/data]"}, ""},
		{"no image", map[string]any{}, nil, "has no image"},
		{"bad memory", map[string]any{"image": "x", "memory": "lots"}, nil, `memory "lots"`},
	}
	for _, c := range cases {
		e := entity(t, c.config)
		spec, err := container.Spec(e)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := fmt.Sprintf("%+v", spec)
		for _, w := range append(c.want, "Name:gantry-"+e.ID(), "dev.gantry.entity:"+e.ID(), "dev.gantry.app:"+e.Application().ID()) {
			if !strings.Contains(got, w) {
				t.Errorf("%s: spec %s lacks %s", c.name, got, w)
			}
		}
	}
}
