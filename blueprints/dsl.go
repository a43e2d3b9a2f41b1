package blueprints

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DSLPrefix starts every $brooklyn: expression.
const DSLPrefix = "$brooklyn:"

// IsDSL reports whether s is a $brooklyn: expression (surrounding spaces allowed).
func IsDSL(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), DSLPrefix) }

// DSL is a parsed $brooklyn: expression: a function call, or a chain of calls such as
// entity("db").attributeWhenReady("host.address").
type DSL struct {
	// Text is the expression as written; for the map form ({$brooklyn:fn: args}) it is
	// the expression written back as a string.
	Text string
	// Expr is the root of the syntax tree, a *Call (the last call of a chain).
	Expr Expr
}

// String writes the expression back as a $brooklyn: string, which ParseDSL reads as
// the same tree.
func (d DSL) String() string {
	if d.Expr == nil {
		return ""
	}
	return DSLPrefix + d.Expr.String()
}

// Expr is a node of a DSL syntax tree: *Call, *Lit, *List or *Map.
type Expr interface {
	// Offset is where the node starts, in characters (not bytes) from the start of the
	// text given to ParseDSL; 0 for nodes of the map form.
	Offset() int
	// String writes the node back in the DSL's syntax.
	String() string
}

// Call is a function call: name(args), or target.name(args) in a chain, where target
// names an entity (a scope such as entity("db") or parent()).
type Call struct {
	Off    int
	Target Expr   // nil at the start of a chain
	Name   string // without any $brooklyn: prefix
	Args   []Expr
}

// Lit is a literal: a string, an int, a float64, a bool or nil. In the map form, the
// argument of literal, entitySpec and object is kept as written, and may be any value
// of a blueprint (maps and lists included).
type Lit struct {
	Off   int
	Value any
}

// List is a list literal, [a, b].
type List struct {
	Off   int
	Items []Expr
}

// Map is a map literal, {key: value, "other key": value}, its keys in written order.
type Map struct {
	Off     int
	Keys    []string
	Entries map[string]Expr
}

func (c *Call) Offset() int { return c.Off }
func (l *Lit) Offset() int  { return l.Off }
func (l *List) Offset() int { return l.Off }
func (m *Map) Offset() int  { return m.Off }

func (c *Call) String() string {
	var b strings.Builder
	if c.Target != nil {
		b.WriteString(c.Target.String())
		b.WriteByte('.')
	}
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

func (l *Lit) String() string { return writeValue(l.Value) }

func (l *List) String() string {
	items := make([]string, len(l.Items))
	for i, x := range l.Items {
		items[i] = x.String()
	}
	return "[" + strings.Join(items, ", ") + "]"
}

func (m *Map) String() string {
	items := make([]string, len(m.Keys))
	for i, k := range m.Keys {
		items[i] = quote(k) + ": " + m.Entries[k].String()
	}
	return "{" + strings.Join(items, ", ") + "}"
}

// writeValue writes a plain value in the DSL's syntax.
func writeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnI") {
			s += ".0" // stays a float when read again
		}
		return s
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = writeValue(e)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = quote(k) + ": " + writeValue(x[k])
		}
		return "{" + strings.Join(items, ", ") + "}"
	}
	return quote(fmt.Sprint(v))
}

// quote writes s as a double-quoted DSL string, with Java's escapes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Quote turns a node back into plain data without evaluating anything: literals are
// their value, lists and maps their items, and calls their $brooklyn: text. It is what
// literal, entitySpec and object return.
func Quote(x Expr) any {
	switch n := x.(type) {
	case *Lit:
		return n.Value
	case *List:
		out := make([]any, len(n.Items))
		for i, e := range n.Items {
			out[i] = Quote(e)
		}
		return out
	case *Map:
		out := make(map[string]any, len(n.Keys))
		for _, k := range n.Keys {
			out[k] = Quote(n.Entries[k])
		}
		return out
	case *Call:
		return DSLPrefix + n.String()
	}
	return nil
}

