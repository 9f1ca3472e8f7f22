package assets

import (
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Kinds of the dataflow, datamart and Fabric item assets.
const (
	KindDataflow    = "dataflow"
	KindDatamart    = "datamart"
	KindLakehouse   = "lakehouse"
	KindWarehouse   = "warehouse"
	KindSQLEndpoint = "sql endpoint"
)

// Dependencies on dataflows (and datamarts) and on Fabric items, by id.
const (
	refDataflow refKind = 100 + iota
	refFabricItem
)

// itemIndex remembers the keys of dataflows and Fabric items for the whole stream.
type itemIndex struct {
	dataflows entries
	fabric    entries
}

func (x *itemIndex) init(st *entryStore) {
	if x.dataflows.refs == nil {
		x.dataflows, x.fabric = newEntries(st), newEntries(st)
	}
}

func (x *itemIndex) lookup(st *entryStore, r ref) entry {
	x.init(st)
	if r.kind == refDataflow {
		return x.dataflows.get(r.id)
	}
	return x.fabric.get(r.id)
}

// dataflowPrefix is the first key part of a dataflow or datamart.
func dataflowPrefix(d *snapshot.Dataflow) (string, spec.ContentType, string) {
	if d.Type == snapshot.Datamart {
		return "datamart", spec.Datamart, "datamarts"
	}
	return "dataflow", spec.Dataflow, "dataflows"
}

// fabricPrefix is the first key part, content type and portal path of a Fabric item.
func fabricPrefix(it *snapshot.FabricItem) (string, spec.ContentType, string, string) {
	switch it.Type {
	case snapshot.ItemWarehouse:
		return "warehouse", spec.Warehouse, "datawarehouses", KindWarehouse
	case snapshot.ItemSQLEndpoint:
		return "sql_endpoint", spec.SQLEndpoint, "mirroredwarehouses", KindSQLEndpoint
	}
	return "lakehouse", spec.Lakehouse, "lakehouses", KindLakehouse
}

// indexItems records the keys of the batch's new dataflows and Fabric items.
func (b *Builder) indexItems(snap *snapshot.Snapshot, released *[]*pending) {
	b.items.init(b.entries)
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.Dataflows {
			d := &ws.Dataflows[i]
			if d.ID == "" || b.items.dataflows.get(d.ID).found() {
				continue
			}
			prefix, _, _ := dataflowPrefix(d)
			k, _ := nameKey(prefix, d.Name, d.ID, spec.Identity{})
			b.items.dataflows.add(d.ID, k)
			b.seen(target{refDataflow, d.ID}, released)
		}
		for i := range ws.FabricItems {
			it := &ws.FabricItems[i]
			if it.ID == "" || b.items.fabric.get(it.ID).found() {
				continue
			}
			prefix, _, _, _ := fabricPrefix(it)
			k, _ := nameKey(prefix, it.Name, it.ID, spec.Identity{})
			b.items.fabric.add(it.ID, k)
			b.seen(target{refFabricItem, it.ID}, released)
		}
	}
}

// addItems builds the specs of the batch's dataflows, datamarts and Fabric items.
func (b *Builder) addItems(snap *snapshot.Snapshot, emit func(built, []record.Problem), problems *[]record.Problem) {
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for i := range ws.Dataflows {
			d := &ws.Dataflows[i]
			_, t, _ := dataflowPrefix(d)
			if d.ID == "" {
				*problems = append(*problems, missingID(t, d.Name, ws))
				continue
			}
			if e := b.items.dataflows.get(d.ID); e.found() && !e.built() {
				e.setBuilt()
				emit(b.dataflowSpec(ws, d))
			}
		}
		for i := range ws.FabricItems {
			it := &ws.FabricItems[i]
			_, t, _, _ := fabricPrefix(it)
			if it.ID == "" {
				*problems = append(*problems, missingID(t, it.Name, ws))
				continue
			}
			if e := b.items.fabric.get(it.ID); e.found() && !e.built() {
				e.setBuilt()
				emit(b.fabricSpec(ws, it))
			}
		}
	}
}

