package entities

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Brooklyn's names of the initializers Gantry implements.
const (
	SshCommandSensorType   = "org.apache.brooklyn.core.sensor.ssh.SshCommandSensor"
	SshCommandEffectorType = "org.apache.brooklyn.core.effector.ssh.SshCommandEffector"
	HttpRequestSensorType  = "org.apache.brooklyn.core.sensor.http.HttpRequestSensor"
	StaticSensorType       = "org.apache.brooklyn.core.sensor.StaticSensor"
)

// Defaults of the sensor feeds, as Brooklyn's.
const (
	defaultSensorPeriod = 5 * time.Minute
	maxHTTPTimeout      = 30 * time.Second
)

func init() {
	RegisterInitializer(&InitializerKind{
		Name:        SshCommandSensorType,
		Aliases:     []string{"ssh-command-sensor", "SshCommandSensor"},
		Description: "A sensor set from the output of a shell command run every period where the entity runs (its machine, or its container with docker exec)",
		Build:       buildCommandSensor,
	})
	RegisterInitializer(&InitializerKind{
		Name:        SshCommandEffectorType,
		Aliases:     []string{"ssh-command-effector", "SshCommandEffector"},
		Description: "An effector that runs a shell command where the entity runs, its parameters in the command's environment; it returns the command's output",
		Build:       buildCommandEffector,
	})
	RegisterInitializer(&InitializerKind{
		Name:        HttpRequestSensorType,
		Aliases:     []string{"http-request-sensor", "HttpRequestSensor"},
		Description: "A sensor set every period from an HTTP GET, selecting a value of a JSON answer with jsonPath",
		Build:       buildHTTPSensor,
	})
	RegisterInitializer(&InitializerKind{
		Name:        StaticSensorType,
		Aliases:     []string{"static-sensor", "StaticSensor"},
		Description: "A sensor with a fixed value, set when the entity starts",
		Build:       buildStaticSensor,
	})
}

// initConfig reads the config of one initializer. The first error met sticks: later
// reads return zero values, and err says what went wrong first.
type initConfig struct {
	kind string
	m    map[string]any
	err  error
}

// keep records err if it is the first; it says whether reading may go on.
func (c *initConfig) keep(err error) bool {
	if c.err == nil {
		c.err = err
	}
	return c.err == nil
}

// check refuses keys the initializer does not know, suggesting the closest.
func (c *initConfig) check(known ...string) error {
	for _, k := range slices.Sorted(maps.Keys(c.m)) {
		if slices.Contains(known, k) {
			continue
		}
		msg := fmt.Sprintf("%s has no config key %q", c.kind, k)
		if s := blueprints.Suggest(k, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += " (it has " + strings.Join(known, ", ") + ")"
		}
		return &KeyError{Key: k, Err: errors.New(msg)}
	}
	return nil
}

// text reads a string (a number or boolean is taken as its text); "" when absent.
func (c *initConfig) text(key string) (string, error) {
	switch v := c.m[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case int, int64, float64, bool:
		return fmt.Sprint(v), nil
	default:
		return "", &KeyError{Key: key, Err: fmt.Errorf("must be a string, not %T", v)}
	}
}

// str is text, its error kept.
func (c *initConfig) str(key string) string {
	if c.err != nil {
		return ""
	}
	s, err := c.text(key)
	c.keep(err)
	return s
}

// required is str for a key that must be given, and not blank.
func (c *initConfig) required(key string) string {
	s := c.str(key)
	if c.err == nil && strings.TrimSpace(s) == "" {
		if _, given := c.m[key]; given {
			c.keep(&KeyError{Key: key, Err: errors.New("must not be empty")})
		} else {
			c.keep(&KeyError{Err: fmt.Errorf("%s needs %s", c.kind, key)})
		}
		return ""
	}
	return s
}

// duration reads a duration such as 30s, or a number of milliseconds, its error kept.
func (c *initConfig) duration(key string, def time.Duration) time.Duration {
	if c.err != nil {
		return 0
	}
	d, err := c.readDuration(key, def)
	c.keep(err)
	return d
}

