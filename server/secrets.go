package server

// Secrets: config values and sensors that must never be shown. A key is secret when
// its type declares it so (entities.ConfigKey.Secret) or when its name looks like one
// (IsSecretKey); its value is then replaced by api.SecretMask in every answer of the
// API (sensors, config, specs and blueprints, task environments, adjunct config), in
// the event stream and in the server's logs. Values that are PEM private keys are
// masked whatever their key. A $brooklyn: DSL expression (say
// $brooklyn:external("vault", "db-password")) is shown as written: it names where the
// secret is, it is not the secret.

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/entities"
)

// secretSubstrings make a key secret wherever they appear in its lower-cased name:
// Brooklyn's Sanitizer list (password, passwd, credential, secret, private,
// access.cert, access.key) and passphrase.
var secretSubstrings = []string{"password", "passwd", "passphrase", "credential", "secret", "private", "access.cert", "access.key"}

// secretWords make a key secret when they are one of the words of its name (split at
// punctuation and camelCase): "auth.token", "githubToken", "api_key", "db.pwd". The
// word "key" alone does not: docker.tls.key and ssh.key.file name files.
var secretWords = map[string]bool{"token": true, "pwd": true, "apikey": true, "accesskey": true, "secretkey": true, "authkey": true}

// secretPairs make a key secret when the two words follow each other: "api.key",
// "accessKey", "auth_key", "access-cert".
var secretPairs = [][2]string{{"api", "key"}, {"access", "key"}, {"auth", "key"}, {"access", "cert"}}

// IsSecretKey says whether a config key or sensor named name holds a secret, by its
// name alone. It is Brooklyn's Sanitizer test (the name contains password, passwd,
// credential, secret, private, access.cert or access.key, in any case) with a few
// more: passphrase, and the words token, pwd, apikey and api/access/auth followed by
// key. Key file paths such as docker.tls.key are not secret.
func IsSecretKey(name string) bool {
	lower := strings.ToLower(name)
	for _, s := range secretSubstrings {
		if strings.Contains(lower, s) {
			return true
		}
	}
	words := nameWords(name)
	for i, w := range words {
		if secretWords[w] {
			return true
		}
		if i > 0 {
			for _, p := range secretPairs {
				if words[i-1] == p[0] && w == p[1] {
					return true
				}
			}
		}
	}
	return false
}

// nameWords splits a key name into lower-case words at anything but letters and
// digits, and where a lower-case letter or digit is followed by an upper-case one.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}

// isPrivateKeyPEM says whether a value is (or holds) a PEM private key.
func isPrivateKeyPEM(s string) bool {
	return strings.Contains(s, "-----BEGIN") && strings.Contains(s, "PRIVATE KEY-----")
}

// isDSL says whether a value is a $brooklyn: expression, shown as written.
func isDSL(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(strings.TrimSpace(s), "$brooklyn:")
}

// maskValue masks v when secret says its key is secret; otherwise it masks, inside
// maps and lists, the values under secret keys (by name) and PEM private keys. It
// copies what it changes and leaves v itself as it is.
func maskValue(v any, secret bool) any {
	out, _ := mask(v, secret)
	return out
}

