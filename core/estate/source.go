package estate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Source is where the API reads an estate from: the state store of a pipeline, or specs in
// memory.
type Source interface {
	// Graph returns the current graph (reloaded when the estate changed).
	Graph(ctx context.Context) (*Graph, error)
	// Page returns the page of an asset node (nil for a table node).
	Page(ctx context.Context, n *Node) (*Page, error)
	// Refreshes returns the newest refreshes, newest first.
	Refreshes(ctx context.Context, limit int) ([]Refresh, error)
}

// Refresh is a refresh pbisync started, for the refresh view.
type Refresh struct {
	RequestID   string    `json:"requestId"`
	Model       string    `json:"model"`
	Key         spec.Key  `json:"key,omitempty"`
	WorkspaceID string    `json:"workspaceId,omitempty"`
	State       string    `json:"state"` // running, completed, failed, cancelled, timed_out
	RequestedAt time.Time `json:"requestedAt"`
	EndedAt     time.Time `json:"endedAt,omitzero"`
	DurationSec float64   `json:"durationSeconds,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// StoreSource reads a pipeline's estate from the state store; the graph is loaded once per
// committed generation.
type StoreSource struct {
	St       *state.Store
	Pipeline string

	mu sync.Mutex
	g  *Graph
}

// Graph implements Source.
func (s *StoreSource) Graph(ctx context.Context) (*Graph, error) {
	gen, at, err := s.St.EstateGeneration(ctx, s.Pipeline)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.g != nil && s.g.Generation == gen {
		return s.g, nil
	}
	var sums []Summary
	err = s.St.EstateSummaries(ctx, s.Pipeline, gen, func(typ, id, raw string) error {
		var sum Summary
		if err := json.Unmarshal([]byte(raw), &sum); err != nil {
			return fmt.Errorf("estate of %q: %s %s: bad summary: %w", s.Pipeline, typ, id, err)
		}
		sums = append(sums, sum)
		return nil
	})
	if err != nil {
		return nil, err
	}
	g := NewGraph(sums, func(n *Node) map[string][]string {
		p, err := s.Page(context.WithoutCancel(ctx), n)
		if err != nil || p == nil {
			return nil
		}
		return p.ColumnLineage()
	})
	g.Generation, g.SyncedAt = gen, at
	s.g = g
	return g, nil
}

// Page implements Source.
func (s *StoreSource) Page(ctx context.Context, n *Node) (*Page, error) {
	if n.Type == TypeTable {
		return nil, nil
	}
	raw, kept, err := s.St.EstatePage(ctx, s.Pipeline, n.Type, n.ID)
	if err != nil {
		return nil, err
	}
	if raw == "" && kept != nil {
		// The page is made from the spec event the estate keeps (see Sink.Write).
		ev, err := DecodeEvent(kept)
		if err != nil {
			return nil, fmt.Errorf("estate of %q: asset %s: %w", s.Pipeline, n.Key, err)
		}
		p := PageOf(ev.Spec)
		return &p, nil
	}
	if raw == "" {
		return nil, nil
	}
	var p Page
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("estate of %q: asset %s: bad page: %w", s.Pipeline, n.Key, err)
	}
	return &p, nil
}

// Refreshes implements Source, from the refresh journal.
func (s *StoreSource) Refreshes(ctx context.Context, limit int) ([]Refresh, error) {
	runs, err := s.St.Refreshes(ctx, s.Pipeline, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Refresh, 0, len(runs))
	for _, r := range runs {
		rf := Refresh{RequestID: r.RequestID, Model: r.Name, Key: r.Key, WorkspaceID: r.WorkspaceID, State: r.State,
			RequestedAt: r.RequestedAt, EndedAt: r.EndedAt, Error: r.Error}
		if rf.State == "" {
			rf.State = "running"
		}
		if !r.EndedAt.IsZero() && r.EndedAt.After(r.RequestedAt) {
			rf.DurationSec = r.EndedAt.Sub(r.RequestedAt).Seconds()
		}
		out = append(out, rf)
	}
	return out, nil
}

// MemorySource serves specs held in memory (a snapshot file turned into specs).
type MemorySource struct {
	g     *Graph
	pages map[string]*Page
}

// NewMemorySource builds the graph and pages of specs.
func NewMemorySource(specs []spec.AssetSpec) *MemorySource {
	m := &MemorySource{pages: make(map[string]*Page, len(specs))}
	sums := make([]Summary, len(specs))
	for i := range specs {
		sums[i] = Summarize(&specs[i])
		p := PageOf(&specs[i])
		m.pages[specs[i].Key.String()] = &p
	}
	m.g = NewGraph(sums, func(n *Node) map[string][]string {
		if p := m.pages[n.Key.String()]; p != nil {
			return p.ColumnLineage()
		}
		return nil
	})
	return m
}

// Graph implements Source.
func (m *MemorySource) Graph(context.Context) (*Graph, error) { return m.g, nil }

// Page implements Source.
func (m *MemorySource) Page(_ context.Context, n *Node) (*Page, error) {
	return m.pages[n.Key.String()], nil
}

// Refreshes implements Source: a snapshot has none.
func (m *MemorySource) Refreshes(context.Context, int) ([]Refresh, error) { return nil, nil }
