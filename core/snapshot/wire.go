package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The wire types below mirror what the Power BI REST and scanner APIs send. encoding/json
// matches keys case-insensitively, so the swagger's capitalised spellings
// ("UpstreamDataflows", "Users") decode into the same fields as live camelCase.

type wireEndorsement struct {
	Endorsement string `json:"endorsement"`
	CertifiedBy string `json:"certifiedBy"`
}

type wireLabel struct {
	LabelID string `json:"labelId"`
}

type wireUsage struct {
	DatasourceInstanceID string `json:"datasourceInstanceId"`
}

type wireDataflowRef struct {
	TargetDataflowID string `json:"targetDataflowId"`
	GroupID          string `json:"groupId"`
}

type wireDatasetRef struct {
	TargetDatasetID string `json:"targetDatasetId"`
	GroupID         string `json:"groupId"`
}

type wireSource struct {
	Expression string `json:"expression"`
	// A Direct Lake (entity) partition names a shared expression and an entity.
	ExpressionSource string `json:"expressionSource"`
	SchemaName       string `json:"schemaName"`
	EntityName       string `json:"entityName"`
}

type wireTable struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	IsHidden    bool         `json:"isHidden"`
	Source      []wireSource `json:"source"`
	Columns     []Column     `json:"columns"`
	Measures    []Measure    `json:"measures"`
}

type wireDataset struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	Description          string            `json:"description"`
	ConfiguredBy         string            `json:"configuredBy"`
	CreatedDate          string            `json:"createdDate"`
	WebURL               string            `json:"webUrl"`
	ContentProviderType  string            `json:"contentProviderType"`
	TargetStorageMode    string            `json:"targetStorageMode"`
	IsRefreshable        *bool             `json:"isRefreshable"`
	EndorsementDetails   *wireEndorsement  `json:"endorsementDetails"`
	SensitivityLabel     *wireLabel        `json:"sensitivityLabel"`
	SchemaRetrievalError json.RawMessage   `json:"schemaRetrievalError"`
	Tables               []wireTable       `json:"tables"`
	Expressions          []Expression      `json:"expressions"`
	DatasourceUsages     []wireUsage       `json:"datasourceUsages"`
	UpstreamDataflows    []wireDataflowRef `json:"upstreamDataflows"`
	UpstreamDatasets     []wireDatasetRef  `json:"upstreamDatasets"`
}

type wireReport struct {
	ID                 string           `json:"id"`
	DatasourceUsages   []wireUsage      `json:"datasourceUsages"`
	Name               string           `json:"name"`
	Description        string           `json:"description"`
	DatasetID          string           `json:"datasetId"`
	DatasetWorkspaceID string           `json:"datasetWorkspaceId"`
	ReportType         string           `json:"reportType"`
	WebURL             string           `json:"webUrl"`
	EmbedURL           string           `json:"embedUrl"`
	AppID              string           `json:"appId"`
	CreatedBy          string           `json:"createdBy"`
	ModifiedBy         string           `json:"modifiedBy"`
	CreatedDateTime    string           `json:"createdDateTime"`
	ModifiedDateTime   string           `json:"modifiedDateTime"`
	EndorsementDetails *wireEndorsement `json:"endorsementDetails"`
	SensitivityLabel   *wireLabel       `json:"sensitivityLabel"`
}

type wirePage struct {
	Name        string  `json:"name"`
	DisplayName string  `json:"displayName"`
	Order       flexInt `json:"order"`
}

type wireTile struct {
	ID                 string  `json:"id"`
	Title              string  `json:"title"`
	ReportID           string  `json:"reportId"`
	DatasetID          string  `json:"datasetId"`
	DatasetWorkspaceID string  `json:"datasetWorkspaceId"`
	RowSpan            flexInt `json:"rowSpan"`
	ColSpan            flexInt `json:"colSpan"`
}

type wireDashboard struct {
	ID               string     `json:"id"`
	DisplayName      string     `json:"displayName"`
	IsReadOnly       bool       `json:"isReadOnly"`
	WebURL           string     `json:"webUrl"`
	EmbedURL         string     `json:"embedUrl"`
	AppID            string     `json:"appId"`
	SensitivityLabel *wireLabel `json:"sensitivityLabel"`
	Tiles            []wireTile `json:"tiles"`
}

type wireDataflow struct {
	ObjectID          string            `json:"objectId"`
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	ConfiguredBy      string            `json:"configuredBy"`
	ModifiedDateTime  string            `json:"modifiedDateTime"`
	DatasourceUsages  []wireUsage       `json:"datasourceUsages"`
	UpstreamDataflows []wireDataflowRef `json:"upstreamDataflows"`
}

