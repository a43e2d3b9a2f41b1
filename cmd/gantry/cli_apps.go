package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func runDeploy(c *cli, args []string) error {
	fs := c.flags()
	noWait := fs.Bool("no-wait", false, "print the application and its start task, and do not wait for it")
	args, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	name, data, err := c.readInput(args[0])
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	task, err := cl.Deploy(c.ctx, data)
	if err != nil {
		return refused(name, err)
	}
	out := c.progressOut()
	fmt.Fprintf(out, "Deploying %s (application %s), task %s\n", task.EntityDisplayName, task.EntityID, task.ID)
	if *noWait {
		if c.structured() {
			return c.emit(task)
		}
		return nil
	}
	if _, err := c.awaitTask(cl, task.EntityID, task.ID, "deploy of "+task.EntityDisplayName); err != nil {
		return err
	}
	app, err := cl.Application(c.ctx, task.EntityID)
	if err != nil {
		return err
	}
	if c.structured() {
		return c.emit(app)
	}
	fmt.Fprintf(c.stdout, "Application %s (%s) is %s\n", app.Spec.Name, app.ID, app.Status)
	return nil
}

// readInput reads a file, or standard input for "-"; name is what messages call it.
func (c *cli) readInput(arg string) (name string, data []byte, err error) {
	if arg == "-" {
		data, err = io.ReadAll(c.stdin)
		return "<stdin>", data, err
	}
	data, err = os.ReadFile(arg)
	if err != nil {
		return arg, nil, &exitError{code: exitUsage, msg: err.Error()}
	}
	return arg, data, nil
}

var lineColumn = regexp.MustCompile(`line (\d+), column (\d+): `)

// refused words a blueprint or BOM the server refused (400) as a compiler does, one
// problem a line: "FILE:LINE:COLUMN: key path: what is wrong".
func refused(name string, err error) error {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 {
		return err
	}
	lines := strings.Split(strings.TrimSpace(ce.Message), "\n")
	for i, l := range lines {
		if m := lineColumn.FindStringSubmatchIndex(l); m != nil {
			lines[i] = fmt.Sprintf("%s:%s:%s: %s%s", name, l[m[2]:m[3]], l[m[4]:m[5]], l[:m[0]], l[m[1]:])
		}
	}
	return &exitError{code: exitUsage, msg: strings.Join(lines, "\n")}
}

