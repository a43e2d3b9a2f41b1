package server

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/api"
)

func TestIsSecretKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret bool
	}{
		// Brooklyn's Sanitizer list, anywhere in the name, in any case
		{"password", true},
		{"db.password", true},
		{"MYSQL_ROOT_PASSWORD", true},
		{"passwd", true},
		{"ssh.passwd.file", true},
		{"jclouds.credential", true},
		{"credentials", true},
		{"client.secret", true},
		{"secretName", true},
		{"privateKeyFile", true}, // a path, but Brooklyn masks it too
		{"ssh.private.key.data", true},
		{"access.key", true},
		{"access.cert", true},
		{"keystorePassword", true},
		// Gantry's additions: passphrase, the word token, api/access/auth key
		{"key.passphrase", true},
		{"auth.token", true},
		{"githubToken", true},
		{"GITHUB_TOKEN", true},
		{"token", true},
		{"api.key", true},
		{"apiKey", true},
		{"API_KEY", true},
		{"apikey", true},
		{"accessKey", true},
		{"aws_access_key_id", true},
		{"authKey", true},
		{"db.pwd", true},
		// not secrets: key file paths, counts of tokens, keys of maps
		{"docker.tls.key", false},
		{"tls.key", false},
		{"ssh.key.file", false},
		{"key", false},
		{"keyspace", false},
		{"monkey.count", false},
		{"tokenizer", false},
		{"max.tokens", false},
		{"host.address", false},
		{"service.state", false},
		{"main.uri", false},
		{"webapp.reqs.total", false},
		{"docker.container.count", false},
		{"", false},
	} {
		if got := IsSecretKey(tc.name); got != tc.secret {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tc.name, got, tc.secret)
		}
	}
}

func TestMaskValue(t *testing.T) {
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n"
	in := map[string]any{
		"user":     "admin",
		"password": "hunter2",
		"nested":   map[string]any{"api.key": "k", "port": 8080.0},
		"list":     []any{"a", pem, map[string]any{"token": "t"}},
		"dsl":      map[string]any{"db.password": `$brooklyn:external("vault", "db")`},
		"cert":     pem,
	}
	orig := map[string]any{}
	for k, v := range in {
		orig[k] = v
	}
	got := maskValue(in, false)
	want := map[string]any{
		"user":     "admin",
		"password": api.SecretMask,
		"nested":   map[string]any{"api.key": api.SecretMask, "port": 8080.0},
		"list":     []any{"a", api.SecretMask, map[string]any{"token": api.SecretMask}},
		"dsl":      map[string]any{"db.password": `$brooklyn:external("vault", "db")`},
		"cert":     api.SecretMask,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("maskValue:\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(in, orig) || in["password"] != "hunter2" {
		t.Errorf("maskValue changed its argument: %v", in)
	}
	if got := maskValue(42.0, true); got != api.SecretMask {
		t.Errorf("a secret number: %v", got)
	}
	if got := maskValue(nil, true); got != nil {
		t.Errorf("an unset secret: %v, want nil", got)
	}
	plain := map[string]any{"a": 1}
	if got := maskValue(plain, false).(map[string]any); &got == &plain || !reflect.DeepEqual(got, plain) {
		t.Errorf("nothing to mask: %v", got)
	}
}

func TestMaskEnvText(t *testing.T) {
	in := "HOME=/root\nDB_PASSWORD=hunter2\nAPI_TOKEN=abc=def\nPATH=/bin\n"
	want := "HOME=/root\nDB_PASSWORD=" + api.SecretMask + "\nAPI_TOKEN=" + api.SecretMask + "\nPATH=/bin\n"
	if got := maskEnvText(in); got != want {
		t.Errorf("maskEnvText:\n got %q\nwant %q", got, want)
	}
}

func TestMaskBlueprint(t *testing.T) {
	plain := "name: x\nservices:\n- type: server   # as written\n"
	if got := string(maskBlueprint([]byte(plain))); got != plain {
		t.Errorf("a blueprint without secrets is changed: %q", got)
	}
	bp := `name: shop
services:
- type: vanilla-software-process
  brooklyn.config:
    db.password: hunter2 # the secret
    db.user: shop
    api.token: $brooklyn:external("vault", "token")
    shell.env:
      STRIPE_SECRET: sk_live_1
      PORT: 8080
`
	got := string(maskBlueprint([]byte(bp)))
	for _, leak := range []string{"hunter2", "sk_live_1"} {
		if strings.Contains(got, leak) {
			t.Errorf("%s is shown:\n%s", leak, got)
		}
	}
	for _, keep := range []string{"db.user: shop", "PORT: 8080", `$brooklyn:external("vault", "token")`, "db.password: " + api.SecretMask, "# the secret"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q is missing:\n%s", keep, got)
		}
	}
}

func TestMaskSecretsInLogs(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(MaskSecrets(slog.NewTextHandler(&b, nil)))
	log.With("db.password", "hunter2").Info("deploying",
		"app", "shop", "token", "abc123",
		"config", map[string]any{"api.key": "k1", "size": 3},
		"env", map[string]string{"AWS_SECRET_ACCESS_KEY": "s3cr3t", "HOME": "/root"},
		slog.Group("creds", "password", "p4ss", "user", "bob"))
	out := b.String()
	for _, leak := range []string{"hunter2", "abc123", "k1", "s3cr3t", "p4ss"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log shows %s: %s", leak, out)
		}
	}
	for _, keep := range []string{"app=shop", "HOME:/root", "creds.user=bob", "size:3"} {
		if !strings.Contains(out, keep) {
			t.Errorf("the log lost %s: %s", keep, out)
		}
	}
}
