package dockercloud

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/entities"
)

func TestParseEndpoints(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want []string // endpoints
		err  string
	}{
		{name: "none", in: nil},
		{name: "strings", in: []any{"unix:///var/run/docker.sock", "tcp://10.0.0.5:2376"},
			want: []string{"unix:///var/run/docker.sock", "tcp://10.0.0.5:2376"}},
		{name: "comma-separated", in: "tcp://a:2376, tcp://b:2376", want: []string{"tcp://a:2376", "tcp://b:2376"}},
		{name: "a map with TLS and labels", in: []any{map[string]any{"endpoint": "tcp://a:2376", "tls.ca": "ca.pem", "tls.cert": "c.pem", "tls.key": "k.pem", "labels": map[string]any{"zone": "a"}, "name": "big"}},
			want: []string{"tcp://a:2376"}},
		{name: "a bad scheme", in: []any{"http://a:2376"}, err: "write tcp://HOST:PORT"},
		{name: "no host", in: []any{"tcp://"}, err: "write tcp://HOST:PORT"},
		{name: "an unknown key", in: []any{map[string]any{"endpoint": "tcp://a:1", "tls": "x"}}, err: `unknown key "tls"`},
		{name: "bad strategies", in: []any{map[string]any{"endpoint": "tcp://a:1", "strategies": []any{map[string]any{"type": "max-containers", "max": "two"}}}}, err: "max-containers"},
		{name: "not a list", in: 42, err: "want a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eps, err := parseEndpoints("docker.hosts", c.in, false)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, entities.ErrInvalid) && !strings.Contains(err.Error(), "invalid") {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range eps {
				got = append(got, e.Endpoint)
				if e.Config[KeyEndpoint] != e.Endpoint {
					t.Errorf("config %v does not carry the endpoint", e.Config)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("endpoints %v, want %v", got, c.want)
			}
		})
	}
	eps, _ := parseEndpoints("docker.hosts", []any{map[string]any{"endpoint": "tcp://a:2376", "tls.ca": "ca.pem", "labels": map[string]any{"zone": "a"}, "name": "big"}}, true)
	if e := eps[0]; e.Name != "big" || e.Config[KeyTLSCA] != "ca.pem" || e.Config[KeyHostLabels] == nil || !e.Pool {
		t.Errorf("entry %+v", e)
	}
}