// dataflowSpec builds a dataflow's or datamart's spec: deps are its data sources,
// the dataflows it reads, and the warehouse tables its entities' M reads.
func (b *Builder) dataflowSpec(ws *snapshot.Workspace, d *snapshot.Dataflow) (built, []record.Problem) {
	var problems []record.Problem
	w := recordWorkspace(ws)
	prefix, t, path := dataflowPrefix(d)
	who := identity(t, d.ID, d.Name, w)
	key, p := nameKey(prefix, d.Name, d.ID, who)
	if p != nil {
		problems = append(problems, *p)
	}
	m := meta{
		MetaWebURL: spec.URL(b.webURL("", ws.ID, path, d.ID)),
		MetaID:     spec.Text(d.ID),
		MetaName:   spec.Text(d.Name),
	}
	commonMeta(m, d.ID, w)
	m.text(NamespacePowerBI+"configured_by", d.ConfiguredBy)
	m.text(NamespacePowerBI+"modified_at", d.ModifiedDateTime)
	m.text(NamespacePowerBI+"dataflow_type", d.Type)
	m.jsonList(NamespacePowerBI+"data_source_ids", d.DataSourceIDs)
	if len(d.UpstreamDataflows) > 0 {
		m[NamespacePowerBI+"upstream_dataflows"] = spec.JSON(refInfos(d.UpstreamDataflows))
	}
	refs := make([]ref, 0, len(d.DataSourceIDs)+len(d.UpstreamDataflows))
	for _, id := range d.DataSourceIDs {
		refs = append(refs, ref{kind: refDataSource, id: id})
	}
	for _, u := range d.UpstreamDataflows {
		if u.ID != "" && u.ID != d.ID {
			refs = append(refs, ref{kind: refDataflow, id: u.ID, note: "upstreamDataflows"})
		}
	}
	if d.Lineage != nil {
		var entities, unresolved []string
		var tables []snapshot.TableLineage
		for _, tl := range d.Lineage.Tables {
			entities = append(entities, tl.Table)
			for _, u := range tl.Unresolved {
				unresolved = append(unresolved, tl.Table+": "+u)
			}
			if len(tl.Upstream) > 0 {
				tables = append(tables, tl)
			}
		}
		m.jsonList(NamespacePowerBI+"entities", entities)
		m.jsonList(NamespacePowerBI+"lineage_unresolved", unresolved)
		if len(tables) > 0 {
			m[NamespacePowerBI+"table_lineage"] = spec.JSON(TableLineages(tables))
		}
		refs = append(refs, b.lineageItemRefs(d.Lineage, d.ID)...)
		refs = append(refs, b.lineageKeyRefs(d.Lineage, who, &problems)...)
	}
	return asset{who: who, key: key, description: d.Description, meta: m, kinds: []string{KindPowerBI, prefix},
		owner: d.ConfiguredBy, raw: d.Raw, item: d, workspace: w, refs: refs}.record(problems)
}

// fabricSpec builds a Lakehouse's, Warehouse's or SQL analytics endpoint's spec;
// a SQL analytics endpoint depends on the lakehouse it serves.
func (b *Builder) fabricSpec(ws *snapshot.Workspace, it *snapshot.FabricItem) (built, []record.Problem) {
	var problems []record.Problem
	w := recordWorkspace(ws)
	prefix, t, path, kind := fabricPrefix(it)
	who := identity(t, it.ID, it.Name, w)
	key, p := nameKey(prefix, it.Name, it.ID, who)
	if p != nil {
		problems = append(problems, *p)
	}
	m := meta{
		MetaWebURL: spec.URL(b.webURL("", ws.ID, path, it.ID)),
		MetaID:     spec.Text(it.ID),
		MetaName:   spec.Text(it.Name),
	}
	commonMeta(m, it.ID, w)
	m.text(NamespacePowerBI+"item_type", it.Type)
	m.text(NamespacePowerBI+"configured_by", it.ConfiguredBy)
	m.text(NamespacePowerBI+"modified_at", it.ModifiedDateTime)
	m.text(NamespacePowerBI+"sql_endpoint", it.SQLEndpoint)
	if len(it.Tables) > 0 {
		names := make([]string, len(it.Tables))
		for i, tb := range it.Tables {
			names[i] = tb.Name
			if tb.Schema != "" {
				names[i] = tb.Schema + "." + tb.Name
			}
		}
		m.jsonList(NamespacePowerBI+"tables", names)
	}
	var refs []ref
	if it.ParentID != "" && it.ParentID != it.ID {
		refs = append(refs, ref{kind: refFabricItem, id: it.ParentID, note: "the lakehouse of a SQL analytics endpoint"})
	}
	return asset{who: who, key: key, description: it.Description, meta: m, kinds: []string{KindPowerBI, kind},
		owner: it.ConfiguredBy, raw: it.Raw, item: it, workspace: w, refs: refs}.record(problems)
}

