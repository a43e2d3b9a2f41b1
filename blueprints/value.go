package blueprints

import (
	"cmp"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Value is a node of the blueprint kept as written: its position, its key path and
// its content as plain Go values.
type Value struct {
	// Pos is where the value is written (for an alias, where the alias is).
	Pos Pos `json:"pos"`
	// Path is the key path, e.g. services[1].brooklyn.config.env.
	Path string `json:"path"`
	// Raw is the decoded content: nil, bool, int (int64 or uint64 when too large,
	// float64), string, []any or map[string]any. Timestamps, binary and custom tags
	// stay as their text; $brooklyn: DSL strings are not evaluated.
	Raw any `json:"raw"`
	// Node is the YAML node, aliases resolved, for the positions of nested values.
	Node *yaml.Node `json:"-"`
}

// At returns the entry key of a map value, with its position and path.
func (v *Value) At(key string) (*Value, bool) {
	if v == nil {
		return nil, false
	}
	n := ResolveAlias(v.Node)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, false
	}
	d := newDecoder(0)
	for _, e := range d.entries(n, v.Path) {
		if e.key != key {
			continue
		}
		child := &Value{Pos: NodePos(e.value), Path: JoinPath(v.Path, key), Node: ResolveAlias(e.value)}
		if m, ok := v.Raw.(map[string]any); ok {
			child.Raw = m[key]
		} else {
			child.Raw = d.raw(e.value, child.Path)
		}
		return child, true
	}
	return nil, false
}

// Index returns element i of a sequence value, with its position and path "x[i]".
func (v *Value) Index(i int) (*Value, bool) {
	if v == nil {
		return nil, false
	}
	n := ResolveAlias(v.Node)
	if n == nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
		return nil, false
	}
	c := n.Content[i]
	child := &Value{Pos: NodePos(c), Path: IndexPath(v.Path, i), Node: ResolveAlias(c)}
	if s, ok := v.Raw.([]any); ok && i < len(s) {
		child.Raw = s[i]
	} else {
		child.Raw = newDecoder(0).raw(c, child.Path)
	}
	return child, true
}

// decoder turns YAML nodes into plain Go values and collects the errors found on
// the way: duplicate keys, recursive aliases, bad merge keys, too much expansion.
type decoder struct {
	errs   []*Error
	seen   map[errorSite]bool  // errors already reported (an anchor may be used many times)
	active map[*yaml.Node]bool // collections being decoded, to stop recursive aliases
	budget int                 // nodes left to visit, against alias bombs
	tooBig *Error              // set when the budget ran out
}

// minBudget is the number of nodes any blueprint may expand to; larger documents
// get four more per byte, more than any document without aliases needs.
const minBudget = 1 << 17

func newDecoder(size int) *decoder {
	return &decoder{
		seen:   map[errorSite]bool{},
		active: map[*yaml.Node]bool{},
		budget: minBudget + 4*size,
	}
}

func (d *decoder) fail(pos Pos, path, format string, args ...any) {
	e := Errorf(pos, path, format, args...)
	if site := (errorSite{e.Pos, e.Msg}); !d.seen[site] {
		d.seen[site] = true
		d.errs = append(d.errs, e)
	}
}

// errorSite identifies an error regardless of its path, which differs when an
// anchored value is used in several places.
type errorSite struct {
	pos Pos
	msg string
}

// maxErrors is how many errors are reported, in document order; the rest are counted.
const maxErrors = 20

// err returns nil, the only *Error, or Errors sorted by position.
func (d *decoder) err() error {
	if d.tooBig != nil {
		return d.tooBig // what follows it is noise
	}
	es := slices.Clone(d.errs)
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column))
	})
	switch {
	case len(es) == 0:
		return nil
	case len(es) == 1:
		return es[0]
	case len(es) > maxErrors:
		more := Errorf(es[maxErrors].Pos, "", "and %d more errors", len(es)-maxErrors)
		es = append(es[:maxErrors], more)
	}
	return Errors(es)
}

// spend accounts for visiting n; once the budget is gone it reports an error at n
// and returns false.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.budget <= 0 {
		return false
	}
	d.budget--
	if d.budget == 0 {
		d.tooBig = Errorf(NodePos(n), path, "blueprint too large once aliases are expanded")
		return false
	}
	return true
}

