//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFullSyncProcess measures issue 15's full sync as a user runs it: `pbisync
// emulate --tenant generated --size large` (1,000 workspaces, 35,000 assets, 1,000,000
// columns) in a process of its own on 127.0.0.1, and `pbisync sync` of a pipeline with
// lineage, the Go docs-example translator, a jsonl output (a sink plugin process) and the
// estate (the default state_dir) as another process. It reports per sync: wall seconds,
// the sync's CPU seconds and peak RSS (its getrusage, which covers the jsonl plugin it
// waited for: CPU added, RSS the largest of the two), and the emulator's CPU seconds apart.
//
// It builds pbisync from this tree. PBISYNC_BENCH_BASELINE=path/to/pbisync[,path...] adds
// builds to compare, run against the same emulator in the same invocation and taking turns
// with this tree's build (each iteration runs every build once), so that a before/after
// comparison on a noisy machine is one run: this tree's figures are wall-s/op, cpu-s/op,
// emulator-cpu-s/op and peak-rss-MB, a baseline's carry its file name first, and
// wall-vs-NAME is this tree's wall time over that baseline's:
//
//	git worktree add /tmp/base main && (cd /tmp/base && go build -o /tmp/pbisync-main ./cmd/pbisync)
//	PBISYNC_BENCH_BASELINE=/tmp/pbisync-main go test ./cmd/pbisync -run '^$' -bench FullSyncProcess -benchtime 3x -timeout 1h
//
// PBISYNC_BENCH_POLL sets the scanner's poll_interval (below), PBISYNC_BENCH_WORKSPACES changes the tenant's size (default 1000).
func BenchmarkFullSyncProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("builds pbisync and syncs a 1,000-workspace tenant")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "pbisync")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var bins []struct{ name, path string }
	if base := os.Getenv("PBISYNC_BENCH_BASELINE"); base != "" {
		for _, p := range strings.Split(base, ",") {
			bins = append(bins, struct{ name, path string }{"build=" + filepath.Base(p), p})
		}
	}
	bins = append(bins, struct{ name, path string }{"build=tree", bin})
	workspaces := "1000"
	if v := os.Getenv("PBISYNC_BENCH_WORKSPACES"); v != "" {
		workspaces = v
	}
	emu := startEmulatorProcess(b, bin, dir, workspaces)
	translator, err := filepath.Abs("../../plugins/translators/go-docs-example")
	if err != nil {
		b.Fatal(err)
	}
	pipeline := filepath.Join(dir, "pipeline.yaml")
	// The scanner's default poll_interval (2s) waits about 5 s for the emulator's scans
	// (two polls, the second after 3 s), the same for every build: PBISYNC_BENCH_POLL
	// sets it (default 200ms; "default" leaves pbisync's own).
	poll := "200ms"
	if v := os.Getenv("PBISYNC_BENCH_POLL"); v != "" {
		poll = v
	}
	source := emu.pipeline
	if poll != "default" {
		source += "      scanner:\n        poll_interval: " + poll + "\n"
	}
	doc := source + "translators:\n  - name: docs-example\n    go_package: " + translator + "\n    config: {prefix: my_prefix}\n" +
		"outputs:\n  - name: specs\n    jsonl: {path: out/specs.jsonl, format: specs}\n"
	if err := os.WriteFile(pipeline, []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
	// One sync of each first: it builds the translator's WASM into the cache, and the
	// first reads of the tenant warm the emulator's caches.
	for _, bn := range bins {
		if _, err := syncProcess(bn.path, pipeline, emu); err != nil {
			b.Fatalf("%s: %v", bn.name, err)
		}
	}
	// The builds take turns (each iteration runs every build once, starting with the
	// next one each time), so that a noisy machine's phases fall on all of them alike.
	sums := make([]syncFigures, len(bins))
	n := 0
	for b.Loop() {
		for k := range bins {
			i := (n + k) % len(bins)
			f, err := syncProcess(bins[i].path, pipeline, emu)
			if err != nil {
				b.Fatalf("%s: %v", bins[i].name, err)
			}
			sums[i].wall += f.wall
			sums[i].cpu += f.cpu
			sums[i].emuCPU += f.emuCPU
			sums[i].rss = max(sums[i].rss, f.rss)
			// Let the next run follow on a machine in the same state.
			runtime.GC()
		}
		n++
	}
	tree := sums[len(sums)-1]
	for i, bn := range bins {
		sum, prefix := sums[i], strings.TrimPrefix(bn.name, "build=")+"-"
		if i == len(bins)-1 {
			prefix = ""
		}
		b.ReportMetric(sum.wall.Seconds()/float64(n), prefix+"wall-s/op")
		b.ReportMetric(sum.cpu.Seconds()/float64(n), prefix+"cpu-s/op")
		b.ReportMetric(sum.emuCPU.Seconds()/float64(n), prefix+"emulator-cpu-s/op")
		b.ReportMetric(float64(sum.rss)/(1<<20), prefix+"peak-rss-MB")
		if i < len(bins)-1 && sum.wall > 0 {
			b.ReportMetric(tree.wall.Seconds()/sum.wall.Seconds(), "wall-vs-"+strings.TrimSuffix(prefix, "-"))
		}
	}
}

