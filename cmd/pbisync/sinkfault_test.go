package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	_ "modernc.org/sqlite"
)

// The sink fault test runs a sync of a generated tenant (cross-workspace reports and
// tiles included) into the four built-in sinks, as real plugin processes, once cleanly
// and then once per sink and fault: kill -9 of the sink mid-stream, and SIGSTOP of it
// mid-stream. Each faulty run must end (within ack_timeout and the host's kill grace),
// leave no plugin process and no plugin socket behind, and write exactly what the clean
// run wrote: every asset, and the same lineage (DataHub's report datasets, tile URLs,
// model upstreams; OpenLineage's lineage facets), since events carry what they refer to.

const faultAckTimeout = 2 * time.Second

// faultPipeline is the pipeline of one run, writing into dir.
func faultPipeline(dir string) string {
	return fmt.Sprintf(`version: 1
name: faults
state_dir: %[1]s/state
sources:
  - name: gen
    emulator:
      tenant: generated
      generated: {seed: 7, workspaces: 120, models_per_workspace: 3, reports_per_workspace: 4, dashboards_per_workspace: 2, tiles_per_dashboard: 3}
outputs:
  - name: events
    jsonl: {path: %[1]s/events.jsonl}
    batch_size: 25
    window: 4
    ack_timeout: %[2]s
  - name: catalog
    sqlite: {path: %[1]s/catalog.db}
    batch_size: 25
    window: 4
    ack_timeout: %[2]s
  - name: datahub
    datahub: {file: %[1]s/mcps.json, upstream: {platform: snowflake}}
    batch_size: 25
    window: 4
    ack_timeout: %[2]s
  - name: lineage
    openlineage: {file: %[1]s/openlineage.jsonl}
    batch_size: 25
    window: 4
    ack_timeout: %[2]s
`, dir, faultAckTimeout)
}

// sinkOutputs maps each built-in sink to the file it writes.
var sinkOutputs = map[string]string{"jsonl": "events.jsonl", "sqlite": "catalog.db", "datahub": "mcps.json", "openlineage": "openlineage.jsonl"}

// pluginProcs lists this process's sink plugin children by sink name.
func pluginProcs() map[string][]int {
	out := map[string][]int{}
	entries, _ := os.ReadDir("/proc")
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != me || f[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) >= 4 && args[1] == "plugin" && args[2] == "sink" {
			out[args[3]] = append(out[args[3]], pid)
		}
	}
	return out
}

