package proxy_test

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/proxy"
	"github.com/gantry-dev/gantry/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var renderCases = []struct {
	name string
	cfg  proxy.Config
}{
	{"empty", proxy.Config{Port: proxy.DefaultPort}},
	{"two-members", proxy.Config{Port: 8000, Members: []proxy.Member{
		{ID: "zz9Member", Address: "172.17.0.3", Port: 8080},
		{ID: "aB3member", Address: "172.17.0.2", Port: 8080},
	}}},
	{"custom-stats-and-names", proxy.Config{
		Port:  80,
		Stats: proxy.Stats{Bind: "0.0.0.0:9000", URI: "/haproxy?stats"},
		Members: []proxy.Member{
			{ID: "web/1 (blue)", Address: "10.0.0.7", Port: 80},
			{ID: "web-2", Address: "app.example.invalid", Port: 8081},
			{ID: "v6", Address: "fd00::5", Port: 8080},
		},
	}},
}

// Render's output is compared with testdata/render/<case>.cfg (go test -update rewrites
// them), and HAProxy itself checks each golden file (haproxy -c).
func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proxy.Render(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "render", tc.name+".cfg")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("Render differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestGoldenConfigsPassHAProxyCheck(t *testing.T) {
	bin := testenv.RequireHAProxy(t)
	for _, tc := range renderCases {
		golden := filepath.Join("testdata", "render", tc.name+".cfg")
		out, err := exec.Command(bin, "-c", "-f", golden).CombinedOutput()
		if err != nil {
			t.Errorf("haproxy -c -f %s: %v\n%s", golden, err, out)
		}
	}
}

// The config the image ships, which haproxy runs until Gantry writes its own, is
// Render's for the default port with no members.
func TestImageConfigIsRendered(t *testing.T) {
	want, err := proxy.Render(proxy.Config{Port: proxy.DefaultPort})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "images", "haproxy", "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("images/haproxy/haproxy.cfg is not Render(Config{Port: %d}):\n%s", proxy.DefaultPort, want)
	}
}

// The CMD of the image is Command, so that a container made from the image alone runs
// HAProxy as the kind expects.
func TestImageCommandIsCommand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "images", "haproxy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	want := `CMD ["` + strings.Join(proxy.Command(), `", "`) + `"]`
	if !strings.Contains(string(b), want) {
		t.Errorf("images/haproxy/Dockerfile has no line %s", want)
	}
}

func TestRenderSortsMembers(t *testing.T) {
	members := []proxy.Member{
		{ID: "c", Address: "10.0.0.3", Port: 80},
		{ID: "a", Address: "10.0.0.1", Port: 80},
		{ID: "b", Address: "10.0.0.2", Port: 80},
	}
	first, err := proxy.Render(proxy.Config{Port: 8000, Members: members})
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(members)
	slices.Reverse(reversed)
	second, err := proxy.Render(proxy.Config{Port: 8000, Members: reversed})
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Errorf("the order of the members changes the config:\n%s\n---\n%s", first, second)
	}
	a, b, c := strings.Index(string(first), "server a "), strings.Index(string(first), "server b "), strings.Index(string(first), "server c ")
	if a < 0 || !(a < b && b < c) {
		t.Errorf("servers not in id order:\n%s", first)
	}
	if !slices.Equal(members, []proxy.Member{{"c", "10.0.0.3", 80}, {"a", "10.0.0.1", 80}, {"b", "10.0.0.2", 80}}) {
		t.Error("Render reordered the caller's slice")
	}
}

func TestRenderRejects(t *testing.T) {
	ok := proxy.Member{ID: "m", Address: "10.0.0.1", Port: 80}
	for _, tc := range []struct {
		name string
		cfg  proxy.Config
		want string
	}{
		{"no port", proxy.Config{}, "port 0"},
		{"port too big", proxy.Config{Port: 70000}, "port 70000"},
		{"master CLI port", proxy.Config{Port: 9999}, "master CLI"},
		{"stats on the HTTP port", proxy.Config{Port: 8404}, "stats port 8404 is the HTTP port"},
		{"stats on the master CLI", proxy.Config{Port: 80, Stats: proxy.Stats{Bind: "127.0.0.1:9999"}}, "master CLI"},
		{"stats without host", proxy.Config{Port: 80, Stats: proxy.Stats{Bind: ":8404"}}, "give an address"},
		{"stats bind without port", proxy.Config{Port: 80, Stats: proxy.Stats{Bind: "127.0.0.1"}}, "stats bind"},
		{"stats uri not a path", proxy.Config{Port: 80, Stats: proxy.Stats{URI: "stats"}}, "stats uri"},
		{"member without port", proxy.Config{Port: 80, Members: []proxy.Member{{ID: "x", Address: "10.0.0.1"}}}, "member x port 0"},
		{"member without address", proxy.Config{Port: 80, Members: []proxy.Member{{ID: "x", Port: 80}}}, "member x: address"},
		{"member address with a space", proxy.Config{Port: 80, Members: []proxy.Member{{ID: "x", Address: "10.0.0.1 backup", Port: 80}}}, "member x: address"},
		{"same server name", proxy.Config{Port: 80, Members: []proxy.Member{ok, {ID: "a b", Address: "10.0.0.2", Port: 80}, {ID: "a_b", Address: "10.0.0.3", Port: 80}}}, "same server name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := proxy.Render(tc.cfg)
			if !errors.Is(err, entities.ErrInvalid) {
				t.Fatalf("Render = %v, want an error wrapping entities.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestCommandIsMasterWorker(t *testing.T) {
	cmd := proxy.Command()
	for _, want := range []string{"-W", "-db", "ipv4@" + proxy.MasterCLI, proxy.PIDFile, proxy.ConfigPath} {
		if !slices.Contains(cmd, want) {
			t.Errorf("Command() = %v: no %s", cmd, want)
		}
	}
}

// The apply script is plain POSIX sh as busybox runs it.
func TestApplyScriptParses(t *testing.T) {
	bb := testenv.RequireBusybox(t)
	if out, err := exec.Command(bb, "sh", "-n", "-c", proxy.ApplyScript).CombinedOutput(); err != nil {
		t.Fatalf("busybox sh -n: %v\n%s", err, out)
	}
}
