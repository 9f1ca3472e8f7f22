package estate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/sdk/spec"
)

// Impacted is a node reached from the start of an impact query, with the path that
// links it (start first, the node last).
type Impacted struct {
	Key           spec.Key   `json:"key"`
	Type          string     `json:"type"`
	Name          string     `json:"name"`
	WorkspaceName string     `json:"workspaceName,omitempty"`
	Owners        []string   `json:"owners,omitempty"`
	Endorsement   string     `json:"endorsement,omitempty"`
	URL           string     `json:"url,omitempty"`
	Depth         int        `json:"depth"`
	Path          []spec.Key `json:"path"`
	// Via names the columns that link a model to a column the query started from.
	Via []string `json:"via,omitempty"`
}

// ImpactQuery is what Impact walks from.
type ImpactQuery struct {
	Names    []string // as Find takes them
	Upstream bool     // walk to what the starts read, not to what reads them
	MaxDepth int      // 0: no limit
}

// ImpactResult is the answer: the starts, everything reached (nearest first), and the
// names that matched nothing.
type ImpactResult struct {
	Starts   []Impacted `json:"starts"`
	Impacted []Impacted `json:"impacted"`
	Unknown  []string   `json:"unknown,omitempty"`
}

// Impact lists everything downstream of the named nodes (or upstream, with q.Upstream),
// breadth first, each once, with the shortest path from a start. A name of a column of an
// upstream table starts from that column: its first hop is only the models whose M or SQL
// reads that column, where known.
func (g *Graph) Impact(q ImpactQuery) ImpactResult {
	var res ImpactResult
	parent := map[int32]int32{}
	depth := map[int32]int{}
	via := map[int32][]string{}
	var queue []int32
	for _, name := range q.Names {
		found := g.Find(name)
		if len(found) == 0 {
			res.Unknown = append(res.Unknown, name)
			continue
		}
		for _, i := range found {
			if _, seen := depth[i]; seen {
				continue
			}
			depth[i], parent[i] = 0, -1
			res.Starts = append(res.Starts, g.impacted(i, 0, nil, nil))
			if col := g.column(i, name); col != "" && !q.Upstream {
				// Column start: the models reading that column, then on as usual.
				for _, m := range g.nodes[i].down {
					cols := g.readers(m, g.nodes[i].Name+"."+col)
					if len(cols) == 0 {
						continue
					}
					if _, seen := depth[m]; !seen {
						depth[m], parent[m], via[m] = 1, i, cols
						queue = append(queue, m)
					}
				}
				continue
			}
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if q.MaxDepth > 0 && depth[i] >= q.MaxDepth {
			continue
		}
		next := g.nodes[i].down
		if q.Upstream {
			next = g.nodes[i].up
		}
		for _, j := range next {
			if _, seen := depth[j]; seen {
				continue
			}
			depth[j], parent[j] = depth[i]+1, i
			queue = append(queue, j)
		}
	}
	for i, d := range depth {
		if d == 0 {
			continue
		}
		var path []spec.Key
		for k := i; k != -1; k = parent[k] {
			path = append(path, g.nodes[k].Key)
		}
		slices.Reverse(path)
		res.Impacted = append(res.Impacted, g.impacted(i, d, path, via[i]))
	}
	slices.SortFunc(res.Impacted, func(a, b Impacted) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(typeOrder(a.Type), typeOrder(b.Type)),
			cmp.Compare(a.WorkspaceName, b.WorkspaceName), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key.String(), b.Key.String()))
	})
	return res
}