// normalized reads what a sink wrote as a sorted set of lines, leaving out what differs
// between two correct runs (times, the sync summary) and duplicates (delivery is at
// least once).
func normalized(t *testing.T, sinkName, path string) []string {
	t.Helper()
	var lines []string
	switch sinkName {
	case "jsonl":
		for _, l := range fileLines(t, path) {
			var e struct{ Kind string }
			json.Unmarshal([]byte(l), &e)
			if e.Kind != "summary" {
				lines = append(lines, l)
			}
		}
	case "openlineage":
		for _, l := range fileLines(t, path) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			delete(m, "eventTime")
			b, _ := json.Marshal(m)
			lines = append(lines, string(b))
		}
	case "datahub":
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var mcps []map[string]any
		if err := json.Unmarshal(data, &mcps); err != nil {
			t.Fatalf("%s is not a whole JSON array: %v", path, err)
		}
		for _, m := range mcps {
			b, _ := json.Marshal(m)
			lines = append(lines, string(b))
		}
	case "sqlite":
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{
			"SELECT key, key_parts, type, powerbi_id, name, workspace_id, workspace_name, description, group_name, kinds, owners FROM assets",
			"SELECT * FROM asset_deps", "SELECT * FROM asset_metadata", "SELECT * FROM asset_tags", "SELECT * FROM asset_columns",
		} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, fmt.Sprintf("%s %q", q[:20], vals))
			}
			rows.Close()
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sizeOf is how much a sink wrote so far.
// sizeOf is how much an output has written: the file, its SQLite WAL, and the partial
// file a sync writes beside it until the sync commits (.NAME.RUNID.partial).
func sizeOf(path string) int64 {
	var n int64
	paths := []string{path, path + "-wal"}
	partial, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".*.partial"))
	for _, p := range append(paths, partial...) {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func socketDirEntries(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pbisync-plugins-"+strconv.Itoa(os.Getpid())+"*", "*"))
	return dirs
}

func TestSinkFaultsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a dozen syncs of a generated tenant")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("finds the plugin processes through /proc")
	}
	runSync := func(dir string) (int, string, time.Duration) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "pipeline.yaml")
		if err := os.WriteFile(p, []byte(faultPipeline(dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		code, _, errOut := cli(t, "sync", "-f", p)
		return code, errOut, time.Since(t0)
	}
	root := t.TempDir()
	cleanDir := filepath.Join(root, "clean")
	code, errOut, cleanTook := runSync(cleanDir)
	if code != exitOK {
		t.Fatalf("clean run: exit %d\n%s", code, errOut)
	}
	clean := map[string][]string{}
	sizes := map[string]int64{}
	for name, file := range sinkOutputs {
		clean[name] = normalized(t, name, filepath.Join(cleanDir, file))
		sizes[name] = sizeOf(filepath.Join(cleanDir, file))
	}
	// The clean run has the lineage the faults must not lose.
	withDatasets := 0
	for _, l := range clean["datahub"] {
		if strings.Contains(l, `"aspectName":"dashboardInfo"`) && strings.Contains(l, `"datasetEdges":[{"destinationUrn":"urn:li:dataset:`) {
			withDatasets++
		}
	}
	// Every report on a model has its model's tables as datasets, also those whose model
	// is in another workspace, read in another scan batch.
	reportsOnModels := 0
	for _, l := range clean["jsonl"] {
		var e event.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == event.KindSpec && e.Spec.PowerBI.Type == spec.Report && len(e.Spec.Deps) > 0 {
			reportsOnModels++
		}
	}
	if withDatasets < 100 || withDatasets != reportsOnModels {
		t.Fatalf("the clean run's DataHub output has %d reports with datasets, of %d reports on a model", withDatasets, reportsOnModels)
	}
	t.Logf("clean run: %s; %d DataHub MCPs, %d OpenLineage events, %d reports with datasets", cleanTook.Round(time.Millisecond),
		len(clean["datahub"]), len(clean["openlineage"]), withDatasets)

	for _, sinkName := range []string{"jsonl", "sqlite", "datahub", "openlineage"} {
		for _, fault := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
			t.Run(sinkName+"/"+fault.String(), func(t *testing.T) {
				dir := filepath.Join(root, sinkName+"-"+strconv.Itoa(int(fault)))
				out := filepath.Join(dir, sinkOutputs[sinkName])
				hit := make(chan int, 1)
				quit := make(chan struct{})
				go func() {
					// Strike once the sink has written a fifth of what it writes in all.
					for {
						select {
						case <-quit:
							close(hit)
							return
						case <-time.After(2 * time.Millisecond):
						}
						pids := pluginProcs()[sinkName]
						if len(pids) == 1 && sizeOf(out) > sizes[sinkName]/5 {
							syscall.Kill(pids[0], fault)
							hit <- pids[0]
							return
						}
					}
				}()
				code, errOut, took := runSync(dir)
				close(quit)
				pid, struck := <-hit
				if !struck {
					t.Fatalf("the run ended before the %s struck (exit %d)", fault, code)
				}
				if code != exitOK {
					t.Fatalf("exit %d after %s of the %s sink\n%s", code, fault, sinkName, errOut)
				}
				if !strings.Contains(errOut, "sink plugin failed; restarting it") {
					t.Fatalf("no restart logged after the %s:\n%s", fault, errOut)
				}
				// A frozen sink costs at most ack_timeout and the host's kill grace.
				if bound := cleanTook*3 + faultAckTimeout + 8*time.Second + 20*time.Second; took > bound {
					t.Errorf("the run took %s; want it within %s", took, bound)
				}
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Errorf("the struck plugin %d still exists", pid)
				}
				if left := pluginProcs(); len(left) > 0 {
					t.Errorf("plugin processes left: %v", left)
				}
				if left := socketDirEntries(t); len(left) > 0 {
					t.Errorf("plugin socket directories left: %v", left)
				}
				for name, file := range sinkOutputs {
					got := normalized(t, name, filepath.Join(dir, file))
					if !slices.Equal(got, clean[name]) {
						missing, extra := diffSets(clean[name], got)
						t.Errorf("%s output differs from the clean run: %d missing, %d extra; first missing %.300q, first extra %.300q",
							name, len(missing), len(extra), first(missing), first(extra))
					}
				}
				t.Logf("%s of the %s sink: run took %s", fault, sinkName, took.Round(time.Millisecond))
			})
		}
	}
}

func diffSets(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
