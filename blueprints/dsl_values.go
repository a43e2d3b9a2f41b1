package blueprints

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The pure functions behind the DSL's value functions; the entities package calls them
// once the arguments are evaluated.

// Forever is the Duration of a wait that does not time out.
const Forever time.Duration = -1

// durationUnits are the units ParseDuration reads after a number, as Brooklyn's
// Duration does.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// ParseDuration reads a duration as Brooklyn writes them: a number of milliseconds, or
// numbers with units ("30s", "1m 30s", "2 minutes", "500ms"); "forever" and "never"
// are Forever.
func ParseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int:
		return time.Duration(x) * time.Millisecond, nil
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		switch s {
		case "forever", "never", "-1":
			return Forever, nil
		case "":
			return 0, errors.New("must be a duration such as 30s or 5m, not an empty string")
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Duration(n) * time.Millisecond, nil
		}
		var total time.Duration
		rest := s
		for rest != "" {
			i := 0
			for i < len(rest) && (isDigit(rest[i]) || rest[i] == '.') {
				i++
			}
			if i == 0 {
				return 0, fmt.Errorf("must be a duration such as 30s or 5m, not %q", x)
			}
			n, err := strconv.ParseFloat(rest[:i], 64)
			if err != nil {
				return 0, fmt.Errorf("must be a duration such as 30s or 5m, not %q", x)
			}
			rest = strings.TrimLeft(rest[i:], " ")
			j := 0
			for j < len(rest) && !isDigit(rest[j]) && rest[j] != ' ' {
				j++
			}
			unit, ok := durationUnits[rest[:j]]
			if !ok {
				return 0, fmt.Errorf("must be a duration such as 30s or 5m, not %q (unknown unit %q)", x, rest[:j])
			}
			total += time.Duration(n * float64(unit))
			rest = strings.TrimLeft(rest[j:], " ")
		}
		return total, nil
	}
	return 0, fmt.Errorf("must be a duration such as 30s or 5m, not %s", writeValue(v))
}

// Text writes a value as Java's String.valueOf would, for formatString's %s and for
// the functions that take strings: null is "null", whole numbers have no decimals
// (sensor values read back from JSON are floats), lists are [a, b] and maps {k=v}.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = Text(e)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = k + "=" + Text(x[k])
		}
		return "{" + strings.Join(items, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// URLEncode encodes s as Java's URLEncoder does (application/x-www-form-urlencoded,
// UTF-8): letters, digits and ".-*_" stay, a space becomes "+", every other byte %XX.
func URLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// RegexReplace replaces every match of pattern in s, as Java's String.replaceAll: the
// replacement refers to groups as $1 or ${name}, and \ escapes $ and \. The pattern is
// Go's RE2 syntax, which is Java's for everything but lookaround and backreferences.
func RegexReplace(s, pattern, replacement string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("bad pattern: %w", err)
	}
	tmpl, err := javaReplacement(replacement, re.NumSubexp(), re.SubexpNames())
	if err != nil {
		return "", fmt.Errorf("bad replacement %q: %w", replacement, err)
	}
	return re.ReplaceAllString(s, tmpl), nil
}

// javaReplacement turns a Java replacement string into a template for Go's Expand.
// names is nil when the pattern is not known yet (any ${name} is accepted).
func javaReplacement(repl string, groups int, names []string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		switch c := repl[i]; c {
		case '\\':
			i++
			if i >= len(repl) {
				return "", errors.New("character to be escaped is missing")
			}
			if repl[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(repl[i])
			}
		case '$':
			i++
			if i >= len(repl) {
				return "", errors.New("group index is missing after $")
			}
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return "", errors.New("named group reference is missing '}'")
				}
				name := repl[i+1 : i+end]
				if names != nil && !slices.Contains(names, name) {
					return "", fmt.Errorf("no group named %q", name)
				}
				b.WriteString("${" + name + "}")
				i += end
				continue
			}
			if !isDigit(repl[i]) {
				return "", fmt.Errorf("illegal group reference $%c (escape a literal $ as \\$)", repl[i])
			}
			// Java takes as many digits as still name an existing group.
			n := int(repl[i] - '0')
			for i+1 < len(repl) && isDigit(repl[i+1]) {
				next := n*10 + int(repl[i+1]-'0')
				if next > groups {
					break
				}
				n = next
				i++
			}
			if n > groups {
				return "", fmt.Errorf("no group %d (the pattern has %d)", n, groups)
			}
			b.WriteString("${" + strconv.Itoa(n) + "}")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// formatSpec is one %... of a Java format string.
var formatSpec = regexp.MustCompile(`%(\d+\$|<)?([-#+ 0,(]*)(\d+)?(\.\d+)?([tT])?([a-zA-Z%])`)

