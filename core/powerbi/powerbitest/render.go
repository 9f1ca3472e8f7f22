package powerbitest

import (
	"github.com/pbisync/pbisync/core/snapshot"
)

// index finds items of the tenant by id.
type index struct {
	workspaces  map[string]int
	models      map[string][2]int // workspace, model
	reports     map[string][2]int
	dashboards  map[string][2]int
	dataSources map[string]int
}

func buildIndex(t *snapshot.Snapshot) *index {
	x := &index{workspaces: map[string]int{}, models: map[string][2]int{}, reports: map[string][2]int{},
		dashboards: map[string][2]int{}, dataSources: map[string]int{}}
	for i := range t.Workspaces {
		w := &t.Workspaces[i]
		x.workspaces[w.ID] = i
		for j := range w.SemanticModels {
			x.models[w.SemanticModels[j].ID] = [2]int{i, j}
		}
		for j := range w.Reports {
			x.reports[w.Reports[j].ID] = [2]int{i, j}
		}
		for j := range w.Dashboards {
			x.dashboards[w.Dashboards[j].ID] = [2]int{i, j}
		}
	}
	for i := range t.DataSources {
		x.dataSources[t.DataSources[i].ID] = i
	}
	return x
}

// The JSON shapes the live service answers with, rendered from the tenant model.

type jEndorsement struct {
	Endorsement string `json:"endorsement"`
	CertifiedBy string `json:"certifiedBy,omitempty"`
}

type jLabel struct {
	LabelID string `json:"labelId"`
}

func endorsementOf(e, by string, q Quirks) *jEndorsement {
	if e == "" {
		return nil
	}
	return &jEndorsement{Endorsement: q.enum(e), CertifiedBy: by}
}

func labelOf(id string) *jLabel {
	if id == "" {
		return nil
	}
	return &jLabel{LabelID: id}
}

type jGroup struct {
	ID                    string `json:"id"`
	IsReadOnly            bool   `json:"isReadOnly"`
	IsOnDedicatedCapacity bool   `json:"isOnDedicatedCapacity"`
	CapacityID            string `json:"capacityId,omitempty"`
	Type                  string `json:"type,omitempty"`
	State                 string `json:"state,omitempty"`
	Name                  string `json:"name"`
	Description           string `json:"description,omitempty"`
}

func renderGroup(w *snapshot.Workspace, admin bool, q Quirks) jGroup {
	g := jGroup{ID: w.ID, IsOnDedicatedCapacity: w.IsOnDedicatedCapacity, CapacityID: w.CapacityID, Type: q.enum(w.Type), Name: w.Name, Description: w.Description}
	if admin {
		g.State = q.enum(w.State)
	}
	return g
}

type jDataflowRef struct {
	TargetDataflowID string `json:"targetDataflowId"`
	GroupID          string `json:"groupId,omitempty"`
}

type jDatasetRef struct {
	TargetDatasetID string `json:"targetDatasetId"`
	GroupID         string `json:"groupId,omitempty"`
}

// jDataset is a dataset of GET /groups/{id}/datasets.
type jDataset struct {
	ID                               string         `json:"id"`
	Name                             string         `json:"name"`
	Description                      string         `json:"description,omitempty"`
	WebURL                           string         `json:"webUrl,omitempty"`
	AddRowsAPIEnabled                bool           `json:"addRowsAPIEnabled"`
	ConfiguredBy                     string         `json:"configuredBy,omitempty"`
	IsRefreshable                    *bool          `json:"isRefreshable,omitempty"`
	IsEffectiveIdentityRequired      bool           `json:"isEffectiveIdentityRequired"`
	IsEffectiveIdentityRolesRequired bool           `json:"isEffectiveIdentityRolesRequired"`
	IsOnPremGatewayRequired          bool           `json:"isOnPremGatewayRequired"`
	TargetStorageMode                string         `json:"targetStorageMode,omitempty"`
	CreatedDate                      string         `json:"createdDate,omitempty"`
	ContentProviderType              string         `json:"contentProviderType,omitempty"`
	UpstreamDataflows                []jDataflowRef `json:"upstreamDataflows,omitempty"`
}

func renderDataset(t *snapshot.Snapshot, x *index, w *snapshot.Workspace, m *snapshot.SemanticModel) jDataset {
	d := jDataset{ID: m.ID, Name: m.Name, Description: m.Description, WebURL: m.WebURL, ConfiguredBy: m.ConfiguredBy,
		IsRefreshable: m.IsRefreshable, TargetStorageMode: m.TargetStorageMode, CreatedDate: m.CreatedDate,
		ContentProviderType: m.ContentProviderType}
	if d.WebURL == "" {
		d.WebURL = "https://app.powerbi.com/groups/" + w.ID + "/datasets/" + m.ID
	}
	for _, id := range m.DataSourceIDs {
		if i, ok := x.dataSources[id]; ok && t.DataSources[i].GatewayID != "" {
			d.IsOnPremGatewayRequired = true
		}
	}
	for _, u := range m.UpstreamDataflows {
		d.UpstreamDataflows = append(d.UpstreamDataflows, jDataflowRef{TargetDataflowID: u.ID, GroupID: u.WorkspaceID})
	}
	return d
}

