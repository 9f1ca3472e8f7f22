package powerbitest

import (
	"fmt"
	"math/rand/v2"

	"github.com/pbisync/pbisync/core/snapshot"
)

// Size is the shape of a generated tenant.
type Size struct {
	Workspaces              int
	ModelsPerWorkspace      int
	TablesPerModel          int
	ColumnsPerTable         int
	MeasuresPerTable        int
	ReportsPerWorkspace     int
	PagesPerReport          int
	DashboardsPerWorkspace  int
	TilesPerDashboard       int
	DataSourcesPerWorkspace int
}

// SmallSize is a tenant of 10 workspaces, for quick runs.
func SmallSize() Size {
	return Size{Workspaces: 10, ModelsPerWorkspace: 3, TablesPerModel: 4, ColumnsPerTable: 6, MeasuresPerTable: 1,
		ReportsPerWorkspace: 4, PagesPerReport: 2, DashboardsPerWorkspace: 2, TilesPerDashboard: 3, DataSourcesPerWorkspace: 3}
}

// LargeSize is a tenant of 1,000 workspaces with 35,000 assets (10,000 models, 15,000
// reports, 5,000 dashboards, 5,000 data sources), 100,000 tables and 1,000,000 columns.
func LargeSize() Size {
	return Size{Workspaces: 1000, ModelsPerWorkspace: 10, TablesPerModel: 10, ColumnsPerTable: 10, MeasuresPerTable: 2,
		ReportsPerWorkspace: 15, PagesPerReport: 3, DashboardsPerWorkspace: 5, TilesPerDashboard: 4, DataSourcesPerWorkspace: 5}
}

var (
	genTeams    = []string{"Sales", "Finance", "Operations", "Marketing", "HR", "Supply Chain", "Customer Success", "Product", "Risk", "Procurement"}
	genSubjects = []string{"Orders", "Invoices", "Customers", "Inventory", "Shipments", "Campaigns", "Tickets", "Payroll", "Forecast", "Suppliers", "Returns", "Leads"}
	genPeople   = []string{"ana.lima", "raj.patel", "maria.garcia", "li.wei", "sofia.rossi", "tom.becker", "amara.okafor", "kenji.sato"}
	genTypes    = []string{"String", "Int64", "Double", "Decimal", "DateTime", "Boolean"}
	genKinds    = []string{"snowflake", "sql", "postgres", "databricks", "file"}
)

// layouts are shared column and measure lists: a generated tenant with a million
// columns reuses a few hundred distinct lists, so it stays small in memory. Tables hold
// them read-only.
type layouts struct {
	columns  [][]snapshot.Column
	measures [][]snapshot.Measure
}

func newLayouts(rng *rand.Rand, size Size) *layouts {
	const n = 256
	l := &layouts{}
	for i := range n {
		cols := make([]snapshot.Column, size.ColumnsPerTable)
		for c := range cols {
			cols[c] = snapshot.Column{Name: fmt.Sprintf("%s_%d", genSubjects[(i+c)%len(genSubjects)], c),
				DataType: genTypes[rng.IntN(len(genTypes))], ColumnType: "Data", IsHidden: c == 0 && i%7 == 0}
		}
		if len(cols) > 2 && i%5 == 0 {
			cols[len(cols)-1].ColumnType = "Calculated"
			cols[len(cols)-1].Expression = fmt.Sprintf("[%s] * 2", cols[1].Name)
		}
		l.columns = append(l.columns, cols)
		ms := make([]snapshot.Measure, size.MeasuresPerTable)
		for m := range ms {
			ms[m] = snapshot.Measure{Name: fmt.Sprintf("Total %d", m), Expression: fmt.Sprintf("SUM('T'[%s])", cols[min(m, len(cols)-1)].Name)}
		}
		if len(cols) == 0 {
			ms = nil
		}
		l.measures = append(l.measures, ms)
	}
	return l
}

