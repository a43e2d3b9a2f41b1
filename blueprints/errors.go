package blueprints

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error about a blueprint's content.
var ErrInvalid = errors.New("invalid blueprint")

// Pos is a 1-based position in the blueprint's YAML text.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// Error is one problem in a blueprint: where it is, the key path of the offending
// node (empty for the document as a whole) and what is wrong.
type Error struct {
	Pos  Pos
	Path string
	Msg  string
}

// Errorf returns an *Error at pos and path, its message formatted as with fmt.Sprintf.
func Errorf(pos Pos, path, format string, args ...any) *Error {
	return &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Error reads "line 3, column 5: services[0].brooklyn.config.env: must be a map".
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Path, e.Msg)
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is several blueprint errors in document order. errors.As finds the first
// *Error in it, and errors.Is(err, ErrInvalid) holds.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns every error, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Suggest returns the option closest to key by edit distance, or "" when none is
// close enough to be a likely typo.
func Suggest(key string, options []string) string {
	best, bestDist := "", max(1, len(key)/3)+1
	for _, o := range options {
		if d := distance(strings.ToLower(key), strings.ToLower(o)); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b: insertions,
// deletions, substitutions and transpositions of adjacent bytes each cost one.
func distance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j]; three rows are enough.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
