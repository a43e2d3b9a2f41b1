package locations_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    locations.Spec
		wantErr string // substring; the error must wrap ErrInvalid
	}{
		{in: "localhost", want: locations.Spec{Provider: "localhost"}},
		{in: "  docker ", want: locations.Spec{Provider: "docker"}},
		{in: "docker:tcp://10.0.0.5:2376", want: locations.Spec{Provider: "docker", Target: "tcp://10.0.0.5:2376"}},
		{in: "named:staging", want: locations.Spec{Provider: "named", Target: "staging"}},
		{in: "brooklyn.catalog:my-loc:1.0", want: locations.Spec{Provider: "brooklyn.catalog", Target: "my-loc:1.0"}},
		{in: "my-loc:1.0.0-SNAPSHOT", want: locations.Spec{Provider: "my-loc", Target: "1.0.0-SNAPSHOT"}},
		{in: `byon:(hosts="10.0.0.{1,2}",user=deploy)`,
			want: locations.Spec{Provider: "byon", Args: map[string]string{"hosts": "10.0.0.{1,2}", "user": "deploy"}}},
		{in: `byon(hosts="1.2.3.4, 1.2.3.5", user = u )`,
			want: locations.Spec{Provider: "byon", Args: map[string]string{"hosts": "1.2.3.4, 1.2.3.5", "user": "u"}}},
		{in: `byon: ( hosts="a" )`, want: locations.Spec{Provider: "byon", Args: map[string]string{"hosts": "a"}}},
		{in: `host:("10.0.0.1",user=u)`,
			want: locations.Spec{Provider: "host", Positional: []string{"10.0.0.1"}, Args: map[string]string{"user": "u"}}},
		{in: `x:(a="q\"uo,te\\",b=)`, want: locations.Spec{Provider: "x", Args: map[string]string{"a": `q"uo,te\`, "b": ""}}},
		{in: `byon:()`, want: locations.Spec{Provider: "byon"}},
		{in: "", wantErr: "empty location spec"},
		{in: ":foo", wantErr: "no provider"},
		{in: "named:", wantErr: "nothing after"},
		{in: "by on", wantErr: "not allowed in the provider name"},
		{in: `byon:(hosts="a"`, wantErr: "must end with ')'"},
		{in: `byon:(hosts="a)`, wantErr: "unterminated quote"},
		{in: `byon:(hosts="a" user=b)`, wantErr: "after the quoted value"},
		{in: `byon:(a=1,a=2)`, wantErr: "given twice"},
		{in: `byon:(a=1,)`, wantErr: "trailing ','"},
		{in: `byon:(=1)`, wantErr: "no name before '='"},
		{in: `byon:(a=1,,b=2)`, wantErr: "empty argument"},
		{in: `byon:(a=x"y)`, wantErr: "stray quote"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := locations.ParseSpec(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpec(%q) error = %v, want one wrapping ErrInvalid containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSpec(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

// String writes what ParseSpec reads back.
func TestSpecStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"localhost", "docker:tcp://h:2376", `byon:(hosts="a,b",user=u)`, `host:("1.2.3.4",x="with space")`, `x:(a="q\"uote")`,
	} {
		s, err := locations.ParseSpec(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := locations.ParseSpec(s.String())
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Errorf("%q -> %q -> %#v, %v; want %#v", in, s.String(), again, err, s)
		}
	}
}
