package assets

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pbisync/pbisync/core/lineage/dax"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Metadata and tag names. The dagster-powerbi ones are exactly those dagster-powerbi
// emits; pbisync's own live beside them under "powerbi/".
const (
	MetaWebURL       = "dagster-powerbi/web_url"
	MetaName         = "dagster-powerbi/name"
	MetaID           = "dagster-powerbi/id"
	MetaTableName    = "dagster/table_name"
	MetaColumnSchema = "dagster/column_schema"
	TagAssetType     = "dagster-powerbi/asset_type"

	// NamespacePowerBI prefixes pbisync's additional metadata.
	NamespacePowerBI = "powerbi/"
)

// Kind names, as dagster-powerbi writes them (its 0.29 kinds are powerbi plus the type).
const (
	KindPowerBI       = "powerbi"
	KindDashboard     = "dashboard"
	KindReport        = "report"
	KindSemanticModel = "semantic_model"
)

// refKind says what a dependency points at.
type refKind uint8

const (
	refFixed refKind = iota // a key known up front (warehouse table)
	refDataSource
	refModel
	refReport
)

func (k refKind) String() string {
	switch k {
	case refDataSource:
		return "data source"
	case refModel:
		return "semantic model"
	case refReport:
		return "report"
	case refDataflow:
		return "dataflow"
	case refFabricItem:
		return "Fabric item"
	}
	return "table"
}

// ref is one dependency of an asset, in the order dagster-powerbi lists them.
type ref struct {
	kind refKind
	id   string
	key  spec.Key // for refFixed
	note string   // where the reference comes from, for problems
}

// built is one asset spec whose deps are still refs.
type built struct {
	rec  record.Record
	refs []ref
}

// meta collects metadata entries, leaving out empty optional values.
type meta map[string]spec.Metadata

func (m meta) text(name, v string) {
	if v != "" {
		m[name] = spec.Text(v)
	}
}

func (m meta) jsonList(name string, v []string) {
	if len(v) > 0 {
		m[name] = spec.JSON(v)
	}
}

func recordWorkspace(ws *snapshot.Workspace) record.Workspace {
	return record.Workspace{ID: ws.ID, Name: ws.Name, Type: ws.Type}
}

func identity(t spec.ContentType, id, name string, ws record.Workspace) spec.Identity {
	return spec.Identity{Type: t, ID: id, Name: name, WorkspaceID: ws.ID, WorkspaceName: ws.Name}
}

// rawOf returns the API object an item came from, or the item itself in JSON when
// the snapshot kept no raw object.
func rawOf(raw json.RawMessage, item any) (json.RawMessage, error) {
	if len(raw) > 0 {
		return raw, nil
	}
	b, err := json.Marshal(item)
	if err != nil {
		return nil, fmt.Errorf("encoding raw properties: %w", err)
	}
	return b, nil
}

// asset is what differs between the four builders' records.
type asset struct {
	who         spec.Identity
	key         spec.Key
	description string
	meta        meta
	kinds       []string
	owner       string // the owner candidate (createdBy, configuredBy); kept when valid
	raw         json.RawMessage
	item        any // the normalized item, as raw properties when the API sent none
	workspace   record.Workspace
	refs        []ref
	// also are assets the spec names by id without depending on them (a tile's model).
	also []record.Ref
}

// record assembles an asset's built record: tags, owners and raw properties are made the
// same way for every type.
func (a asset) record(problems []record.Problem) (built, []record.Problem) {
	var owners []string
	if ValidOwner(a.owner) {
		owners = []string{a.owner}
	}
	raw, err := rawOf(a.raw, a.item)
	if err != nil {
		problems = append(problems, record.Problem{Stage: "build", Asset: a.who, Err: err})
	}
	return built{rec: record.Record{
		Spec: spec.AssetSpec{
			Key:         a.key,
			Description: a.description,
			Metadata:    a.meta,
			Tags:        map[string]string{TagAssetType: string(a.who.Type)},
			Kinds:       a.kinds,
			Owners:      owners,
			PowerBI:     a.who,
		},
		Raw:       raw,
		Workspace: a.workspace,
		Refs:      a.recordRefs(),
	}, refs: a.refs}, problems
}

