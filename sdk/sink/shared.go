package sink

import (
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
)

// sharedEvent is what an event's Shared keeps: its protocol message and, once an
// output asks, the message's encoding.
type sharedEvent struct {
	msg  *sinkpb.Event
	once sync.Once
	wire []byte
	err  error
}

func shared(e *event.Event) (*sharedEvent, error) {
	v, err := e.Shared.Get(func() (any, error) {
		p, err := EventToProto(e)
		if err != nil {
			return nil, err
		}
		return &sharedEvent{msg: p}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sharedEvent), nil
}

// EventToProtoShared is EventToProto made once per event and shared by every output
// that asks (event.Shared); the message it returns is shared too, so it must not be
// changed. An event without Shared is converted anew.
func EventToProtoShared(e *event.Event) (*sinkpb.Event, error) {
	if e.Shared == nil {
		return EventToProto(e)
	}
	se, err := shared(e)
	if err != nil {
		return nil, err
	}
	return se.msg, nil
}

// MarshalEventShared returns the protocol encoding of EventToProtoShared's message,
// made once per event and shared like it (the estate keeps it, a sink plugin is sent
// it): the bytes must not be changed. An event without Shared is encoded anew.
func MarshalEventShared(e *event.Event) ([]byte, error) {
	if e.Shared == nil {
		p, err := EventToProto(e)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(p)
	}
	se, err := shared(e)
	if err != nil {
		return nil, err
	}
	se.once.Do(func() { se.wire, se.err = proto.Marshal(se.msg) })
	return se.wire, se.err
}

// AppendBatchEvent appends an event's encoding (MarshalEventShared's) as one of the
// events of an encoded batch; EncodedBatch makes the batch of them. BatchEventSize
// says how many bytes it appends.
func AppendBatchEvent(dst, wire []byte) []byte {
	dst = protowire.AppendTag(dst, batchEventsField, protowire.BytesType)
	return protowire.AppendBytes(dst, wire)
}

// BatchEventSize is the number of bytes AppendBatchEvent appends for wire.
func BatchEventSize(wire []byte) int {
	return protowire.SizeTag(batchEventsField) + protowire.SizeBytes(len(wire))
}

// batchEventsField is the field number of Batch.events.
const batchEventsField = 2

// EncodedBatch returns a batch that carries events already encoded (AppendBatchEvent):
// it encodes as a batch of those events does and a plugin reads it so, but its Events
// field is empty (the events are its unknown fields, which only its encoding reads).
// A host sends it without encoding the events again.
func EncodedBatch(events []byte) *sinkpb.Batch {
	b := &sinkpb.Batch{}
	b.ProtoReflect().SetUnknown(protoreflect.RawFields(events))
	return b
}
