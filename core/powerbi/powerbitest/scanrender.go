package powerbitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"sync"

	"github.com/pbisync/pbisync/core/snapshot"
)

type jSource struct {
	Expression string `json:"expression,omitempty"`
	// A Direct Lake table's entity partition.
	*jEntitySource
}

type jColumn struct {
	Name         string `json:"name"`
	DataType     string `json:"dataType,omitempty"`
	IsHidden     bool   `json:"isHidden"`
	ColumnType   string `json:"columnType,omitempty"`
	Expression   string `json:"expression,omitempty"`
	FormatString string `json:"formatString,omitempty"`
}

type jMeasure struct {
	Name        string `json:"name"`
	Expression  string `json:"expression,omitempty"`
	Description string `json:"description,omitempty"`
	IsHidden    bool   `json:"isHidden"`
}

type jTable struct {
	Name        string     `json:"name"`
	Columns     []jColumn  `json:"columns"`
	Measures    []jMeasure `json:"measures"`
	IsHidden    bool       `json:"isHidden"`
	Description string     `json:"description,omitempty"`
	Source      []jSource  `json:"source,omitempty"`
}

type jUsage struct {
	DatasourceInstanceID string `json:"datasourceInstanceId"`
}

type jExpression struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Expression  string `json:"expression"`
}

// jScanDataset is a dataset in a scanResult.
type jScanDataset struct {
	ID                               string         `json:"id"`
	Name                             string         `json:"name"`
	Description                      string         `json:"description,omitempty"`
	Tables                           []jTable       `json:"tables,omitempty"`
	Expressions                      []jExpression  `json:"expressions,omitempty"`
	ConfiguredBy                     string         `json:"configuredBy,omitempty"`
	CreatedDate                      string         `json:"createdDate,omitempty"`
	ContentProviderType              string         `json:"contentProviderType,omitempty"`
	TargetStorageMode                string         `json:"targetStorageMode,omitempty"`
	IsEffectiveIdentityRequired      bool           `json:"isEffectiveIdentityRequired"`
	IsEffectiveIdentityRolesRequired bool           `json:"isEffectiveIdentityRolesRequired"`
	SchemaRetrievalError             string         `json:"schemaRetrievalError,omitempty"`
	EndorsementDetails               *jEndorsement  `json:"endorsementDetails,omitempty"`
	SensitivityLabel                 *jLabel        `json:"sensitivityLabel,omitempty"`
	UpstreamDataflows                []jDataflowRef `json:"upstreamDataflows,omitempty"`
	UpstreamDatasets                 []jDatasetRef  `json:"upstreamDatasets,omitempty"`
	DatasourceUsages                 []jUsage       `json:"datasourceUsages,omitempty"`
	Users                            []jUser        `json:"users"`
}

type jUser struct {
	DisplayName   string `json:"displayName,omitempty"`
	EmailAddress  string `json:"emailAddress,omitempty"`
	AccessRight   string `json:"datasetUserAccessRight,omitempty"`
	Identifier    string `json:"identifier"`
	PrincipalType string `json:"principalType"`
}

func ownerUsers(email string) []jUser {
	if email == "" {
		return []jUser{}
	}
	return []jUser{{EmailAddress: email, AccessRight: "ReadWriteReshareExplore", Identifier: email, PrincipalType: "User"}}
}

