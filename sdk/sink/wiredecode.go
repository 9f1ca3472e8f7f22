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
	batch, ok := onlyField(b, 1)
	if !ok {
		return parsedBatch(b, rawJSON)
	}
	var seq uint64
	var evs [][]byte
	seen := false
	for len(batch) > 0 {
		num, typ, n := protowire.ConsumeTag(batch)
		if n < 0 {
			return parsedBatch(b, rawJSON)
		}
		batch = batch[n:]
		switch {
		case num == 1 && typ == protowire.VarintType && !seen:
			v, n := protowire.ConsumeVarint(batch)
			if n < 0 {
				return parsedBatch(b, rawJSON)
			}
			seq, seen, batch = v, true, batch[n:]
			continue
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(batch)
			if n < 0 {
				return parsedBatch(b, rawJSON)
			}
			evs, batch = append(evs, v), batch[n:]
			continue
		case num == 1 || num == 2:
			return parsedBatch(b, rawJSON)
		}
		n = protowire.ConsumeFieldValue(num, typ, batch)
		if n < 0 {
			return parsedBatch(b, rawJSON)
		}
		batch = batch[n:]
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

// next returns the next field's number and wire type; false at the end or when bad.
func (r *reader) next() (protowire.Number, protowire.Type, bool) {
	if r.bad || len(r.b) == 0 {
		return 0, 0, false
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		r.bad = true
		return 0, 0, false
	}
	r.b = r.b[n:]
	return num, typ, true
}

// bytes reads a length-delimited value; want is the field's declared wire type.
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
	if *seen {
		r.bad = true
		return ""
	}
	*seen = true
	return r.str(typ)
}

func (r *reader) varint(typ protowire.Type) uint64 {
	if typ != protowire.VarintType {
		r.bad = true
		return 0
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) fixed64(typ protowire.Type) uint64 {
	if typ != protowire.Fixed64Type {
		r.bad = true
		return 0
	}
	v, n := protowire.ConsumeFixed64(r.b)
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
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			if specBody != nil {
				return e, false // merged by the generated code
			}
			specBody = r.bytes(typ)
			if specBody == nil {
				specBody = []byte{}
			}
		case 2, 3, 4:
			return e, false // another kind of event
		case 5:
			related = append(related, r.bytes(typ))
		default:
			r.skip(num, typ)
		}
	}
	if r.bad || specBody == nil {
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
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			if haveKey {
				return nil, false
			}
			haveKey = true
			k, ok := readKey(r.bytes(typ))
			r.bad = r.bad || !ok
			s.Key = k
		case 2:
			k, ok := readKey(r.bytes(typ))
			r.bad = r.bad || !ok
			s.Deps = append(s.Deps, k)
		case 3:
			s.Description = r.once(typ, &haveDesc)
		case 4:
			name, m, ok, err := readMetadataEntry(r.bytes(typ), rawJSON)
			if !ok || err != nil {
				// A value EventFromProto refuses: which error it gives (a later entry
				// of the same name may replace this one) is the generated code's to say.
				return nil, false
			}
			if s.Metadata == nil {
				s.Metadata = map[string]spec.Metadata{}
			}
			s.Metadata[name] = m
		case 5:
			k, v, ok := readStringEntry(r.bytes(typ))
			if !ok {
				return nil, false
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
			if havePBI {
				return nil, false
			}
			havePBI = true
			id, ok := readIdentity(r.bytes(typ))
			r.bad = r.bad || !ok
			s.PowerBI = id
		default:
			r.skip(num, typ)
		}
	}
	if r.bad {
		return nil, false
	}
	return s, true
}

// readKey reads a Key message; a key without parts is nil, as keyFromProto makes it.
func readKey(b []byte) (spec.Key, bool) {
	r := reader{b: b}
	var k spec.Key
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		if num == 1 {
			k = append(k, r.str(typ))
			continue
		}
		r.skip(num, typ)
	}
	return k, !r.bad
}

func readIdentity(b []byte) (spec.Identity, bool) {
	r := reader{b: b}
	var id spec.Identity
	var seen [6]bool
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			id.Type = spec.ContentType(r.once(typ, &seen[1]))
		case 2:
			id.ID = r.once(typ, &seen[2])
		case 3:
			id.Name = r.once(typ, &seen[3])
		case 4:
			id.WorkspaceID = r.once(typ, &seen[4])
		case 5:
			id.WorkspaceName = r.once(typ, &seen[5])
		default:
			r.skip(num, typ)
		}
	}
	return id, !r.bad
}

