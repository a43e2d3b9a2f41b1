package server_test

// Logging in: a server with a users file, driven as br and the Go client drive it.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/server"
)

// The users of authServer, with their passwords.
const (
	rootUser, rootPass = "admin", "admin-pass"
	userUser, userPass = "bob", "bob-pass"
	roUser, roPass     = "ro", "ro-pass"
)

// authServer is a server with a users file: admin (root), bob (user) and ro
// (readonly), and a token of ro.
type authServer struct {
	t         *testing.T
	s         *server.Server
	url       string
	usersFile string
	roToken   string
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func writeUsers(t *testing.T, path string) (roToken string) {
	t.Helper()
	u := &server.Users{}
	for _, x := range [][3]string{{rootUser, "root", rootPass}, {userUser, "user", userPass}, {roUser, "readonly", roPass}} {
		if _, err := u.SetPassword(x[0], x[2], x[1]); err == nil {
			t.Fatalf("SetPassword takes the role second; it accepted role %q", x[2])
		}
		if _, err := u.SetPassword(x[0], x[1], x[2]); err != nil {
			t.Fatal(err)
		}
	}
	token, _, err := u.NewToken(roUser, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Write(path); err != nil {
		t.Fatal(err)
	}
	return token
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	dir := t.TempDir()
	as := &authServer{t: t, usersFile: filepath.Join(dir, "users.yaml")}
	as.roToken = writeUsers(t, as.usersFile)
	s, err := server.New(context.Background(), server.Config{
		DataDir:    filepath.Join(dir, "data"),
		DockerHost: "unix://" + filepath.Join(dir, "no-docker.sock"),
		UsersFile:  as.usersFile,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	as.s, as.url = s, hs.URL
	return as
}

// as is a br-like client with an Authorization header ("" for none).
func (as *authServer) as(auth string) *brClient {
	return &brClient{t: as.t, base: as.url, auth: auth}
}

func wantAuthError(t *testing.T, what string, r response, code int) {
	t.Helper()
	wantError(t, what, r, code)
	if code == http.StatusUnauthorized {
		if h := r.header.Values("WWW-Authenticate"); len(h) == 0 || !strings.HasPrefix(h[0], "Basic realm=") {
			t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge first", what, h)
		}
	}
}

func TestAuthentication(t *testing.T) {
	as := newAuthServer(t)
	anon, wrong := as.as(""), as.as(basic(rootUser, "nope"))
	for _, path := range []string{"/v1/applications", "/v1/server/version", "/v1/server/up", "/v1/events", "/v1/no/such/route"} {
		wantAuthError(t, "no credentials: GET "+path, anon.get(path), http.StatusUnauthorized)
		wantAuthError(t, "wrong password: GET "+path, wrong.get(path), http.StatusUnauthorized)
	}
	wantAuthError(t, "unknown user", as.as(basic("mallory", rootPass)).get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "empty user (br login URL with no user)", as.as(basic("", "")).get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "not base64", as.as("Basic !!!").get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "other scheme", as.as("Digest x").get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "logout:logout", as.as(basic("logout", "logout")).get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "wrong token", as.as("Bearer gantry_nope").get("/v1/applications"), http.StatusUnauthorized)
	wantAuthError(t, "no credentials: POST", anon.postJSON("/v1/applications", "name: x\nservices: [{type: basic-entity}]"), http.StatusUnauthorized)

	// Right credentials: password (again, from the server's memory of it), token,
	// token as the password.
	for _, auth := range []string{basic(rootUser, rootPass), basic(rootUser, rootPass), "Bearer " + as.roToken, basic(roUser, as.roToken)} {
		c := as.as(auth)
		wantArray(t, "GET /v1/applications with "+auth[:6], c.get("/v1/applications"))
	}
	// The token is ro's, not bob's.
	wantAuthError(t, "a token as another user's password", as.as(basic(userUser, as.roToken)).get("/v1/applications"), http.StatusUnauthorized)

	// /v1/server/user says who logged in.
	for auth, want := range map[string]string{basic(userUser, userPass): userUser, "Bearer " + as.roToken: roUser} {
		r := as.as(auth).send(http.MethodGet, "/v1/server/user", nil, map[string]string{"Accept": "text/plain"})
		if wantCode(t, "server/user", r, http.StatusOK); string(r.body) != want {
			t.Errorf("server/user = %q, want %q", r.body, want)
		}
	}

	// The UI's files are open (no data), and a route nobody has is 404 for a user.
	if r := anon.get("/"); r.code == http.StatusUnauthorized || r.code == http.StatusForbidden {
		t.Errorf("GET / (the UI) without credentials: %s", r)
	}
	wantError(t, "no such route, logged in", as.as(basic(roUser, roPass)).get("/v1/no/such/route"), http.StatusNotFound)

	// The Go client: WithBasicAuth, WithToken, ErrUnauthorized.
	ctx := context.Background()
	if _, err := client.New(as.url, client.WithToken(as.roToken)).Applications(ctx); err != nil {
		t.Errorf("client WithToken: %v", err)
	}
	if _, err := client.New(as.url, client.WithBasicAuth(roUser, roPass)).Applications(ctx); err != nil {
		t.Errorf("client WithBasicAuth: %v", err)
	}
	if _, err := client.New(as.url, client.WithBasicAuth(roUser, "x")).Applications(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("client with a wrong password: %v, want ErrUnauthorized", err)
	}
}

// TestRoles checks, route group by route group, what readonly, user and root may do:
// readonly sees everything and changes nothing (403), user deploys, invokes and adds
// to the catalog but does not change entities (Brooklyn's MODIFY_ENTITY), root does
// everything.
func TestRolesByRouteGroup(t *testing.T) {
	as := newAuthServer(t)
	root, user, ro := as.as(basic(rootUser, rootPass)), as.as(basic(userUser, userPass)), as.as("Bearer "+as.roToken)

	// Deploying: readonly may not; user may.
	bp := "name: roles\nlocation: localhost\nservices:\n- type: basic-entity\n  name: leaf\n  brooklyn.config:\n    db.password: hunter2\n"
	wantAuthError(t, "readonly deploys", ro.postJSON("/v1/applications", bp), http.StatusForbidden)
	task := deployAndWait(t, user, bp)
	app := task.EntityID
	e := "/v1/applications/" + app + "/entities/leaf"
	leafEff := e + "/effectors/restart"

	// Reading every route group: all three may.
	reads := []string{
		"/v1/applications", "/v1/applications/fetch", "/v1/applications/" + app, "/v1/applications/" + app + "/descendants",
		"/v1/applications/" + app + "/entities", e, e + "/children", e + "/spec", e + "/locations", e + "/tags",
		e + "/activities", e + "/sensors", e + "/sensors/current-state", e + "/sensors/service.state",
		e + "/config", e + "/config/current-state", e + "/effectors", e + "/policies", e + "/adjuncts",
		"/v1/activities/" + task.ID, "/v1/activities/" + task.ID + "/children", "/v1/activities/" + task.ID + "/stream/stdout",
		"/v1/catalog/types", "/v1/catalog/entities", "/v1/catalog/policies", "/v1/locations",
		"/v1/server/version", "/v1/server/up", "/v1/server/healthy", "/v1/server/up/extended", "/v1/server/ha/state", "/v1/server/user",
	}
	for _, path := range reads {
		for name, c := range map[string]*brClient{"readonly": ro, "user": user, "root": root} {
			if r := c.get(path); r.code >= 300 {
				t.Errorf("%s GET %s: %s", name, path, r)
			}
		}
	}

	// Invoking effectors: readonly may not; user may.
	wantAuthError(t, "readonly invokes", ro.invoke(app, "leaf", "restart", "", nil), http.StatusForbidden)
	wantCode(t, "user invokes", user.invoke(app, "leaf", "restart", "", nil), http.StatusOK)
	if r := ro.postEmpty(leafEff); r.code != http.StatusForbidden {
		t.Errorf("readonly POST %s: %s", leafEff, r)
	}

	// Changing entities: only root.
	changes := []struct{ method, path, body string }{
		{http.MethodPost, e + "/config/db.user", `"shop"`},
		{http.MethodPost, e + "/config", `{"a.b": 1}`},
		{http.MethodPost, e + "/sensors/test.sensor", `1`},
		{http.MethodDelete, e + "/sensors/test.sensor", ``},
		{http.MethodPost, e + "/name?name=leaf", ``},
		{http.MethodPost, e + "/policies?type=test-counting-policy", `{}`},
	}
	for _, ch := range changes {
		do := func(c *brClient) response {
			return c.send(ch.method, ch.path, strings.NewReader(ch.body), map[string]string{"Content-Type": "application/json"})
		}
		wantAuthError(t, "readonly "+ch.method+" "+ch.path, do(ro), http.StatusForbidden)
		wantAuthError(t, "user "+ch.method+" "+ch.path, do(user), http.StatusForbidden)
		if r := do(root); r.code >= 300 {
			t.Errorf("root %s %s: %s", ch.method, ch.path, r)
		}
	}
	// Policies: root added one above; user may stop and start it, not destroy it.
	pols := decode[[]brPolicy](t, "policies", root.get(e+"/policies"))
	if len(pols) != 1 {
		t.Fatalf("policies: %+v", pols)
	}
	pol := e + "/policies/" + pols[0].ID
	wantAuthError(t, "readonly stops a policy", ro.postEmpty(pol+"/stop"), http.StatusForbidden)
	wantCode(t, "user stops a policy", user.postEmpty(pol+"/stop"), http.StatusNoContent)
	wantCode(t, "user starts a policy", user.postEmpty(pol+"/start"), http.StatusNoContent)
	wantAuthError(t, "user destroys a policy", user.postEmpty(pol+"/destroy"), http.StatusForbidden)
	wantCode(t, "root destroys a policy", root.postEmpty(pol+"/destroy"), http.StatusNoContent)

	// The catalog: user may add, readonly may not.
	bom := "brooklyn.catalog:\n  id: roles-item\n  version: 1.0\n  itemType: entity\n  item:\n    type: basic-entity\n"
	wantAuthError(t, "readonly adds to the catalog", ro.postJSON("/v1/catalog", bom), http.StatusForbidden)
	if r := user.postJSON("/v1/catalog", bom); r.code >= 300 {
		t.Errorf("user adds to the catalog: %s", r)
	}
	wantAuthError(t, "readonly deletes from the catalog", ro.delete("/v1/catalog/entities/roles-item/1.0"), http.StatusForbidden)

	// Deleting the application: readonly may not; user may.
	wantAuthError(t, "readonly deletes", ro.delete("/v1/applications/"+app), http.StatusForbidden)
	wantCode(t, "user deletes", user.delete("/v1/applications/"+app), http.StatusAccepted)

	// The 403 says what it takes.
	r := ro.postJSON("/v1/applications", bp)
	if !strings.Contains(string(r.body), "role readonly") || !strings.Contains(string(r.body), "user") {
		t.Errorf("403 body does not say what it takes: %s", r.body)
	}
}

// TestUsersFileIsReadAgain: a token revoked and a user added while the server runs.
func TestUsersFileIsReadAgain(t *testing.T) {
	as := newAuthServer(t)
	tok := as.as("Bearer " + as.roToken)
	wantArray(t, "token", tok.get("/v1/applications"))
	u, err := server.ReadUsers(as.usersFile)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := u.RevokeToken(roUser, u.Find(roUser).Tokens[0].ID[:6]); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if _, err := u.SetPassword("carol", "readonly", "carol-pass"); err != nil {
		t.Fatal(err)
	}
	if err := u.Write(as.usersFile); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(as.usersFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode: %v %v", fi.Mode(), err)
	}
	eventually(t, "the revoked token refused", 5*time.Second, func() bool {
		return tok.get("/v1/applications").code == http.StatusUnauthorized
	})
	wantArray(t, "the new user", as.as(basic("carol", "carol-pass")).get("/v1/applications"))

	// A broken file keeps the users read before.
	if err := os.WriteFile(as.usersFile, []byte("users: [{name: x, role: emperor}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	wantArray(t, "after a broken edit", as.as(basic("carol", "carol-pass")).get("/v1/applications"))
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	br := newCompatServer(t) // no users: the browser is the only guard
	r := br.send(http.MethodPost, "/v1/applications", strings.NewReader("name: x\nservices: [{type: basic-entity}]"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	wantError(t, "cross-origin POST", r, http.StatusForbidden)
	wantArray(t, "nothing deployed", br.get("/v1/applications"))
	if apps := decode[[]brApp](t, "apps", br.get("/v1/applications")); len(apps) != 0 {
		t.Errorf("a cross-origin POST deployed %v", apps)
	}
	// the same origin may
	r = br.send(http.MethodPost, "/v1/applications", strings.NewReader("name: x\nlocation: localhost\nservices: [{type: basic-entity}]"),
		map[string]string{"Content-Type": "application/x-yaml", "Sec-Fetch-Site": "same-origin"})
	wantCode(t, "same-origin POST", r, http.StatusCreated)
}

func TestServerNeedsUsersBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{
		Bind:       "0.0.0.0:0",
		DataDir:    filepath.Join(dir, "data"),
		DockerHost: "unix://" + filepath.Join(dir, "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	_, err := server.New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "--users") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("0.0.0.0 without users: %v", err)
	}
	cfg.UsersFile = filepath.Join(dir, "missing.yaml")
	if _, err := server.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "gantry users add") {
		t.Fatalf("a missing users file: %v", err)
	}
	cfg.UsersFile = filepath.Join(dir, "users.yaml")
	writeUsers(t, cfg.UsersFile)
	s, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, func(a string) { addr <- a }) }()
	a := <-addr
	_, port, _ := net.SplitHostPort(a)
	c := client.New("http://127.0.0.1:"+port, client.WithBasicAuth(roUser, roPass))
	if _, err := c.Applications(context.Background()); err != nil {
		t.Errorf("on 0.0.0.0 with users: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
}

// TestTLS serves HTTPS with a certificate made for the test.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := makeCert(t, dir)
	usersFile := filepath.Join(dir, "users.yaml")
	writeUsers(t, usersFile)
	s, err := server.New(context.Background(), server.Config{
		Bind:       "127.0.0.1:0",
		DataDir:    filepath.Join(dir, "data"),
		DockerHost: "unix://" + filepath.Join(dir, "no-docker.sock"),
		UsersFile:  usersFile,
		TLSCert:    certFile, TLSKey: keyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, func(a string) { addr <- a }) }()
	base := "https://" + <-addr
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	v, err := client.New(base, client.WithHTTPClient(hc), client.WithBasicAuth(roUser, roPass)).Version(context.Background())
	if err != nil || v.Version != server.Version {
		t.Errorf("version over TLS: %+v %v", v, err)
	}
	// Plain HTTP to the TLS port is refused, and an untrusted certificate too.
	if resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/v1/server/version"); err == nil {
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP answered %s", resp.Status)
		}
		resp.Body.Close()
	}
	if _, err := client.New(base).Version(context.Background()); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}

	// A key without its certificate is refused at once.
	_, err = server.New(context.Background(), server.Config{DataDir: filepath.Join(dir, "d2"), TLSKey: keyFile})
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("a key without a certificate: %v", err)
	}
}

// makeCert writes a self-signed certificate for 127.0.0.1 and its key.
func makeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gantry test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSecretsAreMasked: secret config and sensors are never shown, by any route.
func TestSecretsAreMasked(t *testing.T) {
	br := newCompatServer(t)
	bp := `name: secrets
location: localhost
services:
- type: basic-entity
  name: db
  brooklyn.parameters:
  - {name: launch.phrase, secret: true}
  brooklyn.config:
    launch.phrase: open-sesame
    db.password: hunter2
    api.token: tok-123
    docker.tls.key: /etc/certs/key.pem
    db.user: shop
    settings:
      STRIPE_SECRET: sk_live_1
      port: 5432
`
	task := deployAndWait(t, br, bp)
	app := task.EntityID
	e := "/v1/applications/" + app + "/entities/db"
	wantCode(t, "set a secret sensor", br.postJSON(e+"/sensors/admin.password", `"s3nsor"`), http.StatusNoContent)
	wantCode(t, "set a plain sensor", br.postJSON(e+"/sensors/admin.user", `"root"`), http.StatusNoContent)
	leaks := []string{"hunter2", "tok-123", "sk_live_1", "s3nsor", "open-sesame"}
	check := func(what string, r response) {
		t.Helper()
		wantCode(t, what, r, http.StatusOK)
		for _, leak := range leaks {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("%s shows %s: %s", what, leak, r.body)
			}
		}
	}
	sensors := decode[map[string]any](t, "sensors", br.get(e+"/sensors/current-state"))
	check("/sensors/current-state", br.get(e+"/sensors/current-state"))
	if sensors["admin.password"] != api.SecretMask || sensors["admin.user"] != "root" {
		t.Errorf("sensors: %v", sensors)
	}
	cfg := decode[map[string]any](t, "config", br.get(e+"/config/current-state"))
	check("/config/current-state", br.get(e+"/config/current-state"))
	if cfg["launch.phrase"] != api.SecretMask || cfg["db.password"] != api.SecretMask || cfg["api.token"] != api.SecretMask || cfg["db.user"] != "shop" || cfg["docker.tls.key"] != "/etc/certs/key.pem" {
		t.Errorf("config: %v", cfg)
	}
	if m, _ := cfg["settings"].(map[string]any); m["STRIPE_SECRET"] != api.SecretMask || m["port"] != 5432.0 {
		t.Errorf("config settings: %v", cfg["settings"])
	}
	check("config key", br.get(e+"/config/db.password"))
	check("config key as text", br.send(http.MethodGet, e+"/config/db.password", nil, map[string]string{"Accept": "text/plain"}))
	check("sensor", br.get(e+"/sensors/admin.password"))
	check("entity spec", br.get(e+"/spec"))
	check("app spec (the blueprint)", br.get("/v1/applications/"+app+"/entities/"+app+"/spec"))
	check("fetch with sensors", br.get("/v1/applications/fetch?sensors=admin.password"))
	// Setting a secret to its mask keeps the secret (a form sent back whole).
	wantCode(t, "set the mask", br.postJSON(e+"/config/db.password", `"`+api.SecretMask+`"`), http.StatusNoContent)
	wantCode(t, "set a new password", br.postJSON(e+"/config/db.password", `"n3w"`), http.StatusNoContent)
	leaks = append(leaks, "n3w")
	check("after a change", br.get(e+"/config/current-state"))
}

// TestBrLoginWithUsers replays what `br login URL user password` then `br apps` send
// (apache/brooklyn-client cli/commands/login.go, cli/net/net.go): login sends only
// GET /v1/server/version, with Basic credentials and no Accept; br prints
// "Unauthorized" on a 401. Every later command sends the same Authorization header.
func TestBrLoginWithUsers(t *testing.T) {
	as := newAuthServer(t)
	login := func(user, pass string) response {
		return as.as(basic(user, pass)).version()
	}
	r := login(roUser, roPass)
	wantCode(t, "br login", r, http.StatusOK)
	if v := decode[brVersion](t, "br login", r); v.Version != server.Version {
		t.Errorf("br login: version %q", v.Version)
	}
	wantAuthError(t, "br login with a wrong password", login(roUser, "x"), http.StatusUnauthorized)
	wantAuthError(t, "br login URL (no user: br sends Basic of \":\")", as.as("Basic Og==").version(), http.StatusUnauthorized)
	// br apps
	br := as.as(basic(roUser, roPass))
	wantArray(t, "br apps", br.get("/v1/applications"))
	// br login --authorization=Bearer:TOKEN URL
	wantArray(t, "br apps with a Bearer token", as.as("Bearer "+as.roToken).get("/v1/applications"))
	// br deploy as readonly: 403 with a message br prints
	wantAuthError(t, "br deploy as readonly", br.postJSON("/v1/applications", "name: x\nservices: [{type: basic-entity}]"), http.StatusForbidden)
}
