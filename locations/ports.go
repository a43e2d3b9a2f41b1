package locations

import (
	"fmt"
	"strconv"
	"strings"
)

// PortRange is a set of TCP ports written as Brooklyn writes them: a port ("8080"), an
// open range ("8000+", every port from 8000 up), a closed range ("8000-8100"), or a
// comma-separated list of those ("8080,9000-9010,10000+"). The first free port is taken
// in the order written.
type PortRange []portSpan

type portSpan struct{ lo, hi int }

// ParsePortRange reads a port range; a number (int or float64 from YAML or JSON) is a
// range of one port. A malformed range, or a port outside 1-65535, is an error wrapping
// ErrInvalid.
func ParsePortRange(v any) (PortRange, error) {
	switch x := v.(type) {
	case int:
		return parsePortRange(strconv.Itoa(x))
	case int64:
		return parsePortRange(strconv.FormatInt(x, 10))
	case float64:
		if x != float64(int(x)) {
			return nil, fmt.Errorf("port %v is not a whole number: %w", x, ErrInvalid)
		}
		return parsePortRange(strconv.Itoa(int(x)))
	case string:
		return parsePortRange(x)
	}
	return nil, fmt.Errorf("a port or port range such as 8080 or 8000+ is needed, not %T: %w", v, ErrInvalid)
}

func parsePortRange(s string) (PortRange, error) {
	var out PortRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		var span portSpan
		var err error
		switch {
		case part == "":
			return nil, fmt.Errorf("port range %q has an empty part: %w", s, ErrInvalid)
		case strings.HasSuffix(part, "+"):
			span.lo, err = portNumber(strings.TrimSuffix(part, "+"))
			span.hi = 65535
		case strings.Contains(part, "-"):
			lo, hi, _ := strings.Cut(part, "-")
			if span.lo, err = portNumber(lo); err == nil {
				span.hi, err = portNumber(hi)
			}
			if err == nil && span.hi < span.lo {
				err = fmt.Errorf("range %q ends before it starts", part)
			}
		default:
			span.lo, err = portNumber(part)
			span.hi = span.lo
		}
		if err != nil {
			return nil, fmt.Errorf("port range %q: %v: %w", s, err, ErrInvalid)
		}
		out = append(out, span)
	}
	return out, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range 1-65535", n)
	}
	return n, nil
}

// Single returns the port when the range holds exactly one.
func (r PortRange) Single() (int, bool) {
	if len(r) == 1 && r[0].lo == r[0].hi {
		return r[0].lo, true
	}
	return 0, false
}

// String writes the range as ParsePortRange reads it.
func (r PortRange) String() string {
	parts := make([]string, len(r))
	for i, s := range r {
		switch {
		case s.lo == s.hi:
			parts[i] = strconv.Itoa(s.lo)
		case s.hi == 65535:
			parts[i] = strconv.Itoa(s.lo) + "+"
		default:
			parts[i] = fmt.Sprintf("%d-%d", s.lo, s.hi)
		}
	}
	return strings.Join(parts, ",")
}

// ChoosePort returns the first port of r, in the order written, that free accepts.
// When none does, the error wraps ErrNoPort. It does no I/O: free says whether a port
// may be taken (not used by another entity, not found busy on the machine).
func ChoosePort(r PortRange, free func(port int) bool) (int, error) {
	for _, s := range r {
		for p := s.lo; p <= s.hi; p++ {
			if free(p) {
				return p, nil
			}
		}
	}
	return 0, fmt.Errorf("no free port in %s: %w", r, ErrNoPort)
}

// ErrNoPort is wrapped by ChoosePort when every port of a range is taken.
var ErrNoPort = fmt.Errorf("no free port: %w", ErrUnavailable)