func (c *initConfig) readDuration(key string, def time.Duration) (time.Duration, error) {
	var d time.Duration
	switch v := c.m[key].(type) {
	case nil:
		return def, nil
	case int:
		d = time.Duration(v) * time.Millisecond
	case float64:
		d = time.Duration(v * float64(time.Millisecond))
	case string:
		var err error
		if ms, perr := strconv.Atoi(strings.TrimSpace(v)); perr == nil {
			d = time.Duration(ms) * time.Millisecond
		} else if d, err = time.ParseDuration(strings.TrimSpace(v)); err != nil {
			return 0, &KeyError{Key: key, Err: fmt.Errorf("%q is not a duration such as 30s or 5m", v)}
		}
	default:
		return 0, &KeyError{Key: key, Err: fmt.Errorf("must be a duration such as 30s, not %T", v)}
	}
	if d <= 0 {
		return 0, &KeyError{Key: key, Err: fmt.Errorf("must be positive, not %s", d)}
	}
	return d, nil
}

// boolean reads true or false, its error kept.
func (c *initConfig) boolean(key string, def bool) bool {
	if c.err != nil {
		return false
	}
	switch v := c.m[key].(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b
		}
	}
	c.keep(&KeyError{Key: key, Err: fmt.Errorf("must be true or false, not %v", c.m[key])})
	return false
}

// stringMap reads a map of names to values (shell.env, headers), its error kept;
// what says what the values are, for the error.
func (c *initConfig) stringMap(key, what string) (map[string]string, bool) {
	switch v := c.m[key].(type) {
	case nil:
		return nil, false
	case map[string]any:
		return stringEnv(v), true
	default:
		c.keep(&KeyError{Key: key, Err: fmt.Errorf("must be a map of %s, not %T", what, v)})
		return nil, false
	}
}

// env reads shell.env (or env): a map of names to values, its error kept.
func (c *initConfig) env() map[string]string {
	for _, key := range []string{"shell.env", "env"} {
		if c.err != nil {
			return nil
		}
		if m, ok := c.stringMap(key, "names to values"); ok {
			return m
		}
	}
	return nil
}

// targetType reads the kind of a sensor's value, its error kept.
func (c *initConfig) targetType() string {
	t := c.str("targetType")
	if c.err != nil {
		return ""
	}
	if _, err := sensorKind(t); err != nil {
		c.keep(&KeyError{Key: "targetType", Err: err})
		return ""
	}
	return t
}

// sensorKind maps a targetType (Brooklyn's Java names or their short forms) to the kind
// of value the sensor holds: string, integer, number, boolean or object.
func sensorKind(target string) (string, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(target), "java.lang.")) {
	case "", "string", "charsequence":
		return "string", nil
	case "int", "integer", "long", "short", "byte", "biginteger", "java.math.biginteger":
		return "integer", nil
	case "double", "float", "number", "bigdecimal", "java.math.bigdecimal":
		return "number", nil
	case "bool", "boolean":
		return "boolean", nil
	case "object", "map", "list", "java.util.map", "java.util.list", "java.util.collection", "json", "yaml":
		return "object", nil
	}
	return "", fmt.Errorf("unknown target type %q (use string, integer, long, double, boolean, map, list or object)", target)
}

// sensorJavaType names the sensor's type for the REST API.
func sensorJavaType(target string) string {
	switch k, _ := sensorKind(target); k {
	case "integer":
		return "java.lang.Integer"
	case "number":
		return "java.lang.Double"
	case "boolean":
		return "java.lang.Boolean"
	case "object":
		return "java.lang.Object"
	}
	return "java.lang.String"
}

// coerceSensorValue turns text (a command's output, a static value) into the target type.
func coerceSensorValue(v any, target string) (any, error) {
	kind, err := sensorKind(target)
	if err != nil {
		return nil, err
	}
	s, isString := v.(string)
	if !isString {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case int, int64, float64, bool:
			s = fmt.Sprint(x)
		default:
			if kind == "object" {
				return v, nil
			}
			b, _ := json.Marshal(v)
			s = string(b)
		}
	}
	switch kind {
	case "integer":
		t := strings.TrimSpace(s)
		if n, err := strconv.Atoi(t); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil && f == float64(int(f)) {
			return int(f), nil
		}
		return nil, fmt.Errorf("%q is not a whole number", t)
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", strings.TrimSpace(s))
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", strings.TrimSpace(s))
		}
		return b, nil
	case "object":
		var out any
		if err := yaml.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("not yaml or json: %w", err)
		}
		return out, nil
	}
	return strings.TrimRight(s, " \t\r\n"), nil
}

