package software

import "testing"

func TestUnpackCommand(t *testing.T) {
	cases := map[string]string{
		"app-1.0.tar.gz": "tar -xzf 'app-1.0.tar.gz'",
		"APP.TGZ":        "tar -xzf 'APP.TGZ'",
		"a.tar.bz2":      "tar -xjf 'a.tar.bz2'",
		"a.tar.xz":       "tar -xJf 'a.tar.xz'",
		"a.tar":          "tar -xf 'a.tar'",
		"it's.tar":       `tar -xf 'it'\''s.tar'`,
		"app.jar":        "",
		"server":         "",
	}
	for name, want := range cases {
		if got := unpackCommand(name); got != want {
			t.Errorf("unpackCommand(%q) = %q, want %q", name, got, want)
		}
	}
	if got := unpackCommand("a.zip"); got == "" {
		t.Error("a zip is not unpacked")
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"http.port": "HTTP_PORT", "jmx-agent.Port": "JMX_AGENT_PORT", "p2p.port": "P2P_PORT"} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSourcePath(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:8080/dist/app.tar.gz?token=x": "/dist/app.tar.gz",
		"file:///srv/app.conf":                  "/srv/app.conf",
		"/srv/app.conf":                         "/srv/app.conf",
	} {
		if got := sourcePath(in); got != want {
			t.Errorf("sourcePath(%q) = %q, want %q", in, got, want)
		}
	}
}
