package locations_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

func TestExpandHosts(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "10.0.0.1", want: []string{"10.0.0.1"}},
		{in: " 10.0.0.1 , u@10.0.0.2:2222 ", want: []string{"10.0.0.1", "u@10.0.0.2:2222"}},
		// Brooklyn's example.
		{in: "{1.2.3.{4,5},u@h{8-9}}", want: []string{"1.2.3.4", "1.2.3.5", "u@h8", "u@h9"}},
		{in: "10.0.0.{1-3}", want: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}},
		{in: "h{3-1}", want: []string{"h3", "h2", "h1"}},
		{in: "node{08-10}.lab", want: []string{"node08.lab", "node09.lab", "node10.lab"}},
		{in: "{a,b}{1,2}", want: []string{"a1", "a2", "b1", "b2"}},
		{in: "{a,{b,{c,d}}}x", want: []string{"ax", "bx", "cx", "dx"}},
		{in: "[::1]:2222, [fe80::1]", want: []string{"[::1]:2222", "[fe80::1]"}},
		{in: "", wantErr: "no host"},
		{in: "a,,b", wantErr: "empty item"},
		{in: "a{b", wantErr: "unclosed '{'"},
		{in: "a}b", wantErr: "'}' without '{'"},
		{in: "a{}b", wantErr: "empty braces"},
		{in: "h{1-100000}", wantErr: "more than"},
		{in: "{1-100}{1-100}{1-100}", wantErr: "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := locations.ExpandHosts(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ExpandHosts(%q) error = %v, want ErrInvalid with %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ExpandHosts(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
