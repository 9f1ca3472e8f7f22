package datahub

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// dashboardKey is DataHub's dashboardKey aspect, which its Power BI source writes for
// reports and dashboards alike.
func dashboardKey(id string) map[string]any {
	return map[string]any{"dashboardTool": Platform, "dashboardId": "powerbi.linkedin.com/dashboards/" + id}
}

// modelTablesOf lists the table datasets of a model the event refers to, from its
// related assets (named as modelMCPs names them: the tables in their own case when the
// model's spec has them).
func (m *mapper) modelTablesOf(e *event.Event, modelID string) []string {
	r, ok := e.RelatedByID(spec.SemanticModel, modelID)
	if !ok || modelID == "" {
		return nil
	}
	name := r.PowerBI.Name
	if name == "" {
		name = r.PowerBI.ID
	}
	tables := r.TableNames
	if len(tables) == 0 {
		tables = r.Tables
	}
	out := make([]string, 0, len(tables))
	for _, t := range tables {
		out = append(out, m.n.tableURN(name, t))
	}
	return out
}

// relatedURL is the web URL of an asset the event refers to.
func relatedURL(e *event.Event, t spec.ContentType, id string) string {
	if r, ok := e.RelatedByID(t, id); ok {
		return r.WebURL
	}
	return ""
}

// reportMCPs follows DataHub's report_to_dashboard and pages_to_chart: a report is a
// dashboard (subtype Report or PaginatedReport) whose charts are its pages and whose
// datasetEdges are its model's tables.
func (m *mapper) reportMCPs(e *event.Event) []MCP {
	s := e.Spec
	id := s.PowerBI
	urn := m.n.reportURN(id.ID)
	wsURN := m.containerOf(id)
	model := text(s, "powerbi/semantic_model_id")
	for _, d := range s.Deps {
		if r, ok := e.RelatedByKey(d); ok && r.PowerBI.Type == spec.SemanticModel && model == "" {
			model = r.PowerBI.ID
		}
	}
	datasets := m.modelTablesOf(e, model)
	var out []MCP
	var charts []string
	for _, p := range jsonList(s, "powerbi/pages") {
		pname := str(p, "name")
		if pname == "" {
			continue
		}
		curn := m.n.pageURN(id.ID, pname)
		charts = append(charts, curn)
		title := str(p, "displayName")
		inputs := make([]string, 0, len(datasets))
		inputs = append(inputs, datasets...)
		order := "0"
		if o, ok := p["order"].(float64); ok {
			order = strconv.Itoa(int(o))
		}
		out = append(out,
			MCP{"chart", curn, "chartInfo", map[string]any{"title": title, "description": title,
				"lastModified": changeAuditStamps(), "inputs": stringInputs(inputs), "customProperties": map[string]string{"order": order}}},
			MCP{"chart", curn, "status", map[string]any{"removed": false}},
			MCP{"chart", curn, "subTypes", map[string]any{"typeNames": []string{"PowerBI Page"}}},
			MCP{"chart", curn, "browsePathsV2", m.browsePath(id, map[string]any{"id": id.Name, "urn": urn})},
			MCP{"chart", curn, "dataPlatformInstance", m.platformInstance()},
		)
		if wsURN != "" {
			out = append(out, MCP{"chart", curn, "container", map[string]any{"container": wsURN}})
		}
	}
	m.children[childKey(id)] = charts
	edges := make([]map[string]any, 0, len(datasets))
	for _, d := range datasets {
		edges = append(edges, map[string]any{"destinationUrn": d})
	}
	info := map[string]any{"title": id.Name, "description": s.Description, "charts": orEmpty(charts),
		"datasetEdges": edges, "lastModified": changeAuditStamps()}
	if m.opt.pbisyncProperties {
		props := map[string]string{}
		pbisyncProperties(s, props)
		info["customProperties"] = props
	}
	if u := webURL(s); u != "" {
		info["dashboardUrl"] = u
	}
	subtype := "Report"
	if text(s, "powerbi/report_type") == "PaginatedReport" {
		subtype = "PaginatedReport"
	}
	out = append(out,
		MCP{"dashboard", urn, "browsePathsV2", m.browsePath(id)},
		MCP{"dashboard", urn, "dashboardInfo", info},
		MCP{"dashboard", urn, "status", map[string]any{"removed": false}},
		MCP{"dashboard", urn, "dashboardKey", dashboardKey(id.ID)},
		MCP{"dashboard", urn, "subTypes", map[string]any{"typeNames": []string{subtype}}},
		MCP{"dashboard", urn, "dataPlatformInstance", m.platformInstance()},
	)
	out = append(out, m.ownership(urn, "dashboard", s, false)...)
	if wsURN != "" {
		out = append(out, MCP{"dashboard", urn, "container", map[string]any{"container": wsURN}})
	}
	return append(out, m.tags(urn, "dashboard", s)...)
}

