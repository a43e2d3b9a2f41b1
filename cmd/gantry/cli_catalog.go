package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// catalogKinds are the kinds of catalog items, as the REST paths name them, with
// their singular.
var catalogKinds = []kindName{
	{"applications", "application"},
	{"entities", "entity"},
	{"policies", "policy"},
	{"enrichers", "enricher"},
	{"locations", "location"},
}

type kindName struct{ plural, singular string }

func kindNames() string {
	var names []string
	for _, k := range catalogKinds {
		names = append(names, k.singular)
	}
	return strings.Join(names, ", ")
}

// catalogKind reads a kind, plural, singular or abbreviated (ent, app, pol); it gives
// the plural.
func catalogKind(s string) (string, bool) {
	s = strings.ToLower(s)
	for _, k := range catalogKinds {
		if s == k.plural || len(s) >= 3 && strings.HasPrefix(k.singular, s) {
			return k.plural, true
		}
	}
	return "", false
}

func runCatalog(c *cli, args []string) error {
	// The subcommand is the first argument that is not a flag (nor a common flag's
	// value); the flags around it are the subcommand's.
	sub := -1
	for i := 0; i < len(args) && sub < 0; i++ {
		switch a := args[i]; {
		case a == "-o" || a == "--o" || a == "-output" || a == "--output" || a == "-server" || a == "--server":
			i++
		case !strings.HasPrefix(a, "-") || a == "-":
			sub = i
		}
	}
	if sub < 0 {
		_, err := c.parse(c.flags(), args, 1, -1) // help, or what is missing
		return err
	}
	rest := append(slices.Clone(args[:sub]), args[sub+1:]...)
	switch args[sub] {
	case "list", "ls":
		return catalogList(c, rest)
	case "show":
		return catalogShow(c, rest)
	case "add":
		return catalogAdd(c, rest)
	}
	return usageErrorf("catalog: %q is not list, show or add", args[sub])
}

// catalogRow is an item of `catalog list`.
type catalogRow struct {
	Kind string `json:"kind"`
	api.CatalogItemSummary
}

func catalogList(c *cli, args []string) error {
	fs := c.flags()
	all := fs.Bool("all-versions", false, "list every version, not only the best of each item")
	args, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	kinds := catalogKinds
	if len(args) == 1 {
		k, ok := catalogKind(args[0])
		if !ok {
			return usageErrorf("catalog list: %q is not one of %s", args[0], kindNames())
		}
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(ck kindName) bool { return ck.plural != k })
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var rows []catalogRow
	for _, k := range kinds {
		items, err := cl.CatalogItems(c.ctx, k.plural, *all)
		if err != nil {
			return err
		}
		for _, it := range items {
			rows = append(rows, catalogRow{Kind: k.singular, CatalogItemSummary: it})
		}
	}
	if c.structured() {
		return c.emit(rows)
	}
	t := c.table("ID", "NAME", "KIND", "DESCRIPTION")
	for _, r := range rows {
		t.row(r.ID, r.Name, r.Kind, truncate(r.Description, 70))
	}
	return t.flush()
}

func catalogShow(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 1, 2)
	if err != nil {
		return err
	}
	var kinds []string
	for _, k := range catalogKinds {
		kinds = append(kinds, k.plural)
	}
	if len(args) == 2 {
		k, ok := catalogKind(args[0])
		if !ok {
			return usageErrorf("catalog show: %q is not one of %s", args[0], kindNames())
		}
		kinds, args = []string{k}, args[1:]
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	id, version := splitAt(args[0])
	var item *api.CatalogEntitySummary
	for _, k := range kinds {
		item, err = cl.CatalogItem(c.ctx, k, id, version)
		if err == nil || !errors.Is(err, client.ErrNotFound) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, client.ErrNotFound) && len(kinds) > 1 {
			return &exitError{code: exitNotFound, msg: fmt.Sprintf("catalog item %q: not found", args[0])}
		}
		return err
	}
	if c.structured() {
		return c.emit(item)
	}
	if err := c.fields(
		field{"ID", item.ID},
		field{"Name", item.Name},
		field{"Kind", item.ItemType},
		field{"Type", item.Type},
		field{"Bundle", item.ContainingBundle},
		field{"Description", item.Description},
		field{"Deprecated", map[bool]any{true: true}[item.Deprecated]},
	); err != nil {
		return err
	}
	if len(item.Config) > 0 {
		fmt.Fprintln(c.stdout, "\nConfig:")
		t := c.table("KEY", "TYPE", "DEFAULT", "DESCRIPTION")
		for _, k := range item.Config {
			t.row(k.Name, shortType(k.Type, ""), k.DefaultValue, truncate(k.Description, 60))
		}
		t.flush()
	}
	if len(item.Sensors) > 0 {
		fmt.Fprintln(c.stdout, "\nSensors:")
		t := c.table("NAME", "TYPE", "DESCRIPTION")
		for _, s := range item.Sensors {
			t.row(s.Name, shortType(s.Type, ""), truncate(s.Description, 60))
		}
		t.flush()
	}
	if len(item.Effectors) > 0 {
		fmt.Fprintln(c.stdout, "\nEffectors:")
		t := c.table("NAME", "PARAMETERS", "DESCRIPTION")
		for _, e := range item.Effectors {
			var ps []string
			for _, p := range e.Parameters {
				ps = append(ps, p.Name)
			}
			t.row(e.Name, strings.Join(ps, ","), truncate(e.Description, 60))
		}
		t.flush()
	}
	if strings.TrimSpace(item.PlanYAML) != "" {
		fmt.Fprintf(c.stdout, "\nPlan:\n%s\n", strings.TrimRight(item.PlanYAML, "\n"))
	}
	return nil
}

func catalogAdd(c *cli, args []string) error {
	args, err := c.parse(c.flags(), args, 1, 1)
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
	res, err := cl.AddCatalog(c.ctx, data)
	if err != nil {
		return refused(name, err)
	}
	if c.structured() {
		return c.emit(res)
	}
	fmt.Fprintf(c.stdout, "%s: %s\n", res.Code, res.Message)
	t := c.table("ID", "NAME", "DESCRIPTION")
	for _, id := range slices.Sorted(maps.Keys(res.Types)) {
		ts := res.Types[id]
		t.row(id, ts.DisplayName, truncate(ts.Description, 70))
	}
	return t.flush()
}
