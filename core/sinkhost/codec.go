package sinkhost

import (
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// encodedRequest is a WriteRequest already in its wire form, in parts
// (sink.WriteRequestParts): the events in it were encoded once for every output and the
// estate and are not copied, and a batch sent again after a restart is the same bytes.
type encodedRequest struct {
	parts [][]byte
	size  int
}

// encodedCodec is the Write stream's codec: an encodedRequest goes out as its bytes,
// everything else (the acks the host reads) as the proto codec has it.
type encodedCodec struct{}

func (encodedCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*encodedRequest); ok {
		// The bytes stay the host's: a resend needs them, so they are not pooled.
		out := make(mem.BufferSlice, len(r.parts))
		for i, p := range r.parts {
			out[i] = mem.SliceBuffer(p)
		}
		return out, nil
	}
	return protoCodec().Marshal(v)
}

func (encodedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return protoCodec().Unmarshal(data, v)
}

func (encodedCodec) Name() string { return protocodec.Name }

func protoCodec() encoding.CodecV2 { return encoding.GetCodecV2(protocodec.Name) }
