package blueprints

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// dump writes a syntax tree with every node's kind and offset, for comparisons.
func dump(x Expr) string {
	switch n := x.(type) {
	case *Call:
		var args []string
		for _, a := range n.Args {
			args = append(args, dump(a))
		}
		target := ""
		if n.Target != nil {
			target = dump(n.Target) + "."
		}
		return fmt.Sprintf("%s%s@%d(%s)", target, n.Name, n.Off, strings.Join(args, ", "))
	case *Lit:
		return fmt.Sprintf("%#v@%d", n.Value, n.Off)
	case *List:
		var items []string
		for _, a := range n.Items {
			items = append(items, dump(a))
		}
		return fmt.Sprintf("[%s]@%d", strings.Join(items, ", "), n.Off)
	case *Map:
		var items []string
		for _, k := range n.Keys {
			items = append(items, k+": "+dump(n.Entries[k]))
		}
		return fmt.Sprintf("{%s}@%d", strings.Join(items, ", "), n.Off)
	}
	return fmt.Sprintf("?%T", x)
}

func TestParseDSL(t *testing.T) {
	tests := []struct {
		in, tree string
	}{
		{`$brooklyn:self()`, `self@10()`},
		{`$brooklyn:config("k")`, `config@10("k"@17)`},
		{`  $brooklyn: config ( "k" )  `, `config@13("k"@22)`},
		{`$brooklyn:entity("db").attributeWhenReady("host.address")`,
			`entity@10("db"@17).attributeWhenReady@23("host.address"@42)`},
		{`$brooklyn:component("x").config("k")`, `component@10("x"@20).config@25("k"@32)`},
		{`$brooklyn:parent().child("web").sibling("db").entityId()`,
			`parent@10().child@19("web"@25).sibling@32("db"@40).entityId@46()`},
		{`$brooklyn:formatString("redis://%s:%d", $brooklyn:entity("db").attributeWhenReady("host.address"), 6379)`,
			`formatString@10("redis://%s:%d"@23, entity@50("db"@57).attributeWhenReady@63("host.address"@82), 6379@99)`},
		{`$brooklyn:formatString("%s", config("a"))`, `formatString@10("%s"@23, config@29("a"@36))`},
		{`$brooklyn:attributeWhenReady("up", {timeout: 5m, abort_if_on_fire: false, "wait_for_truthy": true})`,
			`attributeWhenReady@10("up"@29, {timeout: "5m"@45, abort_if_on_fire: false@67, wait_for_truthy: true@93}@35)`},
		{`$brooklyn:literal([1, -2.5, 3e2, "x", null, [], {}])`,
			`literal@10([1@19, -2.5@22, 300@28, "x"@33, <nil>@38, []@44, {}@48]@18)`},
		{`$brooklyn:literal("a\"b\\c\n\u00e9")`, `literal@10("a\"b\\c\né"@18)`},
		{`$brooklyn:regexReplacement("abc", "b(.)", "$1x")`, `regexReplacement@10("abc"@27, "b(.)"@34, "$1x"@42)`},
		{`$brooklyn:urlEncode("é x")`, `urlEncode@10("é x"@20)`},
		{`$brooklyn:external("env", "HOME")`, `external@10("env"@19, "HOME"@26)`},
		{`$brooklyn:entitySpec({type: basic-entity, brooklyn.config: {a: $brooklyn:config("b")}})`,
			`entitySpec@10({type: "basic-entity"@28, brooklyn.config: {a: config@73("b"@80)}@59}@21)`},
		{`$brooklyn:sensor("org.example.Foo", "foo.bar")`, `sensor@10("org.example.Foo"@17, "foo.bar"@36)`},
		{`$brooklyn:component("child", "x")`, `component@10("child"@20, "x"@29)`},
		{`$brooklyn:entity(config("target")).config("k")`, `entity@10(config@17("target"@24)).config@35("k"@42)`},
		{`$brooklyn:application("other").attributeWhenReady("x")`, `application@10("other"@22).attributeWhenReady@31("x"@50)`},
		// offsets count characters, not bytes
		{`$brooklyn:formatString("é%s", "x")`, `formatString@10("é%s"@23, "x"@30)`},
	}
	for _, tt := range tests {
		d, err := ParseDSL(tt.in)
		if err != nil {
			t.Errorf("ParseDSL(%s): %v", tt.in, err)
			continue
		}
		if got := dump(d.Expr); got != tt.tree {
			t.Errorf("ParseDSL(%s)\n got %s\nwant %s", tt.in, got, tt.tree)
		}
		// Written back, it reads as the same tree.
		again, err := ParseDSL(d.String())
		if err != nil {
			t.Errorf("ParseDSL(String() = %s): %v", d.String(), err)
			continue
		}
		if !reflect.DeepEqual(Quote(again.Expr), Quote(d.Expr)) {
			t.Errorf("round trip of %s: %s", tt.in, again.String())
		}
	}
}

