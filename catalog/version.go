package catalog

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// NoVersion is the version of an item whose BOM gives none, as in Brooklyn.
const NoVersion = "0.0.0-SNAPSHOT"

// CompareVersions orders two versions as Brooklyn's VersionComparator does, and returns
// -1, 0 or +1:
//   - any SNAPSHOT (in any case, anywhere) sorts below any release: 2-SNAPSHOT < 1.0;
//   - the leading major.minor.patch numbers compare numerically: 1.9 < 1.10;
//   - a qualified version sorts below the same version unqualified: 1.2-rc < 1.2;
//   - qualifiers compare in natural order (1.0-M9 < 1.0-M10), the separator (-, ., _)
//     deciding only between otherwise equal qualifiers;
//   - what is left compares in natural order, so that strings that are not versions
//     still get a total order.
//
// Only identical strings compare equal; see SameVersion for OSGi equivalence.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	if sa, sb := IsSnapshot(a), IsSnapshot(b); sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	ua, ub := unqualified(a), unqualified(b)
	if c := naturalCompare(ua, ub); c != 0 {
		return c
	}
	// The same numbers: unqualified wins.
	if pa, pb := ua == a, ub == b; pa != pb {
		if pa {
			return 1
		}
		return -1
	}
	qa, qb := a[len(ua):], b[len(ub):]
	if c := naturalCompare(trimSeparator(qa), trimSeparator(qb)); c != 0 {
		return c
	}
	if c := separatorRank(qa) - separatorRank(qb); c != 0 {
		return signOf(c)
	}
	return naturalCompare(a, b)
}

// IsSnapshot reports whether a version is a SNAPSHOT: it contains the word in any case.
func IsSnapshot(v string) bool { return strings.Contains(strings.ToUpper(v), "SNAPSHOT") }

// SameVersion reports whether two versions name the same version of an item: they are
// equal once mapped to OSGi syntax, so 1.0-SNAPSHOT is 1.0.0.SNAPSHOT.
func SameVersion(a, b string) bool { return a == b || OSGiVersion(a) == OSGiVersion(b) }

// numbers is the leading major[.minor[.patch]] of a version.
var numbers = regexp.MustCompile(`^[0-9]+(?:\.[0-9]+(?:\.[0-9]+)?)?`)

// unqualified is the leading major[.minor[.patch]] of v, or "" when v does not start
// with a number. What follows is the qualifier: 1.2.3.4 has the qualifier ".4".
func unqualified(v string) string { return numbers.FindString(v) }

func trimSeparator(q string) string {
	if q != "" && strings.ContainsRune("-._", rune(q[0])) {
		return q[1:]
	}
	return q
}

// separatorRank orders otherwise equal qualifiers by their separator: - above . above _.
func separatorRank(q string) int {
	if q == "" {
		return 0
	}
	switch q[0] {
	case '-':
		return 3
	case '.':
		return 2
	case '_':
		return 1
	}
	return 0
}