// enter marks collection r (reached through n) as being decoded; it reports a
// recursive alias and returns false when r is already being decoded.
func (d *decoder) enter(r, n *yaml.Node, path string) bool {
	if d.active[r] {
		d.fail(NodePos(n), path, "alias *%s refers to a value that contains it", n.Value)
		return false
	}
	d.active[r] = true
	return true
}

func (d *decoder) leave(r *yaml.Node) { delete(d.active, r) }

// value decodes n into a Value at path.
func (d *decoder) value(n *yaml.Node, path string) *Value {
	return &Value{Pos: NodePos(n), Path: path, Raw: d.raw(n, path), Node: ResolveAlias(n)}
}

// raw decodes n into plain Go values.
func (d *decoder) raw(n *yaml.Node, path string) any {
	if !d.spend(n, path) {
		return nil
	}
	r := ResolveAlias(n)
	switch r.Kind {
	case yaml.ScalarNode:
		return d.scalar(r, path)
	case yaml.SequenceNode:
		if !d.enter(r, n, path) {
			return nil
		}
		defer d.leave(r)
		out := make([]any, len(r.Content))
		for i, c := range r.Content {
			out[i] = d.raw(c, IndexPath(path, i))
		}
		return out
	case yaml.MappingNode:
		if !d.enter(r, n, path) {
			return nil
		}
		defer d.leave(r)
		out := make(map[string]any, len(r.Content)/2)
		for _, e := range d.entries(r, path) {
			out[e.key] = d.raw(e.value, JoinPath(path, e.key))
		}
		return out
	}
	return nil
}

func (d *decoder) scalar(n *yaml.Node, path string) any {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			d.fail(NodePos(n), path, "%q is not a valid %s", n.Value, tag)
			return n.Value
		}
		return v
	}
	return n.Value
}

// entry is one key and value of a mapping, both as written (possibly aliases).
type entry struct {
	key     string
	keyNode *yaml.Node
	value   *yaml.Node
}

// entries returns the entries of mapping n, reporting duplicate keys. Merge keys
// (<<) are expanded: keys written in n win over merged ones, and earlier merged
// maps win over later ones.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var out, merged []entry
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.spend(k, path) {
			return nil
		}
		rk := ResolveAlias(k)
		if rk.Kind != yaml.ScalarNode {
			d.fail(NodePos(k), path, "map keys must be scalars, not %s", DescribeNode(rk))
			continue
		}
		if rk.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, path)...)
			continue
		}
		if at, dup := first[rk.Value]; dup {
			d.fail(NodePos(k), JoinPath(path, rk.Value), "duplicate key %q (first at %s)", rk.Value, NodePos(at))
			continue
		}
		first[rk.Value] = k
		out = append(out, entry{key: rk.Value, keyNode: k, value: v})
	}
	for _, e := range merged {
		if first[e.key] == nil {
			first[e.key] = e.keyNode
			out = append(out, e)
		}
	}
	return out
}

// merge returns the entries a merge key brings in: those of a map, or of each map
// in a list.
func (d *decoder) merge(v *yaml.Node, path string) []entry {
	r := ResolveAlias(v)
	maps := []*yaml.Node{v}
	if r.Kind == yaml.SequenceNode {
		maps = r.Content
	}
	var out []entry
	for _, m := range maps {
		rm := ResolveAlias(m)
		if rm.Kind != yaml.MappingNode {
			d.fail(NodePos(m), path, "merge key << takes a map or a list of maps, not %s", DescribeNode(rm))
			continue
		}
		if !d.enter(rm, m, path) {
			continue
		}
		out = append(out, d.entries(rm, path)...)
		d.leave(rm)
	}
	return out
}

// ResolveAlias follows an alias to the node it names.
func ResolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// NodePos is where n stands in its document; line 1, column 1 for nil.
func NodePos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{Line: 1, Column: 1}
	}
	return Pos{Line: max(n.Line, 1), Column: max(n.Column, 1)}
}

// DescribeNode names the kind of a resolved node for error messages: "a map", "null"...
func DescribeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an alias"
}

// JoinPath is the path of key in the map at path ("" at the root).
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// IndexPath is the path of item i of the list at path.
func IndexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