func TestParseDSLErrors(t *testing.T) {
	inputs := []string{
		`config("k")`,
		`$brooklyn:`,
		`$brooklyn:"text"`,
		`$brooklyn:config`,
		`$brooklyn:config("k"`,
		`$brooklyn:config("k") extra`,
		`$brooklyn:config("k",)`,
		`$brooklyn:config("k" "l")`,
		`$brooklyn:config('k')`,
		`$brooklyn:config(k)`,
		`$brooklyn:config("unclosed)`,
		`$brooklyn:config("bad \q escape")`,
		`$brooklyn:config("\u12")`,
		`$brooklyn:entityy("db")`,
		`$brooklyn:atributeWhenReady("x")`,
		`$brooklyn:entity("db").atributeWhenReady("x")`,
		`$brooklyn:entity("db").formatString("x")`,
		`$brooklyn:config("a").config("b")`,
		`$brooklyn:entity("db").`,
		`$brooklyn:entity()`,
		`$brooklyn:entity("")`,
		`$brooklyn:entity(1)`,
		`$brooklyn:entity(["a"])`,
		`$brooklyn:self("x")`,
		`$brooklyn:regexReplacement("a", "b")`,
		`$brooklyn:regexReplacement("a", "(", "x")`,
		`$brooklyn:regexReplacement("a", "(b)", "$2")`,
		`$brooklyn:formatString()`,
		`$brooklyn:formatString("%s and %s", "one")`,
		`$brooklyn:formatString("%q", "one")`,
		`$brooklyn:formatString("%tY", "one")`,
		`$brooklyn:formatString(1)`,
		`$brooklyn:attributeWhenReady("x", {timout: 5m})`,
		`$brooklyn:attributeWhenReady("x", {timeout: soon})`,
		`$brooklyn:attributeWhenReady("x", {abort_if_on_fire: maybe})`,
		`$brooklyn:attributeWhenReady("x", "5m")`,
		`$brooklyn:component("kid", "x")`,
		`$brooklyn:entitySpec("x")`,
		`$brooklyn:literal({a: 1, a: 2})`,
		`$brooklyn:literal([1, 2)`,
		`$brooklyn:literal({a 1})`,
		`$brooklyn:literal({a: 1`,
		`$brooklyn:literal(1e999)`,
		`$brooklyn:urlEncode(["a"])`,
		`$brooklyn:external("env")`,
		`$brooklyn:formatString("é%s é%s", "x")`,
		`$brooklyn:literal(` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `)`,
	}
	var b strings.Builder
	for _, in := range inputs {
		_, err := ParseDSL(in)
		if err == nil {
			t.Errorf("ParseDSL(%s) succeeded", in)
			continue
		}
		var de *DSLError
		if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDSL(%s): %v is not a *DSLError wrapping ErrInvalid", in, err)
			continue
		}
		if de.Offset < 0 || de.Offset > utf8.RuneCountInString(in) {
			t.Errorf("ParseDSL(%s): offset %d out of range", in, de.Offset)
		}
		// A caret under the character the error is about.
		fmt.Fprintf(&b, "%s\n%s^ %s\n\n", in, strings.Repeat(" ", de.Offset), de.Msg)
	}
	golden(t, filepath.Join("testdata", "dsl", "errors.golden"), []byte(b.String()))
}

