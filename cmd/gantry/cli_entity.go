package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func runSensor(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 2, 3)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app, entity := args[0], args[1]
	if len(args) == 3 {
		v, err := cl.Sensor(c.ctx, app, entity, args[2])
		if err != nil {
			return err
		}
		return c.printValue(v)
	}
	values, err := cl.SensorValues(c.ctx, app, entity)
	if err != nil {
		return err
	}
	return c.printValues("NAME", values)
}

func runConfig(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 2, 4)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app, entity := args[0], args[1]
	switch len(args) {
	case 4:
		if err := cl.SetConfig(c.ctx, app, entity, args[2], typedValue(args[3])); err != nil {
			return err
		}
		if !c.structured() {
			fmt.Fprintf(c.stdout, "Set %s\n", args[2])
		}
		return nil
	case 3:
		v, err := cl.ConfigValue(c.ctx, app, entity, args[2])
		if err != nil {
			return err
		}
		return c.printValue(v)
	}
	values, err := cl.ConfigValues(c.ctx, app, entity)
	if err != nil {
		return err
	}
	return c.printValues("KEY", values)
}

// typedValue reads a value typed on the command line: JSON when it is an object, a
// list or a quoted string; otherwise the text itself, which the server converts to
// the type of the key.
func typedValue(s string) any {
	if t := strings.TrimSpace(s); t != "" && strings.ContainsRune("{[\"", rune(t[0])) {
		var v any
		if json.Unmarshal([]byte(t), &v) == nil {
			return v
		}
	}
	return s
}

func runEffectors(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 2, 3)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	effs, err := cl.Effectors(c.ctx, args[0], args[1])
	if err != nil {
		return err
	}
	if len(args) == 3 {
		effs = slices.DeleteFunc(effs, func(e api.EffectorSummary) bool { return e.Name != args[2] })
		if len(effs) == 0 {
			return &exitError{code: exitNotFound, msg: fmt.Sprintf("effector %q of %s: not found", args[2], args[1])}
		}
	}
	if c.structured() {
		return c.emit(effs)
	}
	t := c.table("NAME", "PARAMETERS", "DESCRIPTION")
	for _, e := range effs {
		var ps []string
		for _, p := range e.Parameters {
			ps = append(ps, p.Name)
		}
		t.row(e.Name, strings.Join(ps, ","), truncate(e.Description, 80))
	}
	return t.flush()
}

// params collects -P NAME=VALUE flags; VALUE @FILE is the file's text, as br's.
type params struct {
	names  []string
	values map[string]string
}

func (p *params) String() string { return "" }

func (p *params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want NAME=VALUE", s)
	}
	if file, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		v = string(b)
	}
	if p.values == nil {
		p.values = map[string]string{}
	}
	if _, dup := p.values[k]; !dup {
		p.names = append(p.names, k)
	}
	p.values[k] = v
	return nil
}

// typed converts the parameters to the types the effector declares (they are JSON
// in the request): "3" for an integer, "true" for a boolean; a value that does not
// convert is sent as it is, for the server to refuse.
func (p *params) typed(cl *client.Client, c *cli, app, entity, effector string) map[string]any {
	if len(p.names) == 0 {
		return nil
	}
	types := map[string]string{}
	if effs, err := cl.Effectors(c.ctx, app, entity); err == nil {
		for _, e := range effs {
			if e.Name == effector {
				for _, prm := range e.Parameters {
					types[prm.Name] = prm.Type
				}
			}
		}
	}
	out := map[string]any{}
	for _, k := range p.names {
		out[k] = convert(p.values[k], types[k])
	}
	return out
}

func convert(s, typ string) any {
	switch typ {
	case "java.lang.String", "string", "String":
		return s
	case "java.lang.Boolean", "boolean", "Boolean":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
		return s
	case "java.lang.Integer", "java.lang.Long", "java.lang.Short", "int", "long", "integer", "Integer", "Long":
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		return s
	case "java.lang.Double", "java.lang.Float", "java.lang.Number", "double", "float", "number", "Double":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	}
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		if _, isString := v.(string); !isString || strings.HasPrefix(strings.TrimSpace(s), `"`) {
			return v
		}
	}
	return s
}

func runInvoke(c *cli, args []string) error {
	fs := c.flags()
	var p params
	fs.Var(&p, "P", "a parameter `NAME=VALUE` (repeat it; VALUE @FILE reads the file)")
	fs.Var(&p, "param", "a parameter `NAME=VALUE`, same as -P")
	timeout := fs.String("timeout", "", "how long to wait for the result (30s, 2m); past it, print the task id and leave it running (default: wait)")
	args, err := c.parse(fs, args, 3, 3)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app, entity, eff := args[0], args[1], args[2]
	result, task, err := cl.InvokeEffector(c.ctx, app, entity, eff, p.typed(cl, c, app, entity, eff), *timeout)
	if err != nil {
		return err
	}
	if task != nil {
		fmt.Fprintf(c.stderr, "%s is still running; follow it with: gantry activity %s %s %s --follow\n", eff, app, entity, task.ID)
		if c.structured() {
			return c.emit(task)
		}
		fmt.Fprintln(c.stdout, task.ID)
		return nil
	}
	return c.printValue(result)
}