type syncFigures struct {
	wall, cpu, emuCPU time.Duration
	rss               int64 // bytes
}

type emulatorProcess struct {
	pid      int
	pipeline string // the source part of the pipeline it printed
	secret   string
}

// startEmulatorProcess runs `pbisync emulate` in a process of its own until the benchmark ends.
func startEmulatorProcess(b *testing.B, bin, dir, workspaces string) *emulatorProcess {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "emulate", "--tenant", "generated", "--size", "large", "--workspaces", workspaces,
		"--dir", filepath.Join(dir, "emulator"), "--log-level", "warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); cmd.Wait() })
	// The printout ends its pipeline at the first blank line after "version: 1".
	var text, doc strings.Builder
	sc := bufio.NewScanner(stdout)
	in := false
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if line == "version: 1" {
			in = true
		}
		if in && line == "" {
			break
		}
		if in && !strings.HasPrefix(line, "outputs:") && !strings.HasPrefix(line, "  - name: specs") && !strings.HasPrefix(line, "    jsonl:") {
			doc.WriteString(line + "\n")
		}
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	if doc.Len() == 0 {
		b.Fatalf("emulate printed no pipeline:\n%s", text.String())
	}
	secret, err := os.ReadFile(filepath.Join(dir, "emulator", "client_secret"))
	if err != nil {
		b.Fatal(err)
	}
	return &emulatorProcess{pid: cmd.Process.Pid, pipeline: doc.String(), secret: string(secret)}
}

// syncProcess runs `pbisync sync` of pipeline with a fresh state directory and output.
func syncProcess(bin, pipeline string, emu *emulatorProcess) (syncFigures, error) {
	work, err := os.MkdirTemp(filepath.Dir(pipeline), "run-")
	if err != nil {
		return syncFigures{}, err
	}
	defer os.RemoveAll(work)
	cmd := exec.Command(bin, "sync", "-f", pipeline, "--log-level", "warn")
	cmd.Dir = work
	// The pipeline's paths are relative to its file: the output and state directory go
	// into work through a copy of it.
	data, err := os.ReadFile(pipeline)
	if err != nil {
		return syncFigures{}, err
	}
	own := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(own, data, 0o644); err != nil {
		return syncFigures{}, err
	}
	cmd.Args[3] = own
	cmd.Env = append(os.Environ(), "PBISYNC_EMULATOR_SECRET="+emu.secret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	emu0, err := processCPU(emu.pid)
	if err != nil {
		return syncFigures{}, err
	}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return syncFigures{}, fmt.Errorf("pbisync sync: %w\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	emu1, err := processCPU(emu.pid)
	if err != nil {
		return syncFigures{}, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if _, err := os.Stat(filepath.Join(work, "out", "specs.jsonl")); err != nil {
		return syncFigures{}, fmt.Errorf("the sync wrote no specs: %w\n%s", err, stderr.String())
	}
	return syncFigures{
		wall:   wall,
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		emuCPU: emu1 - emu0,
		rss:    ru.Maxrss << 10, // KiB on Linux
	}, nil
}

// processCPU is a running process's user and system time, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it are plain.
	_, rest, ok := bytes.Cut(b, []byte(") "))
	if !ok {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second).
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}