func TestParseDSLValueMapForm(t *testing.T) {
	tests := []struct {
		in   any
		want string // the expression written back, or the error
	}{
		{"plain", ""},
		{map[string]any{"a": 1}, ""},
		{map[string]any{"$brooklyn:formatString": []any{"%s-%s", "$brooklyn:config(\"a\")", 2}},
			`$brooklyn:formatString("%s-%s", config("a"), 2)`},
		{map[string]any{"$brooklyn:config": "k"}, `$brooklyn:config("k")`},
		{map[string]any{"$brooklyn:formatString": []any{"%s", map[string]any{"$brooklyn:entity": "db"}}},
			`$brooklyn:formatString("%s", entity("db"))`},
		{map[string]any{"$brooklyn:attributeWhenReady": []any{"up", map[string]any{"timeout": "1m"}}},
			`$brooklyn:attributeWhenReady("up", {"timeout": "1m"})`},
		{map[string]any{"$brooklyn:literal": []any{"$brooklyn:nothing()", 1}},
			`$brooklyn:literal(["$brooklyn:nothing()", 1])`},
		{map[string]any{"$brooklyn:entitySpec": map[string]any{"type": "x", "c": "$brooklyn:config(\"y\")"}},
			`$brooklyn:entitySpec({"c": "$brooklyn:config(\"y\")", "type": "x"})`},
		{map[string]any{"$brooklyn:formatString": "x", "other": 1}, `error: a map with the key "$brooklyn:formatString" is a $brooklyn: call and may have no other key`},
		{map[string]any{"$brooklyn:formatString()": "x"}, `error: the key "$brooklyn:formatString()" must be a function name, as in $brooklyn:formatString, with the arguments as its value`},
		{map[string]any{"$brooklyn:nope": "x"}, `error: unknown function nope`},
		{map[string]any{"$brooklyn:formatString": []any{"%s", "$brooklyn:config(k)"}}, `error: argument 2 of formatString: k is neither a function call nor a value: write a string in double quotes, as in "k"`},
		{map[string]any{"$brooklyn:formatString": []any{"%s %s", 1}}, `error: formatString: "%s %s" needs 2 arguments, but 1 is given`},
	}
	for _, tt := range tests {
		d, ok, err := ParseDSLValue(tt.in)
		var got string
		switch {
		case err != nil:
			got = "error: " + dslMessage(err)
		case ok:
			got = d.String()
			if d.Text != got {
				t.Errorf("%v: Text %q, String %q", tt.in, d.Text, got)
			}
		}
		if got != tt.want {
			t.Errorf("ParseDSLValue(%v)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		if ok != (tt.want != "") {
			t.Errorf("ParseDSLValue(%v): ok = %v", tt.in, ok)
		}
	}
}

func TestFindDSLPositions(t *testing.T) {
	src := `name: x
services:
- type: t
  id: web
  brooklyn.config:
    plain: $brooklyn:entity("db").atributeWhenReady("x")
    single: '$brooklyn:formatString("it''s %s", entty("db"))'
    double: "$brooklyn:formatString(\"%s\x41\", entty(\"db\"))"
    env:
      A: $brooklyn:config("ok")
      B: [1, $brooklyn:nope()]
    folded: >
      $brooklyn:nope()
    map:
      $brooklyn:formatString: ["%s", "$brooklyn:nope()"]
    fine: {$brooklyn:formatString: ["%s", "$brooklyn:config(\"x\")"]}
    spec: '$brooklyn:entitySpec({type: x, brooklyn.config: {y: "$brooklyn:nope()"}})' 
`
	plan, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	var errs Errors
	cfg := plan.Services[0].Config
	for _, k := range []string{"plain", "single", "double", "env", "folded", "map", "fine", "spec"} {
		f, e := FindDSL(plan.Source, cfg[k])
		for _, x := range f {
			found = append(found, x.Value.Path+" = "+x.DSL.String())
		}
		errs = append(errs, e...)
	}
	wantFound := []string{
		`services[0].brooklyn.config.env.A = $brooklyn:config("ok")`,
		`services[0].brooklyn.config.fine = $brooklyn:formatString("%s", config("x"))`,
	}
	if !reflect.DeepEqual(found, wantFound) {
		t.Errorf("found:\n%s", strings.Join(found, "\n"))
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"line 6, column 35: services[0].brooklyn.config.plain: bad $brooklyn: expression: atributeWhenReady cannot follow an entity (that takes config, attributeWhenReady, sensor, entityId or a scope such as child); did you mean attributeWhenReady?",
		"line 7, column 49: services[0].brooklyn.config.single: bad $brooklyn: expression: unknown function entty; did you mean entity?",
		`line 8, column 49: services[0].brooklyn.config.double: bad $brooklyn: expression: unknown function entty; did you mean entity?`,
		`line 11, column 24: services[0].brooklyn.config.env.B[1]: bad $brooklyn: expression: unknown function nope`,
		`line 12, column 13: services[0].brooklyn.config.folded: bad $brooklyn: expression: unknown function nope`,
		`line 15, column 7: services[0].brooklyn.config.map: bad $brooklyn: expression: argument 2 of formatString: unknown function nope`,
		`line 17, column 11: services[0].brooklyn.config.spec: bad $brooklyn: expression: unknown function nope`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFormatString(t *testing.T) {
	tests := []struct {
		format string
		args   []any
		want   string
	}{
		{"redis://%s:%s", []any{"10.0.0.2", 6379}, "redis://10.0.0.2:6379"},
		{"%s:%d", []any{"h", 8080.0}, "h:8080"},
		{"%d", []any{"42"}, "42"},
		{"%s", []any{nil}, "null"},
		{"%s %s", []any{1.5, true}, "1.5 true"},
		{"%s", []any{[]any{"a", 1}}, "[a, 1]"},
		{"%s", []any{map[string]any{"b": 2, "a": "x"}}, "{a=x, b=2}"},
		{"%2$s-%1$s-%<s", []any{"a", "b"}, "b-a-a"},
		{"[%5s|%-5s|%.2s]", []any{"ab", "cd", "xyz"}, "[   ab|cd   |xy]"},
		{"%S", []any{"up"}, "UP"},
		{"%05d|%+d|% d|%,d|%(d|%-4d|", []any{42, 42, 42, 1234567, -5, 7}, "00042|+42| 42|1,234,567|(5)|7   |"},
		{"%x %X %#x %o %#o", []any{255, 255, 255, 8, 8}, "ff FF 0xff 10 010"},
		{"%.2f %f %e %.3E", []any{3.14159, 2, 12345.678, 0.000123}, "3.14 2.000000 1.234568e+04 1.230E-04"},
		{"%g %g %.3g", []any{3.14159, 1e-7, 123456}, "3.14159 1.00000e-07 1.23e+05"},
		{"%,.2f", []any{1234567.891}, "1,234,567.89"},
		{"%b %b %b %B", []any{nil, false, "x", true}, "false false true TRUE"},
		{"%c%c", []any{"a", 98}, "ab"},
		{"100%% done%n", nil, "100% done\n"},
		{"%s", []any{"a", "ignored"}, "a"},
	}
	for _, tt := range tests {
		got, err := FormatString(tt.format, tt.args)
		if err != nil || got != tt.want {
			t.Errorf("FormatString(%q, %v) = %q, %v; want %q", tt.format, tt.args, got, err, tt.want)
		}
	}
	bad := []struct {
		format string
		args   []any
		want   string
	}{
		{"%s %s", []any{"a"}, `"%s %s" needs 2 arguments, but 1 is given`},
		{"%d", []any{"x"}, `%d needs a whole number, not "x"`},
		{"%d", []any{1.5}, `%d needs a whole number, not 1.5`},
		{"%f", []any{"x"}, `%f needs a number, not "x"`},
		{"%<s", []any{"a"}, `%<s refers to a previous argument, but there is none`},
		{"%0$s", []any{"a"}, `%0$s: arguments are numbered from 1`},
		{"%h", []any{"a"}, `unknown conversion %h`},
		{"50%", nil, `bad conversion at "%"`},
		{"%c", []any{"ab"}, `%c needs one character, not "ab"`},
	}
	for _, tt := range bad {
		_, err := FormatString(tt.format, tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("FormatString(%q, %v): %v, want %s", tt.format, tt.args, err, tt.want)
		}
	}
}

func TestURLEncode(t *testing.T) {
	tests := map[string]string{
		"a b":                   "a+b",
		"http://h:80/p?q=1&r=é": "http%3A%2F%2Fh%3A80%2Fp%3Fq%3D1%26r%3D%C3%A9",
		"A-z_0.9*~":             "A-z_0.9*%7E",
		"":                      "",
	}
	for in, want := range tests {
		if got := URLEncode(in); got != want {
			t.Errorf("URLEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegexReplace(t *testing.T) {
	tests := []struct{ s, pattern, repl, want string }{
		{"hello world", "o", "0", "hell0 w0rld"},
		{"host:8080", `(\w+):(\d+)`, "$2@$1", "8080@host"},
		{"ab", "(a)(b)", "$1x$2", "axb"},
		{"ab", "(a)(b)", "$10", "a0"}, // Java: group 1 then "0", as there is no group 10
		{"ab", "(?P<first>a)", "${first}!", "a!b"},
		{"a.b", `\.`, `\$`, "a$b"},
		{"a", "a", `\\`, `\`},
	}
	for _, tt := range tests {
		got, err := RegexReplace(tt.s, tt.pattern, tt.repl)
		if err != nil || got != tt.want {
			t.Errorf("RegexReplace(%q, %q, %q) = %q, %v; want %q", tt.s, tt.pattern, tt.repl, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ pattern, repl, want string }{
		{"(", "x", "bad pattern: error parsing regexp: missing closing ): `(`"},
		{"a", "$1", `bad replacement "$1": no group 1 (the pattern has 0)`},
		{"a", "$", `bad replacement "$": group index is missing after $`},
		{"a", "$x", `bad replacement "$x": illegal group reference $x (escape a literal $ as \$)`},
		{"(a)", "${nope}", `bad replacement "${nope}": no group named "nope"`},
	} {
		if _, err := RegexReplace("a", tt.pattern, tt.repl); err == nil || err.Error() != tt.want {
			t.Errorf("RegexReplace(%q, %q): %v, want %s", tt.pattern, tt.repl, err, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"30s", "30s"}, {"5m", "5m0s"}, {"1m 30s", "1m30s"}, {"2 minutes", "2m0s"}, {"500ms", "500ms"},
		{"1.5h", "1h30m0s"}, {"1d", "24h0m0s"}, {1000, "1s"}, {"250", "250ms"}, {2.5, "2.5ms"},
		{"forever", "-1ns"}, {"never", "-1ns"},
	}
	for _, tt := range tests {
		d, err := ParseDuration(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDuration(%v) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
	for _, in := range []any{"soon", "", "5 parsecs", true, "m"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%v) succeeded", in)
		}
	}
}

func TestWaitOptions(t *testing.T) {
	o, err := ParseWaitOptions(map[string]any{"timeout": "10s", "abort_if_on_fire": false, "wait_for_truthy": "false", "timeout_if_down": 500})
	if err != nil || o.Timeout.String() != "10s" || o.AbortIfOnFire || o.WaitForTruthy || o.TimeoutIfDown.String() != "500ms" {
		t.Errorf("ParseWaitOptions: %+v %v", o, err)
	}
	if o, _ := ParseWaitOptions(nil); o != DefaultWaitOptions() || o.Timeout != Forever || !o.AbortIfOnFire {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := ParseWaitOptions(map[string]any{"timeout": "x"}); err == nil {
		t.Error("bad timeout accepted")
	}
	if _, err := ParseWaitOptions("5m"); err == nil {
		t.Error("a string accepted as options")
	}
}

func TestTruthyAndText(t *testing.T) {
	for _, v := range []any{nil, false, "", 0, 0.0, []any{}, map[string]any{}} {
		if Truthy(v) {
			t.Errorf("Truthy(%#v)", v)
		}
	}
	for _, v := range []any{true, "x", 1, -1.5, []any{nil}, map[string]any{"a": nil}} {
		if !Truthy(v) {
			t.Errorf("!Truthy(%#v)", v)
		}
	}
	if got := Text(1e20); got != "100000000000000000000" {
		t.Errorf("Text(1e20) = %s", got)
	}
}

func TestParseDSLBareWordsInData(t *testing.T) {
	d, err := ParseDSL(`$brooklyn:literal({path: $HOME/x, t: 10ms, v: 1.2.3, u: a-b_c})`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"path": "$HOME/x", "t": "10ms", "v": "1.2.3", "u": "a-b_c"}
	if got := Quote(d.Expr.(*Call).Args[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
}