type wireDataSource struct {
	DatasourceType    string          `json:"datasourceType"`
	ConnectionDetails json.RawMessage `json:"connectionDetails"`
	DatasourceID      string          `json:"datasourceId"`
	GatewayID         string          `json:"gatewayId"`
}

// flexInt accepts a number or a string holding one: live page "order" comes as "0".
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %s", b)
	}
	*f = flexInt(n)
	return nil
}

func endorsement(e *wireEndorsement) (string, string) {
	if e == nil {
		return "", ""
	}
	return canonical(e.Endorsement, endorsements), e.CertifiedBy
}

// The documented spellings of enumerations the service sends in varying case.
var (
	workspaceTypes  = []string{"Workspace", "PersonalGroup", "Personal", "AdminWorkspace", "Group", "AdminInsights"}
	workspaceStates = []string{"Active", "Deleted", "Removing", "Orphaned", "NotFound"}
	reportTypes     = []string{"PowerBIReport", "PaginatedReport"}
	endorsements    = []string{"None", "Promoted", "Certified"}
)

// canonical spells v as the known value it matches without regard to case; an
// unknown value is kept as sent.
func canonical(v string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(v, k) {
			return k
		}
	}
	return v
}

func label(l *wireLabel) string {
	if l == nil {
		return ""
	}
	return l.LabelID
}

// rawText turns a JSON value that should be a string but may be an object into text.
func rawText(b json.RawMessage) string {
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		return buf.String()
	}
	return string(b)
}

// decodeDataset decodes a model from its JSON, or takes pre, what the fast reader read
// of it.
func decodeDataset(raw json.RawMessage, pre *wireDataset) (SemanticModel, error) {
	var w wireDataset
	var uerr error
	switch {
	case pre != nil:
		w = *pre
	case encodingJSONOnly || !fastDataset(raw, &w):
		w = wireDataset{}
		uerr = json.Unmarshal(raw, &w)
	}
	if uerr != nil && !wrongType(uerr) {
		return SemanticModel{}, uerr
	}
	m := SemanticModel{
		ID: w.ID, Name: w.Name, Description: w.Description, ConfiguredBy: w.ConfiguredBy,
		CreatedDate: w.CreatedDate, WebURL: w.WebURL, ContentProviderType: w.ContentProviderType,
		TargetStorageMode: w.TargetStorageMode, IsRefreshable: w.IsRefreshable,
		SensitivityLabel: label(w.SensitivityLabel), SchemaRetrievalError: rawText(w.SchemaRetrievalError),
		Expressions: w.Expressions, Raw: raw,
	}
	m.Endorsement, m.CertifiedBy = endorsement(w.EndorsementDetails)
	m.Tables = make([]Table, len(w.Tables))
	for i, t := range w.Tables {
		tb := Table{Name: t.Name, Description: t.Description, IsHidden: t.IsHidden, Columns: t.Columns, Measures: t.Measures}
		if tb.Columns == nil {
			tb.Columns = []Column{}
		}
		for _, s := range t.Source {
			if s.EntityName != "" && s.Expression == "" {
				tb.Entity = &EntitySource{ExpressionSource: s.ExpressionSource, SchemaName: s.SchemaName, EntityName: s.EntityName}
				continue
			}
			tb.Source = append(tb.Source, s.Expression)
		}
		m.Tables[i] = tb
	}
	for _, u := range w.DatasourceUsages {
		if u.DatasourceInstanceID != "" {
			m.DataSourceIDs = append(m.DataSourceIDs, u.DatasourceInstanceID)
		}
	}
	for _, u := range w.UpstreamDataflows {
		m.UpstreamDataflows = append(m.UpstreamDataflows, Ref{ID: u.TargetDataflowID, WorkspaceID: u.GroupID})
	}
	for _, u := range w.UpstreamDatasets {
		m.UpstreamModels = append(m.UpstreamModels, Ref{ID: u.TargetDatasetID, WorkspaceID: u.GroupID})
	}
	return m, uerr
}

func decodeReport(raw json.RawMessage) (Report, error) {
	var w wireReport
	var uerr error
	if encodingJSONOnly || !fastReport(raw, &w) {
		w = wireReport{}
		uerr = json.Unmarshal(raw, &w)
	}
	if uerr != nil && !wrongType(uerr) {
		return Report{}, uerr
	}
	r := Report{
		ID: w.ID, Name: w.Name, Description: w.Description, DatasetID: w.DatasetID,
		DatasetWorkspaceID: w.DatasetWorkspaceID, ReportType: canonical(w.ReportType, reportTypes), WebURL: w.WebURL,
		EmbedURL: w.EmbedURL, AppID: w.AppID, CreatedBy: w.CreatedBy, ModifiedBy: w.ModifiedBy,
		CreatedDateTime: w.CreatedDateTime, ModifiedDateTime: w.ModifiedDateTime,
		SensitivityLabel: label(w.SensitivityLabel), Raw: raw,
	}
	r.Endorsement, r.CertifiedBy = endorsement(w.EndorsementDetails)
	// Paginated reports name their own data sources (no semantic model).
	for _, u := range w.DatasourceUsages {
		if u.DatasourceInstanceID != "" {
			r.DataSourceIDs = appendUnique(r.DataSourceIDs, u.DatasourceInstanceID)
		}
	}
	return r, uerr
}

