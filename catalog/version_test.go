package catalog

import (
	"slices"
	"testing"
)

// Each list is in ascending order; every pair is compared both ways. The orders are
// Brooklyn's own (VersionComparatorTest), so that items sort as Brooklyn users expect.
func TestCompareVersions(t *testing.T) {
	orders := [][]string{
		{"0.1-SNAPSHOT", "0.1-R", "0.1-S", "0.1-T", "0.1"},
		{"1beta", "1"},
		{"0", "1"},
		{"0", "0.0", "0.9", "0.10", "0.10.0", "1"},
		{"a", "b"},
		{"1beta", "1", "2beta", "11beta"},
		{"beta", "0", "1alpha", "1-alpha", "1beta", "1", "11-alpha", "11beta", "11_beta", "11.beta", "11-beta", "11"},
		{"1.0-a", "1.0-b", "1.0"},
		{"qualifier", "0qualifier", "0-qualifier", "0", "1-qualifier", "1"},
		{"2.0.qualifier", "2.0", "2.0.0qualifier", "2.0.0.qualifier", "2.0.0-qualifier", "2.0.0"},
		{"2.0-0", "2.0-2", "2.0-10", "2.0.qualifier.0", "2.0",
			"2.0.0.0", "2.0.0-0", "2.0.0.1", "2.0.0-1", "2.0.0-q", "2.0.0qualifier.0", "2.0.0.qualifier.0", "2.0.0-qualifier.0", "2.0.0"},
		{"0", "0.0", "0.1", "0.1.0", "0.1.1", "0.2", "0.2.1", "1", "1.0", "2"},
		{"0", "0.0", "0.1", "0.1.0", "0.1.1", "0.2", "0.2.1", "1", "1.0", "02", "2", "02.01", "2.01", "02.1", "2.1", "02.02", "02.2", "2.2"},
		// case sensitive
		{"AA", "Aa", "aa"},
		// strings that are not versions: natural order, all below 0
		{"A", "B", "B0", "B-2", "B-10", "C", "b", "b-9", "b1", "b9", "b10", "ba1", "c", "0"},
		{"0-qual", "0", "0.1",
			"01.qualA", "01-qualC", "01",
			"1_qualA", "1.qualA", "1-qualA", "1.qualB", "1_qualC", "1-qualC",
			"1-x-qualC", "1-x.qualB", "1-x_qualA",
			"1"},
		// numbers with qualifiers, unqualified preferred
		{"0--qual", "0-qual", "0.qualA", "0-qualA", "0-qualB", "0-qualB2", "0-qualB10", "0-qualC", "0", "0.1.qual", "0.1", "1"},
		// every SNAPSHOT below every release
		{"0_SNAPSHOT", "0.1.SNAPSHOT", "1-SNAPSHOT", "1-SNAPSHOT-X", "1-SNAPSHOT-X-X", "1-SNAPSHOT-XX", "1-SNAPSHOT-XX-X",
			"1.0.SNAPSHOT-A", "1.0-SNAPSHOT-B",
			"1.2-SNAPSHOT", "1.10.SNAPSHOT",
			"qualifer",
			"0", "0.1", "1"},
		{"0.10.0.SNAPSHOT", "0.10.0-SNAPSHOT", "0.10.0.GA", "0.10.0-GA", "0.10.0"},
		// what the catalog meets most: numeric parts, rc qualifiers, snapshots
		{"0.0.0-SNAPSHOT", "1.0-SNAPSHOT", "2.0.0-SNAPSHOT", "1.0", "1.2", "1.10-rc1", "1.10-rc2", "1.10-rc10", "1.10", "1.10.1", "10.0"},
	}
	for _, order := range orders {
		for i, a := range order {
			for j, b := range order {
				want := 0
				if i < j {
					want = -1
				} else if i > j {
					want = 1
				}
				if got := CompareVersions(a, b); got != want {
					t.Errorf("CompareVersions(%q, %q) = %d, want %d (order %v)", a, b, got, want, order)
				}
			}
		}
	}
}

