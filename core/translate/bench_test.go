package translate

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

const benchAssets = 100_000

// benchTranslate runs tr over 100,000 assets per iteration and reports ns per asset.
func benchTranslate(b *testing.B, tr Translator) {
	recs := sampleRecords(benchAssets)
	ctx := context.Background()
	if _, _, err := tr.Translate(ctx, recs); err != nil { // start every pooled instance first
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		out, probs, err := tr.Translate(ctx, recs)
		if err != nil || len(probs) > 0 || len(out) != len(recs) {
			b.Fatal(err, probs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchAssets), "ns/asset")
	// CPU time is steadier than wall time on a machine shared with other jobs; it
	// counts every instance of the pool and the garbage collector.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*benchAssets), "cpu-ns/asset")
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchWASM(b *testing.B, path, extra string) {
	c, err := newChain(b, wasmEntry("bench", path, extra), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	benchTranslate(b, c)
}

// BenchmarkNoop measures the host overhead per asset: a translator that keeps every asset.
func BenchmarkNoop(b *testing.B) {
	b.Run("wat", func(b *testing.B) { benchWASM(b, "testdata/wat/noop.wasm", "") })
	for _, lang := range kitLangs {
		b.Run(lang, func(b *testing.B) { benchWASM(b, buildNoop(b, lang), "") })
	}
}

// BenchmarkDocsExample runs the dagster-powerbi docs example in each kit and as native Go.
func BenchmarkDocsExample(b *testing.B) {
	b.Run("native-go", func(b *testing.B) { benchTranslate(b, nativeDocs{prefix: "my_prefix"}) })
	b.Run("native-go-deep-copy", func(b *testing.B) { benchTranslate(b, nativeDocs{prefix: "my_prefix", deep: true}) })
	for _, lang := range kitLangs {
		b.Run(lang, func(b *testing.B) { benchWASM(b, buildExample(b, lang), "    config: {prefix: my_prefix}\n") })
	}
}

// nativeDocs is the docs example as a native Go translator. Like the host, it never
// modifies its input: it copies the fields it edits (or, with deep, the whole spec).
type nativeDocs struct {
	prefix string
	deep   bool
}

func (nativeDocs) Name() string                { return "native" }
func (nativeDocs) Close(context.Context) error { return nil }
func (n nativeDocs) Translate(_ context.Context, recs []record.Record) ([]record.Record, []record.Problem, error) {
	out := make([]record.Record, 0, len(recs))
	for _, r := range recs {
		if r.Spec.PowerBI.Type == spec.Dashboard {
			s := r.Spec
			if n.deep {
				s = r.Spec.Clone()
			}
			s.Key = append(spec.Key{n.prefix}, s.Key...)
			s.Owners = []string{"team:my_team"}
			r.Spec = s
		}
		out = append(out, r)
	}
	return out, nil, nil
}

// BenchmarkStart measures a pbisync run starting its translator with a warm cache: the
// Go example from go_package (no rebuild, no recompile) and the C example.
func BenchmarkStart(b *testing.B) {
	cases := map[string]func(b *testing.B) string{
		"go-package": func(*testing.B) string { return goDocsExample },
		"c":          func(b *testing.B) string { return wasmEntry("c", buildExample(b, "c"), "") },
	}
	for _, name := range []string{"go-package", "c"} {
		b.Run(name, func(b *testing.B) {
			if name == "go-package" {
				requireToolchain(b, "go")
			}
			yml := cases[name](b)
			cache := b.TempDir()
			start := func() time.Duration {
				t0 := time.Now()
				c, err := newChain(b, yml, Options{CacheDir: cache})
				if err != nil {
					b.Fatal(err)
				}
				d := time.Since(t0)
				_ = c.Close(context.Background())
				return d
			}
			cold := start() // fills the caches
			b.ResetTimer()
			for b.Loop() {
				start()
			}
			b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "warm-ms")
		})
	}
}

// BenchmarkTermination measures what wazero's close-on-context-done costs a CPU-bound
// guest (spin: 1,000 loop rounds per asset): wazero's check at every loop iteration
// leaves native code. "stop-global" is pbisync's default (stopcheck.go), "unstoppable"
// has no check at all, to show what each costs.
func BenchmarkTermination(b *testing.B) {
	for _, m := range []struct {
		name string
		mode termination
	}{{"stop-global", stopByGlobal}, {"close-on-context-done", closeOnContextDone}, {"unstoppable", unstoppable}} {
		b.Run(m.name, func(b *testing.B) {
			terminationMode = m.mode
			defer func() { terminationMode = stopByGlobal }()
			benchWASM(b, "testdata/wat/spin.wasm", "")
		})
	}
}
