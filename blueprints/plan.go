package blueprints

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Plan is a parsed blueprint: the application and its services, every node with
// its position and key path.
type Plan struct {
	Pos         Pos               `json:"pos"`
	Name        string            `json:"name,omitempty"`
	ID          string            `json:"id,omitempty"`
	Description string            `json:"description,omitempty"`
	Locations   []*Location       `json:"locations,omitempty"`
	Config      map[string]*Value `json:"config,omitempty"`   // brooklyn.config
	Services    []*Service        `json:"services,omitempty"` // services
	Children    []*Service        `json:"children,omitempty"` // brooklyn.children
	Tags        []*Value          `json:"tags,omitempty"`     // brooklyn.tags
	// Adjuncts holds brooklyn.parameters, .policies, .enrichers and .initializers
	// as written, by their full key.
	Adjuncts map[string]*Value `json:"adjuncts,omitempty"`
	// Source is the YAML as given to Parse.
	Source []byte `json:"-"`
}

// Service is one entry of services or brooklyn.children.
type Service struct {
	Pos         Pos               `json:"pos"`
	Path        string            `json:"path"` // services[0].brooklyn.children[1]
	Type        string            `json:"type"` // type, serviceType or service_type
	TypePos     Pos               `json:"typePos"`
	ID          string            `json:"id,omitempty"`
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Locations   []*Location       `json:"locations,omitempty"`
	Config      map[string]*Value `json:"config,omitempty"` // brooklyn.config
	// Flags holds every other key written at the top level of the service; the
	// catalog checks them against the config keys its type declares.
	Flags    map[string]*Value `json:"flags,omitempty"`
	Children []*Service        `json:"children,omitempty"` // brooklyn.children
	Tags     []*Value          `json:"tags,omitempty"`     // brooklyn.tags
	Adjuncts map[string]*Value `json:"adjuncts,omitempty"` // as in Plan
}

// Location is one location of a plan or service, as written: a spec string such as
// "localhost", "docker" or "byon:(hosts=...)", or a map with one key, the spec,
// whose value is the location's config.
type Location struct {
	Pos    Pos               `json:"pos"`
	Path   string            `json:"path"`
	Spec   string            `json:"spec"`
	Config map[string]*Value `json:"config,omitempty"`
}

// Walk calls fn for every service of the plan, depth first: services, then the
// root's brooklyn.children, each followed by its own children. It stops at the
// first error fn returns, and returns it.
func (p *Plan) Walk(fn func(*Service) error) error {
	for _, s := range p.Services {
		if err := s.walk(fn); err != nil {
			return err
		}
	}
	for _, s := range p.Children {
		if err := s.walk(fn); err != nil {
			return err
		}
	}
	return nil
}

// Walk calls fn for the service and every service below it, depth first, as Plan.Walk.
func (s *Service) Walk(fn func(*Service) error) error { return s.walk(fn) }

func (s *Service) walk(fn func(*Service) error) error {
	if err := fn(s); err != nil {
		return err
	}
	for _, c := range s.Children {
		if err := c.walk(fn); err != nil {
			return err
		}
	}
	return nil
}

// Keys with a meaning of their own; adjunctKeys are kept raw for later stages.
var (
	rootKeys = []string{
		"name", "id", "description", "location", "locations", "services",
		"brooklyn.config", "brooklyn.children", "brooklyn.tags", "brooklyn.parameters",
		"brooklyn.policies", "brooklyn.enrichers", "brooklyn.initializers",
	}
	typeKeys    = []string{"type", "serviceType", "service_type"}
	adjunctKeys = []string{"brooklyn.parameters", "brooklyn.policies", "brooklyn.enrichers", "brooklyn.initializers"}
)

// Parse reads a blueprint. Its errors are an *Error, or Errors when there are
// several; both wrap ErrInvalid.
func Parse(data []byte) (*Plan, error) {
	root, err := document(data)
	if err != nil {
		return nil, err
	}
	p := &parser{decoder: newDecoder(len(data)), ids: map[string]site{}}
	plan := p.plan(root)
	if err := p.err(); err != nil {
		return nil, err
	}
	plan.Source = data
	return plan, nil
}

