package powerbitest

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/pbisync/pbisync/core/snapshot"
)

//go:embed testdata/sample_tenant.json
var sampleTenantJSON []byte

// SampleTenantJSON is the sample tenant in snapshot file format, for docs and goldens.
func SampleTenantJSON() []byte { return append([]byte(nil), sampleTenantJSON...) }

// SampleTenant returns a fresh copy of the hand-written sample tenant: seven workspaces
// (Sales Analytics, Finance, Operations, Marketing with models over Snowflake, SQL
// Server, PostgreSQL, Databricks, an Excel file and a web source without connection
// details, reports with pages, and dashboards with tiles, some across workspaces; an
// app-publishing workspace whose [App] copies carry an appId; a personal workspace
// with a model without tables; an empty workspace), a paginated report that reads its
// data source itself, and a tile pinned from a semantic model rather than a report.
func SampleTenant() *snapshot.Snapshot {
	s, err := snapshot.Read(bytes.NewReader(sampleTenantJSON))
	if err != nil {
		panic(fmt.Sprintf("powerbitest: embedded sample tenant is broken: %v", err)) // a build defect, caught by tests
	}
	return s
}
