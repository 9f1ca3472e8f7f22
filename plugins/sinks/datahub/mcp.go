package datahub

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// MCP is one metadata change proposal: an aspect of an entity, upserted.
type MCP struct {
	EntityType string
	EntityURN  string
	AspectName string
	Aspect     any // encodes as the aspect's JSON
}

// auditStamp and changeAuditStamps are DataHub's default "unknown" stamps.
func auditStamp() map[string]any {
	return map[string]any{"time": 0, "actor": "urn:li:corpuser:unknown"}
}

func changeAuditStamps() map[string]any {
	return map[string]any{"created": auditStamp(), "lastModified": auditStamp()}
}

// fieldTypes is DataHub's Power BI source's FIELD_TYPE_MAPPING: Power BI data types, as
// the scanner spells them, to schema field types; anything else is NullType.
var fieldTypes = map[string]string{
	"Int64": "NumberType", "Double": "NumberType", "Decimal": "NumberType",
	"Boolean": "BooleanType", "Datetime": "DateType", "DateTime": "DateType",
	"String": "StringType", "Null": "NullType",
}

func fieldType(powerbiType string) map[string]any {
	t, ok := fieldTypes[powerbiType]
	if !ok {
		t = "NullType"
	}
	return map[string]any{"type": map[string]any{"com.linkedin.schema." + t: map[string]any{}}}
}

// options are the sink's choices where DataHub's Power BI source has a config option.
type options struct {
	datasetsToContainers bool // extract_datasets_to_containers
	useEmail             bool // ownership.use_powerbi_email
	removeEmailSuffix    bool // ownership.remove_email_suffix
	specTags             bool // also the spec's tags as globalTags (pbisync's own)
	pbisyncProperties    bool // also pbisync's customProperties
}

// mapper turns pbisync events into MCPs. Each event is mapped from itself and its
// related assets alone (a report's model tables, a tile's report and model URLs), so the
// output does not depend on what came before, in this process or an earlier one;
// workspaces only saves writing a container's aspects twice, and children is for removals
// (and the state file).
type mapper struct {
	n          namer
	upstream   upstreamConfig
	opt        options
	workspaces map[string]bool // containers already emitted
	// children lists, per asset, the entities pbisync made under it, so that a removal
	// soft-deletes them all: a model's tables (keyed by the model id, the state file's
	// first form), "report/<id>" pages, "dashboard/<id>" tiles.
	children map[string][]string
}

func newMapper(n namer, up upstreamConfig, opt options, children map[string][]string) *mapper {
	if children == nil {
		children = map[string][]string{}
	}
	return &mapper{n: n, upstream: up, opt: opt, workspaces: map[string]bool{}, children: children}
}

// mcps returns the proposals for one event. Refresh and summary events carry no
// catalog metadata and give none.
func (m *mapper) mcps(e *event.Event) ([]MCP, error) {
	switch e.Kind {
	case event.KindSpec:
		return m.specMCPs(e)
	case event.KindRemoved:
		return m.removedMCPs(e.Removed), nil
	}
	return nil, nil
}

// webAppBase is the Power BI web app an asset's URL points into (app.powerbi.com, or a
// sovereign cloud's), for the workspace URL DataHub builds.
func webAppBase(s *spec.AssetSpec) string {
	if u, err := url.Parse(webURL(s)); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return "https://app.powerbi.com"
}

// workspaceMCPs is DataHub's generate_container_for_workspace through gen_containers:
// the key's fields and the workspace's id, name and type as custom properties, the
// workspace type as subtype.
func (m *mapper) workspaceMCPs(s *spec.AssetSpec) []MCP {
	id := s.PowerBI
	if id.WorkspaceID == "" && id.WorkspaceName == "" {
		return nil
	}
	urn, key := m.n.workspaceContainerURN(id.WorkspaceID, id.WorkspaceName)
	if m.workspaces[urn] {
		return nil
	}
	m.workspaces[urn] = true
	name := id.WorkspaceName
	if name == "" {
		name = id.WorkspaceID
	}
	wsType := text(s, "powerbi/workspace_type")
	if wsType == "" {
		wsType = "Workspace"
	}
	props := map[string]string{"env": m.n.env}
	for k, v := range key {
		props[k] = v
	}
	props["workspace_id"] = id.WorkspaceID
	props["workspace_name"] = id.WorkspaceName
	props["workspace_type"] = wsType
	cp := map[string]any{"name": name, "customProperties": props, "env": m.n.env}
	// Personal workspaces have no address of their own (DataHub's workspace_url).
	if id.WorkspaceID != "" && wsType != "PersonalGroup" && wsType != "Personal" {
		cp["externalUrl"] = webAppBase(s) + "/groups/" + id.WorkspaceID
	}
	return []MCP{
		{"container", urn, "containerProperties", cp},
		{"container", urn, "status", map[string]any{"removed": false}},
		{"container", urn, "dataPlatformInstance", m.platformInstance()},
		{"container", urn, "subTypes", map[string]any{"typeNames": []string{wsType}}},
	}
}

func (m *mapper) platformInstance() map[string]any {
	pi := map[string]any{"platform": platformURN(Platform)}
	if m.n.instance != "" {
		pi["instance"] = "urn:li:dataPlatformInstance:(" + platformURN(Platform) + "," + m.n.instance + ")"
	}
	return pi
}

func (m *mapper) containerOf(id spec.Identity) string {
	if id.WorkspaceID == "" && id.WorkspaceName == "" {
		return ""
	}
	urn, _ := m.n.workspaceContainerURN(id.WorkspaceID, id.WorkspaceName)
	return urn
}