func TestSortVersions(t *testing.T) {
	vs := []string{"1.10", "1.2", "1.0-SNAPSHOT", "1.2-rc1", "0.9", "2.0-SNAPSHOT"}
	slices.SortFunc(vs, CompareVersions)
	want := []string{"1.0-SNAPSHOT", "2.0-SNAPSHOT", "0.9", "1.2-rc1", "1.2", "1.10"}
	if !slices.Equal(vs, want) {
		t.Errorf("sorted %v, want %v", vs, want)
	}
}

func TestIsSnapshot(t *testing.T) {
	for v, want := range map[string]bool{
		"0.10.0-SNAPSHOT": true, "0.10.0.snapshot": true, "1.0.0.20171025_SNAPSHOT": true,
		"0.10.0": false, "1.0-rc1": false,
	} {
		if got := IsSnapshot(v); got != want {
			t.Errorf("IsSnapshot(%q) = %v", v, got)
		}
	}
}

// Brooklyn's BrooklynVersionSyntaxTest conversions to OSGi.
func TestOSGiVersion(t *testing.T) {
	cases := map[string]string{
		"0":                               "0.0.0",
		"1.1":                             "1.1.0",
		"x":                               "0.0.0.x",
		"0.x":                             "0.0.0.x",
		"1.1.x":                           "1.1.0.x",
		"1.1.1.1.x":                       "1.1.1.1_x",
		"1x":                              "1.0.0.x",
		"1$":                              "1.0.0._",
		"1-":                              "1.0.0._",
		"1.1.":                            "1.1.0._",
		"1$$$":                            "1.0.0._",
		"1._$":                            "1.0.0.__",
		"1a$$$":                           "1.0.0.a_",
		"1a$$$SNAPSHOT":                   "1.0.0.a_SNAPSHOT",
		"0.10.0-20160713.1653":            "0.10.0.20160713_1653",
		"2.1.0-SNAPSHOT":                  "2.1.0.SNAPSHOT",
		"2.1-SNAPSHOT":                    "2.1.0.SNAPSHOT",
		"0.1-SNAPSHOT":                    "0.1.0.SNAPSHOT",
		"2-SNAPSHOT":                      "2.0.0.SNAPSHOT",
		"2":                               "2.0.0",
		"2.1":                             "2.1.0",
		"2.1.3":                           "2.1.3",
		"2.1.3.4":                         "2.1.3.4",
		"1.1-alpha-2":                     "1.1.0.alpha-2",
		"1.0-alpha-16-20070122.203121-13": "1.0.0.alpha-16-20070122_203121-13",
		"1.0-20070119.021432-1":           "1.0.0.20070119_021432-1",
		"1-20070119.021432-1":             "1.0.0.20070119_021432-1",
		"1.4.1-20070217.082013-7":         "1.4.1.20070217_082013-7",
		"0.0.0.4aug2000r7-dev":            "0.0.0.4aug2000r7-dev",
		"0-4aug2000r7-dev":                "0.0.0.4aug2000r7-dev",
		"-4aug2000r7-dev":                 "0.0.0.4aug2000r7-dev",
		"4aug2000r7-dev":                  "4.0.0.aug2000r7-dev",
		"1.10-rc3":                        "1.10.0.rc3",
		NoVersion:                         "0.0.0.SNAPSHOT",
	}
	for in, want := range cases {
		if got := OSGiVersion(in); got != want {
			t.Errorf("OSGiVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameVersion(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"1.0-SNAPSHOT", "1.0.0.SNAPSHOT", true},
		{"1.0", "1.0.0", true},
		{"1.10-rc3", "1.10.0.rc3", true},
		{"1.0", "1.0.1", false},
		{"1.0-rc1", "1.0", false},
	}
	for _, c := range cases {
		if got := SameVersion(c.a, c.b); got != c.same {
			t.Errorf("SameVersion(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, ok := range []string{"1", "1.0.0-SNAPSHOT", "v1", "!$&", ".1"} {
		if err := CheckVersion(ok); err != nil {
			t.Errorf("CheckVersion(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1:1", "1 0", "a/b", `a\b`} {
		if err := CheckVersion(bad); err == nil {
			t.Errorf("CheckVersion(%q) accepted", bad)
		}
	}
}
