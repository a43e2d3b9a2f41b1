package catalog

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/blueprints"
)

// ItemType is what a catalog item defines, as a BOM's itemType says it.
type ItemType string

// The item types Gantry takes. A template is an application blueprint kept as a starting
// point, not necessarily valid; an application item is a blueprint with services. A
// policy or enricher item is one entry of brooklyn.policies or brooklyn.enrichers, which
// entries of those lists name as their type.
const (
	EntityItem      ItemType = "entity"
	ApplicationItem ItemType = "application"
	TemplateItem    ItemType = "template"
	PolicyItem      ItemType = "policy"
	EnricherItem    ItemType = "enricher"
	LocationItem    ItemType = "location"
)

var itemTypes = []string{string(EntityItem), string(ApplicationItem), string(TemplateItem), string(PolicyItem), string(EnricherItem), string(LocationItem)}

// IsEntity says whether items of the type are deployed as entities.
func (t ItemType) IsEntity() bool {
	return t == EntityItem || t == ApplicationItem || t == TemplateItem
}

// bom is a parsed catalog BOM: its items in the order they are defined (depth first).
type bom struct {
	bundle string // name:version of the bundle the BOM stands for
	items  []*bomItem
}

// bomItem is one item of a BOM, with what is needed to report problems with its plan at
// their place in the BOM.
type bomItem struct {
	item *Item
	pos  blueprints.Pos // of the item's definition (the value of item:)
	path string         // key path of that value, e.g. brooklyn.catalog.items[1].item
	// posMap maps positions in item.Plan to positions in the BOM; planPath is the key
	// path in item.Plan that stands for the definition ("services[0]" when the plan
	// wraps a service, "" when the definition is the plan).
	posMap   map[blueprints.Pos]blueprints.Pos
	planPath string
}

// Metadata keys of brooklyn.catalog and of the entries of items.
var (
	stringKeys = []string{"id", "symbolicName", "version", "name", "displayName", "description",
		"iconUrl", "icon_url", "icon.url", "itemType", "item_type", "format", "bundle"}
	boolKeys        = []string{"deprecated", "disabled"}
	unsupportedKeys = map[string]string{
		"brooklyn.libraries":    "Gantry has no OSGi bundles: catalog items are YAML only",
		"libraries":             "Gantry has no OSGi bundles: catalog items are YAML only",
		"include":               "Gantry does not fetch other BOMs: put their items in this one",
		"scanJavaAnnotations":   "Gantry has no Java classes to scan",
		"scan_java_annotations": "Gantry has no Java classes to scan",
	}
	metadataKeys = slices.Concat(stringKeys, boolKeys, []string{"tags", "item", "items"})
)

// bomParser reads a BOM; errors accumulate, each with its position.
type bomParser struct {
	errs   blueprints.Errors
	budget int // nodes left to copy, against alias bombs
	items  []*bomItem
}

func (p *bomParser) fail(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, blueprints.Errorf(blueprints.NodePos(n), path, format, args...))
}

