package blueprints

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

func FuzzParseDSL(f *testing.F) {
	for _, s := range []string{
		`$brooklyn:entity("db").attributeWhenReady("host.address")`,
		`$brooklyn:formatString("redis://%s:%d", $brooklyn:entity("db").attributeWhenReady("host.address"), 6379)`,
		`$brooklyn:attributeWhenReady("up", {timeout: 5m, abort_if_on_fire: false})`,
		`$brooklyn:literal([1, -2.5, 3e2, "x\n\u00e9", null, [], {a: b}])`,
		`$brooklyn:regexReplacement("a", "(b)", "$1")`,
		`$brooklyn:config("k"`,
		`$brooklyn:parent().child("x").sibling("y").entityId()`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDSL(s)
		if err != nil {
			var de *DSLError
			if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v (%T) is not a *DSLError", s, err, err)
			}
			if de.Offset < 0 || de.Offset > utf8.RuneCountInString(s) {
				t.Fatalf("%q: offset %d out of range", s, de.Offset)
			}
			return
		}
		// Written back, an expression reads as the same tree.
		text := d.String()
		again, err := ParseDSL(text)
		if err != nil {
			t.Fatalf("%q written back as %q: %v", s, text, err)
		}
		if !reflect.DeepEqual(Quote(again.Expr), Quote(d.Expr)) || again.String() != text {
			t.Fatalf("%q written back as %q reads as %q", s, text, again.String())
		}
	})
}
