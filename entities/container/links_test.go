package container

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestParseLinks(t *testing.T) {
	cases := []struct {
		in   any
		want []link
		bad  bool
	}{
		{in: nil},
		{in: "db", want: []link{{"db", "db"}}},
		{in: []any{"db", "cache:redis"}, want: []link{{"db", "db"}, {"redis", "cache"}}},
		{in: map[string]any{"redis": `$brooklyn:component("cache")`, "db": "db"},
			want: []link{{"db", "db"}, {"redis", `$brooklyn:component("cache")`}}},
		{in: []any{3}, bad: true},
		{in: []any{""}, bad: true},
		{in: map[string]any{"db": nil}, bad: true},
		{in: 7, bad: true},
	}
	for _, c := range cases {
		got, err := parseLinks(c.in)
		if c.bad {
			if !errors.Is(err, entities.ErrInvalid) {
				t.Errorf("parseLinks(%#v) = %v, %v; want ErrInvalid", c.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseLinks(%#v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestLinkTargetAndDirectPorts(t *testing.T) {
	m := testenv.Management(t, entities.Options{ServerID: "srv1", FlushInterval: time.Hour})
	app, _, err := m.Deploy(context.Background(), &entities.Spec{
		Type: "basic-application",
		Children: []*entities.Spec{
			{Type: "docker-container", Name: "Database", BlueprintID: "db", Config: map[string]any{"image": "x"}},
			{Type: "docker-container", Name: "web", BlueprintID: "web", Config: map[string]any{
				"image": "x", "openPorts": []any{80}, "directPorts": []any{6379, "8080"}}},
			{Type: "basic-entity", Name: "group", BlueprintID: "group"},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, web := app.Children()[0], app.Children()[1]
	for _, ref := range []any{"db", db.ID(), "Database", `$brooklyn:component("db")`, ` $brooklyn:entity( "db" ) `, db, map[string]any{"id": "db"}} {
		if got, err := linkTarget(web, ref); err != nil || got != db {
			t.Errorf("linkTarget(%v) = %v, %v; want the database", ref, got, err)
		}
	}
	if _, err := linkTarget(web, "nope"); !errors.Is(err, entities.ErrNotFound) || !strings.Contains(err.Error(), "its containers: db)") {
		t.Errorf("unknown link: %v", err)
	}
	// A link to what is not a container is refused at start.
	web.SetConfig("links", []any{"group"})
	if _, err := resolveLinks(context.Background(), web); !errors.Is(err, entities.ErrInvalid) {
		t.Errorf("link to a basic entity: %v", err)
	}
	spec, err := Spec(web)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec.PortBindings, map[int]int{6379: 6379, 8080: 8080}) || !reflect.DeepEqual(spec.OpenPorts, []int{80}) {
		t.Errorf("ports: open %v, bound %v", spec.OpenPorts, spec.PortBindings)
	}
	web.SetConfig("directPorts", []any{70000})
	if _, err := Spec(web); !errors.Is(err, entities.ErrInvalid) {
		t.Errorf("bad direct port: %v", err)
	}
}
