package server

// Logging in. With a users file (Config.UsersFile), every request to /v1 must carry
// the credentials of a user: HTTP Basic, as `br login` sends them, or an API token as
// "Authorization: Bearer <token>" (a token is also taken as the password of Basic).
// What a user may do is its role, one of Brooklyn's entitlements:
//
//	root, poweruser  everything (Gantry runs no scripts, so they are the same)
//	user             see; deploy and delete applications, invoke effectors, start
//	                 and stop policies, add to the catalog (Brooklyn's user: not
//	                 MODIFY_ENTITY, so not setting config or sensors, renaming,
//	                 adding children or policies)
//	readonly         see: GET only (Brooklyn's readOnly)
//
// One middleware enforces it on every route, from a table of route patterns and
// methods (accessRules): a route the table does not name needs root. A missing or
// wrong credential is 401 with WWW-Authenticate; a role short of the permission is
// 403; both with Brooklyn's JSON error body. The web UI's files (GET outside /v1) are
// open, as Brooklyn serves its static content: they hold no data.
//
// Without a users file nothing is checked, as before; the server then refuses to
// listen anywhere but on loopback (checkExposure). Cross-origin writes from browsers
// are refused either way (http.CrossOriginProtection): a web page must not deploy on
// a server its visitor can reach.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/gantry-dev/gantry/api"
)

// Role is what a user may do, by Brooklyn's name for it.
type Role string

const (
	RoleRoot      Role = "root"
	RolePowerUser Role = "poweruser"
	RoleUser      Role = "user"
	RoleReadonly  Role = "readonly"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleRoot, RolePowerUser, RoleUser, RoleReadonly}

// ParseRole reads a role name, without regard to case; Brooklyn's "readOnly" and
// "read-only" are readonly.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "root":
		return RoleRoot, nil
	case "poweruser", "power-user":
		return RolePowerUser, nil
	case "user":
		return RoleUser, nil
	case "readonly", "read-only":
		return RoleReadonly, nil
	}
	return "", fmt.Errorf("unknown role %q: use root, poweruser, user or readonly: %w", s, ErrUsers)
}

// permission is what a request needs.
type permission int

const (
	permOpen    permission = iota // nothing: the UI's files
	permSee                       // read the model, the catalog, the locations, events
	permDeploy                    // deploy and delete applications
	permInvoke                    // invoke effectors, start and stop policies, cancel tasks
	permCatalog                   // add to and delete from the catalog
	permModify                    // change entities: config, sensors, names, children, policies
	permRoot                      // everything else, and what the table does not name
)

func (p permission) String() string {
	switch p {
	case permOpen:
		return "open"
	case permSee:
		return "see"
	case permDeploy:
		return "deploy applications"
	case permInvoke:
		return "invoke effectors"
	case permCatalog:
		return "change the catalog"
	case permModify:
		return "change entities"
	}
	return "administer the server"
}

// allows says whether a role has a permission.
func (r Role) allows(p permission) bool {
	switch r {
	case RoleRoot, RolePowerUser:
		return true
	case RoleUser:
		return p <= permCatalog
	case RoleReadonly:
		return p <= permSee
	}
	return false
}

