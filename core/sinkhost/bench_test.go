package sinkhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// benchEvents returns 100,000 spec events of about 1 KB (10,000 distinct ones,
// repeated). Built on first use: the test binary also runs as every plugin process.
var benchEvents = sync.OnceValue(func() []event.Event {
	distinct := specEvents(0, 10000)
	out := make([]event.Event, 0, 100000)
	for range 10 {
		out = append(out, distinct...)
	}
	return out
})

// BenchmarkStream100k streams 100,000 spec events through a real plugin process,
// from Write to the last acknowledgement and Close, and reports events/s.
func BenchmarkStream100k(b *testing.B) {
	for _, tc := range []struct {
		name, entry string
		run         sink.RunKind // begun before the stream; unspecified: no Begin, as an old host
	}{
		{"noop", fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\nauto_mtls: false\n", os.Args[0]), 0},
		{"jsonl", "name: j\njsonl: {path: %q}\n", 0},
		{"jsonl-automtls", "name: j\njsonl: {path: %q}\nauto_mtls: true\n", 0},
		// A sync replaces the file on commit; a stream appends and fsyncs every batch.
		{"jsonl-sync-run", "name: j\njsonl: {path: %q}\n", sink.RunSync},
		{"jsonl-stream-run", "name: j\njsonl: {path: %q}\n", sink.RunStream},
	} {
		b.Run(tc.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out.jsonl")
			entry := tc.entry
			if tc.name != "noop" {
				entry = fmt.Sprintf(tc.entry, out)
			}
			events := benchEvents()
			var streaming, cpu time.Duration
			for b.Loop() {
				s := startSink(b, entry, testOptions(nil))
				if tc.run != sink.RunUnspecified {
					if err := s.Begin(context.Background(), tc.run); err != nil {
						b.Fatal(err)
					}
				}
				c0 := cpuTime()
				t0 := time.Now()
				for i := 0; i < len(events); i += 1000 {
					if err := s.Write(context.Background(), events[i:i+1000]); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				streaming += time.Since(t0)
				cpu += cpuTime() - c0 // the plugin was reaped by Close, so its time is in
				if st := s.Status(); !st.Complete || st.Delivered != int64(len(events)) {
					b.Fatalf("status %+v", st)
				}
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/streaming.Seconds(), "events/s")
			// CPU time of host and plugin together: what the stream costs whatever else
			// the machine runs. Two cores give at most twice this rate.
			b.ReportMetric(float64(len(events))*float64(b.N)/cpu.Seconds(), "events/cpu-s")
		})
	}
}

// BenchmarkStart measures starting a plugin: exec, handshake, Configure and opening
// the Write stream.
// PBISYNC_BENCH_PLUGIN names a plugin binary (e.g. a built pbisync-sink-jsonl) to time
// too: the test binary is larger than a plugin and starts slower.
func BenchmarkStart(b *testing.B) {
	type target struct{ name, plugin string }
	targets := []target{{"test-binary", fmt.Sprintf("{path: %q, args: [plugin, sink, noop]}", os.Args[0])}}
	if p := os.Getenv("PBISYNC_BENCH_PLUGIN"); p != "" {
		// PBISYNC_BENCH_ARGS, e.g. "plugin sink jsonl" for a pbisync binary.
		args, _ := json.Marshal(strings.Fields(os.Getenv("PBISYNC_BENCH_ARGS")))
		targets = append(targets, target{"plugin-binary", fmt.Sprintf("{path: %q, args: %s}", p, args)})
	}
	for _, tg := range targets {
		for _, mtls := range []bool{false, true} {
			benchStart(b, tg.name, tg.plugin, mtls)
		}
	}
}

func benchStart(b *testing.B, name, plugin string, mtls bool) {
	b.Run(fmt.Sprintf("%s/automtls=%v", name, mtls), func(b *testing.B) {
		entry := entryNode(b, fmt.Sprintf("name: n\nplugin: %s\nconfig: {path: %q}\nauto_mtls: %v\n", plugin, filepath.Join(b.TempDir(), "x.jsonl"), mtls))
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

// cpuTime is the user and system time of this process and its reaped children.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(children.Utime) + tv(children.Stime)
}