// parseBOM reads a catalog BOM: brooklyn.catalog with metadata (id, version, itemType,
// name, description, iconUrl, tags, ...) and item or items; the entries of items are
// read the same way, depth first, each inheriting the metadata around it. Every error
// names its line, column and key path, and wraps blueprints.ErrInvalid.
func parseBOM(data []byte) (*bom, error) {
	root, err := bomDocument(data)
	if err != nil {
		return nil, err
	}
	p := &bomParser{budget: minNodes + 4*len(data)}
	if root.Kind == yaml.AliasNode {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return nil, blueprints.Errorf(blueprints.NodePos(root), "", "a catalog BOM must be a map with brooklyn.catalog, not %s", blueprints.DescribeNode(root))
	}
	var catalog *yaml.Node
	var rest []*yaml.Node // Brooklyn's older form: the rest of the document is the item
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "brooklyn.catalog" {
			catalog = v
			continue
		}
		rest = append(rest, k, v)
	}
	if catalog == nil {
		msg := "a catalog BOM needs brooklyn.catalog at its root, with the item's id, version and item"
		if hasMapKey(root, "services") {
			msg += "; this looks like an application blueprint: deploy it with POST /v1/applications, or put it under brooklyn.catalog.item"
		}
		return nil, blueprints.Errorf(blueprints.NodePos(root), "", "%s", msg)
	}
	catalog = p.expand(catalog, "brooklyn.catalog")
	if len(rest) > 0 && catalog != nil && catalog.Kind == yaml.MappingNode && !hasMapKey(catalog, "item") && !hasMapKey(catalog, "items") {
		body := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: rest[0].Line, Column: rest[0].Column}
		for _, n := range rest {
			body.Content = append(body.Content, p.expand(n, ""))
		}
		catalog.Content = append(catalog.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "item", Line: body.Line, Column: body.Column}, body)
	} else if len(rest) > 0 {
		p.fail(rest[0], rest[0].Value, "unknown root key of a catalog BOM: everything goes under brooklyn.catalog")
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	out := &bom{}
	if catalog != nil {
		meta := p.block(catalog, "brooklyn.catalog", nil)
		name, version := nodeText(meta["bundle"]), cmp.Or(nodeText(meta["version"]), NoVersion)
		if name == "" {
			sum := sha256.Sum256(data)
			name = "catalog-bom-" + hex.EncodeToString(sum[:6])
		}
		out.bundle = name + ":" + version
	}
	if len(p.errs) == 0 && len(p.items) == 0 {
		p.fail(catalog, "brooklyn.catalog", "defines no item: give item, or items")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	for _, it := range p.items {
		it.item.Bundle = out.bundle
	}
	out.items = p.items
	return out, nil
}

// err returns nil, the only error, or every error sorted by position.
func (p *bomParser) err() error {
	return sortErrors(p.errs)
}

func sortErrors(errs blueprints.Errors) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	es := slices.Clone(errs)
	slices.SortStableFunc(es, func(a, b *blueprints.Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column))
	})
	return es
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// bomDocument returns the content of the only YAML document in data.
func bomDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, blueprints.Errorf(blueprints.Pos{Line: 1, Column: 1}, "", "empty catalog BOM")
	}
	if err != nil {
		// The blueprint parser places yaml's syntax errors best: they do not depend on
		// what the document means.
		var be *blueprints.Error
		if _, perr := blueprints.Parse(data); errors.As(perr, &be) && strings.HasPrefix(be.Msg, "invalid yaml") {
			return nil, be
		}
		at := blueprints.Pos{Line: 1, Column: 1}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			at.Line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, blueprints.Errorf(at, "", "invalid yaml: %s", msg)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		if !(len(next.Content) == 1 && next.Content[0].Tag == "!!null") {
			return nil, blueprints.Errorf(blueprints.NodePos(&next), "", "a catalog BOM is one yaml document, found another here")
		}
	}
	if len(doc.Content) != 1 {
		return nil, blueprints.Errorf(blueprints.NodePos(&doc), "", "empty catalog BOM")
	}
	return doc.Content[0], nil
}

// meta is catalog metadata in force at a level of a BOM: key to value node.
type meta map[string]*yaml.Node