// rolesFor names the roles that have p, for error messages.
func rolesFor(p permission) string {
	var out []string
	for _, r := range Roles {
		if r.allows(p) {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, ", ")
}

// accessRule gives the permission a method needs on the routes a pattern matches.
// Patterns are matched against the route's pattern (chi's, such as
// /v1/applications/{app}/entities/{entity}/effectors/{name}), segment by segment: a
// {...} segment of the rule matches any one segment, and a final "**" any number.
type accessRule struct {
	method  string
	pattern string
	perm    permission
}

const entityRoute = "/v1/applications/{app}/entities/{entity}"

// accessRules is the table of what each route needs; the first rule that matches
// wins, and a route no rule matches needs root.
var accessRules = []accessRule{
	// Seeing (readonly): the model, activities, catalog, locations, server status,
	// events. Brooklyn's readOnly also sees sensors and config, but not secret ones,
	// which Gantry masks for everyone.
	{"GET", "/v1/applications", permSee},
	{"GET", "/v1/applications/**", permSee},
	{"GET", "/v1/activities/**", permSee},
	{"GET", "/v1/catalog/**", permSee},
	{"GET", "/v1/locations", permSee},
	{"GET", "/v1/locations/**", permSee},
	{"GET", "/v1/events", permSee},
	{"GET", "/v1/server/version", permSee},
	{"GET", "/v1/server/up", permSee},
	{"GET", "/v1/server/healthy", permSee},
	{"GET", "/v1/server/up/extended", permSee},
	{"GET", "/v1/server/status", permSee},
	{"GET", "/v1/server/ha/state", permSee},
	{"GET", "/v1/server/ha/states", permSee},
	{"GET", "/v1/server/user", permSee},
	{"GET", "/v1/server/planeid", permSee},
	{"GET", "/v1/access", permSee},

	// Deploying (Brooklyn's DEPLOY_APPLICATION; deleting is its INVOKE_EFFECTOR stop).
	{"POST", "/v1/applications", permDeploy},
	{"PUT", "/v1/applications/{app}", permDeploy},
	{"DELETE", "/v1/applications/{app}", permDeploy},

	// Invoking (INVOKE_EFFECTOR): effectors, expunge, starting and stopping adjuncts,
	// cancelling tasks.
	{"POST", entityRoute + "/effectors/{name}", permInvoke},
	{"POST", entityRoute + "/expunge", permInvoke},
	{"POST", entityRoute + "/policies/{policy}/start", permInvoke},
	{"POST", entityRoute + "/policies/{policy}/stop", permInvoke},
	{"POST", entityRoute + "/adjuncts/{adjunct}/start", permInvoke},
	{"POST", entityRoute + "/adjuncts/{adjunct}/stop", permInvoke},
	{"POST", "/v1/activities/{task}/cancel", permInvoke},

	// The catalog (ADD_CATALOG_ITEM, MODIFY_CATALOG_ITEM).
	{"POST", "/v1/catalog", permCatalog},
	{"POST", "/v1/catalog/**", permCatalog},
	{"DELETE", "/v1/catalog/**", permCatalog},

	// Changing entities (MODIFY_ENTITY, which Brooklyn's user lacks): names, sensors,
	// config, tags, children, policies and enrichers.
	{"POST", entityRoute + "/**", permModify},
	{"PUT", entityRoute + "/**", permModify},
	{"DELETE", entityRoute + "/**", permModify},
}

// permissionFor is what a request with method on the route pattern needs.
// Everything outside /v1 that is read is open (the UI's files); anything else the
// table does not name needs root.
func permissionFor(method, pattern string) permission {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	pattern = strings.TrimSuffix(pattern, "/")
	if pattern == "" {
		pattern = "/"
	}
	if !underAPI(pattern) && method == http.MethodGet {
		return permOpen
	}
	for _, r := range accessRules {
		if r.method == method && matchPattern(r.pattern, pattern) {
			return r.perm
		}
	}
	return permRoot
}

func underAPI(path string) bool { return path == "/v1" || strings.HasPrefix(path, "/v1/") }

// matchPattern matches a route pattern against a rule's pattern.
func matchPattern(rule, route string) bool {
	rs := strings.Split(strings.Trim(rule, "/"), "/")
	ps := strings.Split(strings.Trim(route, "/"), "/")
	for i, r := range rs {
		if r == "**" && i == len(rs)-1 {
			return len(ps) >= i
		}
		if i >= len(ps) {
			return false
		}
		if strings.HasPrefix(r, "{") && strings.HasSuffix(r, "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if r != ps[i] {
			return false
		}
	}
	return len(rs) == len(ps)
}

// routePattern finds the pattern of the route a request goes to, as the router
// itself will; "" when none does (404, 405).
func routePattern(routes chi.Routes, r *http.Request) string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return routes.Find(chi.NewRouteContext(), method, path)
}

// crossOrigin refuses the writes a browser sends from a page of another origin
// (Sec-Fetch-Site, Origin): with Basic credentials cached by the browser, or a server
// without users on loopback, such a page could otherwise deploy. Clients that are not
// browsers (br, curl, the Go client) send neither header and pass.
var crossOrigin = http.NewCrossOriginProtection()

// userKey is the context key of the user a request was authenticated as.
type userKey struct{}

