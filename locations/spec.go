package locations

import (
	"fmt"
	"strings"
)

// Spec is a location spec string taken apart, as Brooklyn writes them:
//
//	localhost                          Provider "localhost"
//	docker:tcp://10.0.0.5:2376         Provider "docker", Target "tcp://10.0.0.5:2376"
//	named:staging                      Provider "named", Target "staging"
//	byon:(hosts="10.0.0.{1,2}",user=u) Provider "byon", Args {hosts: "10.0.0.{1,2}", user: "u"}
//	byon(hosts="10.0.0.1")             the same without the colon
//	host:("10.0.0.1",user=u)           Positional ["10.0.0.1"], Args {user: "u"}
//	my-item:1.0                        Provider "my-item", Target "1.0" (a catalog item)
type Spec struct {
	// Provider is what comes before the first ':' or '('.
	Provider string
	// Target is what follows "provider:" when it is not an argument list.
	Target string
	// Args are the key=value arguments between parentheses; values may be
	// double-quoted (then they may hold commas, and \" and \\ escapes).
	Args map[string]string
	// Positional are the arguments without a key, in order.
	Positional []string
}

// String writes the spec back in its canonical form.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(s.Provider)
	switch {
	case s.Target != "":
		b.WriteString(":" + s.Target)
	case len(s.Args) > 0 || len(s.Positional) > 0:
		b.WriteString(":(")
		var parts []string
		for _, p := range s.Positional {
			parts = append(parts, quoteSpecArg(p))
		}
		for _, k := range sortedNames(s.Args) {
			parts = append(parts, k+"="+quoteSpecArg(s.Args[k]))
		}
		b.WriteString(strings.Join(parts, ","))
		b.WriteString(")")
	}
	return b.String()
}

func quoteSpecArg(v string) string {
	if v != "" && !strings.ContainsAny(v, `,()"\= `) {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// ParseSpec takes a location spec string apart. It only checks the syntax:
// whether the provider exists is the Registry's business. Errors wrap
// ErrInvalid and say where the problem is.
func ParseSpec(spec string) (Spec, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return Spec{}, fmt.Errorf("empty location spec: write one such as localhost, docker or byon:(hosts=\"10.0.0.1\"): %w", ErrInvalid)
	}
	i := strings.IndexAny(s, ":(")
	if i < 0 {
		if err := checkSpecProvider(s, spec); err != nil {
			return Spec{}, err
		}
		return Spec{Provider: s}, nil
	}
	out := Spec{Provider: s[:i]}
	if err := checkSpecProvider(out.Provider, spec); err != nil {
		return Spec{}, err
	}
	rest := s[i:]
	if rest[0] == ':' {
		rest = rest[1:]
		if !strings.HasPrefix(strings.TrimSpace(rest), "(") {
			if strings.TrimSpace(rest) == "" {
				return Spec{}, fmt.Errorf("location spec %q: nothing after %q: %w", spec, out.Provider+":", ErrInvalid)
			}
			out.Target = strings.TrimSpace(rest)
			return out, nil
		}
		rest = strings.TrimSpace(rest)
	}
	// rest starts with '(' and must end with the matching ')'.
	if !strings.HasSuffix(rest, ")") {
		return Spec{}, fmt.Errorf("location spec %q: the argument list must end with ')': %w", spec, ErrInvalid)
	}
	args, pos, err := parseSpecArgs(rest[1 : len(rest)-1])
	if err != nil {
		return Spec{}, fmt.Errorf("location spec %q: %w", spec, err)
	}
	out.Args, out.Positional = args, pos
	return out, nil
}

func checkSpecProvider(p, spec string) error {
	if p == "" {
		return fmt.Errorf("location spec %q: no provider before ':' or '(': %w", spec, ErrInvalid)
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)
		if !ok {
			return fmt.Errorf("location spec %q: %q is not allowed in the provider name %q (letters, digits, '-', '_' and '.'): %w", spec, r, p, ErrInvalid)
		}
	}
	return nil
}

// parseSpecArgs reads `a=1,b="x, y",positional` (the inside of the parentheses).
func parseSpecArgs(in string) (map[string]string, []string, error) {
	var args map[string]string
	var pos []string
	i := 0
	for {
		// One item: [key=]value, up to a top-level comma.
		for i < len(in) && in[i] == ' ' {
			i++
		}
		if i == len(in) {
			if strings.TrimSpace(in) == "" {
				return args, pos, nil
			}
			return nil, nil, fmt.Errorf("empty argument at the end of %q: %w", in, ErrInvalid)
		}
		start := i
		key := ""
		// A key runs up to '=', unless a quote or comma comes first.
		if j := strings.IndexAny(in[i:], `=,"`); j >= 0 && in[i+j] == '=' {
			key = strings.TrimSpace(in[i : i+j])
			if key == "" {
				return nil, nil, fmt.Errorf("argument %d of %q has no name before '=': %w", len(pos)+len(args)+1, in, ErrInvalid)
			}
			i += j + 1
			for i < len(in) && in[i] == ' ' {
				i++
			}
		}
		var val string
		if i < len(in) && in[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(in) {
				c := in[i]
				if c == '\\' && i+1 < len(in) {
					b.WriteByte(in[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, nil, fmt.Errorf("unterminated quote in argument starting at %q: %w", in[start:], ErrInvalid)
			}
			val = b.String()
			for i < len(in) && in[i] == ' ' {
				i++
			}
			if i < len(in) && in[i] != ',' {
				return nil, nil, fmt.Errorf("unexpected %q after the quoted value of argument starting at %q (separate arguments with ','): %w", in[i:], in[start:], ErrInvalid)
			}
		} else {
			j := strings.IndexByte(in[i:], ',')
			if j < 0 {
				j = len(in) - i
			}
			val = strings.TrimSpace(in[i : i+j])
			if strings.ContainsRune(val, '"') {
				return nil, nil, fmt.Errorf("stray quote in argument %q (quote the whole value): %w", in[start:i+j], ErrInvalid)
			}
			if key == "" && val == "" {
				return nil, nil, fmt.Errorf("empty argument in %q: %w", in, ErrInvalid)
			}
			i += j
		}
		if key == "" {
			pos = append(pos, val)
		} else {
			if args == nil {
				args = make(map[string]string)
			}
			if _, dup := args[key]; dup {
				return nil, nil, fmt.Errorf("argument %q given twice: %w", key, ErrInvalid)
			}
			args[key] = val
		}
		if i == len(in) {
			return args, pos, nil
		}
		i++ // the comma
		if strings.TrimSpace(in[i:]) == "" {
			return nil, nil, fmt.Errorf("trailing ',' in %q: %w", in, ErrInvalid)
		}
	}
}