// block reads a map of catalog metadata with item or items at path, given the metadata
// of the levels above, and returns the metadata in force at this level.
func (p *bomParser) block(n *yaml.Node, path string, parent meta) meta {
	if n == nil {
		return parent
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "must be a map of catalog metadata (id, version, itemType, name, ...) with item or items, not %s", blueprints.DescribeNode(n))
		return parent
	}
	own := meta{}
	var item, items *yaml.Node
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := blueprints.JoinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			p.fail(k, path, "keys of catalog metadata must be strings, not %s", blueprints.DescribeNode(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.fail(k, at, "duplicate key %q (first at %s)", k.Value, blueprints.NodePos(first))
			continue
		}
		seen[k.Value] = k
		switch key := k.Value; {
		case key == "item":
			item = v
		case key == "items":
			items = v
		case key == "tags":
			if v.Kind != yaml.SequenceNode && !isNullNode(v) {
				p.fail(v, at, "must be a list of tags, not %s", blueprints.DescribeNode(v))
				continue
			}
			own[key] = v
		case slices.Contains(stringKeys, key):
			if v.Kind != yaml.ScalarNode || isNullNode(v) {
				p.fail(v, at, "must be a string, not %s", blueprints.DescribeNode(v))
				continue
			}
			own[key] = v
		case slices.Contains(boolKeys, key):
			if _, err := strconv.ParseBool(v.Value); v.Kind != yaml.ScalarNode || err != nil {
				p.fail(v, at, "must be true or false, not %s", blueprints.DescribeNode(v))
				continue
			}
			own[key] = v
		case unsupportedKeys[key] != "":
			p.fail(k, at, "%s is not supported: %s", key, unsupportedKeys[key])
		default:
			msg := "unknown catalog metadata key"
			if s := blueprints.Suggest(key, metadataKeys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.fail(k, at, "%s (allowed: %s)", msg, strings.Join(metadataKeys, ", "))
		}
	}
	merged := meta{}
	for k, v := range parent {
		merged[k] = v
	}
	for k, v := range own {
		merged[k] = v
	}
	if tags := concatTags(parent["tags"], own["tags"]); tags != nil {
		merged["tags"] = tags
	}
	switch {
	case item != nil && items != nil:
		p.fail(seen["items"], blueprints.JoinPath(path, "items"), "give item or items, not both")
		return merged
	case item == nil && items == nil:
		p.fail(n, path, "needs item (the definition of the item) or items (a list of items)")
		return merged
	case items != nil:
		if items.Kind != yaml.SequenceNode {
			p.fail(items, blueprints.JoinPath(path, "items"), "must be a list of items, not %s", blueprints.DescribeNode(items))
			return merged
		}
		for i, c := range items.Content {
			at := blueprints.IndexPath(blueprints.JoinPath(path, "items"), i)
			if c.Kind == yaml.ScalarNode && !isNullNode(c) {
				p.fail(c, at, "an entry of items must be a map of metadata with item; Gantry does not fetch %q (paste that BOM's items here)", c.Value)
				continue
			}
			p.block(c, at, merged)
		}
	default:
		p.item(item, blueprints.JoinPath(path, "item"), merged, own)
	}
	return merged
}

// concatTags joins the tags of a level to those inherited, without duplicates.
func concatTags(parent, own *yaml.Node) *yaml.Node {
	if parent == nil || isNullNode(parent) {
		return own
	}
	if own == nil || isNullNode(own) {
		return parent
	}
	out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: own.Line, Column: own.Column}
	seen := map[string]bool{}
	for _, t := range slices.Concat(parent.Content, own.Content) {
		b, _ := yaml.Marshal(t)
		if !seen[string(b)] {
			seen[string(b)] = true
			out.Content = append(out.Content, t)
		}
	}
	return out
}

