package sink

import (
	"fmt"
	"math"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
)

// rawWriteRequest is what the Write stream receives into. Through the codec of
// ServerOptions it keeps the request's bytes (raw), which decodeBatch reads straight into
// events; through any other codec it is the WriteRequest it embeds, parsed as usual.
type rawWriteRequest struct {
	sinkpb.WriteRequest
	raw []byte
}

// wireCodec is the codec ServerOptions forces on a sink's server: a rawWriteRequest
// gets the bytes, every other message goes through the proto codec.
type wireCodec struct{}

func (wireCodec) Marshal(v any) (mem.BufferSlice, error) { return protoCodecV2().Marshal(v) }

func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawWriteRequest); ok {
		r.raw = data.Materialize() // a copy: data goes back to gRPC's pool
		return nil
	}
	return protoCodecV2().Unmarshal(data, v)
}

func (wireCodec) Name() string { return protocodec.Name }

func protoCodecV2() encoding.CodecV2 { return encoding.GetCodecV2(protocodec.Name) }

// rawBatches counts the batches received as bytes, for the test that they are.
var rawBatches atomic.Int64

// batchOf returns the events of a received request: decoded from its bytes when the
// codec kept them, else converted from the parsed message.
func batchOf(r *rawWriteRequest, rawJSON bool) (uint64, []event.Event, error) {
	if r.raw != nil {
		rawBatches.Add(1)
	}
	if r.raw == nil {
		b := r.GetBatch()
		events, err := eventsFromProto(b, rawJSON)
		return b.GetSeq(), events, err
	}
	return decodeBatch(r.raw, rawJSON)
}

func eventsFromProto(b *sinkpb.Batch, rawJSON bool) ([]event.Event, error) {
	events := make([]event.Event, len(b.GetEvents()))
	for i, pe := range b.GetEvents() {
		e, err := eventFrom(pe, rawJSON)
		if err != nil {
			return nil, fmt.Errorf("batch %d, event %d: %w", b.GetSeq(), i, err)
		}
		events[i] = e
	}
	return events, nil
}

// decodeBatch reads a WriteRequest's bytes into events: a spec event straight into
// its spec, which is most of what a sync sends (the generated code built a message of
// a million columns first, which was most of a plugin's work); anything else, or a
// request in a form the host does not write (a field twice, a wire type that does not
// match), through the generated code. Either way the events are those EventFromProto
// gives for the parsed message (TestDecodeBatchMatchesProto, FuzzDecodeEvent).
func decodeBatch(b []byte, rawJSON bool) (uint64, []event.Event, error) {
	seq, evs, ok := splitBatch(b)
	if !ok {
		return parsedBatch(b, rawJSON)
	}
	events := make([]event.Event, len(evs))
	for i, eb := range evs {
		e, err := decodeEvent(eb, rawJSON)
		if err != nil {
			return seq, nil, fmt.Errorf("batch %d, event %d: %w", seq, i, err)
		}
		events[i] = e
	}
	return seq, events, nil
}

// splitBatch returns a WriteRequest's sequence number and its events' bytes; ok is
// false for a request in a form the host does not write (a field twice, a wire type
// that does not match), which the generated code reads.
func splitBatch(b []byte) (seq uint64, evs [][]byte, ok bool) {
	batch, ok := onlyField(b, 1)
	if !ok {
		return 0, nil, false
	}
	seen := false
	for len(batch) > 0 {
		num, typ, n := protowire.ConsumeTag(batch)
		if n < 0 {
			return 0, nil, false
		}
		batch = batch[n:]
		switch {
		case num == 1 && typ == protowire.VarintType && !seen:
			v, n := protowire.ConsumeVarint(batch)
			if n < 0 {
				return 0, nil, false
			}
			seq, seen, batch = v, true, batch[n:]
			continue
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(batch)
			if n < 0 {
				return 0, nil, false
			}
			evs, batch = append(evs, v), batch[n:]
			continue
		case num == 1 || num == 2:
			return 0, nil, false
		}
		n = protowire.ConsumeFieldValue(num, typ, batch)
		if n < 0 {
			return 0, nil, false
		}
		batch = batch[n:]
	}
	return seq, evs, true
}