// document returns the content of the only YAML document in data.
func document(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 recovers its own errors; anything else is still bad input.
		if r := recover(); r != nil {
			root, err = nil, Errorf(Pos{1, 1}, "", "invalid yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, Errorf(Pos{1, 1}, "", "empty blueprint")
	} else if err != nil {
		return nil, syntaxError(data, err)
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(data, err)
		}
		// A trailing "---" opens an empty document, which is harmless.
		if len(next.Content) == 1 && next.Content[0].Tag == "!!null" && next.Content[0].Value == "" {
			continue
		}
		return nil, Errorf(NodePos(&next), "", "a blueprint is one yaml document, found another here")
	}
	if len(doc.Content) != 1 {
		return nil, Errorf(NodePos(&doc), "", "empty blueprint")
	}
	return doc.Content[0], nil
}

var (
	yamlLine      = regexp.MustCompile(`^line (\d+): `)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are the messages of yaml.v3's parser, as opposed to its scanner.
// yaml.v3 v3.0.1 reports their line 0-based.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError turns a yaml.v3 error into an *Error. yaml.v3 gives a line at best
// ("yaml: line 3: ..."), and none for the first line.
func syntaxError(data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	at := Pos{Line: 1, Column: 1}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		at.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if parserProblems[msg] {
			at.Line++
		}
	} else if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			at.Line = 1 + bytes.Count(data[:i], []byte("\n"))
			at.Column = 1 + i - (bytes.LastIndexByte(data[:i], '\n') + 1)
		}
	}
	return Errorf(at, "", "invalid yaml: %s", msg)
}

// parser builds a Plan from the root node; errors accumulate in its decoder.
type parser struct {
	*decoder
	ids map[string]site // where each id was first given
}

type site struct {
	pos  Pos
	path string
}

func (p *parser) plan(n *yaml.Node) *Plan {
	plan := &Plan{Pos: NodePos(n), Config: map[string]*Value{}, Adjuncts: map[string]*Value{}}
	if n.Kind != yaml.MappingNode {
		p.fail(NodePos(n), "", "a blueprint must be a map with services, not %s", DescribeNode(ResolveAlias(n)))
		return plan
	}
	entries := p.fields(n, "")
	for _, e := range entries {
		if e.key == "brooklyn.catalog" {
			p.errs = nil
			p.fail(NodePos(e.keyNode), e.key, "this is a catalog bom, not an application: POST it to /v1/catalog")
			return plan
		}
	}
	var locs *entry
	hasServices := false
	for _, e := range entries {
		switch e.key {
		case "name":
			plan.Name = p.text(e.value, e.key)
		case "id":
			plan.ID = p.id(e.value, e.key)
		case "description":
			plan.Description = p.text(e.value, e.key)
		case "location", "locations":
			if p.once(&locs, e) {
				plan.Locations = p.locations(e, "")
			}
		case "services":
			hasServices = true
			plan.Services = p.services(e.value, e.key, false)
		case "brooklyn.config":
			plan.Config = p.config(e.value, e.key)
		case "brooklyn.children":
			// an empty list is no service; anything else but a list has its own error
			if r := ResolveAlias(e.value); r.Kind != yaml.SequenceNode || len(r.Content) > 0 {
				hasServices = true
			}
			plan.Children = p.services(e.value, e.key, true)
		case "brooklyn.tags":
			plan.Tags = p.list(e.value, e.key)
		case "brooklyn.parameters", "brooklyn.policies", "brooklyn.enrichers", "brooklyn.initializers":
			plan.Adjuncts[e.key] = p.adjunct(e.value, e.key)
		default:
			p.fail(NodePos(e.keyNode), e.key, "%s", unknownRootKey(e.key))
		}
	}
	if !hasServices {
		p.fail(NodePos(n), "", "a blueprint needs services (a list of services, each with a type)")
	}
	return plan
}

func unknownRootKey(key string) string {
	for _, k := range typeKeys {
		if key == k {
			return fmt.Sprintf("unknown root key; service keys such as %q go in an item of services", key)
		}
	}
	msg := "unknown root key"
	if s := Suggest(key, rootKeys); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + " (allowed: " + strings.Join(rootKeys, ", ") + ")"
}

// once records e in *seen, the location or locations entry of a map; it reports e
// and returns false when the other one was given already.
func (p *parser) once(seen **entry, e entry) bool {
	if *seen != nil {
		p.fail(NodePos(e.keyNode), e.key, "both %q and %q are given; use one", (*seen).key, e.key)
		return false
	}
	*seen = &e
	return true
}

// fields returns the entries of mapping n, all keyed by strings.
func (p *parser) fields(n *yaml.Node, path string) []entry {
	var out []entry
	for _, e := range p.entries(n, path) {
		if k := ResolveAlias(e.keyNode); k.ShortTag() != "!!str" {
			p.fail(NodePos(e.keyNode), JoinPath(path, e.key), "key must be a string, not %s", DescribeNode(k))
			continue
		}
		out = append(out, e)
	}
	return out
}

