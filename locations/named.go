package locations

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// namedPrefix starts the keys of named locations in Brooklyn's properties.
const namedPrefix = "brooklyn.location.named."

// ParseNamedLocations reads a file of named locations (gantry server
// --locations FILE), in either of two forms.
//
// YAML: a map from name to a location as a blueprint writes it, a spec
// string or a map with one key, the spec, whose value is its config:
//
//	staging: docker:tcp://10.0.0.5:2376
//	lab:
//	  byon:
//	    user: deploy
//	    privateKeyFile: ~/.ssh/lab
//	    hosts: ["10.0.0.{1-4}"]
//
// Brooklyn's properties (brooklyn.properties), recognised by their keys:
//
//	brooklyn.location.named.lab=byon:(hosts="10.0.0.{1-4}")
//	brooklyn.location.named.lab.user=deploy
//
// where other keys are ignored, as they configure other parts of Brooklyn.
// The result is sorted by name; errors wrap ErrInvalid and give the line.
func ParseNamedLocations(data []byte) ([]Named, error) {
	if looksLikeProperties(data) {
		return parseNamedProperties(data)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("named locations: %v (write a map from name to location, or Brooklyn properties brooklyn.location.named.NAME=SPEC): %w", err, ErrInvalid)
	}
	out := make([]Named, 0, len(doc))
	for _, name := range sortedNames(doc) {
		node := doc[name]
		n := Named{Name: name}
		switch node.Kind {
		case yaml.ScalarNode:
			n.Spec = node.Value
		case yaml.MappingNode:
			if len(node.Content) != 2 {
				return nil, fmt.Errorf("named location %q (line %d): a location map has one key, the spec, as in {byon: {hosts: [...]}}; found %d: %w",
					name, node.Line, len(node.Content)/2, ErrInvalid)
			}
			n.Spec = node.Content[0].Value
			var cfg map[string]any
			if err := node.Content[1].Decode(&cfg); err != nil {
				return nil, fmt.Errorf("named location %q (line %d): its config must be a map: %v: %w", name, node.Content[1].Line, err, ErrInvalid)
			}
			n.Config = cfg
		default:
			return nil, fmt.Errorf("named location %q (line %d): write a spec string or {spec: {config}}: %w", name, node.Line, ErrInvalid)
		}
		if _, err := ParseSpec(n.Spec); err != nil {
			return nil, fmt.Errorf("named location %q (line %d): %w", name, node.Line, err)
		}
		out = append(out, n)
	}
	return out, nil
}

func looksLikeProperties(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		return strings.HasPrefix(line, "brooklyn.") && strings.ContainsAny(line, "=")
	}
	return false
}

func parseNamedProperties(data []byte) ([]Named, error) {
	byName := map[string]*Named{}
	firstLine := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' || !strings.HasPrefix(line, namedPrefix) {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q has no '=': %w", lineNo, line, ErrInvalid)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		rest := strings.TrimPrefix(key, namedPrefix)
		name, cfgKey, _ := strings.Cut(rest, ".")
		if name == "" {
			return nil, fmt.Errorf("line %d: no name after %s: %w", lineNo, namedPrefix, ErrInvalid)
		}
		n := byName[name]
		if n == nil {
			n = &Named{Name: name}
			byName[name] = n
			firstLine[name] = lineNo
		}
		if cfgKey == "" {
			if n.Spec != "" {
				return nil, fmt.Errorf("line %d: named location %q is defined twice: %w", lineNo, name, ErrInvalid)
			}
			if _, err := ParseSpec(val); err != nil {
				return nil, fmt.Errorf("line %d: named location %q: %w", lineNo, name, err)
			}
			n.Spec = val
			continue
		}
		if n.Config == nil {
			n.Config = map[string]any{}
		}
		n.Config[cfgKey] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("named locations: %w", err)
	}
	out := make([]Named, 0, len(byName))
	for _, name := range sortedNames(byName) {
		n := byName[name]
		if n.Spec == "" {
			return nil, fmt.Errorf("line %d: named location %q has config but no spec: add %s%s=<spec>: %w",
				firstLine[name], name, namedPrefix, name, ErrInvalid)
		}
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b Named) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
