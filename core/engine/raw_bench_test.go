package engine

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/internal/heapwatch"
)

// BenchmarkRawStore measures, in one run, what keeping the raw store costs the full sync
// of the 1,000-workspace tenant (35,000 assets, 1,000,000 columns) from the in-process
// emulator with a state store: without the raw store, with it (every workspace encoded,
// compressed and written as its batch arrives), and a re-translation that replays all
// 1,000 stored workspaces instead of scanning them. It reports cpu-s/op, getInfo batches
// the raw store's size and the peak heap (the in-process emulator's tenant included).
func BenchmarkRawStore(b *testing.B) {
	tenant := powerbitest.Generate(1, powerbitest.LargeSize())
	srv, err := powerbitest.NewServer(tenant, powerbitest.WithScanPolls(2))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var peak uint64
	sync := func(b *testing.B, st *state.Store, raw, full bool, translator string) map[string]int64 {
		c := benchClient(b, srv)
		src := &powerbiSource{name: "emulator", client: c}
		if raw {
			src.resume = &resumer{store: st, pipeline: "bench", source: src.name, log: slog.New(slog.DiscardHandler)}
			c.UseScanJournal(src.resume)
		}
		e := &Engine{
			Pipeline: "bench", Sources: []Source{src},
			NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) },
			Keys:       assets.NewKeyIndex(), Sinks: []Sink{&countSink{}}, State: st,
			Translators: []Translator{&tagTranslator{value: translator}},
		}
		e.Sinks = e.withEstate(e.Sinks) // incremental syncs feed outputs from the estate
		watch := heapwatch.Start(10 * time.Millisecond)
		_, err = e.Run(context.Background(), RunOptions{Full: full})
		peak = max(peak, watch.Stop())
		if err != nil {
			b.Fatal(err)
		}
		return c.Requests()
	}
	for _, bc := range []struct {
		name        string
		raw, replay bool
	}{
		{"full/no-raw-store", false, false},
		{"full/raw-store", true, false},
		{"retranslate-all", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st, err := state.Open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if bc.replay {
				sync(b, st, true, true, "first")
			}
			peak = 0
			var cpu time.Duration
			var getInfo int64
			rev := 0
			for b.Loop() {
				srv.Age(time.Hour)
				rev++
				cpu0 := cpuTime()
				req := sync(b, st, bc.raw, !bc.replay, "rev"+strconv.Itoa(rev))
				cpu += cpuTime() - cpu0
				getInfo = req["POST /admin/workspaces/getInfo"]
			}
			n, size, _ := st.RawStoreSize(context.Background(), "bench")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(getInfo), "getInfo")
			b.ReportMetric(float64(n), "raw-workspaces")
			b.ReportMetric(float64(size)/1e6, "raw-MB")
			b.ReportMetric(heapwatch.MB(peak), "peak-heap-MB")
		})
	}
}
