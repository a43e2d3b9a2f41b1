package ssh_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/ssh"
)

func TestParseConfig(t *testing.T) {
	h := func(user, host string, port int) ssh.Host { return ssh.Host{User: user, Host: host, Port: port} }
	tests := []struct {
		name    string
		spec    string
		config  map[string]any
		want    []ssh.Host
		check   func(t *testing.T, c ssh.Config)
		wantErr string
	}{
		{name: "list", config: map[string]any{"hosts": []any{"10.0.0.1", "u@10.0.0.2:2222"}},
			want: []ssh.Host{h("me", "10.0.0.1", 22), h("u", "10.0.0.2", 2222)}},
		{name: "glob string", config: map[string]any{"hosts": "{1.2.3.{4,5},u@h{8-9}}", "user": "deploy"},
			want: []ssh.Host{h("deploy", "1.2.3.4", 22), h("deploy", "1.2.3.5", 22), h("u", "h8", 22), h("u", "h9", 22)}},
		{name: "globs in a list", config: map[string]any{"hosts": []any{"10.0.0.{1-2}:2200"}, "port": 2222},
			want: []ssh.Host{h("me", "10.0.0.1", 2200), h("me", "10.0.0.2", 2200)}},
		{name: "location port", config: map[string]any{"hosts": "a,b", "port": "2222"},
			want: []ssh.Host{h("me", "a", 2222), h("me", "b", 2222)}},
		{name: "ipv6", config: map[string]any{"hosts": []any{"[::1]:2222", "fe80::1", "u@[::2]"}},
			want: []ssh.Host{h("me", "::1", 2222), h("me", "fe80::1", 22), h("u", "::2", 22)}},
		{name: "host maps", config: map[string]any{"user": "def", "privateKeyFile": "~/.ssh/a", "hosts": []any{
			map[string]any{"ssh": "10.0.0.1:2200", "user": "x", "privateKeyFile": "/k1, /k2"},
			map[string]any{"host": "10.0.0.2", "password": "pw", "port": 23},
			"10.0.0.3",
		}}, check: func(t *testing.T, c ssh.Config) {
			want := []ssh.Host{
				{User: "x", Host: "10.0.0.1", Port: 2200, PrivateKeyFiles: []string{"/k1", "/k2"}},
				{User: "def", Host: "10.0.0.2", Port: 23, PrivateKeyFiles: []string{"~/.ssh/a"}, Password: "pw"},
				{User: "def", Host: "10.0.0.3", Port: 22, PrivateKeyFiles: []string{"~/.ssh/a"}},
			}
			if !reflect.DeepEqual(c.Hosts, want) {
				t.Fatalf("hosts = %+v\nwant %+v", c.Hosts, want)
			}
		}},
		{name: "credentials and options", config: map[string]any{
			"hosts": "h", "user": "u", "password": "secret", "privateKeyData": "PEM", "privateKeyPassphrase": "pp",
			"knownHostsFile": "/kh", "connectTimeout": "3s", "displayName": "Lab", "osFamily": "ubuntu",
		}, check: func(t *testing.T, c ssh.Config) {
			got := c.Hosts[0]
			if got.Password != "secret" || got.PrivateKeyData != "PEM" || got.Passphrase != "pp" || got.User != "u" {
				t.Fatalf("host = %+v", got)
			}
			if c.KnownHostsFile != "/kh" || c.ConnectTimeout != 3*time.Second || c.Name != "Lab" {
				t.Fatalf("config = %+v", c)
			}
		}},
		{name: "brooklyn milliseconds", config: map[string]any{"hosts": "h", "connectTimeout": 2500},
			check: func(t *testing.T, c ssh.Config) {
				if c.ConnectTimeout != 2500*time.Millisecond {
					t.Fatalf("timeout %s", c.ConnectTimeout)
				}
			}},
		{name: "no hosts", config: map[string]any{"user": "u"}, wantErr: "needs hosts"},
		{name: "empty hosts", config: map[string]any{"hosts": []any{}}, wantErr: "hosts is empty"},
		{name: "hosts of a number", config: map[string]any{"hosts": 3}, wantErr: "want a list"},
		{name: "duplicate", config: map[string]any{"hosts": "a,me@a:22"}, wantErr: "me@a:22 is listed twice"},
		{name: "bad port", config: map[string]any{"hosts": "a:99999"}, wantErr: "outside 1-65535"},
		{name: "bad port word", config: map[string]any{"hosts": "a:ssh"}, wantErr: "not a port number"},
		{name: "bad glob", config: map[string]any{"hosts": "a{1,2"}, wantErr: "unclosed '{'"},
		{name: "bad host", config: map[string]any{"hosts": []any{"a b"}}, wantErr: "want [user@]host[:port]"},
		{name: "bad ipv6 brackets", config: map[string]any{"hosts": []any{"[nothost]:22"}}, wantErr: "not an IPv6 address"},
		{name: "host map without address", config: map[string]any{"hosts": []any{map[string]any{"user": "u"}}}, wantErr: "needs ssh:"},
		{name: "typo in key case", config: map[string]any{"hosts": "h", "privatekeyfile": "/k"}, wantErr: `did you mean "privateKeyFile"`},
		{name: "singular host", config: map[string]any{"host": "h"}, wantErr: `did you mean "hosts"`},
		{name: "typo in host map", config: map[string]any{"hosts": []any{map[string]any{"ssh": "h", "Password": "x"}}}, wantErr: `did you mean "password"`},
		{name: "bad timeout", config: map[string]any{"hosts": "h", "connectTimeout": "soon"}, wantErr: "connectTimeout"},
		{name: "bad user", config: map[string]any{"hosts": "h", "user": "a b"}, wantErr: "want a user name"},
		{name: "no user anywhere", spec: "byon", config: map[string]any{"hosts": "h"}, wantErr: "no user"},
		{name: "target", spec: "byon:foo", config: map[string]any{"hosts": "h"}, wantErr: "write byon:("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			user := "me"
			if spec == "" {
				spec = "byon"
			} else if tt.name == "no user anywhere" {
				user = ""
			}
			c, err := ssh.ParseConfig(locations.Definition{ID: "byon-1", Spec: spec, Config: tt.config}, user)
			if tt.wantErr != "" {
				if !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrInvalid with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(c.Hosts, tt.want) {
				t.Fatalf("hosts = %+v\nwant %+v", c.Hosts, tt.want)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestHostID(t *testing.T) {
	for _, tt := range []struct {
		h    ssh.Host
		want string
	}{
		{ssh.Host{User: "u", Host: "10.0.0.1", Port: 22}, "u@10.0.0.1:22"},
		{ssh.Host{User: "u", Host: "::1", Port: 2222}, "u@[::1]:2222"},
	} {
		if got := tt.h.ID(); got != tt.want {
			t.Errorf("ID = %q, want %q", got, tt.want)
		}
	}
}

func TestScript(t *testing.T) {
	tests := []struct {
		name    string
		cmd     locations.Command
		want    string
		wantErr bool
	}{
		{name: "plain", cmd: locations.Command{Script: "echo hi"}, want: "echo hi"},
		{name: "env sorted and quoted", cmd: locations.Command{Script: "x", Env: map[string]string{"B": "it's", "A": "a b"}},
			want: "export A='a b'\nexport B='it'\\''s'\nx"},
		{name: "dir", cmd: locations.Command{Script: "x", Dir: "/tmp/a b"},
			want: "cd -- '/tmp/a b' 2>/dev/null || { e=$(mkdir -p -- '/tmp/a b' 2>&1) && cd -- '/tmp/a b'; } || { printf '\\036gantry-nodir %s\\n' \"${e:-cannot enter it}\" >&2; exit 1; }\nx"},
		{name: "bad env name", cmd: locations.Command{Script: "x", Env: map[string]string{"A-B": "1"}}, wantErr: true},
		{name: "env name with digit first", cmd: locations.Command{Script: "x", Env: map[string]string{"1A": "1"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ssh.Script(tt.cmd)
			if tt.wantErr {
				if !errors.Is(err, locations.ErrInvalid) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Script = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