// recordRefs lists the Power BI assets the spec refers to, each once.
func (a asset) recordRefs() []record.Ref {
	var out []record.Ref
	add := func(r record.Ref) {
		if r.ID != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, r := range a.refs {
		switch r.kind {
		case refDataSource:
			add(record.Ref{Type: spec.DataSource, ID: r.id})
		case refModel:
			add(record.Ref{Type: spec.SemanticModel, ID: r.id})
		case refReport:
			add(record.Ref{Type: spec.Report, ID: r.id})
		case refDataflow, refFabricItem:
			// A dataflow or datamart, a lakehouse, warehouse or SQL endpoint: the id
			// alone names it (its type is known once it is seen).
			add(record.Ref{ID: r.id})
		}
	}
	for _, r := range a.also {
		add(r)
	}
	return out
}

// reportPath is where the portal shows a report: paginated (RDL) reports live under
// rdlreports/.
func reportPath(reportType string) string {
	if reportType == "PaginatedReport" {
		return "rdlreports"
	}
	return "reports"
}

func (b *Builder) webURL(given, wsID, kind, id string) string {
	if given != "" {
		return given
	}
	return b.portal + "/groups/" + wsID + "/" + kind + "/" + id
}

// nameKey returns [prefix, Clean(name)], or the cleaned id when the name is empty,
// with a problem saying so.
func nameKey(prefix, name, id string, who spec.Identity) (spec.Key, *record.Problem) {
	if c := Clean(name); c != "" {
		return spec.Key{prefix, c}, nil
	}
	return spec.Key{prefix, Clean(id)}, &record.Problem{Stage: "build", Asset: who,
		Err: fmt.Errorf("name is empty; the key uses the id")}
}

func commonMeta(m meta, id string, ws record.Workspace) {
	m.text(NamespacePowerBI+"id", id)
	m.text(NamespacePowerBI+"workspace_id", ws.ID)
	m.text(NamespacePowerBI+"workspace_name", ws.Name)
	m.text(NamespacePowerBI+"workspace_type", ws.Type)
}

func (b *Builder) dashboardSpec(ws *snapshot.Workspace, d *snapshot.Dashboard) (built, []record.Problem) {
	var problems []record.Problem
	w := recordWorkspace(ws)
	who := identity(spec.Dashboard, d.ID, d.DisplayName, w)
	key, p := nameKey("dashboard", CutFileSuffix(d.DisplayName), d.ID, who)
	if p != nil {
		problems = append(problems, *p)
	}
	m := meta{
		MetaWebURL: spec.URL(b.webURL(d.WebURL, ws.ID, "dashboards", d.ID)),
		MetaName:   spec.Text(d.DisplayName),
	}
	commonMeta(m, d.ID, w)
	var refs []ref
	var also []record.Ref
	titles := make([]string, 0, len(d.Tiles))
	for _, t := range d.Tiles {
		if t.Title != "" {
			titles = append(titles, t.Title)
		}
		switch {
		case t.ReportID != "":
			refs = append(refs, ref{kind: refReport, id: t.ReportID, note: fmt.Sprintf("tile %q", t.Title)})
		case t.DatasetID != "":
			// A tile pinned from a semantic model (Q&A, a streaming tile) rather than a report.
			refs = append(refs, ref{kind: refModel, id: t.DatasetID, note: fmt.Sprintf("tile %q", t.Title)})
		}
		if t.DatasetID != "" {
			also = append(also, record.Ref{Type: spec.SemanticModel, ID: t.DatasetID})
		}
	}
	m[NamespacePowerBI+"tile_count"] = spec.Int(int64(len(d.Tiles)))
	m.jsonList(NamespacePowerBI+"tile_titles", titles)
	if len(d.Tiles) > 0 {
		// The tiles themselves, for catalogs that show them as charts (DataHub).
		m[NamespacePowerBI+"tiles"] = spec.JSON(d.Tiles)
	}
	m[NamespacePowerBI+"read_only"] = spec.Bool(d.IsReadOnly)
	m.text(NamespacePowerBI+"sensitivity_label", d.SensitivityLabel)
	m.text(NamespacePowerBI+"app_id", d.AppID)
	if d.EmbedURL != "" {
		m[NamespacePowerBI+"embed_url"] = spec.URL(d.EmbedURL)
	}

	return asset{who: who, key: key, meta: m, kinds: []string{KindPowerBI, KindDashboard},
		raw: d.Raw, item: d, workspace: w, refs: refs, also: also}.record(problems)
}

func (b *Builder) reportSpec(ws *snapshot.Workspace, r *snapshot.Report) (built, []record.Problem) {
	var problems []record.Problem
	w := recordWorkspace(ws)
	who := identity(spec.Report, r.ID, r.Name, w)
	key, p := nameKey("report", r.Name, r.ID, who)
	if p != nil {
		problems = append(problems, *p)
	}
	m := meta{
		MetaWebURL: spec.URL(b.webURL(r.WebURL, ws.ID, reportPath(r.ReportType), r.ID)),
		MetaName:   spec.Text(r.Name),
	}
	commonMeta(m, r.ID, w)
	m.text(NamespacePowerBI+"report_type", r.ReportType)
	m.text(NamespacePowerBI+"semantic_model_id", r.DatasetID)
	m.text(NamespacePowerBI+"semantic_model_workspace_id", r.DatasetWorkspaceID)
	m.text(NamespacePowerBI+"endorsement", r.Endorsement)
	m.text(NamespacePowerBI+"certified_by", r.CertifiedBy)
	m.text(NamespacePowerBI+"sensitivity_label", r.SensitivityLabel)
	m.text(NamespacePowerBI+"created_by", r.CreatedBy)
	m.text(NamespacePowerBI+"modified_by", r.ModifiedBy)
	m.text(NamespacePowerBI+"created_at", r.CreatedDateTime)
	m.text(NamespacePowerBI+"modified_at", r.ModifiedDateTime)
	m.text(NamespacePowerBI+"app_id", r.AppID)
	if r.EmbedURL != "" {
		m[NamespacePowerBI+"embed_url"] = spec.URL(r.EmbedURL)
	}
	if len(r.Pages) > 0 {
		pages := append([]snapshot.Page(nil), r.Pages...)
		sort.SliceStable(pages, func(i, j int) bool { return pages[i].Order < pages[j].Order })
		names := make([]string, len(pages))
		for i, pg := range pages {
			names[i] = pg.DisplayName
		}
		m[NamespacePowerBI+"page_count"] = spec.Int(int64(len(pages)))
		m.jsonList(NamespacePowerBI+"page_names", names)
		// The pages themselves (internal name, display name, order), for catalogs that
		// show them as charts (DataHub).
		m[NamespacePowerBI+"pages"] = spec.JSON(pages)
	}

	var refs []ref
	if r.DatasetID != "" {
		refs = append(refs, ref{kind: refModel, id: r.DatasetID})
	}
	// A paginated report reads its own data sources.
	for _, id := range r.DataSourceIDs {
		refs = append(refs, ref{kind: refDataSource, id: id})
	}
	if len(r.DataSourceIDs) > 0 {
		m.jsonList(NamespacePowerBI+"data_source_ids", r.DataSourceIDs)
	}
	return asset{who: who, key: key, description: r.Description, meta: m, kinds: []string{KindPowerBI, KindReport},
		owner: r.CreatedBy, raw: r.Raw, item: r, workspace: w, refs: refs}.record(problems)
}

// MeasureInfo is one measure in the powerbi/measures metadata (a []MeasureInfo in a
// spec built in this process).
type MeasureInfo struct {
	Table       string `json:"table"`
	Name        string `json:"name"`
	Expression  string `json:"expression,omitempty"`
	Description string `json:"description,omitempty"`
	// References are the columns ('Table'[Column]) and measures ([Measure]) the DAX
	// reads: the lineage inside the model.
	References []string `json:"references,omitempty"`
}

// measureRefs lists what a measure's DAX reads. An unqualified [X] is a measure when the
// model has one of that name, else a column of the measure's own table.
func measureRefs(t *snapshot.Table, expr string, measureNames map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range dax.References(expr) {
		if r.Kind == dax.Measure && !measureNames[strings.ToLower(r.Name)] {
			for _, c := range t.Columns {
				if strings.EqualFold(c.Name, r.Name) {
					r = dax.Ref{Kind: dax.Column, Table: t.Name, Name: c.Name}
					break
				}
			}
		}
		if s := r.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TableInfo is one model table in the powerbi/tables metadata: names in their own case,
// with the table's Power Query M, for sinks that describe tables as the catalogs' own
// Power BI sources do (DataHub keeps column case and shows the M as view logic).
type TableInfo struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Hidden      bool           `json:"hidden,omitempty"`
	Source      string         `json:"source,omitempty"` // the first Power Query M expression
	Columns     []ColumnInfo   `json:"columns"`
	Measures    []TableMeasure `json:"measures,omitempty"`
}

// TableMeasure is a measure of a TableInfo.
type TableMeasure struct {
	Name        string `json:"name"`
	Expression  string `json:"expression,omitempty"`
	Description string `json:"description,omitempty"`
}

// ColumnInfo is a column of a TableInfo.
type ColumnInfo struct {
	Name     string `json:"name"`
	DataType string `json:"dataType,omitempty"`
	Hidden   bool   `json:"hidden,omitempty"`
}

func tableInfos(tables []snapshot.Table) []TableInfo {
	out := make([]TableInfo, 0, len(tables))
	for _, t := range tables {
		ti := TableInfo{Name: t.Name, Description: t.Description, Hidden: t.IsHidden, Columns: make([]ColumnInfo, 0, len(t.Columns))}
		if len(t.Source) > 0 {
			ti.Source = t.Source[0]
		}
		for _, c := range t.Columns {
			ti.Columns = append(ti.Columns, ColumnInfo{Name: c.Name, DataType: c.DataType, Hidden: c.IsHidden})
		}
		for _, ms := range t.Measures {
			ti.Measures = append(ti.Measures, TableMeasure{Name: ms.Name, Expression: ms.Expression, Description: ms.Description})
		}
		out = append(out, ti)
	}
	return out
}

// refInfo is an upstream dataflow or model in metadata.
type refInfo struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId,omitempty"`
}

func (b *Builder) columnSchema(t *snapshot.Table) spec.TableSchema {
	cols := make([]spec.TableColumn, len(t.Columns))
	for i, c := range t.Columns {
		typ := c.DataType
		if typ == "" {
			typ = "string" // Dagster's TableColumn default
		}
		cols[i] = spec.TableColumn{Name: b.lowerName(c.Name), Type: typ}
	}
	return spec.TableSchema{Columns: cols}
}

// lowerName is strings.ToLower(name). Column names repeat across tables and models,
// and most have a capital: the lower-case form of each short one is made once and
// shared, up to maxLowerNames of them.
func (b *Builder) lowerName(name string) string {
	if l, ok := b.lower[name]; ok {
		return l
	}
	l := strings.ToLower(name)
	if len(name) <= maxLowerName && len(b.lower) < maxLowerNames {
		if b.lower == nil {
			b.lower = map[string]string{}
		}
		b.lower[name] = l
	}
	return l
}

// Bounds of Builder.lower: the names it holds, and the longest.
const (
	maxLowerNames = 1 << 14
	maxLowerName  = 64
)

// measureCount is how many measures the tables have.
func measureCount(tables []snapshot.Table) int {
	n := 0
	for i := range tables {
		n += len(tables[i].Measures)
	}
	return n
}

func (b *Builder) modelSpec(ws *snapshot.Workspace, sm *snapshot.SemanticModel) (built, []record.Problem) {
	var problems []record.Problem
	w := recordWorkspace(ws)
	who := identity(spec.SemanticModel, sm.ID, sm.Name, w)
	key, p := nameKey("semantic_model", sm.Name, sm.ID, who)
	if p != nil {
		problems = append(problems, *p)
	}
	m := meta{
		MetaWebURL: spec.URL(b.webURL(sm.WebURL, ws.ID, "datasets", sm.ID)),
		MetaID:     spec.Text(sm.ID),
		MetaName:   spec.Text(sm.Name),
	}
	switch len(sm.Tables) {
	case 0:
	case 1:
		m[MetaTableName] = spec.Text(sm.Tables[0].Name)
		m[MetaColumnSchema] = spec.Schema(b.columnSchema(&sm.Tables[0]))
	default:
		for i := range sm.Tables {
			t := &sm.Tables[i]
			m[strings.ToLower(t.Name)+"_column_schema"] = spec.Schema(b.columnSchema(t))
		}
	}
	commonMeta(m, sm.ID, w)
	m.text(NamespacePowerBI+"configured_by", sm.ConfiguredBy)
	m.text(NamespacePowerBI+"created_at", sm.CreatedDate)
	m.text(NamespacePowerBI+"storage_mode", sm.TargetStorageMode)
	m.text(NamespacePowerBI+"content_provider_type", sm.ContentProviderType)
	if sm.IsRefreshable != nil {
		m[NamespacePowerBI+"refreshable"] = spec.Bool(*sm.IsRefreshable)
	}
	m.text(NamespacePowerBI+"endorsement", sm.Endorsement)
	m.text(NamespacePowerBI+"certified_by", sm.CertifiedBy)
	m.text(NamespacePowerBI+"sensitivity_label", sm.SensitivityLabel)
	m.text(NamespacePowerBI+"schema_retrieval_error", sm.SchemaRetrievalError)
	columns := 0
	measureNames := map[string]bool{}
	for _, t := range sm.Tables {
		for _, ms := range t.Measures {
			measureNames[strings.ToLower(ms.Name)] = true
		}
	}
	// Sized once: a large model has hundreds of measures, and growing the slice by
	// doubling was a fifth of what a model's spec allocated.
	var measures []MeasureInfo
	if n := measureCount(sm.Tables); n > 0 {
		measures = make([]MeasureInfo, 0, n)
	}
	for i := range sm.Tables {
		t := &sm.Tables[i]
		columns += len(t.Columns)
		for _, ms := range t.Measures {
			measures = append(measures, MeasureInfo{Table: t.Name, Name: ms.Name, Expression: ms.Expression, Description: ms.Description,
				References: measureRefs(t, ms.Expression, measureNames)})
		}
	}
	m[NamespacePowerBI+"table_count"] = spec.Int(int64(len(sm.Tables)))
	m[NamespacePowerBI+"column_count"] = spec.Int(int64(columns))
	m[NamespacePowerBI+"measure_count"] = spec.Int(int64(len(measures)))
	if len(measures) > 0 {
		m[NamespacePowerBI+"measures"] = spec.JSON(MeasureInfos(measures))
	}
	if len(sm.Tables) > 0 {
		m[NamespacePowerBI+"tables"] = spec.JSON(TableInfos(tableInfos(sm.Tables)))
	}
	m.jsonList(NamespacePowerBI+"data_source_ids", sm.DataSourceIDs)
	if dfs := modelDataflows(sm); len(dfs) > 0 {
		m[NamespacePowerBI+"upstream_dataflows"] = spec.JSON(refInfos(dfs))
	}
	if len(sm.UpstreamModels) > 0 {
		m[NamespacePowerBI+"upstream_semantic_models"] = spec.JSON(refInfos(sm.UpstreamModels))
	}
	if sm.Lineage != nil {
		var unresolved []string
		for _, tl := range sm.Lineage.Tables {
			for _, u := range tl.Unresolved {
				unresolved = append(unresolved, tl.Table+": "+u)
			}
		}
		m.jsonList(NamespacePowerBI+"lineage_unresolved", unresolved)
		// Table-level lineage, for sinks that draw it (DataHub, OpenLineage): each model
		// table with the warehouse tables (and columns, where known) it reads.
		var tables []snapshot.TableLineage
		for i, tl := range sm.Lineage.Tables {
			if len(tl.Upstream) > 0 {
				if tables == nil {
					tables = make([]snapshot.TableLineage, 0, len(sm.Lineage.Tables)-i)
				}
				tables = append(tables, tl)
			}
		}
		if len(tables) > 0 {
			m[NamespacePowerBI+"table_lineage"] = spec.JSON(TableLineages(tables))
		}
	}

	items, upstream := b.modelItemRefs(sm), b.upstream(sm)
	refs := make([]ref, 0, len(sm.DataSourceIDs)+len(sm.UpstreamModels)+len(items)+len(upstream))
	for _, id := range sm.DataSourceIDs {
		refs = append(refs, ref{kind: refDataSource, id: id})
	}
	// A model built on another model (a composite model over a published one) depends
	// on it: its refresh must wait for that one's.
	for _, u := range sm.UpstreamModels {
		if u.ID != "" && u.ID != sm.ID {
			refs = append(refs, ref{kind: refModel, id: u.ID})
		}
	}
	refs = append(refs, items...)
	for _, k := range upstream {
		if k.Validate() != nil {
			problems = append(problems, record.Problem{Stage: "build", Asset: who,
				Err: fmt.Errorf("upstream table key %q is not valid; left out", k.String())})
			continue
		}
		refs = append(refs, ref{kind: refFixed, key: k})
	}
	return asset{who: who, key: key, description: sm.Description, meta: m, kinds: []string{KindPowerBI, KindSemanticModel},
		owner: sm.ConfiguredBy, raw: sm.Raw, item: sm, workspace: w, refs: refs}.record(problems)
}

func refInfos(rs []snapshot.Ref) []refInfo {
	out := make([]refInfo, len(rs))
	for i, r := range rs {
		out[i] = refInfo{ID: r.ID, WorkspaceID: r.WorkspaceID}
	}
	return out
}

// dataSourceSpec builds a data source's spec. w, the record's workspace, is that of
// the first item seen using it (data sources belong to the tenant, not to a
// workspace); it may be empty.
func (b *Builder) dataSourceSpec(w record.Workspace, ds *snapshot.DataSource, key spec.Key) (built, []record.Problem) {
	var problems []record.Problem
	name, _ := DataSourceName(ds)
	// The identity names no workspace: the data source is shared by all its users.
	who := spec.Identity{Type: spec.DataSource, ID: ds.ID, Name: name}
	m := meta{}
	m.text(NamespacePowerBI+"id", ds.ID)
	m.text(NamespacePowerBI+"datasource_type", ds.Type)
	m.text(NamespacePowerBI+"gateway_id", ds.GatewayID)
	if ds.IDDerived {
		m[NamespacePowerBI+"id_derived"] = spec.Bool(true)
	}
	if cd := ds.ConnectionDetails; cd != nil && *cd != (snapshot.ConnectionDetails{}) {
		m[NamespacePowerBI+"connection_details"] = spec.JSON(cd)
	}
	return asset{who: who, key: key, meta: m, kinds: []string{KindPowerBI},
		raw: ds.Raw, item: ds, workspace: w}.record(problems)
}
