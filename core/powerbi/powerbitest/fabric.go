package powerbitest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pbisync/pbisync/core/snapshot"
)

// Fabric items, datamarts, Direct Lake models and dataflow definitions, as the
// service sends them.
//
// The scanner lists a workspace's Fabric items in arrays named by item type
// ("Lakehouse", "Warehouse", "SQLAnalyticsEndpoint"), each item with
// extendedProperties (the SQL endpoint in DwProperties.tdsEndpoint, a JSON string)
// and relations (a SQL analytics endpoint depends on its lakehouse); datamarts
// in "datamarts". A Direct Lake table's partition is an entity partition: a
// source entry with expressionSource, schemaName and entityName instead of an
// expression. A dataflow's definition (GET groups/{group}/dataflows/{dataflow})
// is its model.json, with the M of its entities as a section document in
// pbi:mashup.document.

type jFabricItem struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Description        string            `json:"description,omitempty"`
	State              string            `json:"state"`
	LastUpdatedDate    string            `json:"lastUpdatedDate,omitempty"`
	CreatedBy          string            `json:"createdBy,omitempty"`
	ExtendedProperties map[string]string `json:"extendedProperties,omitempty"`
	Relations          []jRelation       `json:"relations,omitempty"`
	Users              []jUser           `json:"users"`
}

type jRelation struct {
	DependentOnArtifactID string `json:"dependentOnArtifactId"`
}

// jFabricItems are the Fabric arrays of a scanResult workspace.
type jFabricItems struct {
	Lakehouse            []jFabricItem `json:"Lakehouse,omitempty"`
	Warehouse            []jFabricItem `json:"Warehouse,omitempty"`
	SQLAnalyticsEndpoint []jFabricItem `json:"SQLAnalyticsEndpoint,omitempty"`
}

func renderFabricItems(w *snapshot.Workspace) jFabricItems {
	var out jFabricItems
	for _, it := range w.FabricItems {
		j := jFabricItem{ID: it.ID, Name: it.Name, Description: it.Description, State: "Active",
			LastUpdatedDate: it.ModifiedDateTime, CreatedBy: it.ConfiguredBy, Users: ownerUsers(it.ConfiguredBy)}
		if it.SQLEndpoint != "" {
			props, _ := json.Marshal(map[string]string{"tdsEndpoint": it.SQLEndpoint})
			j.ExtendedProperties = map[string]string{"DwProperties": string(props)}
		}
		if it.ParentID != "" {
			j.Relations = []jRelation{{DependentOnArtifactID: it.ParentID}}
		}
		switch it.Type {
		case snapshot.ItemWarehouse:
			out.Warehouse = append(out.Warehouse, j)
		case snapshot.ItemSQLEndpoint:
			out.SQLAnalyticsEndpoint = append(out.SQLAnalyticsEndpoint, j)
		default:
			out.Lakehouse = append(out.Lakehouse, j)
		}
	}
	return out
}

// jEntitySource is a Direct Lake partition's source entry.
type jEntitySource struct {
	ExpressionSource string `json:"expressionSource"`
	SchemaName       string `json:"schemaName,omitempty"`
	EntityName       string `json:"entityName"`
}

func (s *Server) registerFabric() {
	s.Handle("GET /groups/{group}/dataflows/{dataflow}", s.handleDataflowDefinition)
}

// handleDataflowDefinition answers a dataflow's model.json. A dataflow without a
// document in the tenant answers its entities' names only, as an empty mashup.
func (s *Server) handleDataflowDefinition(w http.ResponseWriter, r *http.Request) {
	group, id := r.PathValue("group"), r.PathValue("dataflow")
	var def map[string]any
	s.read(func(t *snapshot.Snapshot, x *index) {
		i, ok := x.workspaces[group]
		if !ok {
			return
		}
		for _, d := range t.Workspaces[i].Dataflows {
			if d.ID == id && d.Type != snapshot.Datamart {
				def = map[string]any{
					"name": d.Name, "description": d.Description, "version": "1.0",
					"culture": "en-US", "modifiedTime": d.ModifiedDateTime,
					"pbi:mashup": map[string]any{"document": d.Document, "queriesMetadata": map[string]any{}},
					"entities":   []any{},
				}
			}
		}
	})
	if def == nil {
		notFound(w, "Dataflow", fmt.Sprintf("%s in workspace %s", id, group))
		return
	}
	writeJSON(w, http.StatusOK, def)
}

// Sample Fabric workspace ids.
const (
	fabricWorkspaceID = "f5b1c2d3-0000-4a00-8000-0000000000f1"
	lakehouseID       = "f5b1c2d3-0000-4a00-8000-0000000000a1"
	sqlEndpointID     = "f5b1c2d3-0000-4a00-8000-0000000000a2"
	warehouseID       = "f5b1c2d3-0000-4a00-8000-0000000000a3"
	dataflowID        = "f5b1c2d3-0000-4a00-8000-0000000000d1"
	dataflowGen2ID    = "f5b1c2d3-0000-4a00-8000-0000000000d2"
	datamartID        = "f5b1c2d3-0000-4a00-8000-0000000000d3"
	fabricSQLHost     = "x6eps4xrq2xudenlfv6naeo3i4-fabric.datawarehouse.fabric.microsoft.com"
)

