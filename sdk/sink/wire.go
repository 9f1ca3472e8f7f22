package sink

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// appendSpecEvent appends the protocol encoding of a spec event straight from the spec:
// the bytes proto.MarshalOptions{Deterministic: true}.Marshal(EventToProto(e)) writes
// (TestSpecEventWireMatchesProto), without building the message first. A sync encodes
// 35,000 specs with a million columns and hundreds of megabytes of JSON metadata, and
// the message (with every json value encoded once more into its own slice) was most of
// what that cost. It fails where EventToProto or proto.Marshal would: a metadata value
// of the wrong Go type, a json value that does not encode, a string that is not UTF-8.
func appendSpecEvent(b []byte, e *event.Event) ([]byte, error) {
	w := wire{b: b}
	// The generated code writes the oneof (Event.spec, field 1) after the other fields.
	for i := range e.Related {
		r := &e.Related[i]
		at := w.open(5) // Event.related
		w.key(1, r.Key)
		w.identity(2, r.PowerBI)
		w.str(3, r.WebURL)
		w.strs(4, r.Tables)
		w.strs(5, r.TableNames)
		w.close(at)
	}
	at := w.open(1)
	w.spec(e.Spec)
	w.close(at)
	if w.err != nil {
		return b, fmt.Errorf("asset %s: %w", e.Spec.Key, w.err)
	}
	return w.b, nil
}

// wire appends protobuf fields; the first error stops it (later calls are no-ops on
// the bytes' meaning, and the caller drops them).
type wire struct {
	b   []byte
	err error
}

// open begins a length-delimited field whose length is not known yet: its tag and one
// byte for the length, which close writes.
func (w *wire) open(num protowire.Number) int {
	w.b = protowire.AppendTag(w.b, num, protowire.BytesType)
	w.b = append(w.b, 0)
	return len(w.b)
}

// close writes the length of the field open returned start for, moving its body up
// when the length takes more than the one byte kept for it.
func (w *wire) close(start int) {
	n := len(w.b) - start
	if n < 0x80 {
		w.b[start-1] = byte(n)
		return
	}
	k := protowire.SizeVarint(uint64(n))
	w.b = slices.Grow(w.b, k-1)[:len(w.b)+k-1]
	copy(w.b[start-1+k:], w.b[start:start+n])
	protowire.AppendVarint(w.b[:start-1], uint64(n))
}

// utf8 reports whether s may go into a string field, which proto3 holds to UTF-8.
func (w *wire) utf8(s string) bool {
	if utf8.ValidString(s) {
		return true
	}
	if w.err == nil {
		if len(s) > 60 {
			s = s[:60] + "…"
		}
		w.err = fmt.Errorf("string %q is not valid UTF-8", s)
	}
	return false
}

// str writes a proto3 string field: nothing when empty.
func (w *wire) str(num protowire.Number, s string) {
	if s != "" {
		w.strAlways(num, s)
	}
}

// strAlways writes a string field even when empty, as a oneof member, a repeated
// element or a map entry's key or value is.
func (w *wire) strAlways(num protowire.Number, s string) {
	if !w.utf8(s) {
		return
	}
	w.b = protowire.AppendTag(w.b, num, protowire.BytesType)
	w.b = protowire.AppendString(w.b, s)
}

func (w *wire) strs(num protowire.Number, l []string) {
	for _, s := range l {
		w.strAlways(num, s)
	}
}

// key writes a Key message; keyToProto makes one for every key, nil included.
func (w *wire) key(num protowire.Number, k spec.Key) {
	at := w.open(num)
	w.strs(1, k)
	w.close(at)
}

func (w *wire) identity(num protowire.Number, id spec.Identity) {
	at := w.open(num)
	w.str(1, string(id.Type))
	w.str(2, id.ID)
	w.str(3, id.Name)
	w.str(4, id.WorkspaceID)
	w.str(5, id.WorkspaceName)
	w.close(at)
}

func (w *wire) spec(s *spec.AssetSpec) {
	w.key(1, s.Key)
	for _, d := range s.Deps {
		w.key(2, d)
	}
	w.str(3, s.Description)
	// Map keys in order, sorted in an array on the stack (most specs have few).
	var names [48]string
	if len(s.Metadata) > 0 {
		for _, name := range sortedKeys(names[:0], s.Metadata) {
			at := w.open(4) // a map entry: key 1, value 2
			w.strAlways(1, name)
			v := w.open(2)
			if err := w.metadata(s.Metadata[name]); err != nil && w.err == nil {
				w.err = fmt.Errorf("metadata %q: %w", name, err)
			}
			w.close(v)
			w.close(at)
		}
	}
	if len(s.Tags) > 0 {
		for _, k := range sortedKeys(names[:0], s.Tags) {
			at := w.open(5)
			w.strAlways(1, k)
			w.strAlways(2, s.Tags[k])
			w.close(at)
		}
	}
	w.strs(6, s.Kinds)
	w.strs(7, s.Owners)
	w.str(8, s.Group)
	w.identity(9, s.PowerBI)
}

// sortedKeys appends m's keys to dst, sorted.
func sortedKeys[V any](dst []string, m map[string]V) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// metadata writes a Metadata message's one value, as metadataToProto converts it.
func (w *wire) metadata(m spec.Metadata) error {
	switch m.Type {
	case spec.TypeText, spec.TypeURL:
		if s, ok := m.Value.(string); ok {
			num := protowire.Number(1)
			if m.Type == spec.TypeURL {
				num = 2
			}
			w.strAlways(num, s)
			return nil
		}
	case spec.TypeInt:
		if n, ok := intValue(m.Value); ok {
			w.b = protowire.AppendTag(w.b, 3, protowire.VarintType)
			w.b = protowire.AppendVarint(w.b, uint64(n))
			return nil
		}
	case spec.TypeFloat:
		if f, ok := floatValue(m.Value); ok {
			w.b = protowire.AppendTag(w.b, 4, protowire.Fixed64Type)
			w.b = protowire.AppendFixed64(w.b, math.Float64bits(f))
			return nil
		}
	case spec.TypeBool:
		if v, ok := m.Value.(bool); ok {
			w.b = protowire.AppendTag(w.b, 5, protowire.VarintType)
			w.b = protowire.AppendVarint(w.b, protowire.EncodeBool(v))
			return nil
		}
	case spec.TypeJSON:
		at := w.open(6)
		b, ok := jsonenc.Append(w.b, m.Value, true)
		if !ok {
			enc, err := json.Marshal(m.Value)
			if err != nil {
				return fmt.Errorf("json value: %w", err)
			}
			b = append(w.b[:at], enc...)
		}
		w.b = b
		w.close(at)
		return nil
	case spec.TypeTableSchema:
		if t, ok := m.Value.(spec.TableSchema); ok {
			at := w.open(7)
			for i := range t.Columns {
				c := &t.Columns[i]
				col := w.open(1)
				w.str(1, c.Name)
				w.str(2, c.Type)
				w.str(3, c.Description)
				w.close(col)
			}
			w.close(at)
			return nil
		}
	default:
		return fmt.Errorf("unknown metadata type %q", m.Type)
	}
	return fmt.Errorf("%s value of Go type %T", m.Type, m.Value)
}