// item reads one item definition at path, with the metadata in force (all) and the
// metadata written at its own level (own), which wins over the definition's own name,
// description and icon where Brooklyn's rules say so.
func (p *bomParser) item(body *yaml.Node, path string, all, own meta) {
	at := func(key string) string {
		if n := all[key]; n != nil {
			return n.Value
		}
		return ""
	}
	first := func(m meta, keys ...string) *yaml.Node {
		for _, k := range keys {
			if m[k] != nil {
				return m[k]
			}
		}
		return nil
	}
	if body.Kind != yaml.MappingNode {
		if body.Kind == yaml.ScalarNode && !isNullNode(body) {
			p.fail(body, path, "must be the item's definition, a map such as {type: ..., brooklyn.config: {...}}; Gantry does not fetch %q", body.Value)
		} else {
			p.fail(body, path, "must be the item's definition, a map such as {type: ..., brooklyn.config: {...}}, not %s", blueprints.DescribeNode(body))
		}
		return
	}
	errsBefore := len(p.errs)
	it := &Item{}

	// itemType, given or inferred from the definition.
	if n := first(all, "itemType", "item_type"); n != nil {
		t := strings.ToLower(n.Value)
		if !slices.Contains(itemTypes, t) {
			msg := fmt.Sprintf("unknown itemType %q (Gantry takes %s)", n.Value, strings.Join(itemTypes, ", "))
			if t == "bean" {
				msg = fmt.Sprintf("itemType %s is not supported (Gantry takes %s)", t, strings.Join(itemTypes, ", "))
			}
			p.fail(n, keyPath(path, "itemType"), "%s", msg)
			return
		}
		it.ItemType = ItemType(t)
	} else {
		switch {
		case hasMapKey(body, "services"):
			it.ItemType = ApplicationItem
		case hasMapKey(body, "brooklyn.locations"):
			it.ItemType = LocationItem
		case hasMapKey(body, "type") || hasMapKey(body, "serviceType") || hasMapKey(body, "service_type"):
			it.ItemType = EntityItem // a service may have brooklyn.policies of its own
		case hasMapKey(body, "brooklyn.policies"):
			it.ItemType = PolicyItem
		case hasMapKey(body, "brooklyn.enrichers"):
			it.ItemType = EnricherItem
		default:
			p.fail(body, path, "cannot tell what this item is: give itemType (%s)", strings.Join(itemTypes, ", "))
			return
		}
	}
	if n := all["format"]; n != nil && n.Value != "brooklyn-camp" && n.Value != "auto" {
		p.fail(n, keyPath(path, "format"), "format %q is not supported (Gantry reads brooklyn-camp)", n.Value)
	}

	// The symbolic name and version: symbolicName, else id (which may be id:version),
	// else the name, else the definition's id or name.
	var idNode *yaml.Node
	switch {
	case all["symbolicName"] != nil:
		idNode, it.SymbolicName = all["symbolicName"], at("symbolicName")
	case all["id"] != nil:
		idNode, it.SymbolicName = all["id"], at("id")
	case all["name"] != nil:
		idNode, it.SymbolicName = all["name"], at("name")
	default:
		for _, k := range []string{"id", "name"} {
			if v := mapEntry(body, k); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
				idNode, it.SymbolicName = v, v.Value
				break
			}
		}
	}
	if idNode == nil {
		p.fail(body, path, "the item needs an id: add id: <name> to its metadata")
		return
	}
	version, versionNode := at("version"), all["version"]
	if name, v, ok := strings.Cut(it.SymbolicName, ":"); ok && idNode == all["id"] {
		if versionNode != nil && !SameVersion(version, v) {
			p.fail(versionNode, keyPath(path, "version"), "version %q differs from the version in id %q", version, it.SymbolicName)
		}
		it.SymbolicName, version, versionNode = name, v, idNode
	}
	if err := checkName(it.SymbolicName); err != nil {
		p.fail(idNode, keyPath(path, "id"), "%v", err)
	}
	it.Version = cmp.Or(version, NoVersion)
	if err := CheckVersion(it.Version); err != nil {
		p.fail(cmp.Or(versionNode, idNode), keyPath(path, "version"), "%v", err)
	}

	// What people read: metadata first, then the definition's own.
	it.Name = cmp.Or(at("displayName"), at("name"), nodeText(mapEntry(body, "name")))
	it.Description = cmp.Or(at("description"), nodeText(mapEntry(body, "description")))
	icons := []string{"iconUrl", "icon_url", "icon.url"}
	it.IconURL = cmp.Or(nodeText(first(own, icons...)), nodeText(firstEntry(body, icons...)), nodeText(first(all, icons...)))
	it.Deprecated = at("deprecated") == "true"
	it.Disabled = at("disabled") == "true"
	if n := all["tags"]; n != nil && !isNullNode(n) {
		var tags []any
		if err := n.Decode(&tags); err != nil {
			p.fail(n, keyPath(path, "tags"), "tags: %v", err)
		}
		it.Tags = tags
	}
	if len(p.errs) > errsBefore {
		return
	}

	bi := &bomItem{item: it, pos: blueprints.NodePos(body), path: path}
	if !p.plan(bi, body) {
		return
	}
	p.items = append(p.items, bi)
}

// keyPath is the path of a metadata key of the item at path (which ends in ".item").
func keyPath(path, key string) string {
	return blueprints.JoinPath(strings.TrimSuffix(path, ".item"), key)
}

