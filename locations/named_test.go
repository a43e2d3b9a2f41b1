package locations_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

func TestParseNamedLocations(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []locations.Named
		wantErr string
	}{
		{name: "yaml", in: `
staging: docker:tcp://10.0.0.5:2376
lab:
  byon:
    user: deploy
    hosts: ["10.0.0.{1-4}"]
    port: 2222
`, want: []locations.Named{
			{Name: "lab", Spec: "byon", Config: map[string]any{"user": "deploy", "hosts": []any{"10.0.0.{1-4}"}, "port": 2222}},
			{Name: "staging", Spec: "docker:tcp://10.0.0.5:2376"},
		}},
		{name: "empty yaml", in: "", want: []locations.Named{}},
		{name: "properties", in: `
# Brooklyn's brooklyn.properties
brooklyn.webconsole.security.provider=x
brooklyn.location.named.lab=byon:(hosts="10.0.0.{1-4}")
brooklyn.location.named.lab.user = deploy
brooklyn.location.named.lab.privateKeyFile=~/.ssh/lab
brooklyn.location.named.engine=docker:tcp://h:2376
brooklyn.location.named.engine.tls.cert=/c.pem
`, want: []locations.Named{
			{Name: "engine", Spec: "docker:tcp://h:2376", Config: map[string]any{"tls.cert": "/c.pem"}},
			{Name: "lab", Spec: `byon:(hosts="10.0.0.{1-4}")`, Config: map[string]any{"user": "deploy", "privateKeyFile": "~/.ssh/lab"}},
		}},
		{name: "yaml map with two keys", in: "lab:\n  byon: {}\n  docker: {}\n", wantErr: "has one key"},
		{name: "yaml bad spec", in: "lab: 'byon:('\n", wantErr: "must end with ')'"},
		{name: "yaml list", in: "lab: [a]\n", wantErr: "write a spec string"},
		{name: "yaml not a map", in: "- a\n", wantErr: "map from name to location"},
		{name: "properties config without spec", in: "brooklyn.location.named.lab.user=u\n", wantErr: "has config but no spec"},
		{name: "properties twice", in: "brooklyn.location.named.a=localhost\nbrooklyn.location.named.a=docker\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := locations.ParseNamedLocations([]byte(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrInvalid with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}