func renderScanDataset(t *snapshot.Snapshot, x *index, m *snapshot.SemanticModel, q Quirks) jScanDataset {
	d := jScanDataset{ID: m.ID, Name: m.Name, Description: m.Description, ConfiguredBy: m.ConfiguredBy,
		CreatedDate: m.CreatedDate, ContentProviderType: m.ContentProviderType, TargetStorageMode: m.TargetStorageMode,
		SchemaRetrievalError: m.SchemaRetrievalError, EndorsementDetails: endorsementOf(m.Endorsement, m.CertifiedBy, q),
		SensitivityLabel: labelOf(m.SensitivityLabel), Users: ownerUsers(m.ConfiguredBy)}
	if len(m.Tables) > 0 {
		d.Tables = make([]jTable, len(m.Tables))
	}
	for i := range m.Tables {
		tb := &m.Tables[i]
		jt := jTable{Name: tb.Name, IsHidden: tb.IsHidden, Description: tb.Description,
			Columns: make([]jColumn, len(tb.Columns)), Measures: make([]jMeasure, len(tb.Measures))}
		for k, c := range tb.Columns {
			jt.Columns[k] = jColumn{Name: c.Name, DataType: c.DataType, IsHidden: c.IsHidden, ColumnType: c.ColumnType, Expression: c.Expression, FormatString: c.FormatString}
		}
		for k, ms := range tb.Measures {
			jt.Measures[k] = jMeasure(ms)
		}
		for _, src := range tb.Source {
			jt.Source = append(jt.Source, jSource{Expression: src})
		}
		if e := tb.Entity; e != nil && len(tb.Source) == 0 {
			jt.Source = append(jt.Source, jSource{jEntitySource: &jEntitySource{ExpressionSource: e.ExpressionSource, SchemaName: e.SchemaName, EntityName: e.EntityName}})
		}
		d.Tables[i] = jt
	}
	for _, e := range m.Expressions {
		d.Expressions = append(d.Expressions, jExpression(e))
	}
	for _, u := range m.UpstreamDataflows {
		d.UpstreamDataflows = append(d.UpstreamDataflows, jDataflowRef{TargetDataflowID: u.ID, GroupID: u.WorkspaceID})
	}
	for _, u := range m.UpstreamModels {
		d.UpstreamDatasets = append(d.UpstreamDatasets, jDatasetRef{TargetDatasetID: u.ID, GroupID: u.WorkspaceID})
	}
	for _, id := range m.DataSourceIDs {
		if i, ok := x.dataSources[id]; ok && t.DataSources[i].IDDerived {
			continue // the scanner only joins instances that have an id
		}
		d.DatasourceUsages = append(d.DatasourceUsages, jUsage{DatasourceInstanceID: id})
	}
	return d
}

type jScanDataflow struct {
	ObjectID          string         `json:"objectId,omitempty"`
	ID                string         `json:"id,omitempty"`
	Name              string         `json:"name"`
	Description       string         `json:"description,omitempty"`
	ConfiguredBy      string         `json:"configuredBy,omitempty"`
	ModifiedDateTime  string         `json:"modifiedDateTime,omitempty"`
	DatasourceUsages  []jUsage       `json:"datasourceUsages,omitempty"`
	UpstreamDataflows []jDataflowRef `json:"upstreamDataflows,omitempty"`
	Users             []jUser        `json:"users"`
}

type jScanWorkspace struct {
	ID                    string          `json:"id"`
	Name                  string          `json:"name"`
	Description           string          `json:"description,omitempty"`
	Type                  string          `json:"type,omitempty"`
	State                 string          `json:"state,omitempty"`
	IsOnDedicatedCapacity bool            `json:"isOnDedicatedCapacity"`
	CapacityID            string          `json:"capacityId,omitempty"`
	Reports               []jReport       `json:"reports"`
	Dashboards            []jDashboard    `json:"dashboards"`
	Datasets              []jScanDataset  `json:"datasets"`
	Dataflows             []jScanDataflow `json:"dataflows"`
	Datamarts             []jScanDataflow `json:"datamarts"`
	Users                 []jUser         `json:"users"`
	jFabricItems
}

func renderScanWorkspace(t *snapshot.Snapshot, x *index, w *snapshot.Workspace, q Quirks) jScanWorkspace {
	j := jScanWorkspace{ID: w.ID, Name: w.Name, Description: w.Description, Type: q.enum(w.Type), State: q.enum(w.State),
		IsOnDedicatedCapacity: w.IsOnDedicatedCapacity, CapacityID: w.CapacityID,
		Reports: make([]jReport, len(w.Reports)), Dashboards: make([]jDashboard, len(w.Dashboards)),
		Datasets: make([]jScanDataset, len(w.SemanticModels)), Dataflows: make([]jScanDataflow, 0, len(w.Dataflows)),
		Datamarts: []jScanDataflow{}, Users: []jUser{}, jFabricItems: renderFabricItems(w)}
	for i := range w.Reports {
		j.Reports[i] = renderReport(w, &w.Reports[i], true, q)
	}
	for i := range w.Dashboards {
		j.Dashboards[i] = renderDashboard(w, &w.Dashboards[i], true, q)
	}
	for i := range w.SemanticModels {
		j.Datasets[i] = renderScanDataset(t, x, &w.SemanticModels[i], q)
	}
	for _, f := range w.Dataflows {
		jf := jScanDataflow{ObjectID: f.ID, Name: f.Name, Description: f.Description, ConfiguredBy: f.ConfiguredBy,
			ModifiedDateTime: f.ModifiedDateTime, Users: ownerUsers(f.ConfiguredBy)}
		for _, id := range f.DataSourceIDs {
			jf.DatasourceUsages = append(jf.DatasourceUsages, jUsage{DatasourceInstanceID: id})
		}
		for _, u := range f.UpstreamDataflows {
			jf.UpstreamDataflows = append(jf.UpstreamDataflows, jDataflowRef{TargetDataflowID: u.ID, GroupID: u.WorkspaceID})
		}
		if f.Type == snapshot.Datamart {
			jf.ID, jf.ObjectID = f.ID, "" // datamarts carry id, dataflows objectId
			j.Datamarts = append(j.Datamarts, jf)
			continue
		}
		j.Dataflows = append(j.Dataflows, jf)
	}
	return j
}