// requestUser is the name of the user a request was authenticated as, "" when the
// server has no users.
func requestUser(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// authorize is the middleware that checks every request against accessRules.
func (s *Server) authorize(routes chi.Routes) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := crossOrigin.Check(r); err != nil {
				writeJSON(w, http.StatusForbidden, api.ApiError{
					Message: "cross-origin " + r.Method + " refused: a web page of another site may not change this server",
					Error:   http.StatusForbidden,
				})
				return
			}
			if s.users == nil {
				next.ServeHTTP(w, r)
				return
			}
			var need permission
			if pattern := routePattern(routes, r); pattern != "" {
				need = permissionFor(r.Method, pattern)
			} else {
				// No route: 404 or 405 for whoever may see, 401 for strangers.
				need = permSee
				if !underAPI(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					need = permOpen
				}
			}
			if need == permOpen {
				next.ServeHTTP(w, r)
				return
			}
			u, err := s.users.authenticate(r)
			if err != nil {
				s.log.Info("authentication failed", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err)
				w.Header().Set("WWW-Authenticate", `Basic realm="gantry", charset="UTF-8"`)
				w.Header().Add("WWW-Authenticate", `Bearer realm="gantry"`)
				writeJSON(w, http.StatusUnauthorized, api.ApiError{Message: "Authentication failed: " + err.Error(), Error: http.StatusUnauthorized})
				return
			}
			role := Role(u.Role)
			if !role.allows(need) {
				s.log.Info("not permitted", "user", u.Name, "role", role, "method", r.Method, "path", r.URL.Path, "needs", need.String())
				writeJSON(w, http.StatusForbidden, api.ApiError{
					Message: fmt.Sprintf("user %s (role %s) may not %s: that takes the role %s", u.Name, role, need, rolesFor(need)),
					Error:   http.StatusForbidden,
				})
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				s.log.Info("request", "user", u.Name, "method", r.Method, "path", r.URL.Path)
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u.Name)))
		})
	}
}

// userStore holds the users of the users file, reading the file again when it
// changes, and remembers for a while the passwords it checked (bcrypt is slow on
// purpose, and br sends the password with every request).
type userStore struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	users   *Users
	byToken map[string]*User // token hash -> user
	mod     time.Time
	size    int64
	checked time.Time
	logins  map[[32]byte]login
}

// login is a password check that passed.
type login struct {
	user    string
	expires time.Time
}

const (
	usersRecheck = time.Second     // how often the file's time and size are looked at
	loginTTL     = 5 * time.Minute // how long a checked password is remembered
	maxLogins    = 1024
)

// openUsers reads a users file for the server; a file without users is an error.
func openUsers(path string, log *slog.Logger) (*userStore, error) {
	st := &userStore{path: path, log: log}
	if err := st.load(); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w; create it with `gantry users add %s NAME --role root --password-stdin`", err, path)
		}
		return nil, err
	}
	if len(st.users.Users) == 0 {
		return nil, fmt.Errorf("users file %s has no users, so nobody could log in; add one with `gantry users add %s NAME --role root --password-stdin`: %w", path, path, ErrUsers)
	}
	return st, nil
}

// load reads the file; the caller holds mu, or owns st.
func (st *userStore) load() error {
	fi, err := os.Stat(st.path)
	if err != nil {
		return fmt.Errorf("read users file: %w", err)
	}
	u, err := ReadUsers(st.path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		st.log.Warn("the users file can be read by others than its owner; chmod 600 it", "file", st.path, "mode", fi.Mode().Perm().String())
	}
	st.users, st.mod, st.size, st.checked = u, fi.ModTime(), fi.Size(), time.Now()
	st.byToken = map[string]*User{}
	for i := range u.Users {
		for _, t := range u.Users[i].Tokens {
			st.byToken[t.Hash] = &u.Users[i]
		}
	}
	st.logins = map[[32]byte]login{}
	return nil
}

// refresh reads the file again when it changed; a file that went wrong is logged,
// and the users read before stay.
func (st *userStore) refreshLocked() {
	if time.Since(st.checked) < usersRecheck {
		return
	}
	st.checked = time.Now()
	fi, err := os.Stat(st.path)
	if err != nil {
		st.log.Error("users file: keeping the users read before", "file", st.path, "err", err)
		return
	}
	if fi.ModTime().Equal(st.mod) && fi.Size() == st.size {
		return
	}
	if err := st.load(); err != nil {
		st.log.Error("users file changed but cannot be used: keeping the users read before", "file", st.path, "err", err)
		return
	}
	st.log.Info("users file read again", "file", st.path, "users", len(st.users.Users))
}