// Generate builds a synthetic tenant of the given size; the same seed gives the same
// Item names carry their workspace's number, so keys do not clash across workspaces as
// they rarely do in a real tenant; the sample tenant and the tests cover clashes.
// tenant. Tables share their column and measure lists (see layouts), so even LargeSize
// takes little memory; the emulator renders scan results batch by batch.
func Generate(seed int64, size Size) *snapshot.Snapshot {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	id := func() string {
		a, b := rng.Uint64(), rng.Uint64()
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
	}
	lay := newLayouts(rng, size)
	t := &snapshot.Snapshot{Version: snapshot.Version, Source: "emulator", Workspaces: make([]snapshot.Workspace, size.Workspaces)}
	var prev *snapshot.Workspace
	for w := range size.Workspaces {
		team := genTeams[w%len(genTeams)]
		ws := &t.Workspaces[w]
		*ws = snapshot.Workspace{ID: id(), Name: fmt.Sprintf("%s %04d", team, w), Type: "Workspace", State: "Active",
			IsOnDedicatedCapacity: w%3 != 0, Reports: make([]snapshot.Report, 0, size.ReportsPerWorkspace),
			Dashboards: make([]snapshot.Dashboard, 0, size.DashboardsPerWorkspace), Dataflows: []snapshot.Dataflow{},
			SemanticModels: make([]snapshot.SemanticModel, 0, size.ModelsPerWorkspace)}
		if ws.IsOnDedicatedCapacity {
			ws.CapacityID = "0f084df7-c13d-451b-af5f-ed0c466403b2"
		}
		// Data sources of this workspace.
		dsIDs := make([]string, size.DataSourcesPerWorkspace)
		dsKinds := make([]string, size.DataSourcesPerWorkspace)
		for d := range dsIDs {
			kind := genKinds[(w+d)%len(genKinds)]
			ds := genDataSource(id(), kind, w, d)
			dsIDs[d], dsKinds[d] = ds.ID, kind
			t.DataSources = append(t.DataSources, ds)
		}
		for m := range size.ModelsPerWorkspace {
			subject := genSubjects[(w+m)%len(genSubjects)]
			owner := genPeople[rng.IntN(len(genPeople))] + "@contoso.com"
			model := snapshot.SemanticModel{ID: id(), Name: fmt.Sprintf("%s %s %d.%d", team, subject, w, m), ConfiguredBy: owner,
				CreatedDate: "2024-05-01T08:00:00Z", ContentProviderType: "PbixInImportMode", TargetStorageMode: "Abf",
				Tables: make([]snapshot.Table, size.TablesPerModel)}
			if m%4 == 0 {
				model.Endorsement = "Promoted"
			}
			var d int
			if len(dsIDs) > 0 {
				d = rng.IntN(len(dsIDs))
				model.DataSourceIDs = []string{dsIDs[d]}
			}
			for tb := range model.Tables {
				li := rng.IntN(len(lay.columns))
				name := fmt.Sprintf("%s_%d", subject, tb)
				tab := snapshot.Table{Name: name, Columns: lay.columns[li], Measures: lay.measures[li]}
				if len(dsKinds) > 0 {
					tab.Source = []string{genM(dsKinds[d], w, d, team, name)}
				}
				model.Tables[tb] = tab
			}
			ws.SemanticModels = append(ws.SemanticModels, model)
		}
		for r := range size.ReportsPerWorkspace {
			rep := snapshot.Report{ID: id(), Name: fmt.Sprintf("%s Report %d.%d", team, w, r), ReportType: "PowerBIReport",
				CreatedBy: genPeople[rng.IntN(len(genPeople))] + "@contoso.com", CreatedDateTime: "2024-06-01T08:00:00Z"}
			rep.ModifiedBy = rep.CreatedBy
			switch {
			case r == 0 && prev != nil && len(prev.SemanticModels) > 0:
				rep.DatasetID, rep.DatasetWorkspaceID = prev.SemanticModels[0].ID, prev.ID // a model in another workspace
			case len(ws.SemanticModels) > 0:
				rep.DatasetID, rep.DatasetWorkspaceID = ws.SemanticModels[r%len(ws.SemanticModels)].ID, ws.ID
			default:
				rep.ReportType = "PaginatedReport"
			}
			for p := range size.PagesPerReport {
				rep.Pages = append(rep.Pages, snapshot.Page{Name: fmt.Sprintf("ReportSection%d", p), DisplayName: fmt.Sprintf("Page %d", p+1), Order: p})
			}
			ws.Reports = append(ws.Reports, rep)
		}
		for b := range size.DashboardsPerWorkspace {
			dash := snapshot.Dashboard{ID: id(), DisplayName: fmt.Sprintf("%s Dashboard v%d.%d", team, w, b), Tiles: make([]snapshot.Tile, size.TilesPerDashboard)}
			for k := range dash.Tiles {
				tile := snapshot.Tile{ID: id(), Title: fmt.Sprintf("Tile %d", k), RowSpan: 2, ColSpan: 3}
				switch {
				case k == 0 && b == 0 && prev != nil && len(prev.Reports) > 0:
					tile.ReportID = prev.Reports[0].ID // a report in another workspace
				case len(ws.Reports) > 0:
					r := ws.Reports[(b+k)%len(ws.Reports)]
					tile.ReportID, tile.DatasetID = r.ID, r.DatasetID
				}
				dash.Tiles[k] = tile
			}
			ws.Dashboards = append(ws.Dashboards, dash)
		}
		prev = ws
	}
	if t.DataSources == nil {
		t.DataSources = []snapshot.DataSource{}
	}
	return t
}