// DSLError is a problem in a $brooklyn: expression, at a character offset of its text.
// It wraps ErrInvalid. Catalog resolution turns it into an *Error at a line and column.
type DSLError struct {
	Offset int // in characters from the start of the text; 0 in the map form
	Msg    string
}

func (e *DSLError) Error() string {
	return fmt.Sprintf("invalid $brooklyn: expression at character %d: %s", e.Offset+1, e.Msg)
}

// Is reports whether target is ErrInvalid.
func (e *DSLError) Is(target error) bool { return target == ErrInvalid }

// maxDSLDepth bounds the nesting of calls, lists and maps in one expression.
const maxDSLDepth = 64

// ParseDSL parses a $brooklyn: string: a call, or a chain of calls, with arguments that
// are double-quoted strings (Java escapes), numbers, true, false, null, lists [..],
// maps {k: v} and nested calls (with or without their own $brooklyn: prefix). Within
// lists and maps a bare word is a string, as in YAML's flow style: {timeout: 5m}.
// The functions and their arguments are checked (see DSLFunctions). Errors are
// *DSLError.
func ParseDSL(s string) (DSL, error) {
	p := &dslParser{s: s}
	x, err := p.parse()
	if err != nil {
		return DSL{}, err
	}
	if err := checkExpr(x); err != nil {
		return DSL{}, err
	}
	return DSL{Text: s, Expr: x}, nil
}

type dslParser struct {
	s     string
	i     int // byte offset of the next character
	depth int
}

// dslFailure carries a *DSLError up the parser's recursion.
type dslFailure struct{ err *DSLError }

func (p *dslParser) parse() (x Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(dslFailure)
			if !ok {
				panic(r)
			}
			x, err = nil, f.err
		}
	}()
	p.space()
	if !strings.HasPrefix(p.s[p.i:], DSLPrefix) {
		p.fail(p.i, "a $brooklyn: expression must start with %q", DSLPrefix)
	}
	p.i += len(DSLPrefix)
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.fail(p.i, "expected a function call after $brooklyn:, not a string")
	}
	x = p.chain()
	p.space()
	if p.i < len(p.s) {
		p.fail(p.i, "unexpected %s after the expression", p.describeNext())
	}
	return x, nil
}

// fail stops the parse with an error at byte offset at.
func (p *dslParser) fail(at int, format string, args ...any) {
	at = min(max(at, 0), len(p.s))
	panic(dslFailure{&DSLError{Offset: utf8.RuneCountInString(p.s[:at]), Msg: fmt.Sprintf(format, args...)}})
}

func (p *dslParser) off(at int) int { return utf8.RuneCountInString(p.s[:at]) }

func (p *dslParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.i++
		default:
			return
		}
	}
}

func (p *dslParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *dslParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *dslParser) describeNext() string {
	if p.i >= len(p.s) {
		return "end of text"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return strconv.QuoteRune(r)
}

func (p *dslParser) enter(at int) {
	p.depth++
	if p.depth > maxDSLDepth {
		p.fail(at, "nested more than %d deep", maxDSLDepth)
	}
}

func (p *dslParser) leave() { p.depth-- }

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordByte reports whether c may be part of a bare word inside a list or map.
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', ',', ':', '{', '}', '[', ']', '(', ')', '"', '\'':
		return false
	}
	return true
}

// ident reads a function name, which may carry its own $brooklyn: prefix when
// prefixed is true.
func (p *dslParser) ident(prefixed bool) string {
	if prefixed && strings.HasPrefix(p.s[p.i:], DSLPrefix) {
		p.i += len(DSLPrefix)
	}
	start := p.i
	if p.i < len(p.s) && isIdentStart(p.s[p.i]) {
		p.i++
		for p.i < len(p.s) && isIdentPart(p.s[p.i]) {
			p.i++
		}
	}
	return p.s[start:p.i]
}