// errNoCredentials and the others say why a request was not authenticated.
var (
	errNoCredentials = errors.New("no credentials: log in with HTTP Basic (br login URL USER PASSWORD) or send Authorization: Bearer TOKEN")
	errBadLogin      = errors.New("wrong user name or password")
	errBadToken      = errors.New("unknown or revoked token")
	errLoggedOut     = errors.New("reauthorization required after logout")
)

// authenticate finds the user a request's credentials are of.
func (st *userStore) authenticate(r *http.Request) (User, error) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		return User{}, errNoCredentials
	case strings.EqualFold(scheme, "Bearer"):
		return st.byTokenValue(cred)
	case strings.EqualFold(scheme, "Basic"):
		name, pass, ok := r.BasicAuth()
		if !ok {
			return User{}, fmt.Errorf("the Basic credentials are not base64 of user:password")
		}
		if name == "logout" && pass == "logout" { // Brooklyn's UI clears the browser's login so
			return User{}, errLoggedOut
		}
		return st.byPassword(name, pass)
	}
	return User{}, fmt.Errorf("unsupported authorization scheme %q: use Basic or Bearer", scheme)
}

func (st *userStore) byTokenValue(token string) (User, error) {
	hash := tokenHash(token)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.refreshLocked()
	if u, ok := st.byToken[hash]; ok {
		return *u, nil
	}
	return User{}, errBadToken
}

// dummyHash is checked against for unknown users, so that they take as long to refuse
// as known ones.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})

func (st *userStore) byPassword(name, pass string) (User, error) {
	key := sha256.Sum256([]byte(name + "\x00" + pass))
	st.mu.Lock()
	st.refreshLocked()
	u := st.users.Find(name)
	var usr User
	if u != nil {
		usr = *u
	}
	if l, ok := st.logins[key]; ok && u != nil && subtle.ConstantTimeCompare([]byte(l.user), []byte(name)) == 1 && time.Now().Before(l.expires) {
		st.mu.Unlock()
		return usr, nil
	}
	tokenUser := st.byToken[tokenHash(pass)]
	st.mu.Unlock()

	// A token of the user is taken as its password (br login URL USER TOKEN).
	if strings.HasPrefix(pass, tokenPrefix) && tokenUser != nil && tokenUser.Name == name {
		return usr, nil
	}
	hash := dummyHash()
	if u != nil && usr.Password != "" {
		hash = []byte(usr.Password)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || u == nil || usr.Password == "" {
		return User{}, errBadLogin
	}
	st.mu.Lock()
	if len(st.logins) >= maxLogins {
		clear(st.logins)
	}
	st.logins[key] = login{user: name, expires: time.Now().Add(loginTTL)}
	st.mu.Unlock()
	return usr, nil
}

// checkExposure refuses an address other than loopback when no users are configured:
// anyone who could reach the server could deploy and run commands on its machines.
func checkExposure(addr net.Addr, haveUsers bool) error {
	if haveUsers {
		return nil
	}
	tcp, ok := addr.(*net.TCPAddr)
	if ok && tcp.IP.IsLoopback() {
		return nil
	}
	return exposureError(addr.String())
}

// checkBind is checkExposure before listening, for addresses written as IPs or
// "localhost"; a host name is checked once it is bound.
func checkBind(bind string, haveUsers bool) error {
	if haveUsers || bind == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(bind)
	if err != nil {
		return nil // Listen says what is wrong with it
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() || host == "" {
		return exposureError(bind)
	}
	return nil
}

func exposureError(addr string) error {
	return fmt.Errorf("refusing to serve on %s without users: anyone who can reach it could deploy applications "+
		"and run commands. Either bind a loopback address (--bind 127.0.0.1:8081), or create users "+
		"(`gantry users add users.yaml admin --role root --password-stdin`) and start with --users users.yaml "+
		"(and --tls-cert/--tls-key, so that passwords do not cross the network in clear)", addr)
}
