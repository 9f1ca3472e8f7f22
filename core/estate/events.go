package estate

import (
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// The estate keeps each asset's spec event as the outputs received it (its spec and the
// related assets the host resolved), so that an incremental sync can send an output that
// needs the whole estate the assets it did not rescan without asking the service. The
// form is the event's JSON (the JSON Lines format), S2-compressed: specs are mostly
// repeated keys and column names, which S2 shrinks about 4x at a cost well under the
// JSON encoding's.

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
	js, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return s2.Encode(nil, js), nil
}

// DecodeEvent reads an event kept by EncodeEvent.
func DecodeEvent(b []byte) (event.Event, error) {
	var ev event.Event
	js, err := s2.Decode(nil, b)
	if err != nil {
		return ev, fmt.Errorf("kept event: %w", err)
	}
	if err := json.Unmarshal(js, &ev); err != nil {
		return ev, fmt.Errorf("kept event: %w", err)
	}
	if ev.Kind != event.KindSpec || ev.Spec == nil {
		return ev, fmt.Errorf("kept event: not a spec event (kind %q)", ev.Kind)
	}
	return ev, nil
}
