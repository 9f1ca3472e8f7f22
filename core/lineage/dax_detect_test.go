package lineage

import "testing"

func TestLooksLikeDAX(t *testing.T) {
	defined := func(n string) bool { return n == "FNGETTABLE" }
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`SUMMARIZE(Sales, Sales[Region])`, true},
		{"CALENDAR(DATE(2020, 1, 1), DATE(2025, 12, 31))", true},
		{`FILTER(ALL('Date'), 'Date'[Label] <> "let")`, true},
		{"VAR t = FILTER(Sales, Sales[Qty] > 0)\nRETURN t", true},
		{"'Sales'", true},
		{"-- calculated\nDATATABLE(\"a\", STRING, {{\"let\"}})", true},
		{"let\n    Source = Sql.Database(\"s\", \"d\")\nin\n    Source", false},
		{"/* x */ let Source = 1 in Source", false},
		{`Sql.Database("s", "d", [Query="SELECT 1"])`, false},
		{`#"Other Query"`, false},
		{`fnGetTable("a")`, false},
		{`FNGETTABLE("a")`, false},
		{"Variables", false},
		{"section Section1; shared A = 1;", false},
	} {
		if got := looksLikeDAX(tc.src, defined); got != tc.want {
			t.Errorf("looksLikeDAX(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
