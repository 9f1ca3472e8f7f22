package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// An incremental sync rescans only the workspaces that changed, but an asset of another
// workspace may depend on one of theirs: a report on a shared semantic model, a tile on a
// report. When a rescanned asset's key changes (the model was renamed, or a translator
// keys it by a property that changed), the carried dependents would keep naming the old
// key until the next full sync. So they are sent again, from the spec events the estate
// kept of them, with the new key in their deps and what the sync knows now of the
// renamed assets in their Related: what a full sync would send of them.

// rekeyedAsset is the new key of an asset whose key changed.
type rekeyedAsset struct {
	key spec.Key
}

// maxRekeyedScan is how many rekeyed assets the kept events are searched for by key
// before every carried event is decoded instead.
const maxRekeyedScan = 64

// noteRekeyed records s's old key when s is an asset of the previous sync whose key
// changed.
func (r *run) noteRekeyed(s *spec.AssetSpec) {
	if r.cov == nil || !r.cov.partial {
		return
	}
	a, ok := r.cov.prev[state.IDOf(s.PowerBI)]
	if !ok || len(a.Key) == 0 || a.Key.Equal(s.Key) {
		return
	}
	if r.rekeyed == nil {
		r.rekeyed = map[string]rekeyedAsset{}
	}
	r.rekeyed[keyString(a.Key)] = rekeyedAsset{key: s.Key}
}

// sendRekeyedDependents sends again, to every output, the carried assets whose deps name
// an old key of r.rekeyed. Without an estate there is nothing to send them from: the log
// says so, and the next full sync mends them.
func (r *run) sendRekeyedDependents(ctx context.Context) error {
	if len(r.rekeyed) == 0 || r.cov == nil || !r.cov.partial {
		return nil
	}
	st, ok := r.e.State.(*state.Store)
	if !ok || r.estateGen == 0 {
		r.log.Warn("assets of workspaces this sync did not rescan may depend on assets whose key changed; without an estate they keep the old key until a full sync (--full)", "rekeyed", len(r.rekeyed))
		return nil
	}
	// The kept bytes of a dependent hold the old key's parts (in its deps): a cheap test
	// before decoding, while the rekeyed are few.
	var needles [][]byte
	if len(r.rekeyed) <= maxRekeyedScan {
		for old := range r.rekeyed {
			parts := strings.Split(old, "\x00")
			needles = append(needles, []byte(parts[len(parts)-1]))
		}
	}
	var events []event.Event
	err := st.EstateEvents(ctx, r.e.Pipeline, r.estateGen, func(typ, id string, kept []byte) error {
		aid := state.AssetID{Type: spec.ContentType(typ), ID: id}
		if !r.carriedUnsent(aid) {
			return nil
		}
		if needles != nil {
			raw, err := estate.DecodeEventBytes(kept)
			if err != nil {
				return fmt.Errorf("estate of %q: %s %s: %w", r.e.Pipeline, typ, id, err)
			}
			if !slices.ContainsFunc(needles, func(b []byte) bool { return bytes.Contains(raw, b) }) {
				return nil
			}
		}
		ev, err := estate.DecodeEvent(kept)
		if err != nil {
			return fmt.Errorf("estate of %q: %s %s: %w", r.e.Pipeline, typ, id, err)
		}
		if r.rekey(&ev) {
			events = append(events, ev)
		}
		return nil
	})
	if err != nil || len(events) == 0 {
		return err
	}
	r.log.Info("sending again the assets of workspaces not rescanned that depend on assets whose key changed", "assets", len(events), "rekeyed", len(r.rekeyed))
	for i := range events {
		s := events[i].Spec
		r.seen[state.IDOf(s.PowerBI)] = relatedOf(s)
		r.res.Summary.Assets[string(s.PowerBI.Type)]++
		if s.PowerBI.Type == spec.SemanticModel {
			if m, ok := r.modelOfKept(&events[i]); ok {
				r.models = append(r.models, m)
			}
		}
		events[i].Shared = &event.Shared{}
	}
	return r.write(ctx, events)
}

// rekey points a kept spec event's deps at the new keys of r.rekeyed, and refreshes
// its Related entries of the rekeyed assets; it reports whether a dep changed.
func (r *run) rekey(ev *event.Event) bool {
	if ev.Kind != event.KindSpec || ev.Spec == nil {
		return false
	}
	changed := false
	deps := slices.Clone(ev.Spec.Deps)
	for i, d := range deps {
		if a, ok := r.rekeyed[keyString(d)]; ok {
			deps[i], changed = a.key, true
		}
	}
	if !changed {
		return false
	}
	s := *ev.Spec
	s.Deps = deps
	ev.Spec = &s
	rel := slices.Clone(ev.Related)
	for i := range rel {
		if now := r.rel.sent[state.IDOf(rel[i].PowerBI)]; now != nil {
			rel[i] = *now
		}
	}
	ev.Related = rel
	return true
}
