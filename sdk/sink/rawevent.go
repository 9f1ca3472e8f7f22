package sink

import (
	"context"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// RawBatchWriter is implemented by a sink that takes a batch's events as the host sent
// them, to decode only those it needs to: the kit calls WriteRawBatch instead of
// WriteBatch. A sink that writes specs as JSON (the jsonl sink) writes most of them
// straight from their bytes (RawEvent.AppendSpecJSON), and a sync's million columns are
// never made into Go values. An error from RawEvent.Decode is the sink's to return: the
// batch then fails as any failed write does.
type RawBatchWriter interface {
	WriteRawBatch(ctx context.Context, events []RawEvent) error
}

// RawEvent is one event of a batch, undecoded. The bytes are the kit's own copy of the
// request: they are not changed while the sink holds them.
type RawEvent struct {
	b       []byte       // the Event message; nil when ev is set
	ev      *event.Event // an event the kit decoded already (a request in another form)
	rawJSON bool
	// canonical is set when the host said its json values are as json.Marshal writes
	// them (ConfigureRequest.json_canonical): AppendSpecJSON copies them unchecked.
	canonical bool
}

// NewRawEvent returns an Event message's bytes (EventBytes writes them) as the kit hands
// them to a RawBatchWriter: rawJSON as for a sink that implements RawJSONMetadata. It is
// for a sink's tests.
func NewRawEvent(b []byte, rawJSON bool) RawEvent { return RawEvent{b: b, rawJSON: rawJSON} }

// NewCanonicalRawEvent is NewRawEvent for a host that set json_canonical (pbisync
// does): AppendSpecJSON copies the json values unchecked. It is for a sink's tests.
func NewCanonicalRawEvent(b []byte, rawJSON bool) RawEvent {
	return RawEvent{b: b, rawJSON: rawJSON, canonical: true}
}

// Decode returns the event, as WriteBatch would have been given it, or the error that
// would have refused its batch.
func (e RawEvent) Decode() (event.Event, error) {
	if e.ev != nil {
		return *e.ev, nil
	}
	return decodeEvent(e.b, e.rawJSON)
}

// rawEvents returns the events of a received request, undecoded where the request is in
// the host's form.
func rawEvents(r *rawWriteRequest, rawJSON, canonical bool) (uint64, []RawEvent, error) {
	if r.raw != nil {
		if seq, evs, ok := splitBatch(r.raw); ok {
			rawBatches.Add(1)
			out := make([]RawEvent, len(evs))
			for i, b := range evs {
				out[i] = RawEvent{b: b, rawJSON: rawJSON, canonical: canonical}
			}
			return seq, out, nil
		}
	}
	seq, events, err := batchOf(r, rawJSON)
	if err != nil {
		return seq, nil, err
	}
	out := make([]RawEvent, len(events))
	for i := range events {
		out[i] = RawEvent{ev: &events[i], rawJSON: rawJSON}
	}
	return seq, out, nil
}

// AppendSpecJSON appends the JSON of a spec event's spec, as json.Marshal writes a
// spec.AssetSpec when escapeHTML is set, and without HTML escapes otherwise (an Encoder
// with SetEscapeHTML(false) on the spec's fields), straight from the event's bytes. It
// returns false, with nothing appended, for anything it leaves to Decode: another kind
// of event, an event in a form other than the host's (what Decode reads through the
// generated code, or refuses), a sink that has json metadata decoded (it is written
// as the host sent it only for a RawJSONMetadata sink), a json value that encoding/json
// would write otherwise or refuse, or a float it cannot write.
func (e RawEvent) AppendSpecJSON(dst []byte, escapeHTML bool) ([]byte, bool) {
	if e.b == nil || !e.rawJSON {
		return dst, false
	}
	body, ok := specBody(e.b)
	if !ok {
		return dst, false
	}
	var f specFields
	if !f.read(body) {
		return dst, false
	}
	out, ok := f.appendJSON(dst, escapeHTML, e.canonical)
	if !ok {
		return dst, false
	}
	return out, true
}

// specBody returns the Spec message of an Event message that holds one, in the form
// readSpecEvent reads (its related messages read well too: Decode would otherwise read
// the event through the generated code).
func specBody(b []byte) ([]byte, bool) {
	r := reader{b: b}
	var body []byte
	ok := r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			r.onceMessage(typ, &body)
		case 2, 3, 4:
			r.bad = true // another kind of event
		case 5:
			if !validRelated(r.bytes(typ)) {
				r.bad = true
			}
		default:
			r.skip(num, typ)
		}
	})
	return body, ok && body != nil
}

