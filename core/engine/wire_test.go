package engine

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// wireCheck compares, for every event a sync sends, sink.EventBytes (which encodes spec
// events straight from the spec) with the generated protocol code's deterministic
// encoding of EventToProto: the bytes the estate keeps and the plugins are sent must not
// change with the encoder.
type wireCheck struct {
	t     *testing.T
	specs int
}

func (w *wireCheck) Name() string { return "wire" }
func (w *wireCheck) Write(_ context.Context, evs []event.Event) error {
	for i := range evs {
		got, err := sink.EventBytes(&evs[i])
		if err != nil {
			w.t.Fatalf("EventBytes: %v", err)
		}
		p, err := sink.EventToProto(&evs[i])
		if err != nil {
			w.t.Fatal(err)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
		if err != nil {
			w.t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			w.t.Fatalf("%s event %d: EventBytes wrote %d bytes, the generated code %d, not the same", evs[i].Kind, i, len(got), len(want))
		}
		if evs[i].Kind == event.KindSpec {
			w.specs++
		}
	}
	return nil
}
func (w *wireCheck) Close(context.Context) error { return nil }

// TestEventBytesMatchGeneratedCode syncs the sample tenant and a generated one, with
// lineage (column lineage JSON, schemas, related assets), through wireCheck.
func TestEventBytesMatchGeneratedCode(t *testing.T) {
	for name, snap := range map[string]*snapshot.Snapshot{
		"sample":    powerbitest.SampleTenant(),
		"generated": powerbitest.Generate(3, powerbitest.SmallSize()),
	} {
		t.Run(name, func(t *testing.T) {
			w := &wireCheck{t: t}
			e := &Engine{Sources: []Source{&sliceSource{batches: []*snapshot.Snapshot{snap}}}, Lineage: lineage.ResolveSnapshot,
				NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) }, Keys: assets.NewKeyIndex(), Sinks: []Sink{w}}
			if _, err := e.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if w.specs < 10 {
				t.Fatalf("only %d spec events", w.specs)
			}
		})
	}
}
