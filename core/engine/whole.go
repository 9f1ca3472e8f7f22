package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	"gopkg.in/yaml.v3"
)

// An incremental sync sends each output what it needs, from what it read and from the
// estate, never asking the service for the workspaces it did not rescan:
//
//   - An output that committed the estate's current generation with its current
//     configuration is offered the sync's changes only (sink.Run.ChangesOnly). A sink that
//     upserts (a catalog, a database, an appending file) takes them; one whose output a
//     sync replaces takes a run only when nothing changed, and leaves its output as it is.
//   - Every other output (new, reconfigured, behind after a failure, its file deleted, or a
//     sink that replaces its output) is sent every asset: what the sync built, and the spec
//     events the estate kept of the assets it carried, exactly as they were sent.
//
// After the sync, each output that completed is marked with the estate's new generation.

// changesSink is a sink that can be offered a sync of changes only (sinkhost.Sink).
type changesSink interface {
	BeginChanges(ctx context.Context, unchanged bool) (bool, error)
}

// feedable reports whether the estate can stand in for the service for the assets an
// incremental sync carries: it is kept, and it holds the spec event of every asset of the
// previous sync. It says why not otherwise.
func (r *run) feedable(ctx context.Context) (bool, string, error) {
	st, ok := r.e.State.(*state.Store)
	if !ok || st == nil {
		return false, "", nil
	}
	if r.e.setup != nil && r.e.setup.p.NoEstate {
		return false, "the pipeline keeps no estate (estate: false), so an output that needs every asset could only get them from the service", nil
	}
	gen, _, err := st.EstateGeneration(ctx, r.e.Pipeline)
	if err != nil {
		return false, "", err
	}
	r.estateGen = gen
	if gen == 0 {
		return false, "the state store has no estate yet", nil
	}
	gaps, err := st.EstateGaps(ctx, r.e.Pipeline)
	if err != nil {
		return false, "", err
	}
	if gaps > 0 {
		return false, fmt.Sprintf("the estate keeps no spec of %d assets of the last sync (written by an older pbisync, or with estate: false)", gaps), nil
	}
	return true, "", nil
}

// offer says whether an output is offered the sync's changes only: it committed the
// estate's current generation with the configuration it has now. unchanged says that the
// sync has no changes.
func (r *run) offer(ctx context.Context, s Sink) (changes, unchanged bool) {
	st, ok := r.e.State.(*state.Store)
	if !ok || r.estateGen == 0 {
		return false, false
	}
	m, err := st.OutputMark(ctx, r.e.Pipeline, s.Name())
	if err != nil {
		r.log.Warn("output mark unreadable: the output is sent every asset", "output", s.Name(), "error", err.Error())
		return false, false
	}
	fp := r.e.outputFP[s.Name()]
	switch {
	case m.Generation == 0:
		r.log.Info("a new output: it is sent every asset, from the estate for the workspaces not rescanned", "output", s.Name())
		return false, false
	case m.Fingerprint != fp:
		r.log.Info("the output's configuration changed since its last sync: it is sent every asset", "output", s.Name())
		return false, false
	case m.Generation != r.estateGen:
		r.log.Info("the output missed a sync (it failed or was not run): it is sent every asset", "output", s.Name())
		return false, false
	}
	return true, r.cov.unchanged
}

// carriedUnsent reports whether the previous sync's asset id is one this incremental
// sync carries (its workspace was not rescanned) and has not sent itself.
func (r *run) carriedUnsent(id state.AssetID) bool {
	if r.cov == nil {
		return false
	}
	a, ok := r.cov.prev[id]
	if !ok || !r.cov.carried(a) {
		return false
	}
	return !r.rel.sent(id)
}