// validRelated reports whether readRelated reads a Related message well, without
// making its strings.
func validRelated(b []byte) bool {
	r := reader{b: b}
	var haveKey, havePBI, haveURL bool
	return r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			if !validKey(r.onceBytes(typ, &haveKey)) {
				r.bad = true
			}
		case 2:
			var t, id, name, wsID, wsName []byte
			if !readBytes(r.onceBytes(typ, &havePBI), &t, &id, &name, &wsID, &wsName) {
				r.bad = true
			}
		case 3:
			if !utf8.Valid(r.onceBytes(typ, &haveURL)) {
				r.bad = true
			}
		case 4, 5:
			if !utf8.Valid(r.bytes(typ)) {
				r.bad = true
			}
		default:
			r.skip(num, typ)
		}
	})
}

// validKey reports whether a Key message reads well: its parts UTF-8.
func validKey(b []byte) bool {
	r := reader{b: b}
	return r.each(func(num protowire.Number, typ protowire.Type) {
		if num != 1 {
			r.skip(num, typ)
			return
		}
		if !utf8.Valid(r.bytes(typ)) {
			r.bad = true
		}
	})
}

// specFields are where a Spec message's fields are, in the form readSpec reads: the
// singular ones once, metadata entries and tags each name once and in order (as the host
// writes them; readSpec keeps the last of a name, which would be written elsewhere).
type specFields struct {
	key, desc, group, pbi                 []byte
	haveKey, haveDesc, haveGroup, pbiSeen bool
	deps, meta, tags, kinds, owners       [][]byte
}

func (f *specFields) read(b []byte) bool {
	r := reader{b: b}
	var lastMeta, lastTag []byte
	return r.each(func(num protowire.Number, typ protowire.Type) {
		switch num {
		case 1:
			f.key = r.onceBytes(typ, &f.haveKey)
		case 2:
			f.deps = append(f.deps, r.bytes(typ))
		case 3:
			f.desc = r.onceBytes(typ, &f.haveDesc)
		case 4:
			entry := r.bytes(typ)
			name, ok := entryName(entry)
			if !ok || (len(f.meta) > 0 && string(name) <= string(lastMeta)) {
				r.bad = true
				return
			}
			f.meta, lastMeta = append(f.meta, entry), name
		case 5:
			entry := r.bytes(typ)
			var k, v []byte
			if !readBytes(entry, &k, &v) || (len(f.tags) > 0 && string(k) <= string(lastTag)) {
				r.bad = true
				return
			}
			f.tags, lastTag = append(f.tags, entry), k
		case 6:
			f.kinds = append(f.kinds, r.bytes(typ))
		case 7:
			f.owners = append(f.owners, r.bytes(typ))
		case 8:
			f.group = r.onceBytes(typ, &f.haveGroup)
		case 9:
			f.pbi = r.onceBytes(typ, &f.pbiSeen)
		default:
			r.skip(num, typ)
		}
	})
}

// entryName returns the name of a metadata map entry (field 1, once).
func entryName(b []byte) ([]byte, bool) {
	var name []byte
	r := reader{b: b}
	seen := false
	ok := r.each(func(num protowire.Number, typ protowire.Type) {
		if num != 1 {
			r.skip(num, typ)
			return
		}
		name = r.onceBytes(typ, &seen)
	})
	return name, ok
}

