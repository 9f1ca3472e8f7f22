package sink

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/sdk/event"
)

// EventBytes is an event's encoding in the sink protocol: the bytes of its Event
// message, deterministic (map entries in key order: the same event is the same bytes
// from one sync to the next, which the estate relies on to leave unchanged assets).
func EventBytes(e *event.Event) ([]byte, error) {
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

// Field numbers of the messages AppendWriteRequest writes (sink.proto).
const (
	writeRequestBatch = 1
	batchSeq          = 1
	batchEvents       = 2
)

// AppendWriteRequest appends the encoding of a WriteRequest whose batch has number seq
// and the events whose encodings are given, as proto.Marshal of that message would
// write it: a host sends events it has already encoded without building the message.
func AppendWriteRequest(b []byte, seq uint64, events [][]byte) []byte {
	size := 0
	if seq != 0 {
		size += protowire.SizeTag(batchSeq) + protowire.SizeVarint(seq)
	}
	for _, e := range events {
		size += protowire.SizeTag(batchEvents) + protowire.SizeBytes(len(e))
	}
	b = protowire.AppendTag(b, writeRequestBatch, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	if seq != 0 {
		b = protowire.AppendTag(b, batchSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, seq)
	}
	for _, e := range events {
		b = protowire.AppendTag(b, batchEvents, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b
}
