package blueprints

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FoundDSL is a DSL expression found in a blueprint value.
type FoundDSL struct {
	// Value holds the expression: a $brooklyn: string, or a map in the map form. Its
	// Path is the key path, such as services[0].env.DB_URL.
	Value *Value
	DSL   DSL
}

// FindDSL parses every DSL expression inside v, in maps and lists at any depth. A
// problem is an *Error at the line and column where it is, when the expression is a
// plain or quoted scalar on one line (src is the blueprint's text, as in Plan.Source),
// else at the value. Arguments of literal, entitySpec and object are checked too,
// though they are not evaluated where they are written.
func FindDSL(src []byte, v *Value) ([]FoundDSL, Errors) {
	var found []FoundDSL
	var errs Errors
	var walk func(v *Value)
	walk = func(v *Value) {
		d, ok, err := ParseDSLValue(v.Raw)
		if ok {
			if err == nil {
				err = checkNested(d.Expr, 0)
				if err != nil {
					err = &DSLError{Msg: dslMessage(err)} // inside data: at the value
				}
			}
			if err != nil {
				errs = append(errs, DSLErrorAt(src, v, err))
				return
			}
			found = append(found, FoundDSL{Value: v, DSL: d})
			return
		}
		switch raw := v.Raw.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(raw)) {
				child, ok := v.At(k)
				if !ok {
					child = &Value{Pos: v.Pos, Path: JoinPath(v.Path, k), Raw: raw[k]}
				}
				walk(child)
			}
		case []any:
			for i := range raw {
				child, ok := v.Index(i)
				if !ok {
					child = &Value{Pos: v.Pos, Path: IndexPath(v.Path, i), Raw: raw[i]}
				}
				walk(child)
			}
		}
	}
	if v != nil {
		walk(v)
	}
	return found, errs
}

// DSLIn returns the DSL expressions inside a plain value (a config value of an entity,
// say), in maps and lists at any depth, in key order. It stops at the first bad one.
func DSLIn(v any) ([]DSL, error) {
	var out []DSL
	var walk func(v any) error
	walk = func(v any) error {
		d, ok, err := ParseDSLValue(v)
		if ok {
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if err := walk(x[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(v)
}

// ContainsDSL reports whether a plain value holds a DSL expression anywhere.
func ContainsDSL(v any) bool {
	switch x := v.(type) {
	case string:
		return IsDSL(x)
	case map[string]any:
		if _, ok := mapFormKey(x); ok {
			return true
		}
		for _, e := range x {
			if ContainsDSL(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if ContainsDSL(e) {
				return true
			}
		}
	}
	return false
}

// checkNested checks the expressions inside the data arguments of literal, entitySpec
// and object.
func checkNested(x Expr, depth int) error {
	if depth > maxDSLDepth {
		return &DSLError{Msg: "nested too deep"}
	}
	switch n := x.(type) {
	case *List:
		for _, e := range n.Items {
			if err := checkNested(e, depth+1); err != nil {
				return err
			}
		}
	case *Map:
		for _, k := range n.Keys {
			if err := checkNested(n.Entries[k], depth+1); err != nil {
				return err
			}
		}
	case *Call:
		if n.Target != nil {
			if err := checkNested(n.Target, depth+1); err != nil {
				return err
			}
		}
		raw := dslFuncs[n.Name].Raw
		for _, a := range n.Args {
			if !raw {
				if err := checkNested(a, depth+1); err != nil {
					return err
				}
				continue
			}
			inner, err := DSLIn(Quote(a))
			if err != nil {
				return err
			}
			for _, d := range inner {
				if err := checkNested(d.Expr, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DSLErrorAt turns an error of ParseDSL or ParseDSLValue about the value v into an
// *Error: at the exact line and column of a *DSLError's offset when v is a plain or
// quoted scalar written on one line, else at v.
func DSLErrorAt(src []byte, v *Value, err error) *Error {
	var de *DSLError
	if !errors.As(err, &de) {
		return Errorf(v.Pos, v.Path, "%v", err)
	}
	return Errorf(dslPos(src, v, de.Offset), v.Path, "bad $brooklyn: expression: %s", de.Msg)
}

// dslPos is the position of character off of the scalar v.
func dslPos(src []byte, v *Value, off int) Pos {
	n := v.Node
	if n == nil || n.Kind != yaml.ScalarNode || NodePos(n) != v.Pos || off <= 0 || len(src) == 0 {
		return v.Pos
	}
	line, ok := sourceLine(src, n.Line)
	if !ok {
		return v.Pos
	}
	runes := []rune(line)
	start := n.Column - 1
	if start < 0 || start >= len(runes) {
		return v.Pos
	}
	rest := runes[start:]
	value := []rune(n.Value)
	if off > len(value) {
		return v.Pos
	}
	switch n.Style &^ yaml.TaggedStyle {
	case 0:
		if !strings.HasPrefix(string(rest), n.Value) {
			return v.Pos
		}
		return Pos{Line: n.Line, Column: n.Column + off}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		q := rest[0]
		if q != '\'' && q != '"' {
			return v.Pos
		}
		i := 1 // index in rest
		for consumed := 0; consumed < off; consumed++ {
			if i >= len(rest) || rest[i] == q && (q == '"' || i+1 >= len(rest) || rest[i+1] != '\'') {
				return v.Pos // the scalar goes on on the next line, or ends early
			}
			switch {
			case q == '\'' && rest[i] == '\'':
				i += 2
			case q == '"' && rest[i] == '\\':
				if i+1 >= len(rest) {
					return v.Pos
				}
				switch rest[i+1] {
				case 'x':
					i += 4
				case 'u':
					i += 6
				case 'U':
					i += 10
				default:
					i += 2
				}
			default:
				i++
			}
		}
		if i > len(rest) {
			return v.Pos
		}
		return Pos{Line: n.Line, Column: n.Column + i}
	}
	return v.Pos
}

// sourceLine returns line number n (1-based) of src, without its line break.
func sourceLine(src []byte, n int) (string, bool) {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimSuffix(string(src), "\r"), true
}