// str views bytes the caller checked as UTF-8 as a string, for the appenders, which
// do not keep it.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// appendString appends a string field's JSON; false if it is not UTF-8.
func appendString(dst, v []byte, esc bool) ([]byte, bool) {
	if !utf8.Valid(v) {
		return dst, false
	}
	return jsonenc.AppendString(dst, str(v), esc), true
}

// appendKey appends a Key message's parts as a list; none is null, or [] when empty is.
func appendKey(dst, b []byte, esc bool, empty string) ([]byte, bool) {
	r := reader{b: b}
	n := 0
	start := len(dst)
	ok := r.each(func(num protowire.Number, typ protowire.Type) {
		if num != 1 {
			r.skip(num, typ)
			return
		}
		if n == 0 {
			dst = append(dst, '[')
		} else {
			dst = append(dst, ',')
		}
		n++
		var ok bool
		if dst, ok = appendString(dst, r.bytes(typ), esc); !ok {
			r.bad = true
		}
	})
	if !ok {
		return dst[:start], false
	}
	if n == 0 {
		return append(dst, empty...), true
	}
	return append(dst, ']'), true
}

// appendStrings appends repeated string fields as a list, [] when there are none.
func appendStrings(dst []byte, l [][]byte, esc bool) ([]byte, bool) {
	dst = append(dst, '[')
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = appendString(dst, v, esc); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

// appendJSON appends the spec's JSON; canonical says its json values may be copied
// unchecked (RawEvent.canonical).
func (f *specFields) appendJSON(dst []byte, esc, canonical bool) ([]byte, bool) {
	ok := true
	dst = append(dst, `{"key":`...)
	if dst, ok = appendKey(dst, f.key, esc, "[]"); !ok {
		return dst, false
	}
	dst = append(dst, `,"deps":[`...)
	for i, d := range f.deps {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = appendKey(dst, d, esc, "null"); !ok {
			return dst, false
		}
	}
	dst = append(dst, ']')
	if len(f.desc) > 0 {
		dst = append(dst, `,"description":`...)
		if dst, ok = appendString(dst, f.desc, esc); !ok {
			return dst, false
		}
	}
	dst = append(dst, `,"metadata":{`...)
	for i, entry := range f.meta {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = appendMetadataEntry(dst, entry, esc, canonical); !ok {
			return dst, false
		}
	}
	dst = append(dst, `},"tags":{`...)
	for i, entry := range f.tags {
		if i > 0 {
			dst = append(dst, ',')
		}
		var k, v []byte
		readBytes(entry, &k, &v) // read well in read
		dst = jsonenc.AppendString(dst, str(k), esc)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, str(v), esc)
	}
	dst = append(dst, `},"kinds":`...)
	if dst, ok = appendStrings(dst, f.kinds, esc); !ok {
		return dst, false
	}
	dst = append(dst, `,"owners":`...)
	if dst, ok = appendStrings(dst, f.owners, esc); !ok {
		return dst, false
	}
	if len(f.group) > 0 {
		dst = append(dst, `,"group":`...)
		if dst, ok = appendString(dst, f.group, esc); !ok {
			return dst, false
		}
	}
	dst = append(dst, `,"powerbi":`...)
	var typ, id, name, wsID, wsName []byte
	if f.pbiSeen && !readBytes(f.pbi, &typ, &id, &name, &wsID, &wsName) {
		return dst, false
	}
	dst = append(dst, `{"type":`...)
	dst = jsonenc.AppendString(dst, str(typ), esc)
	dst = append(dst, `,"id":`...)
	dst = jsonenc.AppendString(dst, str(id), esc)
	for _, opt := range [...]struct {
		name string
		v    []byte
	}{{`,"name":`, name}, {`,"workspaceId":`, wsID}, {`,"workspaceName":`, wsName}} {
		if len(opt.v) > 0 {
			dst = append(dst, opt.name...)
			dst = jsonenc.AppendString(dst, str(opt.v), esc)
		}
	}
	return append(dst, "}}"...), true
}

