package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestPermissionFor(t *testing.T) {
	const e = "/v1/applications/{app}/entities/{entity}"
	for _, tc := range []struct {
		method, pattern string
		want            permission
	}{
		{"GET", "/", permOpen},
		{"GET", "/*", permOpen},
		{"HEAD", "/assets/app.js", permOpen},
		{"POST", "/*", permRoot},
		{"GET", "/v1/applications/", permSee},
		{"HEAD", "/v1/applications/", permSee},
		{"GET", "/v1/applications/{app}/", permSee},
		{"GET", e + "/sensors/current-state", permSee},
		{"GET", "/v1/activities/{task}/stream/{stream}", permSee},
		{"GET", "/v1/catalog/types/{name}/{version}", permSee},
		{"GET", "/v1/events", permSee},
		{"GET", "/v1/server/version", permSee},
		{"GET", "/v1/server/something-new", permRoot},
		{"GET", "/v1/new-thing", permRoot},
		{"POST", "/v1/applications/", permDeploy},
		{"DELETE", "/v1/applications/{app}/", permDeploy},
		{"PUT", "/v1/applications/{app}", permDeploy},
		{"POST", e + "/effectors/{name}", permInvoke},
		{"POST", e + "/policies/{policy}/start", permInvoke},
		{"POST", e + "/adjuncts/{adjunct}/stop", permInvoke},
		{"POST", e + "/expunge", permInvoke},
		{"POST", "/v1/catalog/", permCatalog},
		{"DELETE", "/v1/catalog/entities/{name}/{version}", permCatalog},
		{"POST", e + "/config/{key}", permModify},
		{"POST", e + "/sensors/{name}", permModify},
		{"DELETE", e + "/sensors/{name}", permModify},
		{"POST", e + "/name", permModify},
		{"POST", e + "/policies", permModify},
		{"POST", e + "/policies/{policy}/destroy", permModify},
		{"DELETE", e + "/adjuncts/{adjunct}/", permModify},
		{"POST", "/v1/server/shutdown", permRoot},
		{"POST", "/v1/server/ha/state", permRoot},
	} {
		if got := permissionFor(tc.method, tc.pattern); got != tc.want {
			t.Errorf("permissionFor(%s %s) = %s, want %s", tc.method, tc.pattern, got, tc.want)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role Role
		may  []permission
		not  []permission
	}{
		{RoleRoot, []permission{permSee, permDeploy, permInvoke, permCatalog, permModify, permRoot}, nil},
		{RolePowerUser, []permission{permSee, permModify, permRoot}, nil},
		{RoleUser, []permission{permSee, permDeploy, permInvoke, permCatalog}, []permission{permModify, permRoot}},
		{RoleReadonly, []permission{permSee}, []permission{permDeploy, permInvoke, permCatalog, permModify, permRoot}},
		{Role("nobody"), nil, []permission{permSee}},
	} {
		for _, p := range tc.may {
			if !tc.role.allows(p) {
				t.Errorf("%s may not %s", tc.role, p)
			}
		}
		for _, p := range tc.not {
			if tc.role.allows(p) {
				t.Errorf("%s may %s", tc.role, p)
			}
		}
	}
	for in, want := range map[string]Role{"root": RoleRoot, "ReadOnly": RoleReadonly, "read-only": RoleReadonly, "USER": RoleUser, "poweruser": RolePowerUser} {
		if got, err := ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseRole("admin"); err == nil {
		t.Error("ParseRole(admin) is accepted")
	}
}

// TestEveryRouteHasARule walks the router: every GET must be readable by a readonly
// user, and every other route must be named by the table, so that a new route is a
// choice rather than root by accident.
func TestEveryRouteHasARule(t *testing.T) {
	s, err := New(context.Background(), Config{
		DataDir:    t.TempDir(),
		DockerHost: "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Routes that are root on purpose.
	rootOnly := map[string]bool{}
	n := 0
	err = chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		n++
		p := permissionFor(method, route)
		switch {
		case !strings.HasPrefix(route, "/v1"):
			if method == http.MethodGet && p != permOpen {
				t.Errorf("%s %s (the UI) needs %s", method, route, p)
			}
		case method == http.MethodGet && p != permSee:
			t.Errorf("%s %s needs %s: add a rule to accessRules", method, route, p)
		case p == permRoot && !rootOnly[method+" "+route]:
			t.Errorf("%s %s needs root because no rule names it: add one to accessRules", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("walked only %d routes", n)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		rule, route string
		ok          bool
	}{
		{"/v1/applications", "/v1/applications", true},
		{"/v1/applications", "/v1/applications/{app}", false},
		{"/v1/applications/**", "/v1/applications", true},
		{"/v1/applications/**", "/v1/applications/{app}/entities", true},
		{"/v1/applications/{a}", "/v1/applications/{app}", true},
		{"/v1/applications/{a}/x", "/v1/applications/{app}/y", false},
		{"/v1/applications/{a}", "/v1/applications", false},
	} {
		if got := matchPattern(tc.rule, tc.route); got != tc.ok {
			t.Errorf("matchPattern(%q, %q) = %v", tc.rule, tc.route, got)
		}
	}
}

func TestExposure(t *testing.T) {
	for _, tc := range []struct {
		bind  string
		users bool
		ok    bool
	}{
		{"127.0.0.1:8081", false, true},
		{"[::1]:8081", false, true},
		{"localhost:8081", false, true},
		{"127.0.0.1:0", false, true},
		{"0.0.0.0:8081", false, false},
		{":8081", false, false},
		{"[::]:8081", false, false},
		{"10.1.2.3:8081", false, false},
		{"0.0.0.0:8081", true, true},
		{":8081", true, true},
	} {
		err := checkBind(tc.bind, tc.users)
		if (err == nil) != tc.ok {
			t.Errorf("checkBind(%q, users %v) = %v", tc.bind, tc.users, err)
		}
	}
	if err := checkExposure(&net.TCPAddr{IP: net.IPv4zero, Port: 1}, false); err == nil || !strings.Contains(err.Error(), "--users") {
		t.Errorf("0.0.0.0 without users: %v", err)
	}
	if err := checkExposure(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, false); err != nil {
		t.Errorf("loopback: %v", err)
	}
	if err := checkExposure(&net.TCPAddr{IP: net.IPv4zero, Port: 1}, true); err != nil {
		t.Errorf("0.0.0.0 with users: %v", err)
	}
}
