package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"
)

// structured says whether the output is JSON or YAML rather than a table.
func (c *cli) structured() bool { return c.output == "json" || c.output == "yaml" }

// emit prints v as JSON or YAML; YAML uses the JSON field names.
func (c *cli) emit(v any) error {
	return writeStructured(c.stdout, c.output, v)
}

func writeStructured(w io.Writer, format string, v any) error {
	if format == "yaml" {
		y, err := yamlValue(v)
		if err != nil {
			return err
		}
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(y); err != nil {
			return err
		}
		return enc.Close()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// yamlValue turns v into maps, slices and scalars by way of its JSON form, so that the
// YAML has the same keys as the JSON and integers stay integers.
func yamlValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return numbers(out), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// table writes aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func (c *cli) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(toAny(header)...)
	}
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cells ...any) {
	for i, v := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		io.WriteString(t.tw, cell(v))
	}
	io.WriteString(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// cell is a value on one line of a table.
func cell(v any) string {
	s := display(v)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return strings.ReplaceAll(s, "\t", " ")
}

// display is a value as a person reads it: a string as it is, anything else as
// compact JSON, nothing for null.
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String { // api.Status and the like
		return rv.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// printValue prints one value (a sensor, a config value, an effector's result): as
// it is for a string, as JSON otherwise, or in the chosen structured format.
func (c *cli) printValue(v any) error {
	if c.structured() {
		return c.emit(v)
	}
	s := display(v)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	_, err := io.WriteString(c.stdout, s)
	return err
}

// field is a line of a "Key: value" block.
type field struct {
	key string
	val any
}

// fields prints a block of "Key:  value" lines, skipping empty values.
func (c *cli) fields(fs ...field) error {
	t := c.table()
	for _, f := range fs {
		s := cell(f.val)
		if s == "" {
			continue
		}
		t.row(f.key+":", s)
	}
	return t.flush()
}

// when is an epoch-milliseconds time in local time, "" when unset.
func when(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).Local().Format("2006-01-02 15:04:05")
}

// took is the time from start to end (to now while running), "" when not started.
func took(start, end int64) string {
	if start <= 0 {
		return ""
	}
	if end <= 0 {
		end = time.Now().UnixMilli()
	}
	d := time.Duration(end-start) * time.Millisecond
	switch {
	case d < time.Second:
		return d.String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// shortType is a type name for a table: a catalog item id when there is one, else
// the last part of a Java-style name (BasicEntity, VanillaSoftwareProcess).
func shortType(typ, catalogItem string) string {
	if catalogItem != "" {
		return catalogItem
	}
	if i := strings.LastIndexByte(typ, '.'); i >= 0 && i < len(typ)-1 {
		return typ[i+1:]
	}
	return typ
}

// truncate shortens s to n runes, with an ellipsis.
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
