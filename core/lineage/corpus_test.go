package lineage

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

var update = flag.Bool("update", false, "rewrite the corpus want sections with the current results")

// corpusModel is one testdata/corpus/*.txtar file: a semantic model whose shared
// expressions are the `expr:NAME` sections and whose tables are the `table:NAME`
// sections, each with a `want:NAME` section listing the expected upstream tables
// (platform | server | database | schema | table [| unknown: parts]), reasons (! reason) and column
// lineage (= column <- database.schema.table.column, ...). An optional
// `columns:NAME` section lists the model table's columns, one per line.
type corpusModel struct {
	file  string
	model snapshot.SemanticModel
	want  map[string][]string
}

func readCorpus(t testing.TB) []corpusModel {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	var out []corpusModel
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cm := corpusModel{file: f, want: map[string][]string{}}
		for _, sec := range splitTxtar(string(data)) {
			kind, name, _ := strings.Cut(sec.name, ":")
			body := strings.TrimRight(sec.body, "\n")
			switch kind {
			case "expr":
				cm.model.Expressions = append(cm.model.Expressions, snapshot.Expression{Name: name, Expression: body})
			case "table":
				cm.model.Tables = append(cm.model.Tables, snapshot.Table{Name: name, Source: []string{body}})
			case "entity":
				// A Direct Lake table: "expressionSource | schema | entity".
				f := strings.Split(body, "|")
				for len(f) < 3 {
					f = append(f, "")
				}
				cm.model.Tables = append(cm.model.Tables, snapshot.Table{Name: name, Entity: &snapshot.EntitySource{
					ExpressionSource: strings.TrimSpace(f[0]), SchemaName: strings.TrimSpace(f[1]), EntityName: strings.TrimSpace(f[2])}})
			case "columns":
				for i := range cm.model.Tables {
					if cm.model.Tables[i].Name == name {
						for _, l := range strings.Split(body, "\n") {
							if l = strings.TrimSpace(l); l != "" {
								cm.model.Tables[i].Columns = append(cm.model.Tables[i].Columns, snapshot.Column{Name: l})
							}
						}
					}
				}
			case "want":
				var lines []string
				for _, l := range strings.Split(body, "\n") {
					if l = strings.TrimSpace(l); l != "" {
						lines = append(lines, l)
					}
				}
				cm.want[name] = lines
			default:
				t.Fatalf("%s: unknown section %q", f, sec.name)
			}
		}
		for _, tb := range cm.model.Tables {
			if _, ok := cm.want[tb.Name]; !ok {
				t.Fatalf("%s: table %q has no want section", f, tb.Name)
			}
		}
		out = append(out, cm)
	}
	return out
}

// rewriteWants replaces the want sections of file with results.
func rewriteWants(t *testing.T, file string, results map[string][]string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	lines := strings.SplitAfter(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		b.WriteString(line)
		trim := strings.TrimSpace(line)
		if !strings.HasPrefix(trim, "-- want:") || !strings.HasSuffix(trim, " --") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(trim, "-- want:"), " --")
		for _, l := range results[name] {
			b.WriteString(l + "\n")
		}
		for i+1 < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "-- ") {
			i++
		}
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

type txtarSection struct{ name, body string }

// splitTxtar splits a txtar-style file: lines `-- name --` start sections; text
// before the first is a comment.
func splitTxtar(s string) []txtarSection {
	var out []txtarSection
	for _, line := range strings.SplitAfter(s, "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			out = append(out, txtarSection{name: strings.TrimSpace(trim[3 : len(trim)-3])})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body += line
		}
	}
	return out
}

func formatLineage(tl snapshot.TableLineage) []string {
	var got []string
	for _, u := range tl.Upstream {
		line := fmt.Sprintf("%s | %s | %s | %s | %s", u.Platform, u.Server, u.Database, u.Schema, u.Table)
		if u.Unknown != "" {
			line += " | unknown: " + u.Unknown
		}
		got = append(got, line)
	}
	for _, r := range tl.Unresolved {
		got = append(got, "! "+r)
	}
	for _, c := range tl.Columns {
		var srcs []string
		for _, u := range c.Upstream {
			var parts []string
			for _, p := range []string{u.Database, u.Schema, u.Table, u.Column} {
				if p != "" {
					parts = append(parts, p)
				}
			}
			srcs = append(srcs, strings.Join(parts, "."))
		}
		got = append(got, strings.TrimSpace("= "+c.Column+" <- "+strings.Join(srcs, ", ")))
	}
	return got
}

func TestCorpus(t *testing.T) {
	var stats Stats
	cases := 0
	for _, cm := range readCorpus(t) {
		lin, st := Resolve(&cm.model)
		stats.Add(st)
		// No case may resolve a table its M does not name: every upstream table
		// must appear in the model's M text (its own, its shared expressions').
		var text strings.Builder
		for _, e := range cm.model.Expressions {
			text.WriteString(e.Expression)
		}
		for _, tb := range cm.model.Tables {
			text.WriteString(strings.Join(tb.Source, "\n"))
			if tb.Entity != nil {
				text.WriteString(tb.Entity.EntityName)
			}
		}
		// M doubles quotes inside text literals.
		all := strings.ToLower(strings.ReplaceAll(text.String(), `""`, `"`))
		for _, tl := range lin.Tables {
			for _, u := range tl.Upstream {
				if !strings.Contains(all, strings.ToLower(u.Table)) {
					t.Errorf("%s table %q: upstream %q is not named in the model's M", cm.file, tl.Table, u.Table)
				}
			}
		}
		results := map[string][]string{}
		for _, tl := range lin.Tables {
			cases++
			got := formatLineage(tl)
			results[tl.Table] = got
			want := cm.want[tl.Table]
			if !slices.Equal(got, want) && !*update {
				t.Errorf("%s table %q:\n got %q\nwant %q", cm.file, tl.Table, got, want)
			}
		}
		if *update {
			rewriteWants(t, cm.file, results)
		}
	}
	if cases < 150 {
		t.Errorf("corpus has %d cases, want at least 150", cases)
	}
	t.Logf("corpus: %d cases; resolved %d, partial %d, non-table %d, unresolved %d; resolve rate %.1f%%; upstream links %d",
		stats.Tables, stats.Resolved, stats.Partial, stats.NonTable, stats.Unresolved, 100*stats.ResolveRate(), stats.Upstream)
	for _, r := range stats.ReasonCounts() {
		t.Logf("  %-45s %d", r, stats.Reasons[r])
	}
}
