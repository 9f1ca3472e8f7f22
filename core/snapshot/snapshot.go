// Package snapshot holds pbisync's normalized model of a Power BI tenant (or part of one):
// workspaces with their semantic models, reports, dashboards and dataflows, and the data
// sources they use. Both API paths (scanner and regular) produce it, it can be saved to a
// file and read back, and a raw scanResult document decodes into it too.
package snapshot

import (
	"encoding/json"
	"iter"
	"time"
)

// Version is the version of the snapshot file format this build writes. Load accepts
// every version up to it.
const Version = 1

// Snapshot is a set of workspaces and the data sources their items use. The engine
// handles a tenant as a stream of Snapshots, one per scan batch, so memory grows with
// the batch, not the tenant.
type Snapshot struct {
	Version int `json:"version"`
	// Source says how the snapshot was taken: "scanner", "api", "file" or "scanResult".
	Source  string    `json:"source,omitempty"`
	TakenAt time.Time `json:"takenAt,omitzero"`

	Workspaces []Workspace `json:"workspaces"`
	// DataSources are the data sources referenced by the models and dataflows above,
	// each once, by ID.
	DataSources []DataSource `json:"dataSources"`
	// FromRaw says the items were decoded from their Raw by this package (the scanner
	// and API paths): what their fields say of Raw, Raw says no differently. A snapshot
	// read from a file may hold a Raw edited apart from its fields.
	FromRaw bool `json:"-"`
}

// Workspace is a Power BI workspace (a "group" in the REST API).
type Workspace struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Description           string `json:"description,omitempty"`
	Type                  string `json:"type,omitempty"`  // Workspace, PersonalGroup, Personal, AdminWorkspace
	State                 string `json:"state,omitempty"` // Active, Deleted, ...
	IsOnDedicatedCapacity bool   `json:"isOnDedicatedCapacity,omitempty"`
	CapacityID            string `json:"capacityId,omitempty"`

	SemanticModels []SemanticModel `json:"semanticModels"`
	Reports        []Report        `json:"reports"`
	Dashboards     []Dashboard     `json:"dashboards"`
	// Dataflows are Gen1 and Gen2 dataflows and datamarts (Dataflow.Type).
	Dataflows []Dataflow `json:"dataflows"`
	// FabricItems are the workspace's Lakehouses, Warehouses and SQL analytics
	// endpoints.
	FabricItems []FabricItem `json:"fabricItems,omitempty"`
	// Raw is the workspace's object as a scan result held it, when the workspace was
	// read from one: the raw store keeps it, and decodes it again, instead of the
	// fields above. Code that changes a workspace read from a scan result (what other
	// API calls add to it) sets it to nil, so that what it added is kept too.
	Raw json.RawMessage `json:"-"`
}

// Ref points at an item by id, possibly in another workspace.
type Ref struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId,omitempty"`
}

// SemanticModel is a Power BI semantic model (a "dataset" in the REST API).
type SemanticModel struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	Description         string `json:"description,omitempty"`
	ConfiguredBy        string `json:"configuredBy,omitempty"`
	CreatedDate         string `json:"createdDate,omitempty"`
	WebURL              string `json:"webUrl,omitempty"`
	ContentProviderType string `json:"contentProviderType,omitempty"`
	TargetStorageMode   string `json:"targetStorageMode,omitempty"`
	IsRefreshable       *bool  `json:"isRefreshable,omitempty"`
	Endorsement         string `json:"endorsement,omitempty"`
	CertifiedBy         string `json:"certifiedBy,omitempty"`
	SensitivityLabel    string `json:"sensitivityLabel,omitempty"`
	// SchemaRetrievalError is set when the service could not read the model's schema.
	SchemaRetrievalError string `json:"schemaRetrievalError,omitempty"`

	Tables      []Table      `json:"tables"`
	Expressions []Expression `json:"expressions,omitempty"`
	// DataSourceIDs join to Snapshot.DataSources.
	DataSourceIDs     []string `json:"dataSourceIds,omitempty"`
	UpstreamDataflows []Ref    `json:"upstreamDataflows,omitempty"`
	UpstreamModels    []Ref    `json:"upstreamModels,omitempty"`

	// Lineage is the table-level lineage found in the tables' M expressions.
	Lineage *Lineage `json:"lineage,omitempty"`

	// Raw is the object the API returned for this model, for translators.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Table is a table of a semantic model.