// browsePath is a browsePathsV2 aspect: the workspace first, then the given entries.
func (m *mapper) browsePath(id spec.Identity, more ...map[string]any) map[string]any {
	path := []map[string]any{}
	if ws := m.containerOf(id); ws != "" {
		name := id.WorkspaceName
		if name == "" {
			name = id.WorkspaceID
		}
		path = append(path, map[string]any{"id": name, "urn": ws})
	}
	return map[string]any{"path": append(path, more...)}
}

func webURL(s *spec.AssetSpec) string {
	if v, ok := s.Metadata["dagster-powerbi/web_url"].Value.(string); ok {
		return v
	}
	return ""
}

func text(s *spec.AssetSpec, name string) string {
	v, _ := s.Metadata[name].Value.(string)
	return v
}

// pbisyncProperties are pbisync's own custom properties (option pbisync_properties).
func pbisyncProperties(s *spec.AssetSpec, into map[string]string) {
	into["pbisyncKey"] = s.Key.String()
	if s.Group != "" {
		into["group"] = s.Group
	}
	for name, md := range s.Metadata {
		switch md.Type {
		case spec.TypeText, spec.TypeURL:
			into[name] = md.Value.(string)
		case spec.TypeInt, spec.TypeFloat, spec.TypeBool:
			into[name] = fmt.Sprint(md.Value)
		}
	}
}

// ownership follows DataHub: owners of type NONE; tables name their owner
// users.<configuredBy> (create_datahub_owner_urn), reports and dashboards the user's
// email (use_powerbi_email) or users.<id>. pbisync's "team:x" owners are groups.
func (m *mapper) ownership(urn, entityType string, s *spec.AssetSpec, table bool) []MCP {
	if len(s.Owners) == 0 {
		return nil
	}
	owners := make([]map[string]any, 0, len(s.Owners))
	for _, o := range s.Owners {
		owners = append(owners, map[string]any{"owner": m.ownerURN(o, table), "type": "NONE"})
	}
	return []MCP{{entityType, urn, "ownership", map[string]any{"owners": owners, "lastModified": auditStamp()}}}
}

func (m *mapper) ownerURN(owner string, table bool) string {
	if t, ok := strings.CutPrefix(owner, "team:"); ok {
		return "urn:li:corpGroup:" + t
	}
	if strings.HasPrefix(owner, "urn:li:") {
		return owner
	}
	switch {
	case m.opt.removeEmailSuffix && (table || m.opt.useEmail):
		owner, _, _ = strings.Cut(owner, "@")
	case table || !m.opt.useEmail:
		owner = "users." + owner
	}
	return "urn:li:corpuser:" + owner
}

// tags are DataHub's endorsement tags (extract_endorsements_to_tags): "Certified",
// "Promoted"; with spec_tags also the spec's own tags.
func (m *mapper) tags(urn, entityType string, s *spec.AssetSpec) []MCP {
	var tags []map[string]any
	if e := text(s, "powerbi/endorsement"); e != "" && e != "None" {
		tags = append(tags, map[string]any{"tag": tagURN(e, "")})
	}
	if m.opt.specTags {
		names := make([]string, 0, len(s.Tags))
		for k := range s.Tags {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			tags = append(tags, map[string]any{"tag": tagURN(k, s.Tags[k])})
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return []MCP{{entityType, urn, "globalTags", map[string]any{"tags": tags}}}
}

func (m *mapper) specMCPs(e *event.Event) ([]MCP, error) {
	s := e.Spec
	id := s.PowerBI
	if id.ID == "" {
		return nil, fmt.Errorf("asset %s has no Power BI id", s.Key)
	}
	var out []MCP
	switch id.Type {
	case spec.DataSource:
		// DataHub's Power BI source makes no entity for a data source: it is lineage only.
		return nil, nil
	case spec.SemanticModel:
		out = append(m.workspaceMCPs(s), m.modelMCPs(s)...)
	case spec.Report:
		out = append(m.workspaceMCPs(s), m.reportMCPs(e)...)
	case spec.Dashboard:
		out = append(m.workspaceMCPs(s), m.dashboardMCPs(e)...)
	default:
		// A content type this sink does not know yet: nothing DataHub's source would make.
		return nil, nil
	}
	return out, nil
}

// jsonList reads a json metadata value that is a list of objects.
func jsonList(s *spec.AssetSpec, name string) []map[string]any {
	md, ok := s.Metadata[name]
	if !ok || md.Type != spec.TypeJSON {
		return nil
	}
	l, _ := md.Value.([]any)
	var out []map[string]any
	for _, x := range l {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func str(o map[string]any, k string) string {
	v, _ := o[k].(string)
	return v
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// removedMCPs soft-deletes what an asset made, and everything pbisync made under it:
// a report's pages, a dashboard's tiles, a model's container and tables.
func (m *mapper) removedMCPs(r *event.Removed) []MCP {
	removed := map[string]any{"removed": true}
	id := r.PowerBI
	var out []MCP
	childType := "chart"
	switch id.Type {
	case spec.Report:
		out = []MCP{{"dashboard", m.n.reportURN(id.ID), "status", removed}}
	case spec.Dashboard:
		out = []MCP{{"dashboard", m.n.powerbiDashboardURN(id.ID), "status", removed}}
	case spec.SemanticModel:
		childType = "dataset"
		if m.opt.datasetsToContainers {
			urn, _ := m.n.modelContainerURN(id.ID)
			out = []MCP{{"container", urn, "status", removed}}
		}
	default:
		return nil
	}
	for _, c := range m.children[childKey(id)] {
		out = append(out, MCP{childType, c, "status", removed})
	}
	delete(m.children, childKey(id))
	return out
}

// childKey names an asset in the children map: a model by its id (the state file's
// original form), others by type/id.
func childKey(id spec.Identity) string {
	if id.Type == spec.SemanticModel {
		return id.ID
	}
	return string(id.Type) + "/" + id.ID
}