// plan turns an item's definition into its plan, the YAML that Brooklyn shows as
// planYaml: a blueprint (services: ...) for entities, brooklyn.policies,
// brooklyn.enrichers or brooklyn.locations with one entry for policies, enrichers and
// locations. It checks what can be
// checked without the catalog, and records how plan positions map to BOM positions.
func (p *bomParser) plan(bi *bomItem, body *yaml.Node) bool {
	it := bi.item
	// The definition itself is written as a block, even when the BOM gives it as {...}.
	body.Style &^= yaml.FlowStyle
	var doc *yaml.Node
	switch it.ItemType {
	case EntityItem, ApplicationItem, TemplateItem:
		switch {
		case hasMapKey(body, "services"):
			doc = body
		case hasMapKey(body, "type") || hasMapKey(body, "serviceType") || hasMapKey(body, "service_type"):
			doc, bi.planPath = wrap("services", body), "services[0]"
			it.Type = nodeText(firstEntry(body, "type", "serviceType", "service_type"))
		default:
			p.fail(body, bi.path, "an %s item is a service (a map with a type) or a blueprint with services", it.ItemType)
			return false
		}
	case PolicyItem, EnricherItem, LocationItem:
		list := "brooklyn.locations"
		if l, ok := adjunctListOf(it.ItemType); ok {
			list = l.key
		}
		if l := mapEntry(body, list); l != nil {
			if l.Kind != yaml.SequenceNode || len(l.Content) != 1 || len(body.Content) != 2 {
				p.fail(l, blueprints.JoinPath(bi.path, list), "must be a list of exactly one %s, and alone in the item", it.ItemType)
				return false
			}
			body = l.Content[0]
			body.Style &^= yaml.FlowStyle
			bi.path = blueprints.IndexPath(blueprints.JoinPath(bi.path, list), 0)
		}
		if body.Kind != yaml.MappingNode {
			p.fail(body, bi.path, "a %s item is a map with a type and brooklyn.config, not %s", it.ItemType, blueprints.DescribeNode(body))
			return false
		}
		t := mapEntry(body, "type")
		if l, ok := adjunctListOf(it.ItemType); ok {
			t = firstEntry(body, l.typeKeys...) // Brooklyn's policyType and the like too
		}
		if t == nil || t.Kind != yaml.ScalarNode || strings.TrimSpace(t.Value) == "" {
			p.fail(body, bi.path, "a %s item needs a type (a string)", it.ItemType)
			return false
		}
		if c := mapEntry(body, "brooklyn.config"); c != nil && c.Kind != yaml.MappingNode && !isNullNode(c) {
			p.fail(c, blueprints.JoinPath(bi.path, "brooklyn.config"), "must be a map of config keys to values, not %s", blueprints.DescribeNode(c))
			return false
		}
		it.Type = t.Value
		doc, bi.planPath = wrap(list, body), list+"[0]"
	}
	text, err := encode(doc)
	if err != nil {
		p.fail(body, bi.path, "cannot write the item's plan: %v", err)
		return false
	}
	it.Plan = text
	var again yaml.Node
	if err := yaml.Unmarshal([]byte(text), &again); err != nil || len(again.Content) != 1 {
		p.fail(body, bi.path, "cannot read the item's plan back: %v", err)
		return false
	}
	bi.posMap = map[blueprints.Pos]blueprints.Pos{}
	mapPositions(bi.posMap, again.Content[0], doc, bi.pos)
	if it.ItemType == EntityItem || it.ItemType == ApplicationItem {
		// The shape of the blueprint; types and config are checked against the catalog
		// when the item is added.
		if _, err := blueprints.Parse([]byte(text)); err != nil {
			p.errs = append(p.errs, bi.mapErrors(err)...)
			return false
		}
	}
	return true
}

// mapErrors turns errors about an item's plan into errors at their place in the BOM.
func (bi *bomItem) mapErrors(err error) blueprints.Errors {
	var many blueprints.Errors
	var one *blueprints.Error
	switch {
	case errors.As(err, &many):
	case errors.As(err, &one):
		many = blueprints.Errors{one}
	default:
		return blueprints.Errors{blueprints.Errorf(bi.pos, bi.path, "%v", err)}
	}
	out := make(blueprints.Errors, 0, len(many))
	for _, e := range many {
		out = append(out, &blueprints.Error{Pos: bi.mapPos(e.Pos), Path: bi.mapPath(e.Path), Msg: e.Msg})
	}
	return out
}

// mapPos turns a position in the item's plan into one in the BOM: that of the node there,
// or within the nearest node before it on its line (a character of a string, such as a
// DSL expression), or else the item's.
func (bi *bomItem) mapPos(p blueprints.Pos) blueprints.Pos {
	if to, ok := bi.posMap[p]; ok {
		return to
	}
	best, found := blueprints.Pos{}, false
	for from := range bi.posMap {
		if from.Line == p.Line && from.Column < p.Column && (!found || from.Column > best.Column) {
			best, found = from, true
		}
	}
	if !found {
		return bi.pos
	}
	to := bi.posMap[best]
	return blueprints.Pos{Line: to.Line, Column: to.Column + p.Column - best.Column}
}

// mapPath turns a key path of the item's plan into one of the BOM.
func (bi *bomItem) mapPath(path string) string {
	if bi.planPath != "" {
		if rest, ok := strings.CutPrefix(path, bi.planPath); ok {
			return bi.path + rest
		}
		return bi.path
	}
	switch {
	case path == "":
		return bi.path
	case strings.HasPrefix(path, ".") || strings.HasPrefix(path, "["):
		return bi.path + path
	}
	return bi.path + "." + path
}