// formatPiece is literal text, or a conversion with the index of its argument.
type formatPiece struct {
	text  string
	spec  []string // submatches of formatSpec; nil for text
	index int      // 0-based argument index; -1 for %% and %n
}

// parseFormat splits a Java format string and assigns arguments to conversions.
func parseFormat(pattern string) ([]formatPiece, int, error) {
	var out []formatPiece
	next, last, needed := 0, -1, 0
	pos := 0
	for _, m := range formatSpec.FindAllStringSubmatchIndex(pattern, -1) {
		if lit := pattern[pos:m[0]]; lit != "" {
			if i := strings.IndexByte(lit, '%'); i >= 0 {
				return nil, 0, fmt.Errorf("bad conversion at %q", truncate(pattern[pos+i:], 6))
			}
			out = append(out, formatPiece{text: lit})
		}
		pos = m[1]
		spec := make([]string, 7)
		for g := range 7 {
			if m[2*g] >= 0 {
				spec[g] = pattern[m[2*g]:m[2*g+1]]
			}
		}
		conv := spec[6]
		if spec[5] != "" {
			return nil, 0, fmt.Errorf("dates and times (%s) are not supported", spec[0])
		}
		switch conv {
		case "%", "n":
			out = append(out, formatPiece{spec: spec, index: -1})
			continue
		case "s", "S", "d", "o", "x", "X", "e", "E", "f", "g", "G", "b", "B", "c", "C":
		default:
			return nil, 0, fmt.Errorf("unknown conversion %s", spec[0])
		}
		idx := 0
		switch {
		case spec[1] == "<":
			if last < 0 {
				return nil, 0, fmt.Errorf("%s refers to a previous argument, but there is none", spec[0])
			}
			idx = last
		case spec[1] != "":
			n, _ := strconv.Atoi(strings.TrimSuffix(spec[1], "$"))
			if n < 1 {
				return nil, 0, fmt.Errorf("%s: arguments are numbered from 1", spec[0])
			}
			idx = n - 1
		default:
			idx = next
			next++
		}
		last = idx
		needed = max(needed, idx+1)
		out = append(out, formatPiece{spec: spec, index: idx})
	}
	if lit := pattern[pos:]; lit != "" {
		if i := strings.IndexByte(lit, '%'); i >= 0 {
			return nil, 0, fmt.Errorf("bad conversion at %q", truncate(pattern[pos+i:], 6))
		}
		out = append(out, formatPiece{text: lit})
	}
	return out, needed, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "..."
}