// chain reads a call followed by any number of .name(args).
func (p *dslParser) chain() Expr {
	start := p.i
	p.enter(start)
	defer p.leave()
	name := p.ident(true)
	at := p.i - len(name)
	if name == "" {
		p.fail(p.i, "expected a function name, as in entity(\"id\"), not %s", p.describeNext())
	}
	var x Expr = &Call{Off: p.off(at), Name: name, Args: p.args(name)}
	for {
		save := p.i
		p.space()
		if !p.eat('.') {
			p.i = save
			return x
		}
		p.space()
		at := p.i
		name := p.ident(false)
		if name == "" {
			p.fail(p.i, "expected a function name after '.', not %s", p.describeNext())
		}
		x = &Call{Off: p.off(at), Target: x, Name: name, Args: p.args(name)}
	}
}

// args reads (arg, ...) after a function name.
func (p *dslParser) args(name string) []Expr {
	p.space()
	open := p.i
	if !p.eat('(') {
		p.fail(p.i, "%s needs parentheses, as in %s(...)", name, name)
	}
	var out []Expr
	p.space()
	if p.eat(')') {
		return out
	}
	for {
		out = append(out, p.value(false))
		p.space()
		if p.eat(')') {
			return out
		}
		if p.i >= len(p.s) {
			p.fail(open, "the arguments of %s are not closed: missing ')'", name)
		}
		if !p.eat(',') {
			p.fail(p.i, "expected ',' or ')' in the arguments of %s, not %s", name, p.describeNext())
		}
	}
}

// value reads an argument, or an item of a list or map (inData), where bare words are
// strings.
func (p *dslParser) value(inData bool) Expr {
	p.space()
	at := p.i
	if p.i >= len(p.s) {
		p.fail(p.i, "expected a value, not the end of the text")
	}
	c := p.s[p.i]
	switch {
	case c == '"':
		return &Lit{Off: p.off(at), Value: p.quoted()}
	case c == '[':
		return p.list()
	case c == '{':
		return p.dict()
	case c == '\'':
		p.fail(at, "strings take double quotes, not single quotes")
	case c == '-' || c == '+' || isDigit(c):
		return p.number(inData)
	case isIdentStart(c) || c == '$':
		save := p.i
		name := p.ident(true)
		if name == "" && inData && !strings.HasPrefix(p.s[save:], DSLPrefix) {
			for p.i < len(p.s) && isWordByte(p.s[p.i]) {
				p.i++
			}
			return &Lit{Off: p.off(at), Value: p.s[save:p.i]} // $HOME, say
		}
		if name == "" {
			p.fail(at, "expected a value or a function call, not %s", p.describeNext())
		}
		afterName := p.i
		p.space()
		if p.peek() == '(' || p.s[save] == '$' {
			p.i = save
			return p.chain()
		}
		p.i = afterName
		word := name
		if inData {
			for p.i < len(p.s) && isWordByte(p.s[p.i]) {
				p.i++
			}
			word = p.s[save:p.i]
		}
		switch word {
		case "true":
			return &Lit{Off: p.off(at), Value: true}
		case "false":
			return &Lit{Off: p.off(at), Value: false}
		case "null":
			return &Lit{Off: p.off(at), Value: nil}
		}
		if inData {
			return &Lit{Off: p.off(at), Value: word}
		}
		p.fail(at, "%s is neither a function call nor a value: write a string in double quotes, as in %s", word, quote(word))
	}
	p.fail(at, "expected a value, not %s", p.describeNext())
	return nil
}

