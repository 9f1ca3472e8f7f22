package estate

import (
	"cmp"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

// Node is one asset of the graph, or an upstream table known only as a dep.
type Node struct {
	Summary
	up, down []int32 // indices of the nodes this one depends on, and of its dependents
	hay      string  // lower-cased name, key, id and workspace, for search
	lname    string  // lower-cased name
	key      string  // the key's parts joined by "/"
}

// Graph is an estate as a graph. It is read-only once built, so it is safe for
// concurrent use.
type Graph struct {
	nodes []Node
	byKey map[string]int32
	// cols returns an asset's column lineage (Page.ColumnLineage), for column impact and
	// column edges; the graph itself does not hold it.
	cols func(*Node) map[string][]string
	// Generation and SyncedAt say which committed estate the graph is (0 for one built in
	// memory).
	Generation int64
	SyncedAt   time.Time
}

// NewGraph builds the graph of summaries. Deps on keys that no summary has become table
// nodes; a dep listed twice is one edge. cols, if set, reads a node's column lineage.
func NewGraph(sums []Summary, cols func(*Node) map[string][]string) *Graph {
	g := &Graph{byKey: make(map[string]int32, len(sums)*2), cols: cols}
	g.nodes = make([]Node, 0, len(sums))
	for _, s := range sums {
		k := s.Key.String()
		if _, dup := g.byKey[k]; dup {
			continue // the key check reported it at sync time; the first one stands
		}
		g.byKey[k] = int32(len(g.nodes))
		g.nodes = append(g.nodes, Node{Summary: s})
	}
	n := len(g.nodes)
	for i := 0; i < n; i++ {
		for _, d := range g.nodes[i].Deps {
			j := g.intern(d)
			if j == int32(i) || slices.Contains(g.nodes[i].up, j) {
				continue
			}
			g.nodes[i].up = append(g.nodes[i].up, j)
			g.nodes[j].down = append(g.nodes[j].down, int32(i))
		}
	}
	for i := range g.nodes {
		nd := &g.nodes[i]
		nd.key = nd.Key.String()
		nd.lname = strings.ToLower(nd.Name)
		nd.hay = nd.lname + "\x00" + strings.ToLower(nd.key+"\x00"+nd.ID+"\x00"+nd.WorkspaceName)
	}
	return g
}

// intern returns the node of key, adding a table node for a key no asset has.
func (g *Graph) intern(k spec.Key) int32 {
	if i, ok := g.byKey[k.String()]; ok {
		return i
	}
	i := int32(len(g.nodes))
	g.byKey[k.String()] = i
	g.nodes = append(g.nodes, Node{Summary: Summary{Key: k, Type: TypeTable, Name: strings.Join(k, ".")}})
	return i
}

// Len returns the number of nodes, tables included.
func (g *Graph) Len() int { return len(g.nodes) }

// Node returns the node with the key (its parts joined by "/"), or nil.
func (g *Graph) Node(key string) *Node {
	if i, ok := g.byKey[key]; ok {
		return &g.nodes[i]
	}
	return nil
}

// Counts returns the number of nodes of each type.
func (g *Graph) Counts() map[string]int {
	out := map[string]int{}
	for i := range g.nodes {
		out[g.nodes[i].Type]++
	}
	return out
}

// Up and Down return the keys a node depends on and of its dependents.
func (g *Graph) Up(n *Node) []spec.Key   { return g.keys(n.up) }
func (g *Graph) Down(n *Node) []spec.Key { return g.keys(n.down) }

func (g *Graph) keys(ix []int32) []spec.Key {
	out := make([]spec.Key, len(ix))
	for i, j := range ix {
		out[i] = g.nodes[j].Key
	}
	return out
}

// Hit is a search result.
type Hit struct {
	Key           spec.Key `json:"key"`
	Type          string   `json:"type"`
	Name          string   `json:"name"`
	WorkspaceName string   `json:"workspaceName,omitempty"`
	Endorsement   string   `json:"endorsement,omitempty"`
}

// Search finds nodes whose name, key, id or workspace contains every word of q
// (case-insensitive), best first: an exact name, then a name that starts with q, then one
// that contains it, then the rest; at most limit. types, if given, keeps only those types.
func (g *Graph) Search(q string, limit int, types ...string) []Hit {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || limit <= 0 {
		return nil
	}
	words := strings.Fields(q)
	type cand struct {
		i          int32
		rank, kind int
	}
	var cands []cand
	for i := range g.nodes {
		nd := &g.nodes[i]
		if len(types) > 0 && !slices.Contains(types, nd.Type) {
			continue
		}
		ok := true
		for _, w := range words {
			if !strings.Contains(nd.hay, w) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		rank := 3
		switch {
		case nd.lname == q:
			rank = 0
		case strings.HasPrefix(nd.lname, q):
			rank = 1
		case strings.Contains(nd.lname, q):
			rank = 2
		}
		cands = append(cands, cand{int32(i), rank, typeOrder(nd.Type)})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		na, nb := &g.nodes[a.i], &g.nodes[b.i]
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.kind, b.kind), cmp.Compare(na.Name, nb.Name), cmp.Compare(na.key, nb.key))
	})
	hits := make([]Hit, 0, min(limit, len(cands)))
	for _, c := range cands[:min(limit, len(cands))] {
		nd := &g.nodes[c.i]
		hits = append(hits, Hit{Key: nd.Key, Type: nd.Type, Name: nd.Name, WorkspaceName: nd.WorkspaceName, Endorsement: nd.Endorsement})
	}
	return hits
}

