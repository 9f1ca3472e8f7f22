package sink

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
)

// WriteRequestParts writes what proto.Marshal writes of the same message, and the
// message reads back.
func TestWriteRequestParts(t *testing.T) {
	evs := []*sinkpb.Event{
		{Kind: &sinkpb.Event_Spec{Spec: &sinkpb.AssetSpec{Key: &sinkpb.Key{Parts: []string{"a", "b"}}}}},
		{Kind: &sinkpb.Event_Removed{Removed: &sinkpb.Removed{}}, Related: []*sinkpb.Related{{Key: &sinkpb.Key{Parts: []string{"m"}}}}},
	}
	for _, seq := range []uint64{0, 1, 300, 1 << 40} {
		for n := 0; n <= len(evs); n++ {
			var enc [][]byte
			for _, e := range evs[:n] {
				b, err := proto.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				enc = append(enc, b)
			}
			want, err := proto.Marshal(&sinkpb.WriteRequest{Batch: &sinkpb.Batch{Seq: seq, Events: evs[:n]}})
			if err != nil {
				t.Fatal(err)
			}
			parts, size := WriteRequestParts(seq, enc)
			got := bytes.Join(parts, nil)
			if size != len(got) {
				t.Fatalf("size %d, the parts hold %d bytes", size, len(got))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("seq %d, %d events:\n got %x\nwant %x", seq, n, got, want)
			}
			var back sinkpb.WriteRequest
			if err := proto.Unmarshal(got, &back); err != nil || back.GetBatch().GetSeq() != seq || len(back.GetBatch().GetEvents()) != n {
				t.Fatalf("read back: %v %v", &back, err)
			}
		}
	}
}