// readers returns the columns of model m that read the upstream column "table.column"
// (compared case-insensitively: the M keeps the source's case, keys may not).
func (g *Graph) readers(m int32, upstreamColumn string) []string {
	var out []string
	for col, ups := range g.columnsOf(m) {
		for _, u := range ups {
			if strings.EqualFold(u, upstreamColumn) || strings.HasSuffix(strings.ToLower(u), "."+strings.ToLower(upstreamColumn)) {
				out = append(out, col)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func (g *Graph) impacted(i int32, depth int, path []spec.Key, via []string) Impacted {
	nd := &g.nodes[i]
	if path == nil {
		path = []spec.Key{nd.Key}
	}
	return Impacted{Key: nd.Key, Type: nd.Type, Name: nd.Name, WorkspaceName: nd.WorkspaceName, Owners: nd.Owners,
		Endorsement: nd.Endorsement, URL: nd.URL, Depth: depth, Path: path, Via: via}
}

// Subgraph is a neighbourhood of the graph, for drawing.
type Subgraph struct {
	Nodes []SubNode `json:"nodes"`
	Edges []Edge    `json:"edges"`
	// Truncated is set when the limit stopped the walk.
	Truncated bool `json:"truncated,omitempty"`
}

// SubNode is a node of a subgraph, with how many of its neighbours the subgraph left out
// (to expand on click).
type SubNode struct {
	Key           spec.Key `json:"key"`
	Type          string   `json:"type"`
	Name          string   `json:"name"`
	WorkspaceName string   `json:"workspaceName,omitempty"`
	Endorsement   string   `json:"endorsement,omitempty"`
	Center        bool     `json:"center,omitempty"`
	HiddenUp      int      `json:"hiddenUp,omitempty"`
	HiddenDown    int      `json:"hiddenDown,omitempty"`
}

// Edge goes from a node to one that depends on it (upstream to downstream). Column edges
// name the columns at both ends.
type Edge struct {
	From       spec.Key `json:"from"`
	To         spec.Key `json:"to"`
	FromColumn string   `json:"fromColumn,omitempty"`
	ToColumn   string   `json:"toColumn,omitempty"`
}

// Neighbourhood returns the nodes within up hops upstream and down hops downstream of the
// node with key, at most limit nodes (nearest first), with the edges among them and the
// column edges of its models where known. ok is false when no node has the key.
func (g *Graph) Neighbourhood(key string, up, down, limit int) (Subgraph, bool) {
	c, ok := g.byKey[key]
	if !ok {
		return Subgraph{}, false
	}
	if limit <= 0 {
		limit = 200
	}
	in := map[int32]bool{c: true}
	order := []int32{c}
	truncated := false
	walk := func(hops int, next func(int32) []int32) {
		frontier := []int32{c}
		for h := 0; h < hops && len(frontier) > 0; h++ {
			var nf []int32
			for _, i := range frontier {
				for _, j := range next(i) {
					if in[j] {
						continue
					}
					if len(order) >= limit {
						truncated = true
						return
					}
					in[j] = true
					order = append(order, j)
					nf = append(nf, j)
				}
			}
			frontier = nf
		}
	}
	walk(up, func(i int32) []int32 { return g.nodes[i].up })
	walk(down, func(i int32) []int32 { return g.nodes[i].down })
	sg := Subgraph{Truncated: truncated}
	for _, i := range order {
		nd := &g.nodes[i]
		var cols map[string][]string
		colsRead := false
		sn := SubNode{Key: nd.Key, Type: nd.Type, Name: nd.Name, WorkspaceName: nd.WorkspaceName, Endorsement: nd.Endorsement, Center: i == c}
		for _, j := range nd.up {
			if in[j] {
				sg.Edges = append(sg.Edges, Edge{From: g.nodes[j].Key, To: nd.Key})
				if g.nodes[j].Type == TypeTable && nd.ColumnLineage {
					if !colsRead {
						cols, colsRead = g.columnsOf(i), true
					}
					sg.Edges = append(sg.Edges, g.columnEdges(j, i, cols)...)
				}
			} else {
				sn.HiddenUp++
			}
		}
		for _, j := range nd.down {
			if !in[j] {
				sn.HiddenDown++
			}
		}
		sg.Nodes = append(sg.Nodes, sn)
	}
	return sg, true
}

// columnEdges returns the column edges from table node t to model m, where the model's
// column lineage cols names columns of that table.
func (g *Graph) columnEdges(t, m int32, cols map[string][]string) []Edge {
	var out []Edge
	for _, col := range sortedKeys(cols) {
		for _, u := range cols[col] {
			if c := g.column(t, u); c != "" {
				out = append(out, Edge{From: g.nodes[t].Key, To: g.nodes[m].Key, FromColumn: c, ToColumn: col})
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