type jConnection struct {
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

type jDataSource struct {
	DatasourceType    string       `json:"datasourceType,omitempty"`
	ConnectionDetails *jConnection `json:"connectionDetails,omitempty"`
	DatasourceID      string       `json:"datasourceId,omitempty"`
	GatewayID         string       `json:"gatewayId,omitempty"`
}

func renderDataSource(d *snapshot.DataSource) jDataSource {
	j := jDataSource{DatasourceType: d.Type, GatewayID: d.GatewayID}
	if !d.IDDerived {
		j.DatasourceID = d.ID
	}
	if c := d.ConnectionDetails; c != nil {
		jc := jConnection(*c)
		j.ConnectionDetails = &jc
	}
	return j
}

type jReport struct {
	ID                 string        `json:"id"`
	ReportType         string        `json:"reportType,omitempty"`
	Name               string        `json:"name"`
	Description        string        `json:"description,omitempty"`
	WebURL             string        `json:"webUrl,omitempty"`
	EmbedURL           string        `json:"embedUrl,omitempty"`
	DatasetID          string        `json:"datasetId,omitempty"`
	DatasetWorkspaceID string        `json:"datasetWorkspaceId,omitempty"`
	AppID              string        `json:"appId,omitempty"`
	CreatedDateTime    string        `json:"createdDateTime,omitempty"`
	ModifiedDateTime   string        `json:"modifiedDateTime,omitempty"`
	CreatedBy          string        `json:"createdBy,omitempty"`
	ModifiedBy         string        `json:"modifiedBy,omitempty"`
	EndorsementDetails *jEndorsement `json:"endorsementDetails,omitempty"`
	SensitivityLabel   *jLabel       `json:"sensitivityLabel,omitempty"`
}

// renderReport renders a report; the regular API sends urls, the scanner the audit fields.
func renderReport(w *snapshot.Workspace, r *snapshot.Report, scan bool, q Quirks) jReport {
	j := jReport{ID: r.ID, ReportType: q.enum(r.ReportType), Name: r.Name, Description: r.Description,
		DatasetID: r.DatasetID, DatasetWorkspaceID: r.DatasetWorkspaceID, AppID: r.AppID}
	if scan {
		j.CreatedDateTime, j.ModifiedDateTime = r.CreatedDateTime, r.ModifiedDateTime
		j.CreatedBy, j.ModifiedBy = r.CreatedBy, r.ModifiedBy
		j.EndorsementDetails = endorsementOf(r.Endorsement, r.CertifiedBy, q)
		j.SensitivityLabel = labelOf(r.SensitivityLabel)
		return j
	}
	j.WebURL, j.EmbedURL = r.WebURL, r.EmbedURL
	if j.WebURL == "" {
		j.WebURL = "https://app.powerbi.com/groups/" + w.ID + "/reports/" + r.ID
	}
	if j.EmbedURL == "" {
		j.EmbedURL = "https://app.powerbi.com/reportEmbed?reportId=" + r.ID + "&groupId=" + w.ID
	}
	return j
}

type jPage struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Order       int    `json:"order"`
}

type jTile struct {
	ID                 string `json:"id"`
	Title              string `json:"title,omitempty"`
	EmbedURL           string `json:"embedUrl,omitempty"`
	RowSpan            *int   `json:"rowSpan,omitempty"`
	ColSpan            *int   `json:"colSpan,omitempty"`
	ReportID           string `json:"reportId,omitempty"`
	DatasetID          string `json:"datasetId,omitempty"`
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
}

func renderTile(w *snapshot.Workspace, b *snapshot.Dashboard, t *snapshot.Tile, scan bool) jTile {
	j := jTile{ID: t.ID, Title: t.Title, ReportID: t.ReportID, DatasetID: t.DatasetID}
	if scan {
		j.DatasetWorkspaceID = t.DatasetWorkspaceID
		return j
	}
	rs, cs := t.RowSpan, t.ColSpan
	j.RowSpan, j.ColSpan = &rs, &cs
	j.EmbedURL = "https://app.powerbi.com/embed?dashboardId=" + b.ID + "&tileId=" + t.ID + "&groupId=" + w.ID
	return j
}

type jDashboard struct {
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	IsReadOnly       bool    `json:"isReadOnly"`
	WebURL           string  `json:"webUrl,omitempty"`
	EmbedURL         string  `json:"embedUrl,omitempty"`
	AppID            string  `json:"appId,omitempty"`
	Tiles            []jTile `json:"tiles,omitempty"`
	SensitivityLabel *jLabel `json:"sensitivityLabel,omitempty"`
}

func renderDashboard(w *snapshot.Workspace, b *snapshot.Dashboard, scan bool, _ Quirks) jDashboard {
	j := jDashboard{ID: b.ID, DisplayName: b.DisplayName, IsReadOnly: b.IsReadOnly, AppID: b.AppID}
	if scan {
		j.SensitivityLabel = labelOf(b.SensitivityLabel)
		j.Tiles = make([]jTile, len(b.Tiles))
		for i := range b.Tiles {
			j.Tiles[i] = renderTile(w, b, &b.Tiles[i], true)
		}
		return j
	}
	j.WebURL, j.EmbedURL = b.WebURL, b.EmbedURL
	if j.WebURL == "" {
		j.WebURL = "https://app.powerbi.com/groups/" + w.ID + "/dashboards/" + b.ID
	}
	if j.EmbedURL == "" {
		j.EmbedURL = "https://app.powerbi.com/dashboardEmbed?dashboardId=" + b.ID + "&groupId=" + w.ID
	}
	return j
}
