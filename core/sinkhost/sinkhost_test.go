package sinkhost

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

func init() {
	// A plugin that only speaks a future protocol version, for the negotiation test.
	testSinks["future"] = func() sink.Sink {
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  plugin.HandshakeConfig{ProtocolVersion: 2, MagicCookieKey: sink.Handshake.MagicCookieKey, MagicCookieValue: sink.Handshake.MagicCookieValue},
			VersionedPlugins: map[int]plugin.PluginSet{2: {sink.PluginName: &sink.GRPCPlugin{Impl: &noopSink{}}}},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
		os.Exit(0)
		return nil
	}
}

// specEvent builds a realistic spec event of about 1 KB.
func specEvent(i int) event.Event {
	name := fmt.Sprintf("Model_%06d", i)
	return event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
		Key:         spec.Key{"semantic_model", name},
		Deps:        []spec.Key{{"sales_db"}, {"warehouse", "dbo", "orders"}},
		Description: "Sales figures per region and month, refreshed nightly.",
		Metadata: map[string]spec.Metadata{
			"dagster-powerbi/web_url": spec.URL("https://app.powerbi.com/groups/0f1e/datasets/" + name),
			"dagster-powerbi/id":      spec.Text(fmt.Sprintf("8c3e61d2-%06d", i)),
			"dagster-powerbi/name":    spec.Text(name),
			"dagster/column_schema": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{
				{Name: "region", Type: "String"}, {Name: "month", Type: "DateTime"}, {Name: "amount", Type: "Decimal"},
			}}),
			"rows": spec.Int(int64(i)),
		},
		Tags:    map[string]string{"dagster-powerbi/asset_type": "semantic_model"},
		Kinds:   []string{"powerbi", "semantic_model"},
		Owners:  []string{"owner@example.com"},
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: fmt.Sprintf("8c3e61d2-%06d", i), Name: name, WorkspaceID: "0f1e", WorkspaceName: "Finance"},
	}}
}