// typeOrder sorts node types from upstream to downstream.
func typeOrder(t string) int {
	switch t {
	case TypeTable:
		return 0
	case string(spec.DataSource):
		return 1
	case "dataflow":
		return 2
	case string(spec.SemanticModel):
		return 3
	case string(spec.Report):
		return 4
	case string(spec.Dashboard):
		return 5
	}
	return 6
}

// Find returns the nodes a user's name stands for: a key (parts joined by "/"), a Power BI
// id, a name (case-insensitive), or a glob pattern over names and keys ("sales_db.*"). A
// column of an upstream table ("db.schema.table.column") stands for the table. The result
// is in graph order, without duplicates.
func (g *Graph) Find(name string) []int32 {
	if i, ok := g.byKey[name]; ok {
		return []int32{i}
	}
	lower := strings.ToLower(name)
	glob := strings.ContainsAny(name, "*?[")
	var out []int32
	for i := range g.nodes {
		nd := &g.nodes[i]
		match := nd.ID == name || strings.EqualFold(nd.Name, name) || strings.EqualFold(nd.Key.String(), name)
		if !match && glob {
			ok1, _ := path.Match(lower, strings.ToLower(nd.Name))
			ok2, _ := path.Match(lower, strings.ToLower(nd.Key.String()))
			match = ok1 || ok2
		}
		if match {
			out = append(out, int32(i))
		}
	}
	if len(out) == 0 && !glob {
		if dot := strings.LastIndexByte(name, '.'); dot > 0 {
			for _, i := range g.Find(name[:dot]) {
				if g.nodes[i].Type == TypeTable {
					out = append(out, i)
				}
			}
		}
	}
	return out
}

// columnsOf returns the column lineage of node i.
func (g *Graph) columnsOf(i int32) map[string][]string {
	if g.cols == nil || !g.nodes[i].ColumnLineage {
		return nil
	}
	return g.cols(&g.nodes[i])
}

// column returns the column that name names in table node t ("table.column"), or "".
func (g *Graph) column(t int32, name string) string {
	tn := strings.ToLower(g.nodes[t].Name)
	l := strings.ToLower(name)
	if strings.HasPrefix(l, tn+".") && len(l) > len(tn)+1 {
		return name[len(tn)+1:]
	}
	return ""
}

// KeysOf returns the keys of every node of a type, in graph order.
func (g *Graph) KeysOf(typ string) []spec.Key {
	var out []spec.Key
	for i := range g.nodes {
		if g.nodes[i].Type == typ {
			out = append(out, g.nodes[i].Key)
		}
	}
	return out
}