// modelItemRefs are a model's dependencies on dataflows (upstreamDataflows and
// PowerPlatform.Dataflows navigation) and Fabric items (Direct Lake, SQL endpoints).
func (b *Builder) modelItemRefs(sm *snapshot.SemanticModel) []ref {
	var refs []ref
	for _, u := range sm.UpstreamDataflows {
		if u.ID != "" {
			refs = append(refs, ref{kind: refDataflow, id: u.ID, note: "upstreamDataflows"})
		}
	}
	return append(refs, b.lineageItemRefs(sm.Lineage, "")...)
}

// lineageItemRefs are the dataflows and Fabric items that resolved lineage reads.
// A OneLake table links to its item only when the item is known, so a table named
// through a SQL endpoint the snapshot does not hold raises no warning.
func (b *Builder) lineageItemRefs(l *snapshot.Lineage, self string) []ref {
	if l == nil {
		return nil
	}
	b.items.init(b.entries)
	var refs []ref
	for _, tl := range l.Tables {
		for _, u := range tl.Upstream {
			switch {
			case u.Platform == "powerbi-dataflow" && u.Database != "" && u.Database != self:
				refs = append(refs, ref{kind: refDataflow, id: u.Database, note: "PowerPlatform.Dataflows navigation"})
			case u.Platform == "fabric-onelake" && b.items.fabric.get(u.Database).found():
				refs = append(refs, ref{kind: refFabricItem, id: u.Database})
			}
		}
	}
	return refs
}

// lineageKeyRefs are the warehouse tables a lineage reads, as fixed deps.
func (b *Builder) lineageKeyRefs(l *snapshot.Lineage, who spec.Identity, problems *[]record.Problem) []ref {
	var refs []ref
	for _, k := range b.lineageKeys(l) {
		if k.Validate() != nil {
			*problems = append(*problems, record.Problem{Stage: "build", Asset: who,
				Err: errInvalidKey(k)})
			continue
		}
		refs = append(refs, ref{kind: refFixed, key: k})
	}
	return refs
}

// DefaultLineageKeys returns the keys of the warehouse tables in l, each once.
func DefaultLineageKeys(l *snapshot.Lineage) []spec.Key {
	if l == nil {
		return nil
	}
	var keys []spec.Key
	seen := map[string]bool{}
	for _, tl := range l.Tables {
		for _, u := range tl.Upstream {
			k := UpstreamTableKey(u)
			if len(k) == 0 || seen[keyString(k)] {
				continue
			}
			seen[keyString(k)] = true
			keys = append(keys, k)
		}
	}
	return keys
}

type invalidKeyError string

func (e invalidKeyError) Error() string {
	return "upstream table key " + string(e) + " is not valid; left out"
}

func errInvalidKey(k spec.Key) error {
	return invalidKeyError(strings.TrimSpace(`"` + k.String() + `"`))
}

// modelDataflows are the dataflows a model reads: its upstreamDataflows, then the
// dataflows its tables' M navigates to (PowerPlatform.Dataflows), each once. The
// refresh engine waits for a running refresh of each before refreshing the model.
func modelDataflows(sm *snapshot.SemanticModel) []snapshot.Ref {
	out := append([]snapshot.Ref(nil), sm.UpstreamDataflows...)
	if sm.Lineage == nil {
		return out
	}
	for _, tl := range sm.Lineage.Tables {
		for _, u := range tl.Upstream {
			if u.Platform != "powerbi-dataflow" || u.Database == "" {
				continue
			}
			if !slices.ContainsFunc(out, func(r snapshot.Ref) bool { return strings.EqualFold(r.ID, u.Database) }) {
				out = append(out, snapshot.Ref{ID: u.Database, WorkspaceID: u.Server})
			}
		}
	}
	return out
}