// awaitUp waits until e is up (service.isUp), for feeds that only poll then, however
// long that takes; it says whether it is.
func awaitUp(ctx context.Context, e *Entity) bool {
	if e.IsUp() {
		return true
	}
	opts := blueprints.WaitOptions{Timeout: blueprints.Forever, TimeoutIfDown: -1, WaitForTruthy: true}
	_, err := e.mgmt.awaitAttribute(ctx, e, sensors.ServiceUp, opts)
	return err == nil
}

// buildCommandSensor is SshCommandSensor: name, command, period, targetType,
// shell.env, executionDir, value.on.error, onlyIfServiceUp (default true).
func buildCommandSensor(m map[string]any) (*Initializer, error) {
	c := initConfig{kind: "ssh-command-sensor", m: m}
	if err := c.check("name", "command", "period", "targetType", "shell.env", "env", "executionDir",
		"value.on.error", "onlyIfServiceUp", "description", "suppressDuplicates", "format", "useLastYaml",
		"logWarningGraceTime", "logWarningGraceTimeOnStartup"); err != nil {
		return nil, err
	}
	name := c.required("name")
	command := c.required("command")
	period := c.duration("period", defaultSensorPeriod)
	target := c.targetType()
	env := c.env()
	dir := c.str("executionDir")
	onlyIfUp := c.boolean("onlyIfServiceUp", true)
	if c.err != nil {
		return nil, c.err
	}
	onError := m["value.on.error"]
	desc, _ := c.text("description")
	return &Initializer{
		Sensors: []SensorType{{Name: name, Type: sensorJavaType(target),
			Description: cmp.Or(desc, "Output of `"+oneLine(command)+"`, every "+period.String())}},
		Run: func(e *Entity) {
			startSensorFeed(e, name, period, onlyIfUp, func(ctx context.Context) {
				script, err := evalText(ctx, e, command)
				vars, verr := evalEnv(ctx, e, env)
				if err = cmp.Or(err, verr); err != nil {
					if ctx.Err() == nil {
						e.mgmt.log.Warn("command sensor config", "entity", e.id, "sensor", name, "err", err)
					}
					return
				}
				var out, errOut bytes.Buffer
				code, err := ExecOn(ctx, e, locations.Command{Script: script, Env: vars, Dir: dir, Stdout: &limited{w: &out}, Stderr: &limited{w: &errOut}})
				if ctx.Err() != nil {
					return
				}
				if err != nil || code != 0 {
					e.mgmt.log.Debug("command sensor failed", "entity", e.id, "sensor", name, "code", code, "err", err, "stderr", errOut.String())
					if v, err := coerceSensorValue(onError, target); err == nil {
						e.SetAttribute(name, v)
					}
					return
				}
				v, err := coerceSensorValue(out.String(), target)
				if err != nil {
					e.mgmt.log.Warn("command sensor output", "entity", e.id, "sensor", name, "err", err)
					return
				}
				e.SetAttribute(name, v)
			})
		},
	}, nil
}

// startSensorFeed sets sensor name every period with poll, once e is up if onlyIfUp.
func startSensorFeed(e *Entity, name string, period time.Duration, onlyIfUp bool, poll func(context.Context)) {
	e.mgmt.StartFeed(e, "sensor:"+name, period, func(ctx context.Context) {
		if onlyIfUp && !awaitUp(ctx, e) {
			return
		}
		poll(ctx)
	})
}

