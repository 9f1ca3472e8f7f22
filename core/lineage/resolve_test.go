package lineage

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

func TestResolveSnapshot(t *testing.T) {
	s := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		SemanticModels: []snapshot.SemanticModel{
			{Name: "a", Tables: []snapshot.Table{
				{Name: "t1", Source: []string{`Sql.Database("s", "d"){[Schema="dbo",Item="x"]}[Data]`}},
				{Name: "calc"}, // a calculated table: no M, no lineage entry
			}},
			{Name: "b", Tables: []snapshot.Table{{Name: "t2", Source: []string{`let in`}}}},
			{Name: "empty"},
		},
	}}}
	st := ResolveSnapshot(s)
	ms := s.Workspaces[0].SemanticModels
	if ms[0].Lineage == nil || len(ms[0].Lineage.Tables) != 1 || ms[0].Lineage.Tables[0].Upstream[0].Table != "x" {
		t.Errorf("model a lineage = %+v", ms[0].Lineage)
	}
	if ms[2].Lineage != nil {
		t.Errorf("model without tables got lineage %+v", ms[2].Lineage)
	}
	want := Stats{Tables: 2, Resolved: 1, Unresolved: 1, Upstream: 1, Reasons: map[string]int{ReasonSyntaxError: 1}}
	if st.Tables != want.Tables || st.Resolved != want.Resolved || st.Unresolved != want.Unresolved ||
		st.Upstream != want.Upstream || st.Reasons[ReasonSyntaxError] != 1 || len(st.Reasons) != 1 {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if r := st.ResolveRate(); r != 0.5 {
		t.Errorf("ResolveRate = %v, want 0.5", r)
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("lineage", "stats", st)
	if !strings.Contains(buf.String(), `stats.resolve_rate=50.0% stats.reasons="syntax_error=1"`) {
		t.Errorf("log line = %s", buf.String())
	}
}

func TestResolveSharedAcrossTables(t *testing.T) {
	// A table referencing another table's query, and a shared source evaluated once.
	m := &snapshot.SemanticModel{
		Expressions: []snapshot.Expression{{Name: "Src", Expression: `Sql.Database("s", "d")`}},
		Tables: []snapshot.Table{
			{Name: "Base", Source: []string{`Src{[Schema="dbo",Item="base"]}[Data]`}},
			{Name: "Derived", Source: []string{`Table.SelectRows(Base, each [x] > 1)`}},
			{Name: "Two Sources", Source: []string{`Src{[Schema="a",Item="p1"]}[Data]`, `Src{[Schema="a",Item="p2"]}[Data]`}},
		},
	}
	l, st := Resolve(m)
	if len(l.Tables) != 3 || st.Resolved != 3 {
		t.Fatalf("lineage %+v stats %+v", l, st)
	}
	if u := l.Tables[1].Upstream; len(u) != 1 || u[0].Table != "base" {
		t.Errorf("Derived upstream = %+v", u)
	}
	if u := l.Tables[2].Upstream; len(u) != 2 || u[1].Table != "p2" {
		t.Errorf("partitioned table upstream = %+v", u)
	}
}

func TestResolveOddCalls(t *testing.T) {
	// Library functions called with too few or odd arguments must not panic.
	for _, src := range []string{
		`Text.Combine()`, `Text.Combine({})`, `Text.Combine({"a", 1}, 2)`, `Value.NativeQuery()`,
		`Value.NativeQuery(Sql.Database("s","d"))`, `Odbc.Query()`, `Odbc.Query("dsn=x")`,
		`Function.Invoke()`, `List.Transform()`, `Text.Upper()`, `Sql.Database()`, `Snowflake.Databases(1)`,
		`Databricks.Query("h", "p")()`, `Sql.Database("s","d"){[Name=1]}[Data]`, `Oracle.Database("s", [Query=1])`,
		`(x) => x`, `{1..3}{5}`, `[a=1][b]`, `null[a]`, `1 meta 2 meta 3`, `-"a"`, `not 1`,
	} {
		tl := ResolveExpression(src, nil)
		if len(tl.Upstream) == 0 && len(tl.Unresolved) == 0 {
			t.Errorf("%s: no upstream and no reason", src)
		}
	}
}