// metadataTypes are the spec.MetadataType of each field of the Metadata message's value.
var metadataTypes = [...]string{1: `"text"`, 2: `"url"`, 3: `"int"`, 4: `"float"`, 5: `"bool"`, 6: `"json"`, 7: `"table_schema"`}

// appendMetadataEntry appends `"name":{"type":...,"value":...}` for a map entry, its
// value converted as readMetadata converts it. A json value is copied as it is when
// canonical is set, and otherwise as jsonenc.AppendRaw writes it.
func appendMetadataEntry(dst, entry []byte, esc, canonical bool) ([]byte, bool) {
	name, value, ok := metadataEntry(entry)
	if !ok {
		return dst, false
	}
	if dst, ok = appendString(dst, name, esc); !ok {
		return dst, false
	}
	// The value: exactly one of the fields 1 to 7.
	v := reader{b: value}
	var vnum protowire.Number
	var vtyp protowire.Type
	var vbody []byte
	if !v.each(func(num protowire.Number, typ protowire.Type) {
		if num < 1 || num > 7 {
			v.skip(num, typ)
			return
		}
		if vnum != 0 {
			v.bad = true
			return
		}
		vnum, vtyp = num, typ
		start := v.b
		v.skip(num, typ)
		vbody = start[:len(start)-len(v.b)]
	}) || vnum == 0 {
		return dst, false
	}
	dst = append(dst, `:{"type":`...)
	dst = append(dst, metadataTypes[vnum]...)
	dst = append(dst, `,"value":`...)
	switch vnum {
	case 1, 2:
		if vtyp != protowire.BytesType {
			return dst, false
		}
		b, n := protowire.ConsumeBytes(vbody)
		if n < 0 {
			return dst, false
		}
		if dst, ok = appendString(dst, b, esc); !ok {
			return dst, false
		}
	case 3, 5:
		if vtyp != protowire.VarintType {
			return dst, false
		}
		x, n := protowire.ConsumeVarint(vbody)
		if n < 0 {
			return dst, false
		}
		switch {
		case vnum == 3:
			dst = strconv.AppendInt(dst, int64(x), 10)
		case x != 0:
			dst = append(dst, "true"...)
		default:
			dst = append(dst, "false"...)
		}
	case 4:
		if vtyp != protowire.Fixed64Type {
			return dst, false
		}
		x, n := protowire.ConsumeFixed64(vbody)
		if n < 0 {
			return dst, false
		}
		if dst, ok = jsonenc.AppendFloat(dst, math.Float64frombits(x)); !ok {
			return dst, false
		}
	case 6:
		if vtyp != protowire.BytesType {
			return dst, false
		}
		b, n := protowire.ConsumeBytes(vbody)
		if n < 0 {
			return dst, false
		}
		if canonical {
			dst = append(dst, b...)
		} else if dst, ok = jsonenc.AppendRaw(dst, b, esc); !ok {
			return dst, false
		}
	case 7:
		if vtyp != protowire.BytesType {
			return dst, false
		}
		b, n := protowire.ConsumeBytes(vbody)
		if n < 0 {
			return dst, false
		}
		if dst, ok = appendTableSchema(dst, b, esc); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendTableSchema appends a TableSchema message as spec.TableSchema's JSON.
func appendTableSchema(dst, b []byte, esc bool) ([]byte, bool) {
	dst = append(dst, `{"columns":[`...)
	r := reader{b: b}
	n := 0
	ok := r.each(func(num protowire.Number, typ protowire.Type) {
		if num != 1 {
			r.skip(num, typ)
			return
		}
		var name, ctype, desc []byte
		if !readBytes(r.bytes(typ), &name, &ctype, &desc) {
			r.bad = true
			return
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, `{"name":`...)
		dst = jsonenc.AppendString(dst, str(name), esc)
		dst = append(dst, `,"type":`...)
		dst = jsonenc.AppendString(dst, str(ctype), esc)
		if len(desc) > 0 {
			dst = append(dst, `,"description":`...)
			dst = jsonenc.AppendString(dst, str(desc), esc)
		}
		dst = append(dst, '}')
	})
	return append(dst, "]}"...), ok
}