// parsedBatch is decodeBatch through the generated code.
func parsedBatch(b []byte, rawJSON bool) (uint64, []event.Event, error) {
	var r sinkpb.WriteRequest
	if err := proto.Unmarshal(b, &r); err != nil {
		return 0, nil, fmt.Errorf("the write request does not parse: %w", err)
	}
	events, err := eventsFromProto(r.GetBatch(), rawJSON)
	return r.GetBatch().GetSeq(), events, err
}

// onlyField returns the body of message b's one length-delimited field num, when b has
// that field once and no other.
func onlyField(b []byte, num protowire.Number) ([]byte, bool) {
	got, typ, n := protowire.ConsumeTag(b)
	if n < 0 || got != num || typ != protowire.BytesType {
		return nil, false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	return v, true
}

// decodeEvent reads one Event message: a spec event by readSpecEvent, any other
// through the generated code.
func decodeEvent(b []byte, rawJSON bool) (event.Event, error) {
	if e, ok := readSpecEvent(b, rawJSON); ok {
		return e, nil
	}
	var p sinkpb.Event
	if err := proto.Unmarshal(b, &p); err != nil {
		return event.Event{}, fmt.Errorf("the event does not parse: %w", err)
	}
	return eventFrom(&p, rawJSON)
}

// reader walks a message's fields. A field the generated code would read otherwise
// than by the simple rule (once for a singular field, in order for a repeated one, the
// wire type its declaration says, UTF-8 strings) sets bad, and the caller leaves the
// message to the generated code.
type reader struct {
	b   []byte
	bad bool
}

// each calls fn with every field's number and wire type, in order, until the end of
// the message or until it is bad; it reports whether the message read well. fn reads
// or skips the field's value.
func (r *reader) each(fn func(num protowire.Number, typ protowire.Type)) bool {
	for !r.bad && len(r.b) > 0 {
		num, typ, n := protowire.ConsumeTag(r.b)
		if n < 0 {
			r.bad = true
			break
		}
		r.b = r.b[n:]
		fn(num, typ)
	}
	return !r.bad
}

// bytes reads a length-delimited value; typ is the wire type the field came with.
func (r *reader) bytes(typ protowire.Type) []byte {
	if typ != protowire.BytesType {
		r.bad = true
		return nil
	}
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		r.bad = true
		return nil
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str(typ protowire.Type) string {
	v := r.bytes(typ)
	if !utf8.Valid(v) {
		r.bad = true // the generated code refuses it, with its own error
		return ""
	}
	return string(v)
}

// once reads a singular string field that must not repeat (seen tracks it).
func (r *reader) once(typ protowire.Type, seen *bool) string {
	v := r.onceBytes(typ, seen)
	if r.bad || !utf8.Valid(v) {
		r.bad = true // the generated code refuses it, with its own error
		return ""
	}
	return string(v)
}

// onceBytes reads a singular length-delimited field that must not repeat (seen tracks
// it), as its bytes.
func (r *reader) onceBytes(typ protowire.Type, seen *bool) []byte {
	if *seen {
		r.bad = true
		return nil
	}
	*seen = true
	return r.bytes(typ)
}

// onceMessage reads a singular message field into *dst: a second one is bad (the
// generated code would merge the two), and an empty one is present, not absent.
func (r *reader) onceMessage(typ protowire.Type, dst *[]byte) {
	if *dst != nil {
		r.bad = true
		return
	}
	if *dst = r.bytes(typ); *dst == nil {
		*dst = []byte{}
	}
}

// scalar reads a varint or fixed64 value: consume is protowire's reader of want.
func (r *reader) scalar(typ, want protowire.Type, consume func([]byte) (uint64, int)) uint64 {
	if typ != want {
		r.bad = true
		return 0
	}
	v, n := consume(r.b)
	if n < 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// skip passes over a field the message does not declare (the generated code keeps it
// as unknown and nothing reads it).
func (r *reader) skip(num protowire.Number, typ protowire.Type) {
	n := protowire.ConsumeFieldValue(num, typ, r.b)
	if n < 0 {
		r.bad = true
		return
	}
	r.b = r.b[n:]
}

// readSpecEvent reads an Event message that holds a spec. ok is false when it holds
// another kind, is not in the simple form (reader), or has a value EventFromProto
// refuses: the generated code then reads it and says why.
func readSpecEvent(b []byte, rawJSON bool) (e event.Event, ok bool) {
	r := reader{b: b}
	var specBody []byte
	var related [][]byte
	other := false
	r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			r.onceMessage(typ, &specBody)
		case 2, 3, 4:
			other = true // another kind of event
			r.bad = true
		case 5:
			related = append(related, r.bytes(typ))
		default:
			r.skip(num, typ)
		}
	})
	if r.bad || other || specBody == nil {
		return e, false
	}
	s, ok := readSpec(specBody, rawJSON)
	if !ok {
		return e, false
	}
	e = event.Event{Kind: event.KindSpec, Spec: s}
	if len(related) > 0 {
		e.Related = make([]event.Related, len(related))
		for i, rb := range related {
			if !readRelated(rb, &e.Related[i]) {
				return event.Event{}, false
			}
		}
	}
	return e, true
}