// number reads an int or a float; in a list or map, a word that starts like a number
// (10ms, 1.2.3) is a string.
func (p *dslParser) number(inData bool) Expr {
	at := p.i
	j := p.i
	if j < len(p.s) && (p.s[j] == '-' || p.s[j] == '+') {
		j++
	}
	digits := j
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	float := false
	if j < len(p.s) && p.s[j] == '.' && j+1 < len(p.s) && isDigit(p.s[j+1]) {
		float = true
		j++
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
	}
	if j > digits && j < len(p.s) && (p.s[j] == 'e' || p.s[j] == 'E') {
		k := j + 1
		if k < len(p.s) && (p.s[k] == '-' || p.s[k] == '+') {
			k++
		}
		if k < len(p.s) && isDigit(p.s[k]) {
			float = true
			for k < len(p.s) && isDigit(p.s[k]) {
				k++
			}
			j = k
		}
	}
	if inData && j < len(p.s) && isWordByte(p.s[j]) || j == digits {
		if !inData {
			p.fail(at, "expected a number, not %s", p.describeNext())
		}
		for j < len(p.s) && isWordByte(p.s[j]) {
			j++
		}
		p.i = j
		return &Lit{Off: p.off(at), Value: p.s[at:j]}
	}
	text := p.s[at:j]
	p.i = j
	if !float {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return &Lit{Off: p.off(at), Value: int(n)}
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		p.fail(at, "number %s is out of range", text)
	}
	return &Lit{Off: p.off(at), Value: f}
}

// quoted reads a double-quoted string with Java's escapes.
func (p *dslParser) quoted() string {
	open := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			p.fail(open, "string not closed: missing '\"'")
		}
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String()
		case '\\':
			esc := p.i
			p.i++
			if p.i >= len(p.s) {
				p.fail(open, "string not closed: missing '\"'")
			}
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\'', '\\', '/', '$':
				b.WriteByte(e)
			case 'u':
				if p.i+5 > len(p.s) {
					p.fail(esc, `\u needs four hex digits`)
				}
				n, err := strconv.ParseUint(p.s[p.i+1:p.i+5], 16, 32)
				if err != nil {
					p.fail(esc, `\u needs four hex digits`)
				}
				b.WriteRune(rune(n))
				p.i += 4
			default:
				p.fail(esc, "unknown escape \\%c in a string (use \\\\ for a backslash)", e)
			}
			p.i++
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func (p *dslParser) list() Expr {
	at := p.i
	p.enter(at)
	defer p.leave()
	p.i++
	l := &List{Off: p.off(at)}
	for {
		p.space()
		if p.eat(']') {
			return l
		}
		if p.i >= len(p.s) {
			p.fail(at, "list not closed: missing ']'")
		}
		l.Items = append(l.Items, p.value(true))
		p.space()
		if p.eat(']') {
			return l
		}
		if p.i >= len(p.s) {
			p.fail(at, "list not closed: missing ']'")
		}
		if !p.eat(',') {
			p.fail(p.i, "expected ',' or ']' in a list, not %s", p.describeNext())
		}
	}
}

func (p *dslParser) dict() Expr {
	at := p.i
	p.enter(at)
	defer p.leave()
	p.i++
	m := &Map{Off: p.off(at), Entries: map[string]Expr{}}
	for {
		p.space()
		if p.eat('}') {
			return m
		}
		if p.i >= len(p.s) {
			p.fail(at, "map not closed: missing '}'")
		}
		keyAt := p.i
		var key string
		switch c := p.s[p.i]; {
		case c == '"':
			key = p.quoted()
		case isWordByte(c):
			for p.i < len(p.s) && isWordByte(p.s[p.i]) {
				p.i++
			}
			key = p.s[keyAt:p.i]
		default:
			p.fail(p.i, "expected a key in a map, not %s", p.describeNext())
		}
		if _, dup := m.Entries[key]; dup {
			p.fail(keyAt, "duplicate key %s in a map", quote(key))
		}
		p.space()
		if !p.eat(':') {
			p.fail(p.i, "expected ':' after the key %s, not %s", quote(key), p.describeNext())
		}
		m.Keys = append(m.Keys, key)
		m.Entries[key] = p.value(true)
		p.space()
		if p.eat('}') {
			return m
		}
		if p.i >= len(p.s) {
			p.fail(at, "map not closed: missing '}'")
		}
		if !p.eat(',') {
			p.fail(p.i, "expected ',' or '}' in a map, not %s", p.describeNext())
		}
	}
}

