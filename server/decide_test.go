package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

func TestParseTimeout(t *testing.T) {
	cases := []struct {
		in      string
		d       time.Duration
		forever bool
		bad     bool
	}{
		{"", 0, true, false},
		{"never", 0, true, false},
		{"always", 0, false, false},
		{"0", 0, false, false},
		{"1500", 1500 * time.Millisecond, false, false},
		{"30s", 30 * time.Second, false, false},
		{"1m", time.Minute, false, false},
		{"soon", 0, false, true},
		{"-5s", 0, false, true},
	}
	for _, c := range cases {
		d, forever, err := parseTimeout(c.in)
		if c.bad {
			if !errors.Is(err, errBadRequest) {
				t.Errorf("parseTimeout(%q) error = %v, want a bad request", c.in, err)
			}
			continue
		}
		if err != nil || d != c.d || forever != c.forever {
			t.Errorf("parseTimeout(%q) = %s, %v, %v; want %s, %v", c.in, d, forever, err, c.d, c.forever)
		}
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{blueprints.Errorf(blueprints.Pos{Line: 1, Column: 1}, "", "bad"), http.StatusBadRequest},
		{fmt.Errorf("x: %w", entities.ErrInvalid), http.StatusBadRequest},
		{fmt.Errorf("x: %w", errBadRequest), http.StatusBadRequest},
		{fmt.Errorf("x: %w", entities.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("x: %w", locations.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("x: %w", entities.ErrConflict), http.StatusConflict},
		{fmt.Errorf("x: %w", errPrecondition), http.StatusPreconditionFailed},
		{fmt.Errorf("x: %w", locations.ErrUnavailable), http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusGatewayTimeout},
		{errors.New("boom"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int]string{0: "0B", 162: "162B", 1130: "1.13kB", 23_500_000: "23.5MB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %s, want %s", n, got, want)
		}
	}
}
