package estate

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

//go:embed web
var webFS embed.FS

// Handler serves the read-only estate API under /api/ and the web UI at /. Every route is
// a GET; nothing it serves changes anything.
func Handler(src Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{src: src, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/estate", a.handleEstate)
	mux.HandleFunc("GET /api/search", a.handleSearch)
	mux.HandleFunc("GET /api/node", a.handleNode)
	mux.HandleFunc("GET /api/graph", a.handleGraph)
	mux.HandleFunc("GET /api/impact", a.handleImpact)
	mux.HandleFunc("GET /api/refreshes", a.handleRefreshes)
	web, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /", http.FileServerFS(web))
	return mux
}

type api struct {
	src Source
	log *slog.Logger
}

func (a *api) graph(w http.ResponseWriter, r *http.Request) (*Graph, bool) {
	g, err := a.src.Graph(r.Context())
	if err != nil {
		a.fail(w, http.StatusInternalServerError, err)
		return nil, false
	}
	return g, true
}

func (a *api) fail(w http.ResponseWriter, code int, err error) {
	if code >= 500 {
		a.log.Error("estate API", "error", err)
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func intParam(r *http.Request, name string, def, max int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 0 {
		return def
	}
	return min(n, max)
}

// handleEstate: GET /api/estate -> what the estate is (generation, when synced, counts).
func (a *api) handleEstate(w http.ResponseWriter, r *http.Request) {
	g, ok := a.graph(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"generation": g.Generation, "syncedAt": g.SyncedAt, "nodes": g.Len(), "counts": g.Counts()})
}

// handleSearch: GET /api/search?q=TEXT[&type=T...][&limit=N] -> hits, best first.
func (a *api) handleSearch(w http.ResponseWriter, r *http.Request) {
	g, ok := a.graph(w, r)
	if !ok {
		return
	}
	start := time.Now()
	hits := g.Search(r.URL.Query().Get("q"), intParam(r, "limit", 50, 500), r.URL.Query()["type"]...)
	if hits == nil {
		hits = []Hit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits, "micros": time.Since(start).Microseconds()})
}

// NodePage is what a node's page shows: its summary, neighbours, page and refreshes.
type NodePage struct {
	Summary
	Upstream   []spec.Key `json:"upstream"`
	Downstream []spec.Key `json:"downstream"`
	Page
	Refreshes []Refresh `json:"refreshes,omitempty"`
}

// handleNode: GET /api/node?key=K -> the node's page.
func (a *api) handleNode(w http.ResponseWriter, r *http.Request) {
	g, ok := a.graph(w, r)
	if !ok {
		return
	}
	n := g.Node(r.URL.Query().Get("key"))
	if n == nil {
		a.fail(w, http.StatusNotFound, errors.New("no asset has that key"))
		return
	}
	page := NodePage{Summary: n.Summary, Upstream: g.Up(n), Downstream: g.Down(n)}
	p, err := a.src.Page(r.Context(), n)
	if err != nil {
		a.fail(w, http.StatusInternalServerError, err)
		return
	}
	if p != nil {
		page.Page = *p
	}
	if n.Type == string(spec.SemanticModel) {
		page.Refreshes = a.modelRefreshes(r.Context(), n)
	}
	writeJSON(w, http.StatusOK, page)
}

func (a *api) modelRefreshes(ctx context.Context, n *Node) []Refresh {
	all, err := a.src.Refreshes(ctx, 500)
	if err != nil {
		a.log.Warn("estate API: refreshes", "error", err)
		return nil
	}
	var out []Refresh
	for _, rf := range all {
		if rf.Key.String() == n.Key.String() || (rf.Model == n.Name && rf.WorkspaceID == n.WorkspaceID) {
			out = append(out, rf)
			if len(out) == 20 {
				break
			}
		}
	}
	return out
}

// handleGraph: GET /api/graph?key=K[&up=N][&down=N][&limit=N] -> the neighbourhood.
func (a *api) handleGraph(w http.ResponseWriter, r *http.Request) {
	g, ok := a.graph(w, r)
	if !ok {
		return
	}
	sg, found := g.Neighbourhood(r.URL.Query().Get("key"), intParam(r, "up", 2, 20), intParam(r, "down", 2, 20), intParam(r, "limit", 200, 2000))
	if !found {
		a.fail(w, http.StatusNotFound, errors.New("no asset has that key"))
		return
	}
	writeJSON(w, http.StatusOK, sg)
}

// handleImpact: GET /api/impact?name=N[&name=N...][&upstream=1][&depth=N][&format=csv].
func (a *api) handleImpact(w http.ResponseWriter, r *http.Request) {
	g, ok := a.graph(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	names := q["name"]
	if len(names) == 0 {
		a.fail(w, http.StatusBadRequest, errors.New("impact needs at least one name= (a key, id, name, pattern or table column)"))
		return
	}
	res := g.Impact(ImpactQuery{Names: names, Upstream: q.Get("upstream") == "1" || q.Get("upstream") == "true", MaxDepth: intParam(r, "depth", 0, 100)})
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="impact.csv"`)
		WriteCSV(w, res)
		return
	}
	if res.Impacted == nil {
		res.Impacted = []Impacted{}
	}
	writeJSON(w, http.StatusOK, res)
}

// WriteCSV writes an impact result as CSV, one row per reached asset.
func WriteCSV(w interface{ Write([]byte) (int, error) }, res ImpactResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"depth", "type", "name", "key", "workspace", "owners", "endorsement", "path", "via_columns", "url"})
	for _, im := range res.Impacted {
		path := make([]string, len(im.Path))
		for i, k := range im.Path {
			path[i] = k.String()
		}
		cw.Write([]string{strconv.Itoa(im.Depth), im.Type, im.Name, im.Key.String(), im.WorkspaceName,
			strings.Join(im.Owners, ";"), im.Endorsement, strings.Join(path, " > "), strings.Join(im.Via, ";"), im.URL})
	}
	cw.Flush()
	return cw.Error()
}

// handleRefreshes: GET /api/refreshes[?limit=N] -> the newest refreshes.
func (a *api) handleRefreshes(w http.ResponseWriter, r *http.Request) {
	rs, err := a.src.Refreshes(r.Context(), intParam(r, "limit", 100, 1000))
	if err != nil {
		a.fail(w, http.StatusInternalServerError, err)
		return
	}
	if rs == nil {
		rs = []Refresh{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"refreshes": rs})
}