func specEvents(from, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = specEvent(from + i)
	}
	return out
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func testOptions(logs io.Writer) Options {
	if logs == nil {
		logs = io.Discard
	}
	return Options{Executable: os.Args[0], Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func entryNode(t testing.TB, yamlText string) config.Node {
	t.Helper()
	n, err := config.Parse("pipeline.yaml", []byte(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func startSink(t testing.TB, yamlText string, opts Options) *Sink {
	t.Helper()
	s, err := New(context.Background(), entryNode(t, yamlText), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Abort)
	return s
}

// readKeys reads a JSON Lines file and counts each spec key; every line must be whole.
func readKeys(t *testing.T, r io.Reader) map[string]int {
	t.Helper()
	keys := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not a whole event: %v: %.80s", line, err, sc.Text())
		}
		if e.Spec != nil {
			keys[e.Spec.Key.String()]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

func checkAllKeys(t *testing.T, keys map[string]int, n int, wantDuplicates bool) {
	t.Helper()
	dups := 0
	for i := range n {
		k := specEvent(i).Spec.Key.String()
		switch c := keys[k]; {
		case c == 0:
			t.Fatalf("event %d (%s) was lost", i, k)
		case c > 1:
			dups++
		}
	}
	if len(keys) != n {
		t.Fatalf("got %d distinct keys, want %d", len(keys), n)
	}
	if !wantDuplicates && dups > 0 {
		t.Fatalf("%d events written twice without a restart", dups)
	}
	t.Logf("%d events, %d written more than once", n, dups)
}

func writeAll(t *testing.T, s *Sink, events []event.Event, chunk int, between func(i int)) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(events); i += chunk {
		if between != nil {
			between(i)
		}
		if err := s.Write(ctx, events[i:min(i+chunk, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeliverInOrder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out", "specs.jsonl")
	s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 100\nwindow: 4\n", out), testOptions(nil))
	events := specEvents(0, 5000)
	events = append(events, event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"report", "Old"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r1"}}})
	writeAll(t, s, events, 700, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if !st.Complete || st.Delivered != int64(len(events)) || st.Restarts != 0 || st.Batches != st.Acked {
		t.Fatalf("status %+v", st)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d lines, want %d", len(lines), len(events))
	}
	for i, line := range lines {
		want, _ := json.Marshal(&events[i])
		if line != string(want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, line, want)
		}
	}
}

func TestStdoutThroughHost(t *testing.T) {
	var stdout bytes.Buffer
	opts := testOptions(nil)
	opts.Stdout = &stdout
	s := startSink(t, "name: specs\njsonl: {path: \"-\"}\n", opts)
	writeAll(t, s, specEvents(0, 3000), 1000, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkAllKeys(t, readKeys(t, &stdout), 3000, false)
}

// TestKillMidStream kills the plugin process from outside while batches are in flight;
// the host restarts it and sends the unacknowledged batches again: nothing is lost.
func TestKillMidStream(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	var logs logBuffer
	s := startSink(t, fmt.Sprintf("name: specs\njsonl: {path: %q}\nbatch_size: 50\nwindow: 16\n", out), testOptions(&logs))
	first := s.PID()
	const n = 20000
	killed := false
	writeAll(t, s, specEvents(0, n), 250, func(i int) {
		// Kill while batches are in flight, so the restart has something to send again.
		if st := s.Status(); !killed && st.Acked >= 20 && st.Batches > st.Acked {
			if err := syscall.Kill(s.PID(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	})
	if !killed {
		t.Fatal("the stream ended before the kill")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if !st.Complete || st.Restarts != 1 || st.Delivered < n || st.Resent == 0 {
		t.Fatalf("status %+v", st)
	}
	t.Logf("status %+v", st)
	if !pidGone(first) {
		t.Fatalf("the killed plugin %d is still there", first)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkAllKeys(t, readKeys(t, f), n, true)
	if !strings.Contains(logs.String(), "sink plugin failed; restarting") {
		t.Fatalf("the restart was not logged:\n%s", logs.String())
	}
}

// TestCrashInPlugin: the plugin dies by itself halfway through writing a batch.
func TestCrashInPlugin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	yml := fmt.Sprintf(`name: crashy
plugin: {path: %q, args: [plugin, sink, crashy], env: {CRASH_AT_BATCH: "7"}}
config: {path: %q}
auto_mtls: false
batch_size: 100
`, os.Args[0], out)
	s := startSink(t, yml, testOptions(nil))
	const n = 3000
	writeAll(t, s, specEvents(0, n), 300, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); !st.Complete || st.Restarts != 1 {
		t.Fatalf("status %+v", st)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkAllKeys(t, readKeys(t, f), n, true)
}

// TestHungPluginIsRestarted: a sink that stops acknowledging is treated like a crashed one.
func TestHungPluginIsRestarted(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	var logs logBuffer
	yml := fmt.Sprintf("name: slow\nplugin: {path: %q, args: [plugin, sink, sleepy]}\nconfig: {path: %q}\nauto_mtls: false\nack_timeout: 1s\nbatch_size: 100\n", os.Args[0], out)
	s := startSink(t, yml, testOptions(&logs))
	hung := s.PID()
	const n = 1000
	writeAll(t, s, specEvents(0, n), 250, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); !st.Complete || st.Restarts != 1 {
		t.Fatalf("status %+v", st)
	}
	if !pidGone(hung) {
		t.Fatal("the hung plugin still runs")
	}
	if !strings.Contains(logs.String(), "acknowledged nothing for 1s") {
		t.Fatalf("log does not say why:\n%s", logs.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkAllKeys(t, readKeys(t, f), n, true)
}

// TestPoisonBatchGivesUp: a batch the sink always rejects ends in a clear error after
// the bounded restarts, naming the output and the last acknowledged batch.
func TestPoisonBatchGivesUp(t *testing.T) {
	s := startSink(t, fmt.Sprintf("name: picky\nplugin: {path: %q, args: [plugin, sink, poison]}\nmax_restarts: 2\nbatch_size: 10\nwindow: 1\n", os.Args[0]), testOptions(nil))
	events := specEvents(0, 45)
	events[34].Spec.Key = spec.Key{"poison"}
	ctx := context.Background()
	var werr error
	for i := 0; i < len(events) && werr == nil; i += 10 {
		werr = s.Write(ctx, events[i:min(i+10, len(events))])
	}
	cerr := s.Close(ctx)
	err := werr
	if err == nil {
		err = cerr
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`output "picky"`, "acknowledging batch 3", "rejects the asset poison", "2 restart(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	st := s.Status()
	if st.Complete || st.Acked != 3 || st.Restarts != 2 {
		t.Fatalf("status %+v", st)
	}
	if !pidGone(s.inst.pid) {
		t.Fatal("the plugin still runs after giving up")
	}
}

func TestConfigErrors(t *testing.T) {
	exe := os.Args[0]
	tests := []struct {
		name, yaml, want string
	}{
		{"missing required", fmt.Sprintf("name: c\nplugin: {path: %q, args: [plugin, sink, strict]}\nconfig:\n  retries: 1\n", exe),
			`pipeline.yaml:4:3: output "c": missing required key "url"`},
		{"unknown key", fmt.Sprintf("name: c\nplugin: {path: %q, args: [plugin, sink, strict]}\nconfig:\n  url: x\n  retry: 1\n", exe),
			`pipeline.yaml:5:10: output "c": retry: unknown key "retry" (valid keys: retries, tables, url)`},
		{"sink's own check", fmt.Sprintf("name: c\nplugin: {path: %q, args: [plugin, sink, strict]}\nconfig:\n  url: x\n  retries: 20\n", exe),
			`pipeline.yaml:5:12: output "c": retries: at most 10 retries, got 20`},
		{"type in a list", fmt.Sprintf("name: c\nplugin: {path: %q, args: [plugin, sink, strict]}\nconfig:\n  url: x\n  tables:\n    - name: a\n    - name: [b]\n", exe),
			`pipeline.yaml:7:13: output "c": tables.1.name: want a string, got a list`},
		{"builtin config", "name: j\njsonl:\n  path: x\n  kinds: [spec, sepc]\n",
			`pipeline.yaml:4:17: output "j": kinds.1: unknown event kind "sepc"`},
		{"no sink", "name: j\nwindow: 3\n", `pipeline.yaml:1:1: output "j": say which sink it is`},
		{"two sinks", "name: j\njsonl: {}\nsqlite: {}\n", `give exactly one of jsonl, sqlite, datahub, openlineage or plugin, not jsonl and sqlite`},
		{"unknown host key", "name: j\njsonl: {}\nwindows: 3\n", `pipeline.yaml:3:1: unknown key "windows"`},
		{"bad ack timeout", "name: j\njsonl: {}\nack_timeout: soon\n", `pipeline.yaml:3:14: want a duration`},
		{"bad sha", "name: j\nplugin: {path: /bin/true, sha256: abc}\n", `pipeline.yaml:2:35: output "j": sha256 must be 64 hex digits`},
		{"config for builtin", "name: j\njsonl: {}\nconfig: {}\n", `pipeline.yaml:3:9: output "j": config: is for external plugins`},
		{"missing binary", "name: j\nplugin: {path: ./no/such/plugin}\n", `pipeline.yaml:2:16: output "j": plugin /`},
		{"future protocol", fmt.Sprintf("name: f\nplugin: {path: %q, args: [plugin, sink, future]}\nauto_mtls: false\n", exe),
			`incompatible API version with plugin. Plugin version: 2, Client versions: [1]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(context.Background(), entryNode(t, tc.yaml), testOptions(nil))
			if err == nil {
				s.Abort()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestSHA256(t *testing.T) {
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("0", 64)
	s := startSink(t, fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop], sha256: %s}\n", os.Args[0], good), testOptions(nil))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), entryNode(t, fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop], sha256: %s}\n", os.Args[0], bad)), testOptions(nil))
	if err == nil || !strings.Contains(err.Error(), "sha256 is "+good+", the pipeline expects "+bad) {
		t.Fatalf("error %v", err)
	}
}

func TestPluginLogsReachHostLogs(t *testing.T) {
	var logs logBuffer
	s := startSink(t, fmt.Sprintf("name: c\nplugin: {path: %q, args: [plugin, sink, strict]}\nconfig: {url: \"http://127.0.0.1:1\"}\n", os.Args[0]), testOptions(&logs))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `msg="strict sink configured"`) || !strings.Contains(logs.String(), "sink=c") {
		t.Fatalf("plugin log line missing from host logs:\n%s", logs.String())
	}
}

func TestEnvAndAutoMTLS(t *testing.T) {
	for _, mtls := range []bool{false, true} {
		s := startSink(t, fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\nauto_mtls: %v\n", os.Args[0], mtls), testOptions(nil))
		writeAll(t, s, specEvents(0, 100), 100, nil)
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !s.Status().Complete {
			t.Fatal("incomplete")
		}
	}
}

// pidGone reports whether the process has exited (gone, or a zombie nobody reaped yet).
func pidGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		if f := strings.Fields(string(data)); len(f) > 2 && (f[2] == "Z" || f[2] == "X") {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestNoPluginOutlivesHost(t *testing.T) {
	t.Run("close, abort and KillAll", func(t *testing.T) {
		yml := fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\nauto_mtls: false\n", os.Args[0])
		a := startSink(t, yml, testOptions(nil))
		b := startSink(t, yml, testOptions(nil))
		c := startSink(t, yml, testOptions(nil))
		pa, pb, pc := a.PID(), b.PID(), c.PID()
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.Abort()
		KillAll()
		for _, pid := range []int{pa, pb, pc} {
			if !pidGone(pid) {
				t.Fatalf("plugin %d still runs", pid)
			}
		}
	})
	for _, tc := range []struct{ name, entry string }{
		{"host killed, built-in sink", "name: s\njsonl: {path: \"-\"}\n"},
		{"host killed, external plugin with AutoMTLS", fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\n", os.Args[0])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pipeline.yaml")
			if err := os.WriteFile(file, []byte(tc.entry), 0o644); err != nil {
				t.Fatal(err)
			}
			parent := exec.Command(os.Args[0], "parent", file)
			parent.Stderr = os.Stderr
			out, err := parent.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			var pid int
			if _, err := fmt.Fscan(out, &pid); err != nil {
				parent.Process.Kill()
				t.Fatal("parent did not report its plugin:", err)
			}
			if syscall.Kill(pid, 0) != nil {
				t.Fatal("plugin not running")
			}
			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			_ = parent.Wait()
			t.Logf("parent wait %v", time.Since(t0))
			if !pidGone(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("plugin %d outlived its killed parent", pid)
			}
			t.Logf("plugin gone %v after the kill", time.Since(t0))
		})
	}
}

// TestLifeline checks the kit's own guard, without Linux's parent-death signal: a
// plugin exits when the host's end of its lifeline pipe closes.
func TestLifeline(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "plugin", "sink", "noop")
	cmd.Env = append(os.Environ(), sink.Handshake.MagicCookieKey+"="+sink.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1", sink.EnvLifelineFD+"=3")
	cmd.ExtraFiles = []*os.File{r}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "1|1|unix|") {
		cmd.Process.Kill()
		t.Fatalf("handshake line %q, %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	w.Close()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("plugin ended with %v, want exit status 3", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("plugin ignored its closed lifeline")
	}
}

func TestNewAll(t *testing.T) {
	dir := t.TempDir()
	outputs := func(yml string) config.Node {
		t.Helper()
		return entryNode(t, yml).Child("outputs")
	}
	good := fmt.Sprintf("outputs:\n  - name: a\n    jsonl: {path: %q}\n  - name: b\n    plugin: {path: %q, args: [plugin, sink, noop]}\n    auto_mtls: false\n",
		filepath.Join(dir, "a.jsonl"), os.Args[0])
	sinks, err := NewAll(context.Background(), outputs(good), testOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(sinks) != 2 || sinks[0].Name() != "a" || sinks[1].Name() != "b" {
		t.Fatalf("sinks %v", sinks)
	}
	pids := []int{sinks[0].PID(), sinks[1].PID()}
	for _, s := range sinks {
		if err := s.Write(context.Background(), specEvents(0, 10)); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !s.Status().Complete {
			t.Fatalf("%s incomplete", s.Name())
		}
	}
	for _, pid := range pids {
		if !pidGone(pid) {
			t.Fatalf("plugin %d still runs", pid)
		}
	}

	// A bad second entry ends the first plugin and names the place.
	bad := fmt.Sprintf("outputs:\n  - name: a\n    jsonl: {path: %q}\n  - name: a\n    jsonl: {path: %q}\n", filepath.Join(dir, "x"), filepath.Join(dir, "y"))
	if _, err := NewAll(context.Background(), outputs(bad), testOptions(nil)); err == nil || !strings.Contains(err.Error(), `pipeline.yaml:4:5: output name "a" is already used at pipeline.yaml:2:5`) {
		t.Fatalf("error %v", err)
	}
	if _, err := NewAll(context.Background(), outputs("outputs: {name: a}\n"), testOptions(nil)); err == nil || !strings.Contains(err.Error(), "outputs must be a list") {
		t.Fatalf("error %v", err)
	}
	live.Range(func(k, _ any) bool {
		t.Errorf("a plugin is still registered as running: pid %d", k.(*instance).pid)
		return true
	})
}
