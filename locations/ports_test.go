package locations_test

import (
	"errors"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

func TestParsePortRange(t *testing.T) {
	cases := []struct {
		in      any
		want    string // as String writes it; empty: an error
		single  int
		invalid bool
	}{
		{in: 8080, want: "8080", single: 8080},
		{in: 8080.0, want: "8080", single: 8080},
		{in: "8080", want: "8080", single: 8080},
		{in: "8000+", want: "8000+"},
		{in: " 8000 - 8010 ", want: "8000-8010"},
		{in: "8080,9000-9010,10000+", want: "8080,9000-9010,10000+"},
		{in: "65535+", want: "65535", single: 65535},
		{in: 8080.5, invalid: true},
		{in: "0", invalid: true},
		{in: "70000", invalid: true},
		{in: "80a", invalid: true},
		{in: "9000-8000", invalid: true},
		{in: "8000,,9000", invalid: true},
		{in: "", invalid: true},
		{in: "+", invalid: true},
		{in: true, invalid: true},
		{in: []any{80}, invalid: true},
	}
	for _, c := range cases {
		r, err := locations.ParsePortRange(c.in)
		if c.invalid {
			if !errors.Is(err, locations.ErrInvalid) {
				t.Errorf("ParsePortRange(%#v) = %v, %v; want an error wrapping ErrInvalid", c.in, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePortRange(%#v): %v", c.in, err)
			continue
		}
		if r.String() != c.want {
			t.Errorf("ParsePortRange(%#v) = %s, want %s", c.in, r, c.want)
		}
		p, ok := r.Single()
		if (c.single != 0) != ok || p != c.single {
			t.Errorf("ParsePortRange(%#v).Single() = %d, %v; want %d", c.in, p, ok, c.single)
		}
	}
}

func TestChoosePort(t *testing.T) {
	cases := []struct {
		name string
		rng  string
		used []int
		want int
		none bool
	}{
		{name: "first of an open range", rng: "8000+", want: 8000},
		{name: "skips used ports", rng: "8000+", used: []int{8000, 8001, 8003}, want: 8002},
		{name: "fixed port free", rng: "8080", want: 8080},
		{name: "fixed port taken", rng: "8080", used: []int{8080}, none: true},
		{name: "closed range exhausted", rng: "8000-8002", used: []int{8000, 8001, 8002}, none: true},
		{name: "list in the order written", rng: "9000,8000-8001", used: []int{9000}, want: 8000},
		{name: "next part when a part is full", rng: "8000-8001,8500+", used: []int{8000, 8001}, want: 8500},
		{name: "top of the port space", rng: "65534+", used: []int{65534}, want: 65535},
		{name: "nothing left at the top", rng: "65535+", used: []int{65535}, none: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := locations.ParsePortRange(c.rng)
			if err != nil {
				t.Fatal(err)
			}
			used := map[int]bool{}
			for _, p := range c.used {
				used[p] = true
			}
			got, err := locations.ChoosePort(r, func(p int) bool { return !used[p] })
			if c.none {
				if !errors.Is(err, locations.ErrNoPort) || !errors.Is(err, locations.ErrUnavailable) {
					t.Fatalf("ChoosePort = %d, %v; want ErrNoPort", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ChoosePort = %d, %v; want %d", got, err, c.want)
			}
		})
	}
}