// mask is maskValue, saying whether it changed anything.
func mask(v any, secret bool) (any, bool) {
	if v == nil {
		return nil, false
	}
	if secret && !isDSL(v) {
		return api.SecretMask, true
	}
	switch x := v.(type) {
	case string:
		if isPrivateKeyPEM(x) {
			return api.SecretMask, true
		}
	case map[string]any:
		var out map[string]any
		for k, val := range x {
			m, changed := mask(val, IsSecretKey(k))
			if !changed {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, v2 := range x {
					out[k2] = v2
				}
			}
			out[k] = m
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, val := range x {
			m, changed := mask(val, false)
			if !changed {
				continue
			}
			if out == nil {
				out = append([]any(nil), x...)
			}
			out[i] = m
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// entitySecret says whether a key of e is secret: declared so by its type, or named so.
func entitySecret(e *entities.Entity, key string) bool {
	if k, ok := e.Type().ConfigKey(key); ok && k.Secret {
		return true
	}
	return IsSecretKey(key)
}

// maskConfig masks the values of secret keys of a map of e's config or sensors.
func maskConfig(e *entities.Entity, m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = maskValue(v, entitySecret(e, k))
	}
	return out
}

// maskAdjunctConfig masks the secret values of an adjunct's config.
func maskAdjunctConfig(k *entities.AdjunctKind, m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for key, v := range m {
		secret := IsSecretKey(key)
		if ck, ok := k.ConfigKey(key); ok && ck.Secret {
			secret = true
		}
		out[key] = maskValue(v, secret)
	}
	return out
}

// maskLocationConfig masks the credentials of a location's config (a byon password,
// a cloud's credential).
func maskLocationConfig(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := maskValue(m, false).(map[string]any)
	return out
}

// maskEnvText masks the values of secret variables in the text of a task's env
// stream (NAME=value lines), and PEM private keys.
func maskEnvText(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, line := range lines {
		name, _, ok := strings.Cut(line, "=")
		if ok && (IsSecretKey(name) || isPrivateKeyPEM(line)) {
			end := ""
			if strings.HasSuffix(line, "\n") {
				end = "\n"
			}
			lines[i] = name + "=" + api.SecretMask + end
		}
	}
	return strings.Join(lines, "")
}

// maskBlueprint masks, in a YAML blueprint, the scalar values of secret keys (and
// PEM private keys), wherever they are. A blueprint with nothing to mask is returned
// as it is; one that is masked is written again from its syntax tree, which keeps
// its comments but not always its layout.
func maskBlueprint(text []byte) []byte {
	if !mightHoldSecret(text) {
		return text
	}
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		return text
	}
	if !maskNode(&root, declaredSecrets(&root, nil)) {
		return text
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return []byte("# the blueprint holds secrets and could not be shown masked\n")
	}
	return b.Bytes()
}

// declaredSecrets adds to found the names of the keys that the blueprint's
// brooklyn.parameters declare with `secret: true`, anywhere in the tree.
func declaredSecrets(n *yaml.Node, found map[string]bool) map[string]bool {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value != "brooklyn.parameters" || v.Kind != yaml.SequenceNode {
				continue
			}
			for _, p := range v.Content {
				var decl struct {
					Name   string `yaml:"name"`
					Secret bool   `yaml:"secret"`
				}
				if p.Kind == yaml.MappingNode && p.Decode(&decl) == nil && decl.Secret && decl.Name != "" {
					if found == nil {
						found = map[string]bool{}
					}
					found[decl.Name] = true
				}
			}
		}
	}
	for _, c := range n.Content {
		found = declaredSecrets(c, found)
	}
	return found
}

// mightHoldSecret is a quick look for what a secret key or a private key would have
// in it, which spares parsing most blueprints.
func mightHoldSecret(text []byte) bool {
	lower := bytes.ToLower(text)
	for _, s := range []string{"pass", "credential", "secret", "private", "token", "pwd", "key"} { // "secret" also finds `secret: true` parameters
		if bytes.Contains(lower, []byte(s)) {
			return true
		}
	}
	return false
}

// maskNode masks the secret values under n; it says whether it changed anything.
func maskNode(n *yaml.Node, declared map[string]bool) bool {
	changed := false
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			changed = maskNode(c, declared) || changed
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			secret := IsSecretKey(k.Value) || declared[k.Value]
			if secret && v.Kind == yaml.ScalarNode && v.Value != "" && !isDSL(v.Value) {
				v.Value, v.Tag, v.Style = api.SecretMask, "!!str", 0
				changed = true
				continue
			}
			changed = maskNode(v, declared) || changed
		}
	case yaml.ScalarNode:
		if isPrivateKeyPEM(n.Value) {
			n.Value, n.Style = api.SecretMask, 0
			changed = true
		}
	}
	return changed
}

// maskingHandler masks, in log records, the values of attributes whose keys look
// secret, and secret entries of map values.
type maskingHandler struct{ h slog.Handler }

// MaskSecrets wraps a log handler so that it never writes the values of attributes
// named like secrets (IsSecretKey), nor the secret entries of maps logged whole.
func MaskSecrets(h slog.Handler) slog.Handler {
	if _, ok := h.(maskingHandler); ok {
		return h
	}
	return maskingHandler{h}
}

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{m.h.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.h.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch {
	case IsSecretKey(a.Key) && v.Kind() != slog.KindGroup:
		return slog.String(a.Key, api.SecretMask)
	case v.Kind() == slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case v.Kind() == slog.KindString && isPrivateKeyPEM(v.String()):
		return slog.String(a.Key, api.SecretMask)
	case v.Kind() == slog.KindAny:
		switch x := v.Any().(type) {
		case map[string]any, []any:
			return slog.Any(a.Key, maskValue(x, false))
		case map[string]string:
			out := make(map[string]string, len(x))
			for k, s := range x {
				if IsSecretKey(k) || isPrivateKeyPEM(s) {
					s = api.SecretMask
				}
				out[k] = s
			}
			return slog.Any(a.Key, out)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