func readSpec(b []byte, rawJSON bool) (*spec.AssetSpec, bool) {
	s := &spec.AssetSpec{}
	r := reader{b: b}
	var haveKey, haveDesc, haveGroup, havePBI bool
	ok := r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			s.Key = r.key(typ, &haveKey)
		case 2:
			var fresh bool
			s.Deps = append(s.Deps, r.key(typ, &fresh))
		case 3:
			s.Description = r.once(typ, &haveDesc)
		case 4:
			name, m, ok, err := readMetadataEntry(r.bytes(typ), rawJSON)
			if !ok || err != nil {
				// A value EventFromProto refuses: which error it gives (a later entry
				// of the same name may replace this one) is the generated code's to say.
				r.bad = true
				return
			}
			if s.Metadata == nil {
				s.Metadata = map[string]spec.Metadata{}
			}
			s.Metadata[name] = m
		case 5:
			var k, v string
			if body := r.bytes(typ); !readStrings(body, &k, &v) {
				r.bad = true
			}
			if s.Tags == nil {
				s.Tags = map[string]string{}
			}
			s.Tags[k] = v
		case 6:
			s.Kinds = append(s.Kinds, r.str(typ))
		case 7:
			s.Owners = append(s.Owners, r.str(typ))
		case 8:
			s.Group = r.once(typ, &haveGroup)
		case 9:
			s.PowerBI = r.identity(typ, &havePBI)
		default:
			r.skip(num, typ)
		}
	})
	return s, ok
}

// key reads a singular Key field (seen tracks it); a key without parts is nil, as
// keyFromProto makes it.
func (r *reader) key(typ protowire.Type, seen *bool) spec.Key {
	if *seen {
		r.bad = true // merged by the generated code
		return nil
	}
	*seen = true
	k := reader{b: r.bytes(typ)}
	var parts spec.Key
	if !k.each(func(num protowire.Number, typ protowire.Type) {
		if num == 1 {
			parts = append(parts, k.str(typ))
			return
		}
		k.skip(num, typ)
	}) {
		r.bad = true
	}
	return parts
}

// identity reads a singular Identity field (seen tracks it).
func (r *reader) identity(typ protowire.Type, seen *bool) spec.Identity {
	if *seen {
		r.bad = true
		return spec.Identity{}
	}
	*seen = true
	var id spec.Identity
	var t string
	if body := r.bytes(typ); !readStrings(body, &t, &id.ID, &id.Name, &id.WorkspaceID, &id.WorkspaceName) {
		r.bad = true
	}
	id.Type = spec.ContentType(t)
	return id
}

// readStrings reads a message of singular string fields numbered 1, 2, ... into dst in
// that order (Identity, TableColumn, a map<string, string> entry).
func readStrings(b []byte, dst ...*string) bool {
	return readFields(b, len(dst), func(i int, v []byte) { *dst[i] = string(v) })
}

// readBytes is readStrings without the copies: the fields' bytes.
func readBytes(b []byte, dst ...*[]byte) bool {
	return readFields(b, len(dst), func(i int, v []byte) { *dst[i] = v })
}

// readFields reads a message of n singular string fields numbered 1 to n, each once and
// UTF-8, passing set the field's index (from 0) and bytes; other fields are skipped.
func readFields(b []byte, n int, set func(i int, v []byte)) bool {
	r := reader{b: b}
	var seen uint64
	return r.each(func(num protowire.Number, typ protowire.Type) {
		if num < 1 || int(num) > n {
			r.skip(num, typ)
			return
		}
		if seen&(1<<num) != 0 {
			r.bad = true
			return
		}
		seen |= 1 << num
		v := r.bytes(typ)
		if !utf8.Valid(v) {
			r.bad = true // the generated code refuses it, with its own error
			return
		}
		set(int(num)-1, v)
	})
}

