// Package event defines what pbisync sends to sinks: asset specs upserted and removed,
// refresh progress, and a summary at the end of a sync. Its JSON form is the JSON Lines
// output format; the sink protocol carries the same information.
package event

import (
	"sync"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

// Kind says which field of an Event is set.
type Kind string

// Event kinds.
const (
	KindSpec    Kind = "spec"    // an asset spec was built or changed: upsert it
	KindRemoved Kind = "removed" // an asset of the previous sync is gone
	KindRefresh Kind = "refresh" // a semantic model refresh changed state
	KindSummary Kind = "summary" // a sync ended
)

// Event is one message to a sink. Exactly one of the pointers matches Kind.
type Event struct {
	Kind    Kind            `json:"kind"`
	Spec    *spec.AssetSpec `json:"spec,omitempty"`
	Removed *Removed        `json:"removed,omitempty"`
	Refresh *Refresh        `json:"refresh,omitempty"`
	Summary *Summary        `json:"summary,omitempty"`
	// Related are the assets the event refers to, resolved by the host from the synced
	// estate, so that a sink writes every event on its own (the same output whatever
	// came before, in this process or a restarted one). For a spec: its deps that are
	// Power BI assets and the assets its metadata names by id (tiles' reports and
	// models); for a refresh: its model's (see Refresh.ModelSpec). A dep without an
	// entry is not a Power BI asset of the sync (a warehouse table, or an asset that was
	// not synced or was dropped).
	Related []Related `json:"related,omitempty"`
	// Shared, if set, keeps a conversion of the event that several outputs make (the
	// sink protocol's message, see sdk/sink's EventToProtoShared), so it is made once
	// per event, not once per output. The engine sets it on the spec events it sends;
	// whoever changes such an event afterwards must set it to nil. Not part of the JSON.
	Shared *Shared `json:"-"`
}

// Shared is a once-computed value shared by the outputs an event goes to; it is safe
// for concurrent use.
type Shared struct {
	once sync.Once
	v    any
	err  error

	encodedOnce sync.Once
	encoded     []byte
	encodedErr  error
}

// Get returns the value, computing it with make on the first call. A nil Shared
// computes it every time.
func (s *Shared) Get(make func() (any, error)) (any, error) {
	if s == nil {
		return make()
	}
	s.once.Do(func() { s.v, s.err = make() })
	return s.v, s.err
}

// Encoded returns the event's encoding (the sink protocol's bytes, see sdk/sink's
// EventBytesShared), computing it with make on the first call, apart from Get's value:
// outputs that send or store bytes share them without holding the message too. A nil
// Shared computes it every time.
func (s *Shared) Encoded(make func() ([]byte, error)) ([]byte, error) {
	if s == nil {
		return make()
	}
	s.encodedOnce.Do(func() { s.encoded, s.encodedErr = make() })
	return s.encoded, s.encodedErr
}

// Related is one asset an event refers to, as the sync sent it.
type Related struct {
	Key     spec.Key      `json:"key"` // after translators: what deps name
	PowerBI spec.Identity `json:"powerbi"`
	WebURL  string        `json:"webUrl,omitempty"` // its dagster-powerbi/web_url
	// Tables are a semantic model's tables, sorted, by the names of its column-schema
	// metadata (dagster-powerbi's convention: lower-cased in a model of several tables).
	Tables []string `json:"tables,omitempty"`
	// TableNames are the same tables in their own case (from its powerbi/tables
	// metadata), when the spec has them.
	TableNames []string `json:"tableNames,omitempty"`
}

// RelatedByKey returns the related asset whose key is k.
func (e *Event) RelatedByKey(k spec.Key) (*Related, bool) {
	for i := range e.Related {
		if e.Related[i].Key.Equal(k) {
			return &e.Related[i], true
		}
	}
	return nil, false
}

// RelatedByID returns the related asset of that type and Power BI id.
func (e *Event) RelatedByID(t spec.ContentType, id string) (*Related, bool) {
	for i := range e.Related {
		if r := &e.Related[i]; r.PowerBI.Type == t && r.PowerBI.ID == id {
			return r, true
		}
	}
	return nil, false
}

// Removed names an asset that was in the pipeline's previous sync and is gone now.
type Removed struct {
	Key     spec.Key      `json:"key"`
	PowerBI spec.Identity `json:"powerbi"`
}

// RefreshState is the state of a refresh as pbisync reports it.
type RefreshState string

// Refresh states.
const (
	RefreshRequested RefreshState = "requested"
	RefreshStarted   RefreshState = "started"
	RefreshCompleted RefreshState = "completed"
	RefreshFailed    RefreshState = "failed"
	RefreshCancelled RefreshState = "cancelled"
	RefreshTimedOut  RefreshState = "timed_out"
)

// Refresh is a change of state of one semantic model refresh.
type Refresh struct {
	RequestID   string         `json:"requestId"`
	State       RefreshState   `json:"state"`
	Model       spec.Identity  `json:"model"`
	Key         spec.Key       `json:"key,omitempty"`
	RefreshType string         `json:"refreshType,omitempty"` // Full, DataOnly, ...
	Enhanced    bool           `json:"enhanced,omitempty"`
	RequestedAt time.Time      `json:"requestedAt,omitzero"`
	StartedAt   time.Time      `json:"startedAt,omitzero"`
	EndedAt     time.Time      `json:"endedAt,omitzero"`
	Error       string         `json:"error,omitempty"`
	Tables      []TableRefresh `json:"tables,omitempty"`
	// ModelSpec is the model's spec as this sync sent it (tables, column schemas, table
	// lineage, deps), when the host has it; the event's Related are that spec's. A
	// refresh followed again by a later process (serve after a restart) may lack it.
	ModelSpec *spec.AssetSpec `json:"modelSpec,omitempty"`
}

// TableRefresh is the outcome of one table or partition in an enhanced refresh.
type TableRefresh struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
	Status    string `json:"status"`
}

// Summary closes a sync.
type Summary struct {
	StartedAt  time.Time      `json:"startedAt"`
	EndedAt    time.Time      `json:"endedAt"`
	Workspaces int            `json:"workspaces"`
	Assets     map[string]int `json:"assets"` // by content type, after translators
	Dropped    int            `json:"dropped"`
	Removed    int            `json:"removed"`
	// Unchanged counts the assets an incremental sync did not rescan: outputs that hold
	// the last sync were not sent them; outputs that needed every asset were sent them
	// as the estate kept them.
	Unchanged int              `json:"unchanged,omitempty"`
	Problems  []string         `json:"problems,omitempty"`
	Requests  map[string]int64 `json:"requests,omitempty"` // API requests per endpoint
	// Lineage says how much of the models' M resolved to upstream tables.
	Lineage *LineageStats `json:"lineage,omitempty"`
}

// LineageStats counts the model tables by how their Power Query M resolved.
type LineageStats struct {
	Tables     int            `json:"tables"`
	Resolved   int            `json:"resolved"`
	Partial    int            `json:"partial"`
	NonTable   int            `json:"nonTable"`
	Unresolved int            `json:"unresolved"`
	Upstream   int            `json:"upstream"`
	Reasons    map[string]int `json:"reasons,omitempty"`
}