type Table struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	IsHidden    bool     `json:"isHidden,omitempty"`
	Source      []string `json:"source,omitempty"` // Power Query M expressions
	// Entity is set for a table whose partition reads an entity of a shared
	// expression (Direct Lake), instead of an M source.
	Entity   *EntitySource `json:"entity,omitempty"`
	Columns  []Column      `json:"columns"`
	Measures []Measure     `json:"measures,omitempty"`
}

// Column is a column of a table.
type Column struct {
	Name         string `json:"name"`
	DataType     string `json:"dataType,omitempty"`
	ColumnType   string `json:"columnType,omitempty"` // Data, Calculated, ...
	Expression   string `json:"expression,omitempty"` // DAX, for calculated columns
	FormatString string `json:"formatString,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

// Measure is a DAX measure of a table.
type Measure struct {
	Name        string `json:"name"`
	Expression  string `json:"expression,omitempty"`
	Description string `json:"description,omitempty"`
	IsHidden    bool   `json:"isHidden,omitempty"`
}

// Expression is a shared M query or parameter of a semantic model.
type Expression struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Expression  string `json:"expression"`
}

// Lineage is where a model's tables get their data, as far as the M expressions tell.
type Lineage struct {
	Tables []TableLineage `json:"tables,omitempty"`
}

// TableLineage is the upstream of one table of a model.
type TableLineage struct {
	Table    string          `json:"table"`
	Upstream []UpstreamTable `json:"upstream,omitempty"`
	// Unresolved says why (part of) the table's source could not be resolved.
	Unresolved []string `json:"unresolved,omitempty"`
	// Columns is column-level lineage, for the columns whose source the M or its
	// native SQL names explicitly.
	Columns []ColumnLineage `json:"columns,omitempty"`
}

// ColumnLineage is where one column of a model table comes from. Upstream is empty
// for a column computed in M from nothing traceable (an added custom column).
type ColumnLineage struct {
	Column   string           `json:"column"`
	Upstream []UpstreamColumn `json:"upstream,omitempty"`
}

// UpstreamColumn is a column of an upstream table.
type UpstreamColumn struct {
	UpstreamTable
	Column string `json:"column"`
}

// UpstreamTable is a table in a warehouse or database that a model reads.
type UpstreamTable struct {
	Platform string `json:"platform"` // snowflake, mssql, postgres, databricks, ...
	Server   string `json:"server,omitempty"`
	Database string `json:"database,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Table    string `json:"table"`
	// Unknown lists, comma-separated, the parts of the path (server, database,
	// schema) that the M leaves unknown, such as a server given by an undefined
	// parameter: the table is known, those parts of its name are not.
	Unknown string `json:"unknown,omitempty"`
}

// DataSource is a data source instance a model or dataflow connects to.
type DataSource struct {
	ID        string `json:"id"`
	Type      string `json:"type,omitempty"` // datasourceType: Sql, File, Web, ...
	GatewayID string `json:"gatewayId,omitempty"`
	// ConnectionDetails is nil when the API sent none.
	ConnectionDetails *ConnectionDetails `json:"connectionDetails,omitempty"`
	// IDDerived is true when the API gave no datasourceId and pbisync derived one.
	IDDerived bool            `json:"idDerived,omitempty"`
	Raw       json.RawMessage `json:"raw,omitempty"`
}

// ConnectionDetails are where a data source points. Fields the API did not send are empty.
type ConnectionDetails struct {
	Server       string `json:"server,omitempty"`
	Database     string `json:"database,omitempty"`
	URL          string `json:"url,omitempty"`
	Path         string `json:"path,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Account      string `json:"account,omitempty"`
	Domain       string `json:"domain,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	LoginServer  string `json:"loginServer,omitempty"`
	ClassInfo    string `json:"classInfo,omitempty"`
}

