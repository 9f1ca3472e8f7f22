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
// workspace may refer to one of theirs: a report to a shared semantic model, a tile to a
// report. When what events say of a rescanned asset changes (its key, because the model
// was renamed or a translator keys it by a property that changed; its tables; its web
// URL), the carried assets that refer to it would keep the old until the next full sync.
// So they are sent again, from the spec events the estate kept of them, with the new key
// in their deps and what the sync knows now of the changed assets in their Related: what
// a full sync would send of them.

// maxStaleScan is how many changed assets the kept events are searched for by id and
// key before every carried event is decoded instead.
const maxStaleScan = 64

// notePrevRelated keeps what the estate said of an asset this sync rescans, to tell
// after the sync whether it changed (knowCarriedRelated reads it).
func (r *run) notePrevRelated(rel event.Related) {
	if r.prevRelated == nil {
		r.prevRelated = map[state.AssetID]event.Related{}
	}
	r.prevRelated[state.IDOf(rel.PowerBI)] = rel
}

// changedRelated returns what events now say of the rescanned assets whose related
// changed, by identity, and the new keys of those whose key changed, by their old key
// (keyString).
func (r *run) changedRelated() (changed map[state.AssetID]*event.Related, rekeyed map[string]spec.Key) {
	changed, rekeyed = map[state.AssetID]*event.Related{}, map[string]spec.Key{}
	for id, prev := range r.prevRelated {
		now := r.rel.get(id)
		if now == nil || sameRelated(prev, *now) {
			continue
		}
		changed[id] = now
		if len(prev.Key) > 0 && !prev.Key.Equal(now.Key) {
			rekeyed[keyString(prev.Key)] = now.Key
		}
	}
	return changed, rekeyed
}

func sameRelated(a, b event.Related) bool {
	return a.Key.Equal(b.Key) && a.PowerBI == b.PowerBI && a.WebURL == b.WebURL &&
		slices.Equal(a.Tables, b.Tables) && slices.Equal(a.TableNames, b.TableNames)
}

// sendStaleDependents sends again, to every output, the carried assets whose deps name an
// old key of a rescanned asset or whose Related names a rescanned asset whose related
// changed. Without an estate there is nothing to send them from: the log says so, and
// the next full sync mends them.
func (r *run) sendStaleDependents(ctx context.Context) error {
	if r.cov == nil || !r.cov.partial {
		return nil
	}
	changed, rekeyed := r.changedRelated()
	if len(changed) == 0 {
		return nil
	}
	st, ok := r.e.State.(*state.Store)
	if !ok || r.estateGen == 0 {
		r.log.Warn("assets of workspaces this sync did not rescan may refer to assets that changed; without an estate they keep what they said of them until a full sync (--full)",
			"rekeyed", len(rekeyed), "changed", len(changed))
		return nil
	}
	// The kept bytes of a dependent hold the changed asset's id (in its Related) or the
	// old key's parts (in its deps): a cheap test before decoding, while they are few.
	var needles [][]byte
	if len(changed) <= maxStaleScan {
		for old := range rekeyed {
			parts := strings.Split(old, "\x00")
			needles = append(needles, []byte(parts[len(parts)-1]))
		}
		for id := range changed {
			needles = append(needles, []byte(id.ID))
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
		if refreshKept(&ev, changed, rekeyed) {
			events = append(events, ev)
		}
		return nil
	})
	if err != nil || len(events) == 0 {
		return err
	}
	r.log.Info("sending again the assets of workspaces not rescanned that refer to rescanned assets that changed (key, tables or web URL)",
		"assets", len(events), "rekeyed", len(rekeyed), "changed", len(changed))
	for i := range events {
		s := events[i].Spec
		r.rel.resent(s)
		r.res.Summary.Assets[string(s.PowerBI.Type)]++
		if s.PowerBI.Type == spec.SemanticModel && !r.noModels {
			if m, ok := r.modelOfKept(&events[i]); ok {
				r.models = append(r.models, m)
			}
		}
		events[i].Shared = &event.Shared{}
	}
	return r.write(ctx, events)
}

// refreshKept points a kept spec event's deps at the new keys of rekeyed and replaces its
// Related entries of the changed assets; it reports whether either changed.
func refreshKept(ev *event.Event, changed map[state.AssetID]*event.Related, rekeyed map[string]spec.Key) bool {
	if ev.Kind != event.KindSpec || ev.Spec == nil {
		return false
	}
	var deps []spec.Key
	for i, d := range ev.Spec.Deps {
		if k, ok := rekeyed[keyString(d)]; ok {
			if deps == nil {
				deps = slices.Clone(ev.Spec.Deps)
			}
			deps[i] = k
		}
	}
	var rel []event.Related
	for i := range ev.Related {
		if now := changed[state.IDOf(ev.Related[i].PowerBI)]; now != nil {
			if rel == nil {
				rel = slices.Clone(ev.Related)
			}
			rel[i] = *now
		}
	}
	if deps == nil && rel == nil {
		return false
	}
	if deps != nil {
		s := *ev.Spec
		s.Deps = deps
		ev.Spec = &s
	}
	if rel != nil {
		ev.Related = rel
	}
	return true
}