// fabricSampleWorkspace is the sample tenant's Fabric workspace: a lakehouse with
// its SQL analytics endpoint, a warehouse, a Direct Lake model on the lakehouse, a
// model importing from the warehouse's SQL endpoint, a Gen1 and a Gen2 dataflow
// with definitions (one reading the other), a datamart, and a model reading a
// dataflow entity.
func fabricSampleWorkspace() snapshot.Workspace {
	owner := "ana.lima@contoso.com"
	refreshable := true
	col := func(names ...string) []snapshot.Column {
		out := make([]snapshot.Column, len(names))
		for i, n := range names {
			out[i] = snapshot.Column{Name: n, DataType: "String", ColumnType: "Data"}
		}
		return out
	}
	return snapshot.Workspace{
		ID: fabricWorkspaceID, Name: "Fabric Lakehouse", Type: "Workspace", State: "Active",
		IsOnDedicatedCapacity: true, CapacityID: "f5b1c2d3-0000-4a00-8000-0000000000c1",
		FabricItems: []snapshot.FabricItem{
			{ID: lakehouseID, Name: "Sales Lakehouse", Type: snapshot.ItemLakehouse, ConfiguredBy: owner, ModifiedDateTime: "2026-10-01T08:00:00Z"},
			{ID: sqlEndpointID, Name: "Sales Lakehouse", Type: snapshot.ItemSQLEndpoint, ConfiguredBy: owner, SQLEndpoint: fabricSQLHost, ParentID: lakehouseID},
			{ID: warehouseID, Name: "Finance Warehouse", Type: snapshot.ItemWarehouse, ConfiguredBy: owner, SQLEndpoint: fabricSQLHost},
		},
		Dataflows: []snapshot.Dataflow{
			{ID: dataflowGen2ID, Name: "Raw Orders", Type: snapshot.DataflowGen2, ConfiguredBy: owner, ModifiedDateTime: "2026-10-02T06:00:00Z",
				Document: "section Section1;\r\nshared Orders = let\r\n    Source = Snowflake.Databases(\"xy12345.snowflakecomputing.com\", \"LOAD_WH\"),\r\n    Db = Source{[Name=\"RAW\",Kind=\"Database\"]}[Data],\r\n    Sch = Db{[Name=\"SHOP\",Kind=\"Schema\"]}[Data],\r\n    T = Sch{[Name=\"ORDERS\",Kind=\"Table\"]}[Data]\r\nin\r\n    T;\r\n"},
			{ID: dataflowID, Name: "Customer Prep", ConfiguredBy: owner, ModifiedDateTime: "2026-10-02T07:00:00Z",
				UpstreamDataflows: []snapshot.Ref{{ID: dataflowGen2ID, WorkspaceID: fabricWorkspaceID}},
				Document:          "section Section1;\r\nshared Customers = let\r\n    Source = Sql.Database(\"sql-crm.contoso.com\", \"CRM\", [Query=\"SELECT Id, Name, Segment FROM Customers\"])\r\nin\r\n    Source;\r\nshared #\"Customer Orders\" = let\r\n    Source = PowerPlatform.Dataflows(null),\r\n    ws = Source{[Id=\"Workspaces\"]}[Data]{[workspaceId=\"" + fabricWorkspaceID + "\"]}[Data],\r\n    df = ws{[dataflowId=\"" + dataflowGen2ID + "\"]}[Data],\r\n    Orders = df{[entity=\"Orders\",version=\"\"]}[Data]\r\nin\r\n    Orders;\r\n"},
			{ID: datamartID, Name: "Sales Mart", Type: snapshot.Datamart, ConfiguredBy: owner, ModifiedDateTime: "2026-10-03T07:00:00Z"},
		},
		SemanticModels: []snapshot.SemanticModel{
			{ID: "f5b1c2d3-0000-4a00-8000-0000000000e1", Name: "Sales Direct Lake", ConfiguredBy: owner, TargetStorageMode: "Abf",
				ContentProviderType: "PbixInImportMode", IsRefreshable: &refreshable,
				Expressions: []snapshot.Expression{{Name: "DatabaseQuery",
					Expression: "let\n    database = Sql.Database(\"" + fabricSQLHost + "\", \"" + sqlEndpointID + "\")\nin\n    database"}},
				Tables: []snapshot.Table{
					{Name: "orders", Entity: &snapshot.EntitySource{ExpressionSource: "DatabaseQuery", SchemaName: "dbo", EntityName: "orders"}, Columns: col("order_id", "amount")},
					{Name: "customers", Entity: &snapshot.EntitySource{ExpressionSource: "DatabaseQuery", SchemaName: "dbo", EntityName: "customers"}, Columns: col("customer_id", "name")},
				}},
			{ID: "f5b1c2d3-0000-4a00-8000-0000000000e2", Name: "Finance Import", ConfiguredBy: owner, TargetStorageMode: "Abf", IsRefreshable: &refreshable,
				Tables: []snapshot.Table{{Name: "GL", Columns: col("Account", "Amount"),
					Source: []string{"let\n    Source = Sql.Database(\"" + fabricSQLHost + "\", \"Finance Warehouse\"),\n    gl = Source{[Schema=\"finance\",Item=\"fact_gl\"]}[Data]\nin\n    gl"}}}},
			{ID: "f5b1c2d3-0000-4a00-8000-0000000000e3", Name: "Customer Model", ConfiguredBy: owner, TargetStorageMode: "Abf", IsRefreshable: &refreshable,
				UpstreamDataflows: []snapshot.Ref{{ID: dataflowID, WorkspaceID: fabricWorkspaceID}},
				Tables: []snapshot.Table{{Name: "Customers", Columns: col("Id", "Name", "Segment"),
					Source: []string{"let\n    Source = PowerPlatform.Dataflows(null),\n    Workspaces = Source{[Id=\"Workspaces\"]}[Data],\n    ws = Workspaces{[workspaceId=\"" + fabricWorkspaceID + "\"]}[Data],\n    df = ws{[dataflowId=\"" + dataflowID + "\"]}[Data],\n    Customers = df{[entity=\"Customers\",version=\"\"]}[Data]\nin\n    Customers"}}}},
		},
		Reports:    []snapshot.Report{{ID: "f5b1c2d3-0000-4a00-8000-0000000000b1", Name: "Lakehouse Sales", DatasetID: "f5b1c2d3-0000-4a00-8000-0000000000e1", ReportType: "PowerBIReport", CreatedBy: owner}},
		Dashboards: []snapshot.Dashboard{},
	}
}

