package lineage

import (
	"net/url"
	"strings"

	"github.com/pbisync/pbisync/core/snapshot"
)

// Platform names of the tables Power BI and Fabric items hold.
const (
	// PlatformOneLake names Fabric Lakehouse and Warehouse tables, read through
	// Lakehouse.Contents, Fabric.Warehouse, OneLake paths, the SQL analytics
	// endpoint or Direct Lake. Server is the workspace id (the SQL endpoint's
	// host where only that is known), Database the item id (its name through the
	// SQL endpoint), Schema the schema (dbo in a lakehouse without schemas).
	PlatformOneLake = "fabric-onelake"
	// PlatformDataflow names the entities of Power BI dataflows (Gen1 and Gen2)
	// and datamarts: Server is the workspace id, Database the dataflow id, Table
	// the entity.
	PlatformDataflow = "powerbi-dataflow"
)

// Item connectors navigate by ids: {[workspaceId=...]}, {[dataflowId=...]},
// {[lakehouseId=...]}, then a table or entity.
var (
	dataflowsConn = &connector{platform: PlatformDataflow, args: "none", queryOpt: -1, itemNav: true}
	lakehouseConn = &connector{platform: PlatformOneLake, args: "none", queryOpt: -1, itemNav: true}
)

// isFabricSQLHost reports whether server is a Fabric SQL endpoint (Warehouse or
// Lakehouse SQL analytics endpoint).
func isFabricSQLHost(server string) bool {
	h := strings.ToLower(server)
	if i := strings.IndexAny(h, ",:"); i >= 0 {
		h = h[:i]
	}
	return strings.HasSuffix(h, ".datawarehouse.fabric.microsoft.com") ||
		strings.HasSuffix(h, ".datawarehouse.pbidedicated.windows.net")
}

// openItemSource opens the connectors of Power BI and Fabric items.
func openItemSource(name string, args []value) (value, bool) {
	switch name {
	case "PowerPlatform.Dataflows", "PowerBI.Dataflows", "Dataflows.Contents":
		return navV{conn: dataflowsConn}, true
	case "Lakehouse.Contents", "Fabric.Warehouse", "Fabric.Lakehouse":
		return navV{conn: lakehouseConn}, true
	case "AzureStorage.DataLake":
		if len(args) == 0 {
			return nil, false
		}
		u, ok := args[0].(textV)
		if !ok {
			return nil, false
		}
		n, ok := oneLakePath(string(u))
		return n, ok
	}
	return nil, false
}

// oneLakePath reads https://onelake.dfs.fabric.microsoft.com/<workspace>/<item>[/Tables[/<schema>]/<table>].
func oneLakePath(raw string) (navV, bool) {
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(strings.ToLower(u.Host), "onelake.") {
		return navV{}, false
	}
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if len(parts) < 2 {
		return navV{}, false
	}
	n := navV{conn: lakehouseConn, server: parts[0], database: trimItemSuffix(parts[1])}
	rest := parts[2:]
	if len(rest) > 0 && strings.EqualFold(rest[0], "Tables") {
		switch len(rest) {
		case 2:
			n.table = rest[1]
		case 3:
			n.schema, n.table = rest[1], rest[2]
		}
	}
	return n, true
}

// trimItemSuffix drops the ".Lakehouse"/".Warehouse" of a OneLake item path by name.
func trimItemSuffix(s string) string {
	for _, suf := range []string{".Lakehouse", ".Warehouse", ".lakehouse", ".warehouse"} {
		if strings.HasSuffix(s, suf) {
			return strings.TrimSuffix(s, suf)
		}
	}
	return s
}