// checkFormat checks a format string given with args arguments.
func checkFormat(pattern string, args int) error {
	_, needed, err := parseFormat(pattern)
	if err != nil {
		return err
	}
	if needed > args {
		return fmt.Errorf("%q needs %d arguments, but %d %s given", pattern, needed, args, plural(args, "is", "are"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FormatString formats as Java's String.format, well enough for strings and numbers:
// conversions s S d o x X e E f g G b B c C % n, with argument indexes (2$, <), flags
// (- + space 0 , ( #), widths and precisions. Extra arguments are ignored, as in Java.
func FormatString(pattern string, args []any) (string, error) {
	pieces, needed, err := parseFormat(pattern)
	if err != nil {
		return "", err
	}
	if needed > len(args) {
		return "", fmt.Errorf("%q needs %d arguments, but %d %s given", pattern, needed, len(args), plural(len(args), "is", "are"))
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.spec == nil {
			b.WriteString(p.text)
			continue
		}
		s, err := formatOne(p.spec, p.index, args)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatOne(spec []string, index int, args []any) (string, error) {
	flags, conv := spec[2], spec[6]
	width, prec := -1, -1
	if spec[3] != "" {
		width, _ = strconv.Atoi(spec[3])
	}
	if spec[4] != "" {
		prec, _ = strconv.Atoi(spec[4][1:])
	}
	left := strings.Contains(flags, "-")
	switch conv {
	case "%":
		return pad("%", width, left, false), nil
	case "n":
		return "\n", nil
	}
	arg := args[index]
	var s string
	switch conv {
	case "s", "S":
		s = Text(arg)
		if prec >= 0 && utf8.RuneCountInString(s) > prec {
			s = string([]rune(s)[:prec])
		}
	case "b", "B":
		s = "true"
		if b, ok := arg.(bool); ok && !b || arg == nil {
			s = "false"
		}
		if prec >= 0 && len(s) > prec {
			s = s[:prec]
		}
	case "c", "C":
		switch x := arg.(type) {
		case string:
			if utf8.RuneCountInString(x) != 1 {
				return "", fmt.Errorf("%s needs one character, not %q", spec[0], x)
			}
			s = x
		default:
			n, err := wholeNumber(arg, spec[0])
			if err != nil {
				return "", err
			}
			s = string(rune(n))
		}
	case "d", "o", "x", "X":
		n, err := wholeNumber(arg, spec[0])
		if err != nil {
			return "", err
		}
		return formatInteger(n, conv, flags, width), nil
	default: // e E f g G
		f, err := realNumber(arg, spec[0])
		if err != nil {
			return "", err
		}
		return formatFloat(f, conv, flags, width, prec), nil
	}
	if conv == "S" || conv == "B" || conv == "C" {
		s = strings.ToUpper(s)
	}
	return pad(s, width, left, false), nil
}

func pad(s string, width int, left, zero bool) string {
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if left {
		return s + strings.Repeat(" ", n)
	}
	if zero {
		return strings.Repeat("0", n) + s
	}
	return strings.Repeat(" ", n) + s
}

// AsInteger reads a whole number: an integer, a number without a fraction, or a string
// of one.
func AsInteger(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// AsNumber reads a number, or a string of one.
func AsNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// wholeNumber reads an integer argument: a number without a fraction, or a string of one.
func wholeNumber(v any, conv string) (int64, error) {
	if n, ok := AsInteger(v); ok {
		return n, nil
	}
	return 0, fmt.Errorf("%s needs a whole number, not %s", conv, writeValue(v))
}

func realNumber(v any, conv string) (float64, error) {
	if f, ok := AsNumber(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%s needs a number, not %s", conv, writeValue(v))
}

// signed applies Java's sign flags (+, space, parentheses) to digits of a magnitude.
func signed(neg bool, digits, flags string) (prefix, body, suffix string) {
	switch {
	case neg && strings.Contains(flags, "("):
		return "(", digits, ")"
	case neg:
		return "-", digits, ""
	case strings.Contains(flags, "+"):
		return "+", digits, ""
	case strings.Contains(flags, " "):
		return " ", digits, ""
	}
	return "", digits, ""
}

// group inserts thousands separators into a run of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func formatInteger(n int64, conv, flags string, width int) string {
	neg := n < 0
	mag := uint64(n)
	if neg {
		mag = uint64(-n)
	}
	var digits string
	switch conv {
	case "d":
		digits = strconv.FormatUint(mag, 10)
		if strings.Contains(flags, ",") {
			digits = group(digits)
		}
	case "o":
		digits = strconv.FormatUint(mag, 8)
		if strings.Contains(flags, "#") {
			digits = "0" + digits
		}
	default:
		digits = strconv.FormatUint(mag, 16)
		if strings.Contains(flags, "#") {
			digits = "0x" + digits
		}
		if conv == "X" {
			digits = strings.ToUpper(digits)
		}
	}
	return assemble(neg, digits, flags, width)
}

func assemble(neg bool, digits, flags string, width int) string {
	prefix, body, suffix := signed(neg, digits, flags)
	if strings.Contains(flags, "0") && !strings.Contains(flags, "-") {
		body = pad(body, width-len(prefix)-len(suffix), false, true)
	}
	return pad(prefix+body+suffix, width, strings.Contains(flags, "-"), false)
}

func formatFloat(f float64, conv, flags string, width, prec int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		s := "NaN"
		if math.IsInf(f, 1) {
			s = "Infinity"
		} else if math.IsInf(f, -1) {
			s = "-Infinity"
		}
		return pad(s, width, strings.Contains(flags, "-"), false)
	}
	if prec < 0 {
		prec = 6
	}
	neg := math.Signbit(f) && f != 0
	mag := math.Abs(f)
	var digits string
	switch conv {
	case "e", "E":
		digits = strconv.FormatFloat(mag, 'e', prec, 64)
	case "f":
		digits = strconv.FormatFloat(mag, 'f', prec, 64)
	default: // g, G: Java rounds to prec significant digits, then picks fixed or scientific
		if prec == 0 {
			prec = 1
		}
		sci := strconv.FormatFloat(mag, 'e', prec-1, 64)
		exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
		if mag != 0 && (exp < -4 || exp >= prec) {
			digits = sci
		} else {
			digits = strconv.FormatFloat(mag, 'f', max(prec-1-exp, 0), 64)
		}
	}
	if strings.Contains(flags, ",") && conv == "f" {
		whole, frac, _ := strings.Cut(digits, ".")
		digits = group(whole)
		if frac != "" {
			digits += "." + frac
		}
	}
	if conv == "E" || conv == "G" {
		digits = strings.ToUpper(digits)
	}
	return assemble(neg, digits, flags, width)
}