func decodePage(raw json.RawMessage) (Page, error) {
	var w wirePage
	uerr := json.Unmarshal(raw, &w)
	if uerr != nil && !wrongType(uerr) {
		return Page{}, uerr
	}
	return Page{Name: w.Name, DisplayName: w.DisplayName, Order: int(w.Order)}, uerr
}

func decodeTile(raw json.RawMessage) (Tile, error) {
	var w wireTile
	uerr := json.Unmarshal(raw, &w)
	if uerr != nil && !wrongType(uerr) {
		return Tile{}, uerr
	}
	return tileFromWire(w), uerr
}

func tileFromWire(w wireTile) Tile {
	return Tile{ID: w.ID, Title: w.Title, ReportID: w.ReportID, DatasetID: w.DatasetID,
		DatasetWorkspaceID: w.DatasetWorkspaceID, RowSpan: int(w.RowSpan), ColSpan: int(w.ColSpan)}
}

func decodeDashboard(raw json.RawMessage) (Dashboard, error) {
	var w wireDashboard
	var uerr error
	if encodingJSONOnly || !fastDashboard(raw, &w) {
		w = wireDashboard{}
		uerr = json.Unmarshal(raw, &w)
	}
	if uerr != nil && !wrongType(uerr) {
		return Dashboard{}, uerr
	}
	d := Dashboard{
		ID: w.ID, DisplayName: w.DisplayName, IsReadOnly: w.IsReadOnly, WebURL: w.WebURL,
		EmbedURL: w.EmbedURL, AppID: w.AppID, SensitivityLabel: label(w.SensitivityLabel),
		Tiles: make([]Tile, len(w.Tiles)), Raw: raw,
	}
	for i, t := range w.Tiles {
		d.Tiles[i] = tileFromWire(t)
	}
	return d, uerr
}

func decodeDataflow(raw json.RawMessage) (Dataflow, error) {
	var w wireDataflow
	uerr := json.Unmarshal(raw, &w)
	if uerr != nil && !wrongType(uerr) {
		return Dataflow{}, uerr
	}
	id := w.ObjectID
	if id == "" {
		id = w.ID
	}
	d := Dataflow{ID: id, Name: w.Name, Description: w.Description, ConfiguredBy: w.ConfiguredBy,
		ModifiedDateTime: w.ModifiedDateTime, Raw: raw}
	for _, u := range w.DatasourceUsages {
		if u.DatasourceInstanceID != "" {
			d.DataSourceIDs = append(d.DataSourceIDs, u.DatasourceInstanceID)
		}
	}
	for _, u := range w.UpstreamDataflows {
		d.UpstreamDataflows = append(d.UpstreamDataflows, Ref{ID: u.TargetDataflowID, WorkspaceID: u.GroupID})
	}
	return d, uerr
}

// DecodeDataSource decodes one data source object as the datasources and scanResult
// endpoints send it. A data source without datasourceId gets DeriveDataSourceID's id.
func DecodeDataSource(raw json.RawMessage) (DataSource, error) {
	var w wireDataSource
	if err := json.Unmarshal(raw, &w); err != nil {
		return DataSource{}, err
	}
	ds := DataSource{ID: w.DatasourceID, Type: w.DatasourceType, GatewayID: w.GatewayID, Raw: raw}
	cd := w.ConnectionDetails
	// Some endpoints send connectionDetails as a string holding JSON.
	var s string
	if len(cd) > 0 && cd[0] == '"' && json.Unmarshal(cd, &s) == nil {
		cd = json.RawMessage(s)
	}
	if len(cd) > 0 && string(cd) != "null" {
		var c ConnectionDetails
		if err := json.Unmarshal(cd, &c); err != nil {
			return DataSource{}, fmt.Errorf("connectionDetails: %w", err)
		}
		ds.ConnectionDetails = &c
	}
	if ds.ID == "" {
		id, err := DeriveDataSourceID(raw)
		if err != nil {
			return DataSource{}, err
		}
		ds.ID, ds.IDDerived = id, true
	}
	return ds, nil
}

// DeriveDataSourceID returns a stable id for a data source the API sent without one: a
// hash of its JSON with keys sorted and whitespace removed, so the same data source gets
// the same id from either API path and on every sync.
func DeriveDataSourceID(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	canon, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return "derived-" + hex.EncodeToString(sum[:16]), nil
}