func runApps(c *cli, args []string) error {
	if _, err := c.parse(c.flags(), args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	apps, err := cl.Applications(c.ctx)
	if err != nil {
		return err
	}
	if c.structured() {
		return c.emit(apps)
	}
	t := c.table("ID", "NAME", "STATUS", "TYPE", "LOCATIONS")
	for _, a := range apps {
		t.row(a.ID, a.Spec.Name, a.Status, shortType(a.Spec.Type, ""), strings.Join(a.Spec.Locations, ","))
	}
	return t.flush()
}

// appTree gives the tree of one application, or of all when app is "".
func (c *cli) appTree(cl *client.Client, app string) ([]api.EntityDetail, error) {
	var id string
	if app != "" {
		a, err := cl.Application(c.ctx, app)
		if err != nil {
			return nil, err
		}
		id = a.ID
	}
	all, err := cl.FetchApplications(c.ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return all, nil
	}
	for _, a := range all {
		if a.ID == id {
			return []api.EntityDetail{a}, nil
		}
	}
	return nil, &exitError{code: exitNotFound, msg: fmt.Sprintf("application %q: not found", app)}
}

func runTree(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 0, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app := ""
	if len(args) == 1 {
		app = args[0]
	}
	tree, err := c.appTree(cl, app)
	if err != nil {
		return err
	}
	if c.structured() {
		if app != "" {
			return c.emit(tree[0])
		}
		return c.emit(tree)
	}
	return c.printTree(tree)
}

// printTree prints entity trees as a table whose first column draws the tree.
func (c *cli) printTree(roots []api.EntityDetail) error {
	t := c.table("NAME", "TYPE", "STATE", "ID")
	var walk func(e api.EntityDetail, lead, branch string)
	walk = func(e api.EntityDetail, lead, branch string) {
		state := string(e.ServiceState)
		if state == "" && e.ServiceUp != nil {
			state = map[bool]string{true: "up", false: "down"}[*e.ServiceUp]
		}
		t.row(lead+branch+e.Name, shortType(e.Type, e.CatalogItemID), state, e.ID)
		next := lead
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, k := range e.Children {
			b := "├─ "
			if i == len(e.Children)-1 {
				b = "└─ "
			}
			walk(k, next, b)
		}
	}
	for _, r := range roots {
		walk(r, "", "")
	}
	return t.flush()
}

// appView is what `gantry app -o json` prints.
type appView struct {
	Application api.ApplicationSummary `json:"application"`
	Locations   []api.LocationSummary  `json:"locations,omitempty"`
	Sensors     map[string]any         `json:"sensors,omitempty"`
	Tree        api.EntityDetail       `json:"tree"`
}

func runApp(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	a, err := cl.Application(c.ctx, args[0])
	if err != nil {
		return err
	}
	v := appView{Application: *a}
	for _, id := range a.Spec.Locations {
		if l, err := cl.Location(c.ctx, id); err == nil {
			v.Locations = append(v.Locations, *l)
		}
	}
	if v.Sensors, err = cl.SensorValues(c.ctx, a.ID, a.ID); err != nil {
		return err
	}
	tree, err := c.appTree(cl, a.ID)
	if err != nil {
		return err
	}
	v.Tree = tree[0]
	if c.structured() {
		return c.emit(v)
	}
	var locs []string
	for _, l := range v.Locations {
		locs = append(locs, fmt.Sprintf("%s (%s)", l.ID, l.Name))
	}
	if err := c.fields(
		field{"ID", a.ID},
		field{"Name", a.Spec.Name},
		field{"Status", a.Status},
		field{"Type", a.Spec.Type},
		field{"Catalog item", v.Tree.CatalogItemID},
		field{"Locations", strings.Join(locs, ", ")},
		field{"Service up", v.Sensors["service.isUp"]},
		field{"URI", v.Sensors["main.uri"]},
		field{"Problems", nonEmpty(v.Sensors["service.problems"])},
		field{"Created", when(v.Tree.CreationTimeUTC)},
	); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	return c.printTree(tree)
}

// nonEmpty is nil for an empty map or list, so that fields leaves it out.
func nonEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// entityView is what `gantry entity APP ENTITY -o json` prints.
type entityView struct {
	Entity   api.EntitySummary   `json:"entity"`
	Sensors  map[string]any      `json:"sensors"`
	Children []api.EntitySummary `json:"children"`
}

func runEntity(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 1, 2)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if len(args) == 1 {
		all, err := cl.Descendants(c.ctx, args[0])
		if err != nil {
			return err
		}
		if c.structured() {
			return c.emit(all)
		}
		t := c.table("ID", "NAME", "TYPE")
		for _, e := range all {
			t.row(e.ID, e.Name, shortType(e.Type, e.CatalogItemID))
		}
		return t.flush()
	}
	app, entity := args[0], args[1]
	e, err := cl.Entity(c.ctx, app, entity)
	if err != nil {
		return err
	}
	v := entityView{Entity: *e}
	if v.Sensors, err = cl.SensorValues(c.ctx, app, e.ID); err != nil {
		return err
	}
	if v.Children, err = cl.Children(c.ctx, app, e.ID); err != nil {
		return err
	}
	if c.structured() {
		return c.emit(v)
	}
	parent := ""
	if p := e.Links["parent"]; p != "" {
		parent = path.Base(p)
	}
	if err := c.fields(
		field{"ID", e.ID},
		field{"Name", e.Name},
		field{"Type", e.Type},
		field{"Catalog item", e.CatalogItemID},
		field{"Parent", parent},
		field{"State", v.Sensors["service.state"]},
		field{"Service up", v.Sensors["service.isUp"]},
		field{"URI", v.Sensors["main.uri"]},
		field{"Problems", nonEmpty(v.Sensors["service.problems"])},
	); err != nil {
		return err
	}
	if len(v.Children) > 0 {
		fmt.Fprintln(c.stdout, "\nChildren:")
		t := c.table("ID", "NAME", "TYPE")
		for _, k := range v.Children {
			t.row(k.ID, k.Name, shortType(k.Type, k.CatalogItemID))
		}
		return t.flush()
	}
	return nil
}

func runLocations(c *cli, args []string) error {
	if _, err := c.parse(c.flags(), args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	locs, err := cl.Locations(c.ctx)
	if err != nil {
		return err
	}
	if c.structured() {
		return c.emit(locs)
	}
	slices.SortFunc(locs, func(a, b api.LocationSummary) int { return strings.Compare(a.ID, b.ID) })
	t := c.table("ID", "NAME", "SPEC", "TYPE")
	for _, l := range locs {
		t.row(l.ID, l.Name, l.Spec, l.Type)
	}
	return t.flush()
}

func runDelete(c *cli, args []string) error {
	fs := c.flags()
	noWait := fs.Bool("no-wait", false, "print the task that stops the application, and do not wait for it")
	args, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	task, err := cl.DeleteApplication(c.ctx, args[0])
	if err != nil {
		return err
	}
	if !*noWait {
		done, err := c.awaitTask(cl, task.EntityID, task.ID, "delete of "+args[0])
		if err != nil {
			return err
		}
		task = done
	}
	if c.structured() {
		return c.emit(task)
	}
	if *noWait {
		fmt.Fprintf(c.stdout, "Deleting %s, task %s\n", args[0], task.ID)
	} else {
		fmt.Fprintf(c.stdout, "Deleted %s\n", args[0])
	}
	return nil
}