// buildCommandEffector is SshCommandEffector: name, description, command, parameters
// (a map of name to {description, type, defaultValue}), shell.env, executionDir.
func buildCommandEffector(m map[string]any) (*Initializer, error) {
	c := initConfig{kind: "ssh-command-effector", m: m}
	if err := c.check("name", "description", "command", "parameters", "shell.env", "env", "executionDir"); err != nil {
		return nil, err
	}
	name := c.required("name")
	command := c.required("command")
	desc := c.str("description")
	env := c.env()
	dir := c.str("executionDir")
	if c.err != nil {
		return nil, c.err
	}
	params, err := effectorParams(m["parameters"])
	if err != nil {
		return nil, err
	}
	return &Initializer{Effectors: []Effector{{
		Name:        name,
		Description: cmp.Or(desc, "Runs `"+oneLine(command)+"`"),
		ReturnType:  "java.lang.String",
		Params:      params,
		Run: func(ctx context.Context, e *Entity, given map[string]any) (any, error) {
			script, err := evalText(ctx, e, command)
			if err != nil {
				return nil, fmt.Errorf("effector %s: command: %w", name, err)
			}
			vars, err := evalEnv(ctx, e, env)
			if err != nil {
				return nil, fmt.Errorf("effector %s: shell.env %w", name, err)
			}
			for k, v := range given {
				if v != nil {
					vars[k] = envString(v)
				}
			}
			var out, errOut bytes.Buffer
			cmd := locations.Command{Script: script, Env: vars, Dir: dir, Stdout: &limited{w: &out}, Stderr: &limited{w: &errOut}}
			if t := TaskFrom(ctx); t != nil {
				t.SetEnv(vars)
				cmd.Stdout = io.MultiWriter(cmd.Stdout, t.Stdout())
				cmd.Stderr = io.MultiWriter(cmd.Stderr, t.Stderr())
			}
			code, err := ExecOn(ctx, e, cmd)
			if err != nil {
				return nil, fmt.Errorf("effector %s: %w", name, err)
			}
			if code != 0 {
				return nil, fmt.Errorf("effector %s: command exited with code %d: %s", name, code, lastLine(errOut.String()))
			}
			return out.String(), nil
		},
	}}}, nil
}

// effectorParams reads SshCommandEffector's parameters: a map of names to a map of
// description, type and defaultValue (or null), or a list of names.
func effectorParams(v any) ([]Param, error) {
	var out []Param
	switch ps := v.(type) {
	case nil:
		return nil, nil
	case []any:
		for i, p := range ps {
			name, ok := p.(string)
			if !ok || name == "" {
				return nil, &KeyError{Key: "parameters", Err: fmt.Errorf("item %d must be a parameter name", i)}
			}
			out = append(out, Param{Name: name, Type: "java.lang.String"})
		}
	case map[string]any:
		for _, name := range slices.Sorted(maps.Keys(ps)) {
			p := Param{Name: name, Type: "java.lang.String"}
			switch def := ps[name].(type) {
			case nil:
			case map[string]any:
				for k := range def {
					if !slices.Contains([]string{"description", "type", "defaultValue", "default"}, k) {
						return nil, &KeyError{Key: "parameters", Err: fmt.Errorf("parameter %s: unknown key %q (use description, type, defaultValue)", name, k)}
					}
				}
				p.Description, _ = def["description"].(string)
				if t, ok := def["type"].(string); ok && t != "" {
					p.Type = t
				}
				p.Default = def["defaultValue"]
				if p.Default == nil {
					p.Default = def["default"]
				}
			default:
				return nil, &KeyError{Key: "parameters", Err: fmt.Errorf("parameter %s must be a map of description, type and defaultValue", name)}
			}
			out = append(out, p)
		}
	default:
		return nil, &KeyError{Key: "parameters", Err: fmt.Errorf("must be a map of parameter names to their description, type and defaultValue, not %T", v)}
	}
	return out, nil
}

