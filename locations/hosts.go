package locations

import (
	"fmt"
	"strconv"
	"strings"
)

// maxExpandedHosts bounds ExpandHosts, so that a typo such as {1-1000000}
// is an error rather than a server out of memory.
const maxExpandedHosts = 10000

// ExpandHosts expands Brooklyn's host glob syntax, as byon's hosts are
// written: a comma-separated list whose items may hold brace groups of
// alternatives ({a,b}) or numeric ranges ({8-10}, {08-10} keeps the width),
// nested to any depth. The whole list may itself be in braces:
//
//	"{1.2.3.{4,5},u@h{8-9}}" -> 1.2.3.4, 1.2.3.5, u@h8, u@h9
//	"10.0.0.1, 10.0.0.2:2222" -> 10.0.0.1, 10.0.0.2:2222
//
// Items are trimmed; the order is the order written. Errors wrap ErrInvalid.
func ExpandHosts(glob string) ([]string, error) {
	out, err := expandHostList(glob, 0)
	if err != nil {
		return nil, fmt.Errorf("hosts %q: %w", glob, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hosts %q: no host: %w", glob, ErrInvalid)
	}
	return out, nil
}

// expandHostList expands a comma-separated list (commas at brace depth 0).
func expandHostList(s string, depth int) ([]string, error) {
	if depth > 32 {
		return nil, fmt.Errorf("braces nested too deep: %w", ErrInvalid)
	}
	items, err := splitHostList(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			if len(items) == 1 {
				continue
			}
			return nil, fmt.Errorf("empty item in %q: %w", s, ErrInvalid)
		}
		exp, err := expandHostTerm(it, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, exp...)
		if len(out) > maxExpandedHosts {
			return nil, fmt.Errorf("more than %d hosts: %w", maxExpandedHosts, ErrInvalid)
		}
	}
	return out, nil
}

// expandHostTerm expands one item: prefix{alternatives}suffix, recursively.
func expandHostTerm(s string, depth int) ([]string, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return nil, fmt.Errorf("'}' without '{' in %q: %w", s, ErrInvalid)
		}
		return []string{s}, nil
	}
	if c := strings.IndexByte(s[:open], '}'); c >= 0 {
		return nil, fmt.Errorf("'}' without '{' in %q: %w", s, ErrInvalid)
	}
	close, err := closingBrace(s, open)
	if err != nil {
		return nil, err
	}
	prefix, inner, suffix := s[:open], s[open+1:close], s[close+1:]
	var alts []string
	if lo, hi, width, ok := parseHostRange(inner); ok {
		step := 1
		if hi < lo {
			step = -1
		}
		if n := (hi-lo)*step + 1; n > maxExpandedHosts {
			return nil, fmt.Errorf("range {%s} has %d values, more than %d: %w", inner, n, maxExpandedHosts, ErrInvalid)
		}
		for v := lo; ; v += step {
			alts = append(alts, fmt.Sprintf("%0*d", width, v))
			if v == hi {
				break
			}
		}
	} else {
		if strings.TrimSpace(inner) == "" {
			return nil, fmt.Errorf("empty braces in %q: %w", s, ErrInvalid)
		}
		alts, err = expandHostList(inner, depth+1)
		if err != nil {
			return nil, err
		}
	}
	rests, err := expandHostTerm(suffix, depth)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(alts)*len(rests))
	for _, a := range alts {
		for _, r := range rests {
			out = append(out, prefix+a+r)
			if len(out) > maxExpandedHosts {
				return nil, fmt.Errorf("more than %d hosts: %w", maxExpandedHosts, ErrInvalid)
			}
		}
	}
	return out, nil
}

// parseHostRange reads "8-10" or "08-10" (width 2).
func parseHostRange(s string) (lo, hi, width int, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "-")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !found || !hostDigits(a) || !hostDigits(b) {
		return 0, 0, 0, false
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, false
	}
	if len(a) > 1 && a[0] == '0' {
		width = len(a)
	}
	return lo, hi, width, true
}

func hostDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matching returns the index of the '}' closing the '{' at open.
func closingBrace(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed '{' in %q: %w", s, ErrInvalid)
}

// splitHostList splits s at the commas outside braces.
func splitHostList(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("'}' without '{' in %q: %w", s, ErrInvalid)
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed '{' in %q: %w", s, ErrInvalid)
	}
	return append(out, s[start:]), nil
}