// services reads a list of services; the root's services may not be empty.
func (p *parser) services(n *yaml.Node, path string, children bool) []*Service {
	r := ResolveAlias(n)
	if children && r.ShortTag() == "!!null" {
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		p.fail(NodePos(n), path, "must be a list of services, not %s", DescribeNode(r))
		return nil
	}
	if !children && len(r.Content) == 0 {
		p.fail(NodePos(n), path, "must list at least one service")
		return nil
	}
	var out []*Service
	for i, c := range r.Content {
		if s := p.service(c, IndexPath(path, i)); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) service(n *yaml.Node, path string) *Service {
	r := ResolveAlias(n)
	if r.Kind != yaml.MappingNode {
		p.fail(NodePos(n), path, "a service must be a map with a type, not %s", DescribeNode(r))
		return nil
	}
	if !p.enter(r, n, path) {
		return nil
	}
	defer p.leave(r)
	s := &Service{
		Pos: NodePos(n), Path: path,
		Config: map[string]*Value{}, Flags: map[string]*Value{}, Adjuncts: map[string]*Value{},
	}
	var typ, locs *entry
	for _, e := range p.fields(r, path) {
		at := JoinPath(path, e.key)
		switch e.key {
		case "type", "serviceType", "service_type":
			if typ != nil {
				p.fail(NodePos(e.keyNode), at, "both %q and %q give the type; use one", typ.key, e.key)
				continue
			}
			typ = &e
			s.Type, s.TypePos = p.typeName(e.value, at), NodePos(e.value)
		case "id":
			s.ID = p.id(e.value, at)
		case "name":
			s.Name = p.text(e.value, at)
		case "description":
			s.Description = p.text(e.value, at)
		case "location", "locations":
			if p.once(&locs, e) {
				s.Locations = p.locations(e, path)
			}
		case "brooklyn.config":
			s.Config = p.config(e.value, at)
		case "brooklyn.children":
			s.Children = p.services(e.value, at, true)
		case "brooklyn.tags":
			s.Tags = p.list(e.value, at)
		case "brooklyn.parameters", "brooklyn.policies", "brooklyn.enrichers", "brooklyn.initializers":
			s.Adjuncts[e.key] = p.adjunct(e.value, at)
		default:
			s.Flags[e.key] = p.value(e.value, at)
		}
	}
	if typ == nil {
		p.fail(NodePos(n), path, "a service needs a type")
	}
	return s
}

// text reads a scalar as its text: a name may be a number.
func (p *parser) text(n *yaml.Node, path string) string {
	r := ResolveAlias(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() == "!!null" {
		p.fail(NodePos(n), path, "must be a string, not %s", DescribeNode(r))
		return ""
	}
	return r.Value
}

func (p *parser) typeName(n *yaml.Node, path string) string {
	r := ResolveAlias(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		p.fail(NodePos(n), path, "must be a string naming the type, not %s", DescribeNode(r))
		return ""
	}
	if strings.TrimSpace(r.Value) == "" {
		p.fail(NodePos(n), path, "must not be empty")
	}
	return r.Value
}

// id reads an id and checks that no other node of the plan has it.
func (p *parser) id(n *yaml.Node, path string) string {
	r := ResolveAlias(n)
	id := p.text(n, path)
	if r.Kind != yaml.ScalarNode || r.ShortTag() == "!!null" {
		return ""
	}
	if strings.TrimSpace(id) == "" {
		p.fail(NodePos(n), path, "must not be empty")
		return id
	}
	if first, dup := p.ids[id]; dup {
		p.fail(NodePos(n), path, "duplicate id %q (first at %s, %s)", id, first.pos, first.path)
		return id
	}
	p.ids[id] = site{NodePos(n), path}
	return id
}

// config reads a map of config keys to values; null is an empty map.
func (p *parser) config(n *yaml.Node, path string) map[string]*Value {
	out := map[string]*Value{}
	r := ResolveAlias(n)
	if r.ShortTag() == "!!null" {
		return out
	}
	if r.Kind != yaml.MappingNode {
		p.fail(NodePos(n), path, "must be a map of config keys to values, not %s", DescribeNode(r))
		return out
	}
	if !p.enter(r, n, path) {
		return out
	}
	defer p.leave(r)
	for _, e := range p.fields(r, path) {
		out[e.key] = p.value(e.value, JoinPath(path, e.key))
	}
	return out
}

// list reads a list of values, such as tags; null is an empty list.
func (p *parser) list(n *yaml.Node, path string) []*Value {
	r := ResolveAlias(n)
	if r.ShortTag() == "!!null" {
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		p.fail(NodePos(n), path, "must be a list, not %s", DescribeNode(r))
		return nil
	}
	out := make([]*Value, len(r.Content))
	for i, c := range r.Content {
		out[i] = p.value(c, IndexPath(path, i))
	}
	return out
}

// adjunct reads brooklyn.policies and the like: a list, kept raw.
func (p *parser) adjunct(n *yaml.Node, path string) *Value {
	if r := ResolveAlias(n); r.Kind != yaml.SequenceNode && r.ShortTag() != "!!null" {
		p.fail(NodePos(n), path, "must be a list, not %s", DescribeNode(r))
	}
	return p.value(n, path)
}

// locations reads the value of a location or locations key of the map at path.
// location takes one location, or a list of one; locations takes a list.
func (p *parser) locations(e entry, path string) []*Location {
	at := JoinPath(path, e.key)
	r := ResolveAlias(e.value)
	var items []*yaml.Node
	switch {
	case r.Kind == yaml.SequenceNode:
		items = r.Content
		if e.key == "location" && len(items) != 1 {
			p.fail(NodePos(e.value), at, "takes one location, not %d; use locations for a list", len(items))
			return nil
		}
	case e.key == "locations":
		p.fail(NodePos(e.value), at, "must be a list of locations, not %s", DescribeNode(r))
		return nil
	default:
		if loc := p.location(e.value, at); loc != nil {
			return []*Location{loc}
		}
		return nil
	}
	var out []*Location
	for i, c := range items {
		if loc := p.location(c, IndexPath(at, i)); loc != nil {
			out = append(out, loc)
		}
	}
	return out
}

// location reads "spec" or {spec: {config}}.
func (p *parser) location(n *yaml.Node, path string) *Location {
	r := ResolveAlias(n)
	switch {
	case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str":
		if strings.TrimSpace(r.Value) == "" {
			p.fail(NodePos(n), path, "must not be empty")
			return nil
		}
		return &Location{Pos: NodePos(n), Path: path, Spec: r.Value}
	case r.Kind == yaml.MappingNode:
		es := p.fields(r, path)
		if len(es) != 1 {
			p.fail(NodePos(n), path, "a location map must have one key, the location spec, as in {docker: {...}}; found %d", len(es))
			return nil
		}
		e := es[0]
		at := JoinPath(path, e.key)
		if strings.TrimSpace(e.key) == "" {
			p.fail(NodePos(e.keyNode), at, "location spec must not be empty")
			return nil
		}
		return &Location{Pos: NodePos(n), Path: path, Spec: e.key, Config: p.config(e.value, at)}
	}
	p.fail(NodePos(n), path, "must be a location, as in localhost or {docker: {...}}, not %s", DescribeNode(r))
	return nil
}

// ServiceAt reads a service written inside a value of a blueprint, such as the map a
// config key holds in $brooklyn:entitySpec: {type: ..., brooklyn.config: ...}. Its keys
// are read as those of an item of services (children, adjuncts, locations included),
// with the positions of v's node and key paths under v's path. Ids are checked for
// duplicates within the service. A value without a node (made from data) is read with
// every position at v's. Errors are those of Parse.
func ServiceAt(v *Value) (*Service, error) {
	if v == nil {
		return nil, Errorf(Pos{1, 1}, "", "no service")
	}
	n := v.Node
	if n == nil {
		n = &yaml.Node{}
		if err := n.Encode(v.Raw); err != nil {
			return nil, Errorf(v.Pos, v.Path, "a service must be a map with a type: %v", err)
		}
		setPos(n, v.Pos, map[*yaml.Node]bool{})
	}
	p := &parser{decoder: newDecoder(0), ids: map[string]site{}}
	s := p.service(n, v.Path)
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// NodeValue decodes a YAML node as Parse decodes the values of a blueprint (aliases and
// merge keys resolved, duplicate keys refused) into a Value at path.
func NodeValue(n *yaml.Node, path string) (*Value, error) {
	d := newDecoder(0)
	v := d.value(n, path)
	if err := d.err(); err != nil {
		return nil, err
	}
	return v, nil
}

// setPos puts every node of n at one position.
func setPos(n *yaml.Node, at Pos, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Line, n.Column = at.Line, at.Column
	for _, c := range n.Content {
		setPos(c, at, seen)
	}
	setPos(n.Alias, at, seen)
}
