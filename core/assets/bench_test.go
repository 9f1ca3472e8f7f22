package assets

import (
	"fmt"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

// syntheticTenant builds a tenant of nWS workspaces split into batches of perBatch:
// per workspace 10 models of 10 tables of 10 columns, 15 reports, 5 dashboards and 5
// data sources. Every fifth report uses a model of the next workspace, so some
// dependencies cross batches.
func syntheticTenant(nWS, perBatch int) []*snapshot.Snapshot {
	var batches []*snapshot.Snapshot
	for w := 0; w < nWS; w++ {
		if w%perBatch == 0 {
			batches = append(batches, &snapshot.Snapshot{Version: snapshot.Version})
		}
		snap := batches[len(batches)-1]
		ws := snapshot.Workspace{ID: fmt.Sprintf("ws-%03d", w), Name: fmt.Sprintf("Workspace %d", w), Type: "Workspace"}
		for d := 0; d < 5; d++ {
			id := fmt.Sprintf("ds-%03d-%d", w, d)
			snap.DataSources = append(snap.DataSources, snapshot.DataSource{ID: id, Type: "Sql",
				ConnectionDetails: &snapshot.ConnectionDetails{Server: "sql.example.com", Database: fmt.Sprintf("db_%d_%d", w, d)}})
		}
		for m := 0; m < 10; m++ {
			sm := snapshot.SemanticModel{ID: fmt.Sprintf("m-%03d-%d", w, m), Name: fmt.Sprintf("Model %d.%d", w, m),
				ConfiguredBy: "owner@example.com", DataSourceIDs: []string{fmt.Sprintf("ds-%03d-%d", w, m%5)}}
			for t := 0; t < 10; t++ {
				tb := snapshot.Table{Name: fmt.Sprintf("Table %d", t), Source: []string{fmt.Sprintf(
					"let\n    Source = Snowflake.Databases(\"acme\", \"WH\"),\n    D = Source{[Name=\"EDW\",Kind=\"Database\"]}[Data],\n    S = D{[Name=\"S%d\",Kind=\"Schema\"]}[Data],\n    T = S{[Name=\"T%d_%d\",Kind=\"Table\"]}[Data]\nin\n    T", w, m, t)}}
				for c := 0; c < 10; c++ {
					tb.Columns = append(tb.Columns, snapshot.Column{Name: fmt.Sprintf("Column%d", c), DataType: "Int64"})
				}
				sm.Tables = append(sm.Tables, tb)
			}
			ws.SemanticModels = append(ws.SemanticModels, sm)
		}
		for r := 0; r < 15; r++ {
			target := w
			if r%5 == 0 && w+1 < nWS {
				target = w + 1
			}
			ws.Reports = append(ws.Reports, snapshot.Report{ID: fmt.Sprintf("r-%03d-%d", w, r), Name: fmt.Sprintf("Report %d.%d", w, r),
				DatasetID: fmt.Sprintf("m-%03d-%d", target, r%10), CreatedBy: "author@example.com", ReportType: "PowerBIReport"})
		}
		for d := 0; d < 5; d++ {
			db := snapshot.Dashboard{ID: fmt.Sprintf("d-%03d-%d", w, d), DisplayName: fmt.Sprintf("Dashboard %d.%d.pbix", w, d)}
			for t := 0; t < 4; t++ {
				db.Tiles = append(db.Tiles, snapshot.Tile{ID: fmt.Sprintf("t-%d", t), Title: fmt.Sprintf("Tile %d", t),
					ReportID: fmt.Sprintf("r-%03d-%d", w, (d*3+t)%15)})
			}
			ws.Dashboards = append(ws.Dashboards, db)
		}
		snap.Workspaces = append(snap.Workspaces, ws)
	}
	return batches
}

// BenchmarkBuild builds 100 workspaces (3,500 assets, 10,000 tables, 100,000
// columns) in batches of 10 workspaces and reports the cost per asset.
func BenchmarkBuild(b *testing.B) {
	batches := syntheticTenant(100, 10)
	assets := 0
	b.ReportAllocs()
	for b.Loop() {
		bl := NewBuilder(Options{})
		assets = 0
		for _, s := range batches {
			recs, problems := bl.Add(s)
			if len(problems) != 0 {
				b.Fatalf("problems: %v", problems)
			}
			assets += len(recs)
		}
		recs, problems := bl.Flush()
		if len(problems) != 0 {
			b.Fatalf("problems: %v", problems)
		}
		assets += len(recs)
	}
	if assets != 3500 {
		b.Fatalf("built %d assets, want 3500", assets)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(assets), "ns/asset")
}
