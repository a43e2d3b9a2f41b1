package network

import (
	"slices"
	"testing"
)

func TestDNSLabel(t *testing.T) {
	for in, want := range map[string]string{
		"web":                   "web",
		"Web Server":            "web-server",
		"gantry/busybox:latest": "gantry-busybox-latest",
		"--a__b--":              "a-b",
		"":                      "",
		"ünïcode":               "n-code",
		"x" + string(make([]byte, 0)) + "0123456789012345678901234567890123456789012345678901234567890123456789": "x01234567890123456789012345678901234567890123456789012345678901",
	} {
		if got := dnsLabel(in); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAsStrings(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
	}{
		{[]any{"a", "b", 3, ""}, []string{"a", "b"}},
		{"a, b ,c", []string{"a", "b", "c"}},
		{"", nil},
		{nil, nil},
		{[]string{"x"}, []string{"x"}},
	} {
		if got := asStrings(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("asStrings(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
