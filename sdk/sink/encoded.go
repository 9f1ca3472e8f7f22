package sink

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/internal/scratch"
	"github.com/pbisync/pbisync/sdk/event"
)

// wireScratch holds the buffers spec events are encoded into.
var wireScratch = scratch.New(4, 64<<10, 8<<20)

// EventBytes is an event's encoding in the sink protocol: the bytes of its Event
// message, deterministic (map entries in key order: the same event is the same bytes
// from one sync to the next, which the estate relies on to leave unchanged assets).
func EventBytes(e *event.Event) ([]byte, error) {
	if e.Kind == event.KindSpec && e.Spec != nil {
		// Appended into a scratch buffer and copied out at its size: the bytes are kept
		// (by the estate, by the window of unacknowledged batches), a grown buffer's
		// spare capacity would be kept with them.
		buf := wireScratch.Get()
		b, err := appendSpecEvent(buf, e)
		var out []byte
		if err == nil {
			out = bytes.Clone(b)
		}
		wireScratch.Put(b)
		return out, err
	}
	p, err := EventToProto(e)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(p)
}

// EventBytesShared is EventBytes made once per event for every output that sends or
// keeps the bytes (see event.Shared).
func EventBytesShared(e *event.Event) ([]byte, error) {
	if e.Shared == nil {
		return EventBytes(e)
	}
	return e.Shared.Encoded(func() ([]byte, error) { return EventBytes(e) })
}

// Field numbers of the messages WriteRequestParts writes (sink.proto).
const (
	writeRequestBatch = 1
	batchSeq          = 1
	batchEvents       = 2
)

// WriteRequestParts is the encoding of a WriteRequest whose batch has number seq and
// the events whose encodings are given, as proto.Marshal of that message would write
// it, in parts: a head, then for each event a prefix and the event's own bytes, which
// are not copied. Written one after the other they are the message; size is their
// total length.
func WriteRequestParts(seq uint64, events [][]byte) (parts [][]byte, size int) {
	body := 0
	if seq != 0 {
		body += protowire.SizeTag(batchSeq) + protowire.SizeVarint(seq)
	}
	for _, e := range events {
		body += protowire.SizeTag(batchEvents) + protowire.SizeBytes(len(e))
	}
	// The head and every prefix go into one small buffer.
	small := make([]byte, 0, (2+len(events))*(1+binaryMaxVarint))
	small = protowire.AppendTag(small, writeRequestBatch, protowire.BytesType)
	small = protowire.AppendVarint(small, uint64(body))
	if seq != 0 {
		small = protowire.AppendTag(small, batchSeq, protowire.VarintType)
		small = protowire.AppendVarint(small, seq)
	}
	parts = make([][]byte, 0, 1+2*len(events))
	parts = append(parts, small)
	size = len(small)
	for _, e := range events {
		start := len(small)
		small = protowire.AppendTag(small, batchEvents, protowire.BytesType)
		small = protowire.AppendVarint(small, uint64(len(e)))
		parts = append(parts, small[start:len(small):len(small)], e)
		size += len(small) - start + len(e)
	}
	parts[0] = parts[0][:len(parts[0]):len(parts[0])]
	return parts, size
}

// binaryMaxVarint is the most bytes a varint takes.
const binaryMaxVarint = 10
