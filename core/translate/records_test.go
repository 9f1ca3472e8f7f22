package translate

import (
	"encoding/json"
	"fmt"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

// sampleRecords builds n records cycling through the four content types, shaped as
// the default spec builder makes them, with raw properties of about 0.5 KB.
func sampleRecords(n int) []record.Record {
	out := make([]record.Record, n)
	ws := record.Workspace{ID: "f089354e-8366-4e18-aea3-4cb4a3a50b48", Name: "Sales & Finance", Type: "Workspace"}
	for i := range out {
		id := fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i*7919)
		var (
			t    spec.ContentType
			name string
			key  spec.Key
			deps []spec.Key
			raw  map[string]any
		)
		switch i % 4 {
		case 0:
			t, name = spec.Dashboard, fmt.Sprintf("Executive Overview %d", i)
			key = spec.Key{"dashboard", fmt.Sprintf("Executive_Overview_%d", i)}
			deps = []spec.Key{{"report", fmt.Sprintf("Sales_Report_%d", i+1)}}
			raw = map[string]any{"id": id, "displayName": name, "isReadOnly": false, "webUrl": "https://app.powerbi.com/groups/me/dashboards/" + id,
				"tiles": []any{map[string]any{"id": "t1", "title": "Revenue", "reportId": "r-" + id, "datasetId": "d-" + id}}}
		case 1:
			t, name = spec.Report, fmt.Sprintf("Sales Report %d", i)
			key = spec.Key{"report", fmt.Sprintf("Sales_Report_%d", i)}
			deps = []spec.Key{{"semantic_model", fmt.Sprintf("Sales_Model_%d", i+1)}}
			raw = map[string]any{"id": id, "name": name, "reportType": "PowerBIReport", "datasetId": "d-" + id, "createdBy": "ana@contoso.com",
				"webUrl": "https://app.powerbi.com/groups/me/reports/" + id, "embedUrl": "https://app.powerbi.com/reportEmbed?reportId=" + id}
		case 2:
			t, name = spec.SemanticModel, fmt.Sprintf("Sales Model %d", i)
			key = spec.Key{"semantic_model", fmt.Sprintf("Sales_Model_%d", i)}
			deps = []spec.Key{{"sqlserver_sales_db"}, {"sales", "dbo", "orders"}}
			raw = map[string]any{"id": id, "name": name, "configuredBy": "team:data", "isRefreshable": true, "targetStorageMode": "Import",
				"tables": []any{map[string]any{"name": "Orders", "columns": []any{map[string]any{"name": "OrderID", "dataType": "Int64"}}}}}
		default:
			t, name = spec.DataSource, fmt.Sprintf("sales_db_%d", i)
			key = spec.Key{fmt.Sprintf("sales_db_%d", i)}
			raw = map[string]any{"datasourceId": id, "datasourceType": "Sql", "connectionDetails": map[string]any{"server": "sql.contoso.com", "database": name}}
		}
		rawJSON, _ := json.Marshal(raw)
		s := spec.AssetSpec{
			Key: key, Deps: deps,
			Metadata: map[string]spec.Metadata{"dagster-powerbi/name": spec.Text(name)},
			Tags:     map[string]string{"dagster-powerbi/asset_type": string(t)},
			Kinds:    []string{"powerbi"},
			PowerBI:  spec.Identity{Type: t, ID: id, Name: name, WorkspaceID: ws.ID, WorkspaceName: ws.Name},
		}
		if t != spec.DataSource {
			s.Kinds = append(s.Kinds, string(t))
			s.Metadata["dagster-powerbi/web_url"] = spec.URL("https://app.powerbi.com/groups/" + ws.ID + "/x/" + id)
		}
		out[i] = record.Record{Spec: s, Raw: rawJSON, Workspace: ws}
	}
	return out
}