// AddFabric adds Microsoft Fabric content to a tenant: the sample Fabric
// workspace (fabricSampleWorkspace), and in every fifth other workspace a
// lakehouse with its SQL analytics endpoint, a Direct Lake model on two of its
// tables and a dataflow with a definition. It returns t. The sample and generated
// tenants stay as they are without it (`fabric: true` in an emulator source,
// `pbisync emulate --fabric`).
func AddFabric(t *snapshot.Snapshot) *snapshot.Snapshot {
	for i := range t.Workspaces {
		if i%5 != 0 {
			continue
		}
		w := &t.Workspaces[i]
		lh := fmt.Sprintf("%s-lh", w.ID)
		ep := fmt.Sprintf("%s-ep", w.ID)
		host := fmt.Sprintf("ws%03d-fabric.datawarehouse.fabric.microsoft.com", i)
		w.FabricItems = append(w.FabricItems,
			snapshot.FabricItem{ID: lh, Name: w.Name + " Lakehouse", Type: snapshot.ItemLakehouse},
			snapshot.FabricItem{ID: ep, Name: w.Name + " Lakehouse", Type: snapshot.ItemSQLEndpoint, SQLEndpoint: host, ParentID: lh})
		w.SemanticModels = append(w.SemanticModels, snapshot.SemanticModel{
			ID: fmt.Sprintf("%s-dl", w.ID), Name: w.Name + " Direct Lake", TargetStorageMode: "Abf",
			Expressions: []snapshot.Expression{{Name: "DatabaseQuery",
				Expression: fmt.Sprintf("let\n    database = Sql.Database(%q, %q)\nin\n    database", host, ep)}},
			Tables: []snapshot.Table{
				{Name: "sales", Entity: &snapshot.EntitySource{ExpressionSource: "DatabaseQuery", SchemaName: "dbo", EntityName: "sales"}, Columns: []snapshot.Column{{Name: "id", DataType: "Int64", ColumnType: "Data"}}},
				{Name: "customers", Entity: &snapshot.EntitySource{ExpressionSource: "DatabaseQuery", EntityName: "customers"}, Columns: []snapshot.Column{{Name: "id", DataType: "Int64", ColumnType: "Data"}}},
			},
		})
		w.Dataflows = append(w.Dataflows, snapshot.Dataflow{
			ID: fmt.Sprintf("%s-df", w.ID), Name: w.Name + " Prep",
			Document: fmt.Sprintf("section Section1;\r\nshared Sales = let\r\n    Source = Sql.Database(%q, %q),\r\n    T = Source{[Schema=\"dbo\",Item=\"sales\"]}[Data]\r\nin\r\n    T;\r\n", host, w.Name+" Lakehouse"),
		})
	}
	t.Workspaces = append(t.Workspaces, fabricSampleWorkspace())
	return t
}