// writeScanResult streams the scanResult of the given workspaces to out, one workspace
// rendered at a time, so a large tenant is never rendered whole.
// cache, when not nil, serves and keeps renderings of generation gen (read before q).
func writeScanResult(out io.Writer, t *snapshot.Snapshot, x *index, workspaceIDs []string, q Quirks, cache *renderCache, gen uint64) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	bw.WriteString(`{"workspaces":[`)
	used := map[string]bool{}
	var order []string
	first := true
	for _, id := range workspaceIDs {
		i, ok := x.workspaces[id]
		if !ok || slices.Contains(q.OmitFromScan, id) {
			continue
		}
		w := &t.Workspaces[i]
		if !first {
			bw.WriteByte(',')
		}
		first = false
		if b, ok := cache.get(id); ok {
			bw.Write(b)
		} else {
			var item any = renderScanWorkspace(t, x, w, q)
			if slices.Contains(q.MalformedWorkspaces, id) {
				item = malformed(item.(jScanWorkspace))
			}
			var one bytes.Buffer
			e := json.NewEncoder(&one)
			e.SetEscapeHTML(false)
			if err := e.Encode(item); err != nil {
				return err
			}
			cache.put(id, one.Bytes(), gen)
			bw.Write(one.Bytes())
		}
		for _, m := range w.SemanticModels {
			for _, d := range m.DataSourceIDs {
				if !used[d] {
					used[d] = true
					order = append(order, d)
				}
			}
		}
		for _, f := range w.Dataflows {
			for _, d := range f.DataSourceIDs {
				if !used[d] {
					used[d] = true
					order = append(order, d)
				}
			}
		}
	}
	bw.WriteString(`],"datasourceInstances":[`)
	first = true
	for _, id := range order {
		i, ok := x.dataSources[id]
		if !ok || t.DataSources[i].IDDerived {
			continue
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		if err := enc.Encode(renderDataSource(&t.DataSources[i])); err != nil {
			return err
		}
	}
	bw.WriteString(`],"misconfiguredDatasourceInstances":[]}`)
	return bw.Flush()
}

// WriteScanResult writes the scanResult document the emulator would answer for these
// workspaces of t (all of them when workspaceIDs is empty), for decoder tests and
// benchmarks.
func WriteScanResult(out io.Writer, t *snapshot.Snapshot, workspaceIDs []string) error {
	if len(workspaceIDs) == 0 {
		for i := range t.Workspaces {
			workspaceIDs = append(workspaceIDs, t.Workspaces[i].ID)
		}
	}
	return writeScanResult(out, t, buildIndex(t), workspaceIDs, Quirks{}, nil, 0)
}

// malformed renders a scanned workspace with "dashboards" as an object, not a list.
func malformed(j jScanWorkspace) map[string]any {
	var m map[string]any
	b, _ := json.Marshal(j)
	_ = json.Unmarshal(b, &m)
	m["dashboards"] = map[string]any{"count": len(j.Dashboards)}
	return m
}

// renderCache keeps each workspace's scan JSON as the emulator last rendered it, so that
// serving a large tenant again costs the emulator a copy, not a render: in the benchmarks
// it runs on the same two cores as the sync it serves, which the service does not. Any
// change to the tenant or the quirks drops it (drop, under the tenant's write lock or
// with the quirks), and a render that began before a drop is not kept.
type renderCache struct {
	mu  sync.Mutex
	gen uint64
	ws  map[string]renderedWorkspace
}

type renderedWorkspace struct {
	gen uint64
	b   []byte
}

// get returns the workspace's rendering, if one is kept. A nil cache keeps none.
func (c *renderCache) get(id string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.ws[id]
	return r.b, ok && r.gen == c.gen
}

// generation is the cache's generation now, for put.
func (c *renderCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps a rendering made from what the emulator held at generation gen, unless it
// was dropped since.
func (c *renderCache) put(id string, b []byte, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.ws == nil {
		c.ws = map[string]renderedWorkspace{}
	}
	c.ws[id] = renderedWorkspace{gen: c.gen, b: b}
}

// drop forgets every rendering.
func (c *renderCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.ws)
}