// mapPositions records, for every node of the plan as read back (got), the position of
// the node of the BOM it was written from (from); nodes made up for the plan get the
// position of the item.
func mapPositions(m map[blueprints.Pos]blueprints.Pos, got, from *yaml.Node, fallback blueprints.Pos) {
	if got == nil || from == nil {
		return
	}
	to := fallback
	if from.Line > 0 {
		to = blueprints.NodePos(from)
	}
	if _, seen := m[blueprints.NodePos(got)]; !seen || from.Line > 0 {
		m[blueprints.NodePos(got)] = to
	}
	if len(got.Content) != len(from.Content) {
		return
	}
	for i := range got.Content {
		mapPositions(m, got.Content[i], from.Content[i], to)
	}
}

// wrap makes {key: [n]}.
func wrap(key string, n *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{n}},
	}}
}

func encode(n *yaml.Node) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// minNodes is how many nodes any BOM may expand to (aliases included); larger ones get
// four more per byte, more than a document without aliases needs.
const minNodes = 1 << 17

// expand returns a copy of n with aliases replaced by what they name, merge keys (<<)
// applied, and comments and anchors dropped: the plan of an item stands on its own.
// Positions are kept. Recursive aliases and documents that grow too much are errors.
func (p *bomParser) expand(n *yaml.Node, path string) *yaml.Node {
	return p.copyNode(n, path, map[*yaml.Node]bool{})
}

func (p *bomParser) copyNode(n *yaml.Node, path string, active map[*yaml.Node]bool) *yaml.Node {
	if p.budget--; p.budget < 0 {
		if p.budget == -1 {
			p.fail(n, path, "catalog BOM too large once aliases are expanded")
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	src := n
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || active[n.Alias] {
			p.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		src = n.Alias
	}
	c := &yaml.Node{Kind: src.Kind, Style: src.Style, Tag: src.Tag, Value: src.Value, Line: n.Line, Column: n.Column}
	if len(src.Content) == 0 {
		return c
	}
	active[src] = true
	defer delete(active, src)
	if src.Kind != yaml.MappingNode {
		for _, e := range src.Content {
			c.Content = append(c.Content, p.copyNode(e, path, active))
		}
		return c
	}
	var merged []*yaml.Node
	own := map[string]bool{}
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			maps := []*yaml.Node{v}
			if r := blueprints.ResolveAlias(v); r.Kind == yaml.SequenceNode {
				maps = r.Content
			}
			for _, m := range maps {
				mc := p.copyNode(m, path, active)
				if mc.Kind != yaml.MappingNode {
					p.fail(m, path, "merge key << takes a map or a list of maps, not %s", blueprints.DescribeNode(mc))
					continue
				}
				merged = append(merged, mc.Content...)
			}
			continue
		}
		if k.Kind == yaml.ScalarNode {
			own[k.Value] = true
		}
		c.Content = append(c.Content, p.copyNode(k, path, active), p.copyNode(v, blueprints.JoinPath(path, k.Value), active))
	}
	// Keys written in the map win over merged ones, earlier merged maps over later.
	for i := 0; i+1 < len(merged); i += 2 {
		if k := merged[i]; !own[k.Value] {
			own[k.Value] = true
			c.Content = append(c.Content, k, merged[i+1])
		}
	}
	return c
}

// checkName says whether s can be the symbolic name of an item: not empty, and no ':'
// (it separates the version), '/', '\' or white space.
func checkName(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("id must not be empty")
	}
	if i := strings.IndexAny(s, ":/\\ \t\r\n"); i >= 0 {
		return fmt.Errorf("id %q must not contain %q", s, s[i:i+1])
	}
	return nil
}

func isNullNode(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func nodeText(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || isNullNode(n) {
		return ""
	}
	return n.Value
}

func hasMapKey(n *yaml.Node, key string) bool { return mapEntry(n, key) != nil }

// mapValue is the value of key in mapping n, or nil.
func mapEntry(n *yaml.Node, key string) *yaml.Node {
	n = blueprints.ResolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func firstEntry(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if v := mapEntry(n, k); v != nil {
			return v
		}
	}
	return nil
}
