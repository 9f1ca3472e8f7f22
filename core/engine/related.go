package engine

import (
	"encoding/json"
	"strings"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Events are self-contained: the engine resolves the assets each spec refers to (its
// deps and the ids its metadata names) into the event's Related, from everything the
// sync has sent, so a sink never needs to remember an earlier event, and a restarted
// sink that is sent only the unacknowledged batches writes what a clean one writes.
//
// The builder sends an asset's deps before the asset; ids named only in metadata (a
// tile's model) may come later, from another workspace of a later batch: an event whose
// references are not all known yet is held until they are, or until the sync's last
// batch, so the output does not depend on the order in which the tenant was read.

// relatedIndex knows what the sync sent of every asset, by Power BI identity.
type relatedIndex struct {
	sent    map[state.AssetID]*event.Related // nil value: the asset was dropped
	waiting map[state.AssetID][]*heldEvent
	held    []*heldEvent
}

// heldEvent is a spec event waiting for the assets it refers to.
type heldEvent struct {
	ev      event.Event
	refs    []record.Ref
	missing int
	done    bool
}

func newRelatedIndex() *relatedIndex {
	return &relatedIndex{sent: map[state.AssetID]*event.Related{}, waiting: map[state.AssetID][]*heldEvent{}}
}

// relatedOf is what other events say of an asset.
func relatedOf(s *spec.AssetSpec) *event.Related {
	r := estate.RelatedOf(s)
	return &r
}

// knowCarried tells the index what the estate says of the assets an incremental sync
// carries, so that the events of rescanned assets that refer to them are complete.
func (x *relatedIndex) knowCarried(rel event.Related) {
	r := &rel
	x.sent[state.IDOf(r.PowerBI)], x.sent[anyType(r.PowerBI)] = r, r
}

func refID(r record.Ref) state.AssetID { return state.AssetID{Type: r.Type, ID: r.ID} }

// anyType is the index key of an asset by id alone, for refs without a type.
func anyType(id spec.Identity) state.AssetID { return state.AssetID{ID: id.ID} }

// dropped records that a translator dropped an asset: nothing will refer to it.
func (x *relatedIndex) dropped(id spec.Identity, out *[]event.Event) {
	for _, aid := range []state.AssetID{state.IDOf(id), anyType(id)} {
		if _, ok := x.sent[aid]; !ok {
			x.sent[aid] = nil
			x.release(aid, out)
		}
	}
}

// add records a spec about to be sent and appends its event to out, with its related
// assets, or holds it; events it completes follow it. It returns what it recorded.
func (x *relatedIndex) add(s *spec.AssetSpec, refs []record.Ref, out *[]event.Event) *event.Related {
	aid := state.IDOf(s.PowerBI)
	rel := relatedOf(s)
	x.sent[aid], x.sent[anyType(s.PowerBI)] = rel, rel
	h := &heldEvent{ev: event.Event{Kind: event.KindSpec, Spec: s}, refs: refs}
	for _, r := range refs {
		if _, known := x.sent[refID(r)]; !known {
			h.missing++
			x.waiting[refID(r)] = append(x.waiting[refID(r)], h)
		}
	}
	if h.missing == 0 {
		*out = append(*out, x.finish(h))
	} else {
		// s is an element of its part's records, whose raw properties are slices
		// of the batch's scan document: a held event keeps a copy of the spec, not
		// the records, and with them the document, while it waits.
		c := *s
		h.ev.Spec = &c
		x.held = append(x.held, h)
	}
	x.release(aid, out)
	x.release(anyType(s.PowerBI), out)
	return rel
}

// release sends the held events that were waiting only for aid.
func (x *relatedIndex) release(aid state.AssetID, out *[]event.Event) {
	ws := x.waiting[aid]
	if len(ws) == 0 {
		return
	}
	delete(x.waiting, aid)
	for _, h := range ws {
		if h.missing--; h.missing == 0 && !h.done {
			*out = append(*out, x.finish(h))
		}
	}
	x.compact()
}

// flush sends every held event with what is known: the rest of the estate never came.
func (x *relatedIndex) flush(out *[]event.Event) {
	for _, h := range x.held {
		if !h.done {
			*out = append(*out, x.finish(h))
		}
	}
	x.held = nil
	clear(x.waiting)
}

func (x *relatedIndex) finish(h *heldEvent) event.Event {
	h.done = true
	ev := h.ev
	for _, r := range h.refs {
		if rel := x.sent[refID(r)]; rel != nil {
			ev.Related = append(ev.Related, *rel)
		}
	}
	return ev
}

func (x *relatedIndex) compact() {
	n := 0
	for _, h := range x.held {
		if !h.done {
			x.held[n] = h
			n++
		}
	}
	clear(x.held[n:])
	x.held = x.held[:n]
}

// related returns what the index knows of the assets refs name.
func (x *relatedIndex) related(refs []record.Ref) []event.Related {
	var out []event.Related
	for _, r := range refs {
		if rel := x.sent[refID(r)]; rel != nil {
			out = append(out, *rel)
		}
	}
	return out
}

// refreshSpec is what a refresh event carries of its model: the spec's key, deps,
// identity, and the metadata that describe its tables (column schemas, table names,
// table lineage, web URL). It is kept encoded: a byte slice holds no pointers for the
// garbage collector to follow, for models that may never be refreshed.
func refreshSpec(s *spec.AssetSpec) []byte {
	kept := spec.AssetSpec{Key: s.Key, Deps: s.Deps, PowerBI: s.PowerBI, Description: s.Description,
		Metadata: map[string]spec.Metadata{}}
	for name, md := range s.Metadata {
		if md.Type == spec.TypeTableSchema || name == assets.MetaTableName || name == assets.MetaWebURL ||
			name == assets.NamespacePowerBI+"table_lineage" || strings.HasSuffix(name, "_column_schema") {
			kept.Metadata[name] = md
		}
	}
	b, err := json.Marshal(&kept)
	if err != nil {
		return nil // a spec that does not encode reached no sink either
	}
	return b
}