// lifecycle makes start, stop and restart: the effector of the application or of one
// of its entities, its task tree shown as it runs.
func lifecycle(effector string) func(c *cli, args []string) error {
	return func(c *cli, args []string) error {
		fs := c.flags()
		var p params
		fs.Var(&p, "P", "a parameter `NAME=VALUE` of the effector (repeat it)")
		fs.Var(&p, "param", "a parameter `NAME=VALUE`, same as -P")
		noWait := fs.Bool("no-wait", false, "print the task id, and do not wait for it")
		args, err := c.parse(fs, args, 1, 2)
		if err != nil {
			return err
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		app, entity := args[0], args[0]
		if len(args) == 2 {
			entity = args[1]
		}
		_, task, err := cl.InvokeEffector(c.ctx, app, entity, effector, p.typed(cl, c, app, entity, effector), "0")
		if err != nil {
			return err
		}
		if task == nil {
			// It ended before the server answered: show the task it was.
			if task, err = latestTask(c, cl, app, entity, effector); err != nil {
				return err
			}
		}
		if *noWait {
			if c.structured() {
				return c.emit(task)
			}
			fmt.Fprintln(c.stdout, task.ID)
			return nil
		}
		done, err := c.awaitTask(cl, app, task.ID, effector+" of "+entity)
		if err != nil {
			return err
		}
		if c.structured() {
			return c.emit(done)
		}
		return nil
	}
}

// latestTask is the newest task of an entity that ran the effector.
func latestTask(c *cli, cl *client.Client, app, entity, effector string) (*api.TaskSummary, error) {
	acts, err := cl.Activities(c.ctx, app, entity)
	if err != nil {
		return nil, err
	}
	var best *api.TaskSummary
	for i, t := range acts {
		if slices.Contains(t.Tags, any("effector:"+effector)) && (best == nil || t.SubmitTimeUTC > best.SubmitTimeUTC) {
			best = &acts[i]
		}
	}
	if best == nil {
		return nil, failedf("%s of %s: the server answered without a task", effector, entity)
	}
	return best, nil
}

func runPolicy(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 2, 4)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app, entity := args[0], args[1]
	action := "list"
	if len(args) > 2 {
		action = args[2]
	}
	if action == "list" {
		if len(args) > 3 {
			return usageErrorf("policy: list takes no policy")
		}
		list, err := cl.Policies(c.ctx, app, entity)
		if err != nil {
			return err
		}
		if c.structured() {
			return c.emit(list)
		}
		t := c.table("ID", "NAME", "STATE", "DESCRIPTION")
		for _, p := range list {
			t.row(p.ID, p.Name, p.State, truncate(p.Description, 60))
		}
		return t.flush()
	}
	if len(args) != 4 {
		return usageErrorf("policy: %s needs a policy id or name", action)
	}
	policy := args[3]
	var done string
	switch action {
	case "show":
		d, err := cl.Adjunct(c.ctx, app, entity, policy)
		if err != nil {
			return err
		}
		if c.structured() {
			return c.emit(d)
		}
		if err := c.fields(
			field{"ID", d.ID}, field{"Name", d.Name}, field{"Type", d.CatalogItemID},
			field{"State", d.State}, field{"Description", d.Description},
		); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, "\nConfig:")
		t := c.table("KEY", "VALUE", "DESCRIPTION")
		seen := map[string]bool{}
		for _, p := range d.Parameters {
			seen[p.Name] = true
			t.row(p.Name, d.Config[p.Name], truncate(p.Description, 60))
		}
		for _, k := range slices.Sorted(maps.Keys(d.Config)) {
			if !seen[k] {
				t.row(k, d.Config[k], "")
			}
		}
		return t.flush()
	case "start":
		err, done = cl.StartPolicy(c.ctx, app, entity, policy), "Started"
	case "stop":
		err, done = cl.StopPolicy(c.ctx, app, entity, policy), "Stopped"
	case "destroy":
		err, done = cl.DestroyPolicy(c.ctx, app, entity, policy), "Destroyed"
	default:
		return usageErrorf("policy: %q is not list, show, start, stop or destroy", action)
	}
	if err != nil {
		return err
	}
	if !c.structured() {
		fmt.Fprintf(c.stdout, "%s policy %s\n", done, policy)
	}
	return nil
}

// printValues prints a map of values (sensors, config) as a table sorted by key, or as
// JSON/YAML with -o.
func (c *cli) printValues(keyHeader string, values map[string]any) error {
	if c.structured() {
		return c.emit(values)
	}
	t := c.table(keyHeader, "VALUE")
	for _, k := range slices.Sorted(maps.Keys(values)) {
		t.row(k, values[k])
	}
	return t.flush()
}