func stringInputs(urns []string) []map[string]any {
	out := make([]map[string]any, 0, len(urns))
	for _, u := range urns {
		out = append(out, map[string]any{"string": u})
	}
	return out
}

// dashboardMCPs follows DataHub's to_datahub_work_units: a dashboard's tiles are charts
// (subtype PowerBI Tile) with what they were made from; the dashboard links to the
// reports its tiles come from.
func (m *mapper) dashboardMCPs(e *event.Event) []MCP {
	s := e.Spec
	id := s.PowerBI
	urn := m.n.powerbiDashboardURN(id.ID)
	wsURN := m.containerOf(id)
	tiles := jsonList(s, "powerbi/tiles")
	var out []MCP
	var charts []string
	var reports []map[string]any
	for _, t := range tiles {
		tid := str(t, "id")
		if tid == "" {
			continue
		}
		curn := m.n.tileURN(tid)
		charts = append(charts, curn)
		title := str(t, "title")
		props := map[string]string{"createdFrom": "Visualization"}
		info := map[string]any{"title": title, "description": title, "lastModified": changeAuditStamps(), "customProperties": props}
		var inputs []string
		if d := str(t, "datasetId"); d != "" {
			props["createdFrom"] = "Dataset"
			props["datasetId"] = d
			if u := relatedURL(e, spec.SemanticModel, d); u != "" {
				props["datasetWebUrl"] = strings.TrimSuffix(u, "/") + "/details" // as modelDetailsURL
			}
			inputs = m.modelTablesOf(e, d)
		}
		if r := str(t, "reportId"); r != "" {
			// A tile with both a report and a dataset counts as made from the report.
			props["createdFrom"] = "Report"
			props["reportId"] = r
			if u := relatedURL(e, spec.Report, r); u != "" {
				props["reportWebUrl"] = u
				info["externalUrl"] = u
			}
			reports = append(reports, map[string]any{"destinationUrn": m.n.reportURN(r)})
		}
		info["inputs"] = stringInputs(inputs)
		out = append(out,
			MCP{"chart", curn, "chartInfo", info},
			MCP{"chart", curn, "status", map[string]any{"removed": false}},
			MCP{"chart", curn, "subTypes", map[string]any{"typeNames": []string{"PowerBI Tile"}}},
			MCP{"chart", curn, "chartKey", map[string]any{"dashboardTool": Platform, "chartId": m.n.withInstance("charts." + tid)}},
			MCP{"chart", curn, "browsePathsV2", m.browsePath(id, map[string]any{"id": id.Name, "urn": urn})},
			MCP{"chart", curn, "dataPlatformInstance", m.platformInstance()},
		)
		if wsURN != "" {
			out = append(out, MCP{"chart", curn, "container", map[string]any{"container": wsURN}})
		}
	}
	m.children[childKey(id)] = charts
	props := map[string]string{"chartCount": fmt.Sprint(len(tiles)), "workspaceName": id.WorkspaceName, "workspaceId": id.WorkspaceID}
	if m.opt.pbisyncProperties {
		pbisyncProperties(s, props)
	}
	info := map[string]any{"title": id.Name, "description": s.Description, "charts": orEmpty(charts),
		"lastModified": changeAuditStamps(), "customProperties": props, "dashboards": orEmpty(reports)}
	if u := webURL(s); u != "" {
		info["dashboardUrl"] = u
	}
	out = append(out,
		MCP{"dashboard", urn, "browsePathsV2", m.browsePath(id)},
		MCP{"dashboard", urn, "dashboardInfo", info},
		MCP{"dashboard", urn, "status", map[string]any{"removed": false}},
		MCP{"dashboard", urn, "dashboardKey", dashboardKey(id.ID)},
		MCP{"dashboard", urn, "dataPlatformInstance", m.platformInstance()},
	)
	out = append(out, m.ownership(urn, "dashboard", s, false)...)
	if wsURN != "" {
		out = append(out, MCP{"dashboard", urn, "container", map[string]any{"container": wsURN}})
	}
	return append(out, m.tags(urn, "dashboard", s)...)
}