func readRelated(b []byte, out *event.Related) bool {
	r := reader{b: b}
	var haveKey, havePBI, haveURL bool
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			if haveKey {
				return false
			}
			haveKey = true
			k, ok := readKey(r.bytes(typ))
			r.bad = r.bad || !ok
			out.Key = k
		case 2:
			if havePBI {
				return false
			}
			havePBI = true
			id, ok := readIdentity(r.bytes(typ))
			r.bad = r.bad || !ok
			out.PowerBI = id
		case 3:
			out.WebURL = r.once(typ, &haveURL)
		case 4:
			out.Tables = append(out.Tables, r.str(typ))
		case 5:
			out.TableNames = append(out.TableNames, r.str(typ))
		default:
			r.skip(num, typ)
		}
	}
	return !r.bad
}

// readStringEntry reads a map<string, string> entry.
func readStringEntry(b []byte) (k, v string, ok bool) {
	r := reader{b: b}
	var haveK, haveV bool
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			k = r.once(typ, &haveK)
		case 2:
			v = r.once(typ, &haveV)
		default:
			r.skip(num, typ)
		}
	}
	return k, v, !r.bad
}

// readMetadataEntry reads a map<string, Metadata> entry and converts its value as
// metadataFromProto does; err is that conversion's.
func readMetadataEntry(b []byte, rawJSON bool) (name string, m spec.Metadata, ok bool, err error) {
	r := reader{b: b}
	var haveName bool
	var value []byte
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			name = r.once(typ, &haveName)
		case 2:
			if value != nil {
				return "", m, false, nil // merged by the generated code
			}
			if value = r.bytes(typ); value == nil {
				value = []byte{}
			}
		default:
			r.skip(num, typ)
		}
	}
	if r.bad {
		return "", m, false, nil
	}
	m, ok, err = readMetadata(value, rawJSON)
	return name, m, ok, err
}

// readMetadata reads a Metadata message: its one value.
func readMetadata(b []byte, rawJSON bool) (spec.Metadata, bool, error) {
	r := reader{b: b}
	var m spec.Metadata
	var jsonValue []byte
	values := 0
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		if num >= 1 && num <= 7 {
			if values++; values > 1 {
				return m, false, nil // the generated code keeps the last (or merges)
			}
		}
		switch num {
		case 1:
			m = spec.Text(r.str(typ))
		case 2:
			m = spec.URL(r.str(typ))
		case 3:
			m = spec.Int(int64(r.varint(typ)))
		case 4:
			m = spec.Float(math.Float64frombits(r.fixed64(typ)))
		case 5:
			m = spec.Bool(r.varint(typ) != 0)
		case 6:
			jsonValue = append([]byte{}, r.bytes(typ)...)
		case 7:
			t, ok := readTableSchema(r.bytes(typ))
			r.bad = r.bad || !ok
			m = spec.Schema(t)
		default:
			r.skip(num, typ)
		}
	}
	if r.bad {
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

func readTableSchema(b []byte) (spec.TableSchema, bool) {
	r := reader{b: b}
	// Counted first: one allocation for the columns (a large model has thousands).
	n := 0
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		if num == 1 {
			n++
			r.bytes(typ)
			continue
		}
		r.skip(num, typ)
	}
	if r.bad {
		return spec.TableSchema{}, false
	}
	t := spec.TableSchema{Columns: make([]spec.TableColumn, 0, n)}
	r = reader{b: b}
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		if num != 1 {
			r.skip(num, typ)
			continue
		}
		c, ok := readColumn(r.bytes(typ))
		if !ok {
			return spec.TableSchema{}, false
		}
		t.Columns = append(t.Columns, c)
	}
	return t, !r.bad
}

func readColumn(b []byte) (spec.TableColumn, bool) {
	r := reader{b: b}
	var c spec.TableColumn
	var seen [4]bool
	for {
		num, typ, more := r.next()
		if !more {
			break
		}
		switch num {
		case 1:
			c.Name = r.once(typ, &seen[1])
		case 2:
			c.Type = r.once(typ, &seen[2])
		case 3:
			c.Description = r.once(typ, &seen[3])
		default:
			r.skip(num, typ)
		}
	}
	return c, !r.bad
}