func genDataSource(id, kind string, w, d int) snapshot.DataSource {
	ds := snapshot.DataSource{ID: id}
	switch kind {
	case "snowflake":
		ds.Type = "Extension"
		ds.ConnectionDetails = &snapshot.ConnectionDetails{Path: fmt.Sprintf("acct%03d.snowflakecomputing.com;WH_%04d_%d", w%50, w, d), Kind: "Snowflake"}
	case "sql":
		ds.Type = "Sql"
		ds.ConnectionDetails = &snapshot.ConnectionDetails{Server: fmt.Sprintf("sql%02d.contoso.com", w%20), Database: fmt.Sprintf("DW%04d_%d", w, d)}
	case "postgres":
		ds.Type = "PostgreSql"
		ds.ConnectionDetails = &snapshot.ConnectionDetails{Server: fmt.Sprintf("pg%02d.contoso.com:5432", w%20), Database: fmt.Sprintf("app%04d_%d", w, d)}
	case "databricks":
		ds.Type = "Extension"
		ds.ConnectionDetails = &snapshot.ConnectionDetails{Path: fmt.Sprintf("adb-%d.azuredatabricks.net;/sql/1.0/warehouses/w%04d_%d", 1000+w%30, w, d), Kind: "Databricks"}
	default:
		ds.Type = "File"
		ds.ConnectionDetails = &snapshot.ConnectionDetails{Path: fmt.Sprintf(`\\files\share%d\data%04d_%d.xlsx`, w%10, w, d)}
	}
	return ds
}

// genM writes a table's Power Query M for the data source kind.
func genM(kind string, w, d int, team, table string) string {
	schema := "S_" + team[:min(3, len(team))]
	switch kind {
	case "snowflake":
		return fmt.Sprintf("let\n    Source = Snowflake.Databases(\"acct%03d.snowflakecomputing.com\", \"WH_%04d_%d\"),\n    Db = Source{[Name=\"DB%d\",Kind=\"Database\"]}[Data],\n    Sch = Db{[Name=\"%s\",Kind=\"Schema\"]}[Data],\n    Tbl = Sch{[Name=\"%s\",Kind=\"Table\"]}[Data]\nin\n    Tbl", w%50, w, d, d, schema, table)
	case "sql":
		return fmt.Sprintf("let\n    Source = Sql.Database(\"sql%02d.contoso.com\", \"DW%04d_%d\"),\n    Tbl = Source{[Schema=\"dbo\",Item=\"%s\"]}[Data]\nin\n    Tbl", w%20, w, d, table)
	case "postgres":
		return fmt.Sprintf("let\n    Source = PostgreSQL.Database(\"pg%02d.contoso.com:5432\", \"app%04d_%d\"),\n    Tbl = Source{[Schema=\"public\",Item=\"%s\"]}[Data]\nin\n    Tbl", w%20, w, d, table)
	case "databricks":
		return fmt.Sprintf("let\n    Source = Databricks.Catalogs(\"adb-%d.azuredatabricks.net\", \"/sql/1.0/warehouses/w%04d_%d\", [Catalog=null]),\n    Cat = Source{[Name=\"main\",Kind=\"Database\"]}[Data],\n    Sch = Cat{[Name=\"%s\",Kind=\"Schema\"]}[Data],\n    Tbl = Sch{[Name=\"%s\",Kind=\"Table\"]}[Data]\nin\n    Tbl", 1000+w%30, w, d, schema, table)
	}
	return fmt.Sprintf("let\n    Source = Excel.Workbook(File.Contents(\"\\\\files\\share%d\\data%04d_%d.xlsx\"), null, true),\n    Sheet = Source{[Item=\"%s\",Kind=\"Sheet\"]}[Data]\nin\n    Sheet", w%10, w, d, table)
}