// Report is a Power BI or paginated report.
type Report struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Description        string `json:"description,omitempty"`
	DatasetID          string `json:"datasetId,omitempty"`
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
	ReportType         string `json:"reportType,omitempty"`
	WebURL             string `json:"webUrl,omitempty"`
	EmbedURL           string `json:"embedUrl,omitempty"`
	AppID              string `json:"appId,omitempty"`
	CreatedBy          string `json:"createdBy,omitempty"`
	ModifiedBy         string `json:"modifiedBy,omitempty"`
	CreatedDateTime    string `json:"createdDateTime,omitempty"`
	ModifiedDateTime   string `json:"modifiedDateTime,omitempty"`
	Endorsement        string `json:"endorsement,omitempty"`
	CertifiedBy        string `json:"certifiedBy,omitempty"`
	SensitivityLabel   string `json:"sensitivityLabel,omitempty"`

	Pages []Page `json:"pages,omitempty"`
	// DataSourceIDs are the data sources a paginated report reads itself (it may have
	// no semantic model); they join to Snapshot.DataSources.
	DataSourceIDs []string        `json:"dataSourceIds,omitempty"`
	Raw           json.RawMessage `json:"raw,omitempty"`
}

// Page is a page of a report.
type Page struct {
	Name        string `json:"name"` // internal id
	DisplayName string `json:"displayName"`
	Order       int    `json:"order"`
}

// Dashboard is a Power BI dashboard.
type Dashboard struct {
	ID               string `json:"id"`
	DisplayName      string `json:"displayName"`
	IsReadOnly       bool   `json:"isReadOnly,omitempty"`
	WebURL           string `json:"webUrl,omitempty"`
	EmbedURL         string `json:"embedUrl,omitempty"`
	AppID            string `json:"appId,omitempty"`
	SensitivityLabel string `json:"sensitivityLabel,omitempty"`

	Tiles []Tile          `json:"tiles"`
	Raw   json.RawMessage `json:"raw,omitempty"`
}

// Tile is a tile of a dashboard. ReportID and DatasetID may point into other workspaces.
type Tile struct {
	ID                 string `json:"id"`
	Title              string `json:"title,omitempty"`
	ReportID           string `json:"reportId,omitempty"`
	DatasetID          string `json:"datasetId,omitempty"`
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
	RowSpan            int    `json:"rowSpan,omitempty"`
	ColSpan            int    `json:"colSpan,omitempty"`
}

// Dataflow is a Power BI dataflow.
type Dataflow struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	ConfiguredBy      string   `json:"configuredBy,omitempty"`
	ModifiedDateTime  string   `json:"modifiedDateTime,omitempty"`
	DataSourceIDs     []string `json:"dataSourceIds,omitempty"`
	UpstreamDataflows []Ref    `json:"upstreamDataflows,omitempty"`
	// Type is "" for a Gen1 dataflow, "Gen2" or "Datamart".
	Type string `json:"type,omitempty"`
	// Document is the dataflow's M: the section document of its definition
	// (pbi:mashup), one shared member per entity. Empty when not read.
	Document string `json:"document,omitempty"`
	// Lineage is the entities' lineage, resolved from Document.
	Lineage *Lineage        `json:"lineage,omitempty"`
	Raw     json.RawMessage `json:"raw,omitempty"`
}

// UsedDataSources yields the ids of the data sources the workspace's items use: its
// semantic models', then its reports', then its dataflows', each item's in its order
// (an id may come more than once).
func (w *Workspace) UsedDataSources() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range w.SemanticModels {
			for _, id := range w.SemanticModels[i].DataSourceIDs {
				if !yield(id) {
					return
				}
			}
		}
		for i := range w.Reports {
			for _, id := range w.Reports[i].DataSourceIDs {
				if !yield(id) {
					return
				}
			}
		}
		for i := range w.Dataflows {
			for _, id := range w.Dataflows[i].DataSourceIDs {
				if !yield(id) {
					return
				}
			}
		}
	}
}