// buildHTTPSensor is HttpRequestSensor: name, uri, jsonPath (default $; blank takes the
// body as text), period, headers, username, password, targetType, onlyIfServiceUp
// (default false). A failed request, or an answer other than 2xx, clears the sensor.
func buildHTTPSensor(m map[string]any) (*Initializer, error) {
	c := initConfig{kind: "http-request-sensor", m: m}
	if err := c.check("name", "uri", "jsonPath", "period", "headers", "username", "password",
		"preemptiveBasicAuth", "targetType", "onlyIfServiceUp", "description", "suppressDuplicates",
		"logWarningGraceTime", "logWarningGraceTimeOnStartup"); err != nil {
		return nil, err
	}
	name := c.required("name")
	uri := c.required("uri")
	path := "$"
	if _, given := m["jsonPath"]; given {
		path = c.str("jsonPath")
	}
	if c.err == nil && strings.TrimSpace(path) != "" {
		if _, err := sensors.JSONPath(nil, path); err != nil && !errors.Is(err, sensors.ErrNoValue) {
			c.keep(&KeyError{Key: "jsonPath", Err: err})
		}
	}
	period := c.duration("period", defaultSensorPeriod)
	target := c.targetType()
	user := c.str("username")
	pass := c.str("password")
	onlyIfUp := c.boolean("onlyIfServiceUp", false)
	headers, given := c.stringMap("headers", "header names to values")
	if c.err != nil {
		return nil, c.err
	}
	if !given {
		headers = map[string]string{}
	}
	desc, _ := c.text("description")
	timeout := min(max(period, time.Second), maxHTTPTimeout)
	client := &http.Client{Timeout: timeout}
	return &Initializer{
		Sensors: []SensorType{{Name: name, Type: sensorJavaType(target),
			Description: cmp.Or(desc, "From GET "+uri+" at "+cmp.Or(path, "(body)")+", every "+period.String())}},
		Run: func(e *Entity) {
			startSensorFeed(e, name, period, onlyIfUp, func(ctx context.Context) {
				u, err := evalText(ctx, e, uri)
				hs, herr := evalEnv(ctx, e, headers)
				usr, uerr := evalText(ctx, e, user)
				pw, perr := evalText(ctx, e, pass)
				var v any
				if err = cmp.Or(err, herr, uerr, perr); err == nil {
					v, err = httpSensorValue(ctx, client, u, hs, usr, pw, path, target)
				}
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					e.mgmt.log.Debug("http sensor failed", "entity", e.id, "sensor", name, "err", err)
				}
				e.SetAttribute(name, v)
			})
		},
	}, nil
}

// httpSensorValue makes one request of an HTTP sensor; any failure gives nil.
func httpSensorValue(ctx context.Context, client *http.Client, uri string, headers map[string]string, user, pass, path, target string) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s: %s", uri, resp.Status)
	}
	if strings.TrimSpace(path) == "" {
		return coerceSensorValue(string(body), target)
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not json: %w", uri, err)
	}
	v, err := sensors.JSONPath(doc, path)
	if err != nil {
		return nil, err
	}
	if kind, _ := sensorKind(target); kind == "string" {
		switch v.(type) {
		case map[string]any, []any:
			b, _ := json.Marshal(v)
			return string(b), nil
		}
	}
	return coerceSensorValue(v, target)
}

// buildStaticSensor is StaticSensor: name, static.value, targetType.
func buildStaticSensor(m map[string]any) (*Initializer, error) {
	c := initConfig{kind: "static-sensor", m: m}
	if err := c.check("name", "static.value", "targetType", "description", "period"); err != nil {
		return nil, err
	}
	name := c.required("name")
	target := c.targetType()
	if c.err != nil {
		return nil, c.err
	}
	raw := m["static.value"]
	v, err := coerceSensorValue(raw, target)
	if err != nil && !blueprints.ContainsDSL(raw) {
		return nil, &KeyError{Key: "static.value", Err: err}
	}
	desc, _ := c.text("description")
	return &Initializer{
		Sensors: []SensorType{{Name: name, Type: sensorJavaType(target), Description: cmp.Or(desc, "A fixed value")}},
		Run: func(e *Entity) {
			if !blueprints.ContainsDSL(raw) {
				e.SetAttribute(name, v)
				return
			}
			// A $brooklyn: value may wait (attributeWhenReady): it is set once known.
			go func() {
				x, err := evalInit(e.mgmt.ctx, e, raw)
				if err == nil {
					x, err = coerceSensorValue(x, target)
				}
				if err != nil {
					e.mgmt.log.Warn("static sensor", "entity", e.id, "sensor", name, "err", err)
					return
				}
				e.SetAttribute(name, x)
			}()
		},
	}, nil
}

// envString renders a value for an environment variable: text as it is, anything
// else as JSON.
func envString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int, int64, bool:
		return fmt.Sprint(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no stderr)"
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// limited keeps at most 1 MiB of a command's output in memory.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	const keep = 1 << 20
	if room := keep - l.n; room > 0 {
		q := p
		if len(q) > room {
			q = q[:room]
		}
		l.n += len(q)
		l.w.Write(q)
	}
	return len(p), nil
}