func readRelated(b []byte, out *event.Related) bool {
	r := reader{b: b}
	var haveKey, havePBI, haveURL bool
	return r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			out.Key = r.key(typ, &haveKey)
		case 2:
			out.PowerBI = r.identity(typ, &havePBI)
		case 3:
			out.WebURL = r.once(typ, &haveURL)
		case 4:
			out.Tables = append(out.Tables, r.str(typ))
		case 5:
			out.TableNames = append(out.TableNames, r.str(typ))
		default:
			r.skip(num, typ)
		}
	})
}

// readMetadataEntry reads a map<string, Metadata> entry and converts its value as
// metadataFromProto does; err is that conversion's.
func readMetadataEntry(b []byte, rawJSON bool) (name string, m spec.Metadata, ok bool, err error) {
	nb, value, ok := metadataEntry(b)
	if !ok || !utf8.Valid(nb) {
		return "", m, false, nil // the generated code refuses it, with its own error
	}
	m, ok, err = readMetadata(value, rawJSON)
	return string(nb), m, ok, err
}

// metadataEntry reads a map entry of AssetSpec.metadata: its name (field 1) and its
// Metadata message (field 2), each at most once.
func metadataEntry(b []byte) (name, value []byte, ok bool) {
	r := reader{b: b}
	var haveName bool
	ok = r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			name = r.onceBytes(typ, &haveName)
		case 2:
			r.onceMessage(typ, &value)
		default:
			r.skip(num, typ)
		}
	})
	return name, value, ok
}

// readMetadata reads a Metadata message: its one value.
func readMetadata(b []byte, rawJSON bool) (spec.Metadata, bool, error) {
	r := reader{b: b}
	var m spec.Metadata
	var jsonValue []byte
	values := 0
	if !r.each(func(num protowire.Number, typ protowire.Type) {
		if num >= 1 && num <= 7 {
			if values++; values > 1 {
				r.bad = true // the generated code keeps the last (or merges)
				return
			}
		}
		switch num {
		case 1:
			m = spec.Text(r.str(typ))
		case 2:
			m = spec.URL(r.str(typ))
		case 3:
			m = spec.Int(int64(r.scalar(typ, protowire.VarintType, protowire.ConsumeVarint)))
		case 4:
			m = spec.Float(math.Float64frombits(r.scalar(typ, protowire.Fixed64Type, protowire.ConsumeFixed64)))
		case 5:
			m = spec.Bool(r.scalar(typ, protowire.VarintType, protowire.ConsumeVarint) != 0)
		case 6:
			jsonValue = append([]byte{}, r.bytes(typ)...)
		case 7:
			m = spec.Schema(r.tableSchema(typ))
		default:
			r.skip(num, typ)
		}
	}) {
		return m, false, nil
	}
	if values == 0 {
		return m, true, fmt.Errorf("metadata without a value")
	}
	if jsonValue != nil {
		m, err := jsonMetadata(jsonValue, rawJSON)
		return m, true, err
	}
	return m, true, nil
}

// tableSchema reads a TableSchema field: its columns, counted first for one
// allocation (a large model has thousands).
func (r *reader) tableSchema(typ protowire.Type) spec.TableSchema {
	b := r.bytes(typ)
	n := 0
	count := reader{b: b}
	if !count.each(func(num protowire.Number, typ protowire.Type) {
		if num == 1 {
			n++
		}
		count.skip(num, typ)
	}) {
		r.bad = true
		return spec.TableSchema{}
	}
	t := spec.TableSchema{Columns: make([]spec.TableColumn, 0, n)}
	cols := reader{b: b}
	if !cols.each(func(num protowire.Number, typ protowire.Type) {
		if num != 1 {
			cols.skip(num, typ)
			return
		}
		var c spec.TableColumn
		if body := cols.bytes(typ); !readStrings(body, &c.Name, &c.Type, &c.Description) {
			cols.bad = true
		}
		t.Columns = append(t.Columns, c)
	}) {
		r.bad = true
	}
	return t
}
