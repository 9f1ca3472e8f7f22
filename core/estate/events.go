package estate

import (
	"fmt"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/klauspost/compress/s2"
	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
	"google.golang.org/protobuf/proto"
)

// The estate keeps each asset's spec event as the outputs received it (its spec and the
// related assets the host resolved), so that an incremental sync can send an output that
// needs the whole estate the assets it did not rescan without asking the service. The
// form is the sink protocol's (sinkpb.Event), S2-compressed: it is what a plugin is sent,
// it decodes several times faster than JSON, and S2 shrinks the repeated names in it at
// a cost well under the encoding's. What other events say of the asset (event.Related)
// is kept beside it, as a sinkpb.Related.

// RelatedOf is what other events say of an asset that refers to it (event.Related).
func RelatedOf(s *spec.AssetSpec) event.Related {
	r := event.Related{Key: s.Key, PowerBI: s.PowerBI}
	if u, ok := s.Metadata[assets.MetaWebURL].Value.(string); ok {
		r.WebURL = u
	}
	if s.PowerBI.Type == spec.SemanticModel {
		r.Tables, r.TableNames = assets.TableNames(s), assets.TableNamesAsNamed(s)
	}
	return r
}

// EncodeEvent is the kept form of a spec event.
func EncodeEvent(ev *event.Event) ([]byte, error) {
	// The same bytes the outputs are sent (made once per event).
	b, err := sink.EventBytesShared(ev)
	if err != nil {
		return nil, err
	}
	return s2.Encode(nil, b), nil
}

// keptEncoder compresses kept events into a scratch space it reuses, which would
// otherwise be allocated (and collected) once per event, larger than what is kept.
type keptEncoder struct {
	packed []byte
}

// appendPacked appends the S2 block of b to dst.
func (e *keptEncoder) appendPacked(dst, b []byte) []byte {
	if n := s2.MaxEncodedLen(len(b)); cap(e.packed) < n {
		e.packed = make([]byte, n)
	}
	return append(dst, s2.Encode(e.packed[:cap(e.packed)], b)...)
}

// KeptSize is the size of a kept event once decoded (its protocol encoding), for callers
// that bound what they hold by bytes.
func KeptSize(b []byte) int {
	n, err := s2.DecodedLen(b)
	if err != nil {
		return len(b)
	}
	return n
}

// DecodeEventBytes reads an event kept by EncodeEvent as its encoding in the protocol,
// for a host that sends it on as it is. Its top level is checked: a spec event, whole.
func DecodeEventBytes(b []byte) ([]byte, error) {
	raw, err := s2.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("kept event: %w", err)
	}
	spec := false
	for rest := raw; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, fmt.Errorf("kept event: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, fmt.Errorf("kept event: %w", protowire.ParseError(m))
		}
		spec = spec || (num == eventSpecField && typ == protowire.BytesType)
		rest = rest[n+m:]
	}
	if !spec {
		return nil, fmt.Errorf("kept event: not a spec event")
	}
	return raw, nil
}

// eventSpecField is Event.spec's field number (sink.proto).
const eventSpecField = 1

// DecodeEventProto reads an event kept by EncodeEvent in the protocol's form, as a sink
// plugin is sent it.
func DecodeEventProto(b []byte) (*sinkpb.Event, error) {
	raw, err := s2.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("kept event: %w", err)
	}
	p := &sinkpb.Event{}
	if err := proto.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("kept event: %w", err)
	}
	if p.GetSpec() == nil {
		return nil, fmt.Errorf("kept event: not a spec event")
	}
	return p, nil
}

// DecodeEvent reads an event kept by EncodeEvent.
func DecodeEvent(b []byte) (event.Event, error) {
	p, err := DecodeEventProto(b)
	if err != nil {
		return event.Event{}, err
	}
	ev, err := sink.EventFromProto(p)
	if err != nil {
		return ev, fmt.Errorf("kept event: %w", err)
	}
	if ev.Kind != event.KindSpec || ev.Spec == nil {
		return ev, fmt.Errorf("kept event: not a spec event (kind %q)", ev.Kind)
	}
	return ev, nil
}

// EncodeRelated is the kept form of what other events say of an asset.
func EncodeRelated(r event.Related) ([]byte, error) { return appendRelated(nil, r) }

// appendRelated appends the kept form of what other events say of an asset to dst.
func appendRelated(dst []byte, r event.Related) ([]byte, error) {
	return proto.MarshalOptions{}.MarshalAppend(dst, &sinkpb.Related{Key: &sinkpb.Key{Parts: r.Key}, WebUrl: r.WebURL, Tables: r.Tables, TableNames: r.TableNames,
		Powerbi: &sinkpb.Identity{Type: string(r.PowerBI.Type), Id: r.PowerBI.ID, Name: r.PowerBI.Name, WorkspaceId: r.PowerBI.WorkspaceID, WorkspaceName: r.PowerBI.WorkspaceName}})
}

// DecodeRelated reads what EncodeRelated kept.
func DecodeRelated(b []byte) (event.Related, error) {
	var p sinkpb.Related
	if err := proto.Unmarshal(b, &p); err != nil {
		return event.Related{}, fmt.Errorf("kept related asset: %w", err)
	}
	id := p.GetPowerbi()
	return event.Related{Key: spec.Key(p.GetKey().GetParts()), WebURL: p.GetWebUrl(), Tables: p.GetTables(), TableNames: p.GetTableNames(),
		PowerBI: spec.Identity{Type: spec.ContentType(id.GetType()), ID: id.GetId(), Name: id.GetName(), WorkspaceID: id.GetWorkspaceId(), WorkspaceName: id.GetWorkspaceName()}}, nil
}