// ParseDSLValue reads a blueprint value that is a DSL expression: a $brooklyn: string,
// or Brooklyn's map form, a map with one key such as "$brooklyn:formatString" whose
// value is the list of arguments (or the only argument). In the map form, arguments that
// are $brooklyn: strings or map forms are expressions too, except for literal,
// entitySpec and object, whose argument is kept as written. It returns false when v is
// not an expression; errors are *DSLError (at offset 0 for the map form).
func ParseDSLValue(v any) (DSL, bool, error) {
	switch x := v.(type) {
	case string:
		if !IsDSL(x) {
			return DSL{}, false, nil
		}
		d, err := ParseDSL(x)
		return d, true, err
	case map[string]any:
		name, ok := mapFormKey(x)
		if !ok {
			return DSL{}, false, nil
		}
		if len(x) != 1 {
			return DSL{}, true, &DSLError{Msg: fmt.Sprintf("a map with the key %q is a $brooklyn: call and may have no other key", name)}
		}
		call, err := mapForm(name, x[name], 0)
		if err != nil {
			return DSL{}, true, err
		}
		if err := checkExpr(call); err != nil {
			return DSL{}, true, err
		}
		d := DSL{Expr: call}
		d.Text = d.String()
		return d, true, nil
	}
	return DSL{}, false, nil
}

// mapFormKey returns the key of m that starts with $brooklyn:, if any.
func mapFormKey(m map[string]any) (string, bool) {
	for k := range m {
		if strings.HasPrefix(k, DSLPrefix) {
			return k, true
		}
	}
	return "", false
}

// mapForm builds the call of a map-form key; key is "$brooklyn:name".
func mapForm(key string, value any, depth int) (*Call, error) {
	if depth > maxDSLDepth {
		return nil, &DSLError{Msg: fmt.Sprintf("nested more than %d deep", maxDSLDepth)}
	}
	name := strings.TrimPrefix(key, DSLPrefix)
	if !isName(name) {
		return nil, &DSLError{Msg: fmt.Sprintf("the key %q must be a function name, as in $brooklyn:formatString, with the arguments as its value", key)}
	}
	f, known := dslFuncs[name]
	var raw []any
	if l, ok := value.([]any); ok && !(known && f.Raw) {
		raw = l
	} else {
		raw = []any{value}
	}
	call := &Call{Name: name}
	for i, a := range raw {
		if known && f.Raw {
			call.Args = append(call.Args, &Lit{Value: a})
			continue
		}
		x, err := dataExpr(a, depth+1)
		if err != nil {
			return nil, &DSLError{Msg: fmt.Sprintf("argument %d of %s: %s", i+1, name, dslMessage(err))}
		}
		call.Args = append(call.Args, x)
	}
	return call, nil
}

// dataExpr turns a blueprint value into an expression, reading the DSL inside it.
func dataExpr(v any, depth int) (Expr, error) {
	if depth > maxDSLDepth {
		return nil, &DSLError{Msg: fmt.Sprintf("nested more than %d deep", maxDSLDepth)}
	}
	switch x := v.(type) {
	case string:
		if IsDSL(x) {
			d, err := ParseDSL(x)
			if err != nil {
				return nil, err
			}
			return d.Expr, nil
		}
	case []any:
		l := &List{Items: make([]Expr, len(x))}
		for i, e := range x {
			item, err := dataExpr(e, depth+1)
			if err != nil {
				return nil, err
			}
			l.Items[i] = item
		}
		return l, nil
	case map[string]any:
		if name, ok := mapFormKey(x); ok {
			if len(x) != 1 {
				return nil, &DSLError{Msg: fmt.Sprintf("a map with the key %q is a $brooklyn: call and may have no other key", name)}
			}
			return mapForm(name, x[name], depth+1)
		}
		m := &Map{Keys: slices.Sorted(maps.Keys(x)), Entries: make(map[string]Expr, len(x))}
		for _, k := range m.Keys {
			e, err := dataExpr(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			m.Entries[k] = e
		}
		return m, nil
	}
	return &Lit{Value: v}, nil
}

func isName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// dslMessage is the message of a *DSLError, or the error's text.
func dslMessage(err error) string {
	if e, ok := err.(*DSLError); ok {
		return e.Msg
	}
	return err.Error()
}
