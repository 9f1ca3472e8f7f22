package sinkhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
)

// benchEvents is 100,000 spec events of about 1 KB (10,000 distinct ones, repeated).
var benchEvents = func() []event.Event {
	distinct := specEvents(0, 10000)
	out := make([]event.Event, 0, 100000)
	for range 10 {
		out = append(out, distinct...)
	}
	return out
}()

// BenchmarkStream100k streams 100,000 spec events through a real plugin process,
// from Write to the last acknowledgement and Close, and reports events/s.
func BenchmarkStream100k(b *testing.B) {
	for _, tc := range []struct{ name, entry string }{
		{"noop", fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\nauto_mtls: false\n", os.Args[0])},
		{"jsonl", "name: j\njsonl: {path: %q}\n"},
		{"jsonl-automtls", "name: j\njsonl: {path: %q}\nauto_mtls: true\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out.jsonl")
			entry := tc.entry
			if tc.name != "noop" {
				entry = fmt.Sprintf(tc.entry, out)
			}
			var streaming time.Duration
			for b.Loop() {
				s := startSink(b, entry, testOptions(nil))
				t0 := time.Now()
				for i := 0; i < len(benchEvents); i += 1000 {
					if err := s.Write(context.Background(), benchEvents[i:i+1000]); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				streaming += time.Since(t0)
				if st := s.Status(); !st.Complete || st.Delivered != int64(len(benchEvents)) {
					b.Fatalf("status %+v", st)
				}
			}
			b.ReportMetric(float64(len(benchEvents))*float64(b.N)/streaming.Seconds(), "events/s")
		})
	}
}

// BenchmarkStart measures starting a plugin: exec, handshake, Configure and opening
// the Write stream.
func BenchmarkStart(b *testing.B) {
	for _, mtls := range []bool{false, true} {
		b.Run(fmt.Sprintf("automtls=%v", mtls), func(b *testing.B) {
			entry := entryNode(b, fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\nauto_mtls: %v\n", os.Args[0], mtls))
			var starting time.Duration
			for b.Loop() {
				t0 := time.Now()
				s, err := New(context.Background(), entry, testOptions(nil))
				if err != nil {
					b.Fatal(err)
				}
				starting += time.Since(t0)
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(starting.Microseconds())/float64(b.N)/1000, "ms/start")
		})
	}
}