// sendCarried sends the outputs that need every asset the spec events the estate kept of
// the assets this incremental sync carried (neither rescanned nor removed).
func (r *run) sendCarried(ctx context.Context) error {
	if r.cov == nil || !r.cov.partial {
		return nil
	}
	want := 0
	for id := range r.cov.prev {
		if r.carriedUnsent(id) {
			want++
		}
	}
	r.res.Summary.Unchanged = want
	if !slices.Contains(r.whole, true) {
		return nil
	}
	st := r.e.State.(*state.Store)
	var names []string
	for i, s := range r.out {
		if r.whole[i] {
			names = append(names, s.Name())
		}
	}
	r.log.Info("sending the outputs that need every asset the unchanged ones, from the estate", "outputs", strings.Join(names, ", "), "assets", want)
	// Plugins are sent the kept events as they are kept, in the protocol's encoding;
	// other outputs get them decoded.
	asEncoded := make([]bool, len(r.out))
	asEvents := make([]bool, len(r.out))
	anyEvents := false
	for i, s := range r.out {
		if !r.whole[i] {
			continue
		}
		if _, ok := s.(encodedWriter); ok {
			asEncoded[i] = true
		} else {
			asEvents[i], anyEvents = true, true
		}
	}
	got, held := 0, 0
	encoded := make([][]byte, 0, r.batch)
	var events []event.Event
	flush := func() error {
		held = 0
		err := r.writeEncodedTo(ctx, encoded, asEncoded)
		if err == nil && anyEvents {
			err = r.writeTo(ctx, events, asEvents)
		}
		// A sink may hold a batch until it is acknowledged: the next one is new.
		encoded, events = make([][]byte, 0, r.batch), nil
		return err
	}
	err := st.EstateEvents(ctx, r.e.Pipeline, r.estateGen, func(typ, id string, kept []byte) error {
		if !r.carriedUnsent(state.AssetID{Type: spec.ContentType(typ), ID: id}) {
			return nil
		}
		raw, err := estate.DecodeEventBytes(kept)
		if err == nil && anyEvents {
			var ev event.Event
			if ev, err = estate.DecodeEvent(kept); err == nil {
				events = append(events, ev)
			}
		}
		if err != nil {
			return fmt.Errorf("estate of %q: %s %s: %w", r.e.Pipeline, typ, id, err)
		}
		got++
		encoded = append(encoded, raw)
		// The estate is read in (type, id) order: models, with their columns, come
		// together, so batches are bounded by bytes too; the sinks hold a window of them.
		held += len(raw)
		if len(encoded) < r.batch && held < carriedBatchBytes {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if got < want {
		// The estate lost rows since feedable looked: these outputs would be short.
		for i := range r.out {
			if r.whole[i] && r.sinks[i].Err == nil {
				r.sinks[i].Err = fmt.Errorf("sink %s: the estate holds %d of the %d unchanged assets this output needs; run `pbisync sync --full`", r.out[i].Name(), got, want)
			}
		}
	}
	return nil
}

// knowCarriedRelated tells the related index what the estate says of the assets this
// incremental sync carries, so that a rescanned report whose model was not rescanned
// still names its tables; and keeps what it says of the others, to tell which of them
// changed (sendStaleDependents).
func (r *run) knowCarriedRelated(ctx context.Context) error {
	st, ok := r.e.State.(*state.Store)
	if !ok || r.estateGen == 0 || len(r.cov.read) == 0 {
		return nil // nothing is rescanned: no event will refer to anything
	}
	return st.EstateRelated(ctx, r.e.Pipeline, r.estateGen, func(b []byte) error {
		rel, err := estate.DecodeRelated(b)
		if err != nil {
			return fmt.Errorf("state: estate of %q: %w", r.e.Pipeline, err)
		}
		if a, ok := r.cov.prev[state.IDOf(rel.PowerBI)]; ok {
			if r.cov.carried(a) {
				r.rel.knowCarried(rel)
			} else {
				r.notePrevRelated(rel) // rescanned (or removed): did it change?
			}
		}
		return nil
	})
}

// estateModels are the semantic models this incremental sync carried, from the spec
// events the estate kept of them, for refresh selection in a process that has not synced
// them itself.
func (r *run) estateModels(ctx context.Context) ([]Model, error) {
	st, ok := r.e.State.(*state.Store)
	if !ok || r.estateGen == 0 {
		return nil, nil
	}
	var out []Model
	err := st.EstateEventsOfType(ctx, r.e.Pipeline, r.estateGen, string(spec.SemanticModel), func(id string, kept []byte) error {
		if !r.carriedUnsent(state.AssetID{Type: spec.SemanticModel, ID: id}) {
			return nil
		}
		ev, err := estate.DecodeEvent(kept)
		if err != nil {
			return fmt.Errorf("estate of %q: semantic model %s: %w", r.e.Pipeline, id, err)
		}
		if m, ok := r.modelOfKept(&ev); ok {
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.log.Debug("models of the workspaces not rescanned, from the estate", "models", len(out))
	return out, nil
}

// modelOfKept is the Model, for refresh selection, of a semantic model's spec event as the
// estate kept it.
func (r *run) modelOfKept(ev *event.Event) (Model, bool) {
	s := ev.Spec
	if ev.Kind != event.KindSpec || s == nil {
		return Model{}, false
	}
	m := Model{
		Record: record.Record{Spec: spec.AssetSpec{Key: s.Key, Deps: s.Deps, Tags: s.Tags, PowerBI: s.PowerBI},
			Workspace: record.Workspace{ID: s.PowerBI.WorkspaceID, Name: s.PowerBI.WorkspaceName}},
		Source:  r.cov.source[strings.ToLower(s.PowerBI.WorkspaceID)],
		related: ev.Related,
	}
	if df, ok := s.Metadata[refresh.UpstreamDataflowsKey]; ok {
		m.Record.Spec.Metadata = map[string]spec.Metadata{refresh.UpstreamDataflowsKey: df}
	}
	if v, ok := s.Metadata[assets.NamespacePowerBI+"refreshable"].Value.(bool); ok {
		m.Record.Raw = json.RawMessage(fmt.Sprintf(`{"isRefreshable":%t}`, v))
	}
	if r.keepsSpec(&m.Record) {
		m.spec = refreshSpec(s)
	}
	return m, true
}

// encodedWriter is a sink that takes events in the protocol's encoding (sinkhost.Sink).
type encodedWriter interface {
	WriteEncoded(ctx context.Context, events [][]byte) error
}

// writeEncodedTo hands events in the protocol's encoding to the open outputs that to
// selects (each an encodedWriter).
func (r *run) writeEncodedTo(ctx context.Context, events [][]byte, to []bool) error {
	if len(events) == 0 {
		return nil
	}
	return r.fanOut(ctx, len(events), to, func(s Sink) error { return s.(encodedWriter).WriteEncoded(ctx, events) })
}

// carriedBatchBytes bounds the encoded size of a batch of carried events.
const carriedBatchBytes = 2 << 20

// writeTo hands events to the open outputs that to selects, as write does to every one.
func (r *run) writeTo(ctx context.Context, events []event.Event, to []bool) error {
	if len(events) == 0 {
		return nil
	}
	return r.fanOut(ctx, len(events), to, func(s Sink) error { return s.Write(ctx, events) })
}

// saveOutputMarks marks every output that completed this sync with the estate's new
// generation and its configuration.
func (r *run) saveOutputMarks(ctx context.Context) error {
	st, ok := r.e.State.(*state.Store)
	if !ok || st == nil {
		return nil
	}
	gen, _, err := st.EstateGeneration(ctx, r.e.Pipeline)
	if err != nil || gen == 0 {
		return err
	}
	for _, s := range r.all {
		if !s.Complete || s.Name == estateSinkName {
			continue
		}
		if err := st.SetOutputMark(ctx, r.e.Pipeline, s.Name, state.OutputMark{Fingerprint: r.e.outputFP[s.Name], Generation: gen}); err != nil {
			return err
		}
	}
	return nil
}

// outputFingerprint names an output's configuration: its YAML, so that any change to it
// (another path, another plugin, other options) makes it a new output.
func outputFingerprint(n config.Node) string {
	b, err := yaml.Marshal(n.Node)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