func signOf(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// OSGiVersion maps a version to OSGi syntax as Brooklyn does: major.minor.patch with
// missing parts made 0, then "." and the qualifier (its leading separator dropped,
// other characters than letters, digits, - and _ made "_"). 1.10-rc3 becomes
// 1.10.0.rc3, 2-SNAPSHOT becomes 2.0.0.SNAPSHOT and x becomes 0.0.0.x.
func OSGiVersion(v string) string {
	m := osgiParts.FindStringSubmatch(v)
	var b strings.Builder
	switch {
	case m[1] == "":
		b.WriteString("0.0.0")
	default:
		b.WriteString(m[1])
		if m[2] == "" {
			b.WriteString(".0")
		}
		if m[3] == "" {
			b.WriteString(".0")
		}
	}
	q := m[4]
	if q == "" {
		return b.String()
	}
	b.WriteByte('.')
	collapsed := false // the last character written stands for unsupported ones
	for i := 0; i < len(q); i++ {
		c := q[i]
		include, unsupported := false, false
		if i == 0 {
			// A leading separator is dropped, unless it is all there is.
			include = isAlnumByte(c)
			if !include && (!strings.ContainsRune("-_.", rune(c)) || len(q) == 1) {
				unsupported = true
			}
		} else {
			include = isAlnumByte(c) || c == '-' || c == '_'
			unsupported = !include && !collapsed
		}
		switch {
		case include:
			b.WriteByte(c)
			collapsed = false
		case unsupported:
			b.WriteByte('_')
			collapsed = true
		}
	}
	return b.String()
}

var osgiParts = regexp.MustCompile(`(?s)^(?:([0-9]+(\.[0-9]+(\.[0-9]+)?)?))?(.*)$`)

func isAlnumByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

// CheckVersion says whether v can be a version: not empty, and no ':', '/', '\' or
// white space (Brooklyn's "usable" versions).
func CheckVersion(v string) error {
	if v == "" {
		return fmt.Errorf("version must not be empty")
	}
	if i := strings.IndexFunc(v, func(r rune) bool {
		return r == ':' || r == '/' || r == '\\' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
	}); i >= 0 {
		return fmt.Errorf("version %q must not contain %q", v, v[i:i+1])
	}
	return nil
}

// naturalCompare orders strings with their runs of digits compared as numbers: a9 < a10,
// 1.9 < 1.10 (a dot splits words, it is not a decimal point). Leading zeros make a number
// slightly lower than the same number without, after the rest of the string is
// compared: 8 < 09 < 9, but 09.b > 9.a. Other characters compare by byte. Only
// identical strings compare equal. Strings starting with "-" that are both decimal
// numbers compare as numbers. This is the order of Brooklyn's NaturalOrderComparator.
func naturalCompare(a, b string) int {
	if strings.HasPrefix(a, "-") || strings.HasPrefix(b, "-") {
		if x, ok := decimal(a); ok {
			if y, ok := decimal(b); ok {
				return x.Cmp(y)
			}
		}
	}
	return naturalRest(a, b)
}

var decimalSyntax = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

func decimal(s string) (*big.Rat, bool) {
	if !decimalSyntax.MatchString(s) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// at is s[i], or 0 past its end.
func byteAt(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

func naturalRest(a, b string) int {
	ia, ib := 0, 0
	for {
		// Skip spaces and leading zeros, counting the zeros just before what follows.
		za, zb := 0, 0
		ca, cb := byteAt(a, ia), byteAt(b, ib)
		for ca == ' ' || ca == '0' {
			if ca == '0' {
				za++
			} else {
				za = 0
			}
			ia++
			ca = byteAt(a, ia)
		}
		for cb == ' ' || cb == '0' {
			if cb == '0' {
				zb++
			} else {
				zb = 0
			}
			ib++
			cb = byteAt(b, ib)
		}
		if isDigitByte(ca) && isDigitByte(cb) {
			if c := compareDigits(a[ia:], b[ib:]); c != 0 {
				return c
			}
			// Equal numbers of equal length: compare what follows, then the zeros.
			for isDigitByte(byteAt(a, ia)) {
				ia++
				ib++
			}
			if ia < len(a) || ib < len(b) {
				if ia >= len(a) {
					return -1
				}
				if ib >= len(b) {
					return 1
				}
				if c := naturalRest(a[ia:], b[ib:]); c != 0 {
					return c
				}
			}
			return signOf(zb - za)
		}
		if (isDigitByte(ca) || za > 0) && (isDigitByte(cb) || zb > 0) {
			// Both are numbers, at least one of them zero.
			if za == 0 {
				return 1
			}
			if zb == 0 {
				return -1
			}
		}
		if ca == 0 && cb == 0 {
			return signOf(za - zb)
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		ia++
		ib++
	}
}

// compareDigits compares the runs of digits that start a and b: the longer run is the
// larger number; of runs of equal length, the first differing digit decides.
func compareDigits(a, b string) int {
	bias := 0
	for i := 0; ; i++ {
		ca, cb := byteAt(a, i), byteAt(b, i)
		da, db := isDigitByte(ca), isDigitByte(cb)
		switch {
		case !da && !db:
			return bias
		case !da:
			return -1
		case !db:
			return 1
		case bias == 0 && ca < cb:
			bias = -1
		case bias == 0 && ca > cb:
			bias = 1
		}
	}
}
