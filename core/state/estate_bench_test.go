package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far: on a machine shared with
// other work it says more of a benchmark's cost than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// estateBenchRows are rows shaped like the estate sink's for the generated 1,000-workspace
// tenant with lineage: 35,000 assets, a summary of about 300 bytes, a kept event of about
// 1,850 bytes (compressed, so random bytes) and a related message of about 320.
func estateBenchRows(n int) []EstateRow {
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{"column_group", "dashboard", "data_source", "report", "semantic_model", "table"}
	rows := make([]EstateRow, n)
	for i := range rows {
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		ev := make([]byte, 900+r.IntN(1900))
		for j := range ev {
			ev[j] = byte(r.Uint32())
		}
		rel := make([]byte, 200+r.IntN(240))
		for j := range rel {
			rel[j] = byte('a' + r.IntN(26))
		}
		sum := fmt.Sprintf(`{"key":["workspace_%d","asset_%d"],"name":"asset %d","workspace":"ws %d","kinds":["powerbi"],"deps":[%q,%q]}%0200d`, i/35, i, i, i/35, id, id, 0)
		rows[i] = EstateRow{Type: types[i%len(types)], ID: id, Summary: sum, Event: ev, Related: rel}
	}
	return rows
}

// BenchmarkEstateStage measures staging and committing a full sync's estate (35,000
// rows) in a new state store, in chunks as the estate sink hands them over, and over an
// estate that holds the same assets (a second full sync, which replaces every row).
func BenchmarkEstateStage(b *testing.B) {
	ctx := context.Background()
	rows := estateBenchRows(35000)
	stageAll := func(b *testing.B, st *Store, chunk int) {
		run, err := st.BeginEstate(ctx, "large")
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(rows); i += chunk {
			if err := run.Stage(ctx, rows[i:min(i+chunk, len(rows))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := run.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for _, chunk := range []int{500, 4000} {
		b.Run(fmt.Sprintf("new/chunk=%d", chunk), func(b *testing.B) {
			c0 := cpuTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				st, err := Open(ctx, b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				stageAll(b, st, chunk)
				st.Close()
			}
		})
		b.Run(fmt.Sprintf("replace/chunk=%d", chunk), func(b *testing.B) {
			st, err := Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			stageAll(b, st, chunk)
			c0 := cpuTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				stageAll(b, st, chunk)
			}
		})
	}
}