// navigateItems applies a navigation step of an item connector.
func (n navV) navigateItems(r *recordV) value {
	text := func(keys ...string) (string, bool, value) {
		for _, k := range keys {
			v, ok := r.get(k)
			if !ok {
				continue
			}
			if t, ok := v.(textV); ok {
				return string(t), true, nil
			}
			if _, ok := v.(nullV); ok {
				continue
			}
			return "", false, v
		}
		return "", false, nil
	}
	if n.table != "" {
		return n.data()
	}
	if ws, ok, bad := text("workspaceId"); ok || bad != nil {
		if bad != nil {
			n = n.withUnknown("server", bad)
		}
		n.server = ws
		n.row = true
		return n
	}
	if item, ok, bad := text("dataflowId", "lakehouseId", "warehouseId", "datamartId"); ok || bad != nil {
		if bad != nil {
			n = n.withUnknown("database", bad)
		}
		n.database = item
		n.row = true
		return n
	}
	if id, ok, _ := text("Id"); ok && strings.EqualFold(id, "Workspaces") && n.server == "" {
		n.row = true
		return n // PowerPlatform.Dataflows: {[Id="Workspaces"]} lists the workspaces
	}
	kind, _, _ := text("ItemKind", "Kind")
	if strings.EqualFold(kind, "Schema") {
		if s, ok, _ := text("Id", "Name"); ok {
			n.schema = s
			n.row = true
			return n
		}
	}
	name, ok, bad := text("entity", "Item", "Id", "Name")
	if bad != nil {
		return n.lost(bad)
	}
	if !ok {
		return unknown(ReasonDynamicValue)
	}
	if s, ok, _ := text("Schema"); ok {
		n.schema = s
	}
	n.table = name
	n.row = true
	return n
}

// linkFabricItems names the OneLake tables of s by ids where s holds the Fabric
// item they are in: an upstream read through a SQL endpoint (host and item name)
// or a SQL analytics endpoint's id becomes workspace id, item id (the lakehouse a
// SQL analytics endpoint serves), schema, table: the same key whichever way a
// model reads the table.
func linkFabricItems(s *snapshot.Snapshot) {
	type placed struct{ workspace, item string }
	byID := map[string]placed{}
	byEndpoint := map[string]placed{}
	parents := map[string]string{}
	for _, ws := range s.Workspaces {
		for _, it := range ws.FabricItems {
			p := placed{workspace: ws.ID, item: it.ID}
			if it.Type == snapshot.ItemSQLEndpoint && it.ParentID != "" {
				parents[it.ID] = it.ParentID
			}
			byID[strings.ToLower(it.ID)] = p
			if it.SQLEndpoint != "" {
				byEndpoint[endpointKey(it.SQLEndpoint, it.Name)] = p
			}
		}
	}
	if len(byID) == 0 {
		return
	}
	fix := func(u *snapshot.UpstreamTable) {
		if u.Platform != PlatformOneLake {
			return
		}
		p, ok := byID[strings.ToLower(u.Database)]
		if !ok {
			p, ok = byEndpoint[endpointKey(u.Server, u.Database)]
		}
		if !ok {
			return
		}
		if parent, ok := parents[p.item]; ok {
			if pp, ok := byID[strings.ToLower(parent)]; ok {
				p = pp
			} else {
				p.item = parent
			}
		}
		u.Server, u.Database = p.workspace, p.item
		u.Unknown = dropUnknown(dropUnknown(u.Unknown, "server"), "database")
	}
	each := func(l *snapshot.Lineage) {
		if l == nil {
			return
		}
		for ti := range l.Tables {
			t := &l.Tables[ti]
			for ui := range t.Upstream {
				fix(&t.Upstream[ui])
			}
			for ci := range t.Columns {
				for ui := range t.Columns[ci].Upstream {
					fix(&t.Columns[ci].Upstream[ui].UpstreamTable)
				}
			}
		}
	}
	for wi := range s.Workspaces {
		ws := &s.Workspaces[wi]
		for mi := range ws.SemanticModels {
			each(ws.SemanticModels[mi].Lineage)
		}
		for di := range ws.Dataflows {
			each(ws.Dataflows[di].Lineage)
		}
	}
}

func endpointKey(host, name string) string {
	h := strings.ToLower(host)
	if i := strings.IndexAny(h, ",:"); i >= 0 {
		h = h[:i]
	}
	return h + "\x00" + strings.ToLower(name)
}
