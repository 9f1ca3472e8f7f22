package translate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/record"
)

var update = flag.Bool("update", false, "rewrite golden files and committed fixtures")

// newChain loads a pipeline's translators from YAML text.
func newChain(t testing.TB, yml string, opts Options) (*Chain, error) {
	t.Helper()
	root, err := config.Parse("pipeline.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	var entries []config.Node
	for _, n := range root.Child("translators").Content {
		entries = append(entries, config.Node{Node: n, File: "pipeline.yaml"})
	}
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.BaseDir == "" {
		opts.BaseDir = "."
	}
	return New(context.Background(), entries, opts)
}

func mustChain(t testing.TB, yml string) *Chain {
	t.Helper()
	c, err := newChain(t, yml, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// requireTool returns a tool's path; without it the test fails in CI and skips elsewhere.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must run .ci/install-wasm.sh", name)
	}
	t.Skipf("%s is not installed (run .ci/install-wasm.sh); skipping", name)
	return ""
}

// TestFixturesMatchSource checks the committed .wasm fixtures are built from their .wat.
// They are committed so the host tests need no toolchain; this keeps them honest.
func TestFixturesMatchSource(t *testing.T) {
	wat2wasm := requireTool(t, "wat2wasm")
	srcs, _ := filepath.Glob("testdata/wat/*.wat")
	for _, src := range srcs {
		out := filepath.Join(t.TempDir(), "m.wasm")
		if b, err := exec.Command(wat2wasm, src, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", src, err, b)
		}
		built, _ := os.ReadFile(out)
		committed := strings.TrimSuffix(src, ".wat") + ".wasm"
		if *update {
			if err := os.WriteFile(committed, built, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if have, _ := os.ReadFile(committed); !bytes.Equal(have, built) {
			t.Errorf("%s is stale: run go test -run TestFixturesMatchSource -update", committed)
		}
	}
}

func fixture(name string, extra string) string {
	return fmt.Sprintf("translators:\n  - name: %s\n    wasm: testdata/wat/%s.wasm\n%s", name, name, extra)
}

func TestLoadRefusesBadModules(t *testing.T) {
	tests := []struct {
		name, yml, want string
	}{
		{"wrong ABI", fixture("wrongabi", ""), "module declares ABI version 2; this pbisync speaks version 1"},
		{"no marker", fixture("noabi", ""), "not a pbisync translator: it exports no pbisync_abi_version_1"},
		{"unknown import", fixture("badimport", ""), "imports pbisync.open_socket, which pbisync does not provide"},
		{"init refuses", fixture("initfail", ""), "pbisync_init refused to start (status 1): config needs a prefix"},
		{"sha256 pin", fixture("noop", "    sha256: "+strings.Repeat("ab", 32)+"\n"), "but the pipeline pins abab"},
		{"pin on go_package", "translators:\n  - name: x\n    go_package: ./p\n    sha256: " + strings.Repeat("ab", 32) + "\n", "pipeline.yaml:4:13: sha256 pins a module file"},
		{"not wasm", "translators:\n  - name: x\n    wasm: testdata/wat/noop.wat\n", "not a valid WebAssembly module"},
		{"missing file", "translators:\n  - name: x\n    wasm: testdata/nope.wasm\n", "nope.wasm: no such file"},
		{"two kinds", "translators:\n  - name: x\n    wasm: a.wasm\n    go_package: ./b\n", "pipeline.yaml:2:5: translator \"x\": give exactly one of"},
		{"bad policy", fixture("noop", "    on_error: ignore\n"), "pipeline.yaml:4:15: on_error must be fail, skip or keep_default"},
		{"bad limit", fixture("noop", "    limits: {memory: lots}\n"), "pipeline.yaml:4:13: memory: want a size such as 64MiB"},
		{"unknown key", fixture("noop", "    memory: 1MiB\n"), `pipeline.yaml:4:5: unknown key "memory"`},
		{"duplicate name", fixture("noop", "") + "  - name: noop\n    translation: []\n", `translator name "noop" is already used at pipeline.yaml:2:5`},
		{"smallest memory limit", fixture("noop", "    limits: {memory: 64KiB}\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newChain(t, tt.yml, Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				_ = c.Close(context.Background())
				return
			}
			if err == nil {
				_ = c.Close(context.Background())
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// problemsOf renders problems as "ID: message" for comparison.
func problemsOf(probs []record.Problem) map[string]string {
	m := map[string]string{}
	for _, p := range probs {
		m[p.Asset.ID] = p.Stage + ": " + p.Err.Error()
	}
	return m
}

func idsOf(recs []record.Record) []string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Spec.PowerBI.ID)
	}
	return ids
}

func numbered(n int) []record.Record {
	recs := sampleRecords(n)
	for i := range recs {
		recs[i].Spec.PowerBI.ID = fmt.Sprint(i)
	}
	return recs
}

func TestGuestFailures(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		extra    string
		n        int
		wantIDs  []string
		wantProb map[string]string // ID -> substring of the problem
	}{
		{"trap skips the trapping assets", "trap", "    on_error: skip\n", 8,
			[]string{"0", "2", "3", "4", "6", "7"},
			map[string]string{"1": "translator trap: trap: wasm error: unreachable", "5": "wasm error: unreachable"}},
		{"trap keeps defaults", "trap", "    on_error: keep_default\n", 4,
			[]string{"0", "1", "2", "3"}, map[string]string{"1": "unreachable"}},
		{"endless loop is stopped", "loop", "    on_error: skip\n    limits: {asset_timeout: 150ms}\n", 6,
			[]string{"0", "2", "3", "4"},
			map[string]string{"1": "stopped after asset_timeout 150ms", "5": "stuck in a loop"}},
		{"memory growth hits the limit", "grow", "    on_error: skip\n    limits: {memory: 2MiB}\n", 2,
			nil, map[string]string{"0": "its memory is at limits.memory, 2 MiB", "1": "trap: wasm error: unreachable (in .$3)"}},
		{"garbage is refused per asset", "garbage", "    on_error: skip\n", 8,
			[]string{"7"},
			map[string]string{
				"0": "set_json(SPEC): invalid character",
				"1": "returned an invalid spec: key is empty",
				"2": `put(METADATA, "n"): metadata of type int: json: cannot unmarshal string`,
				"3": "returned an invalid spec: key \"a/\": part 1 is empty",
				"4": "guest passed a buffer outside its memory (offset 4294967280, length 100)",
				"5": "translator garbage: the asset is cursed",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, fixture(tt.fixture, tt.extra))
			out, probs, err := c.Translate(context.Background(), numbered(tt.n))
			if err != nil {
				t.Fatal(err)
			}
			if got := idsOf(out); !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("kept %v, want %v", got, tt.wantIDs)
			}
			got := problemsOf(probs)
			if len(got) != len(tt.wantProb) {
				t.Errorf("got %d problems, want %d: %v", len(got), len(tt.wantProb), got)
			}
			for id, want := range tt.wantProb {
				if !strings.Contains(got[id], want) {
					t.Errorf("asset %s: problem %q\nwant it to contain %q", id, got[id], want)
				}
			}
		})
	}
}

func TestFailPolicyStopsWithTheAsset(t *testing.T) {
	c := mustChain(t, fixture("garbage", ""))
	_, _, err := c.Translate(context.Background(), numbered(3))
	want := `translator garbage: dashboard "Executive Overview 0" (id 0) in workspace "Sales & Finance": set_json(SPEC): invalid character`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v\nwant %q", err, want)
	}
}

func TestNoopKeepsEverythingAcrossInstances(t *testing.T) {
	c, err := newChain(t, fixture("noop", ""), Options{Instances: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	in := sampleRecords(2000)
	for range 2 { // the second batch reuses pooled instances
		out, probs, err := c.Translate(context.Background(), in)
		if err != nil || len(probs) > 0 {
			t.Fatal(err, probs)
		}
		if !reflect.DeepEqual(out, in) {
			t.Fatal("no-op translator changed records")
		}
	}
}

func TestCompilationCacheIsWritten(t *testing.T) {
	dir := t.TempDir()
	c, err := newChain(t, fixture("noop", ""), Options{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(context.Background())
	var files int
	_ = filepath.WalkDir(filepath.Join(dir, "wazero"), func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no compiled module in the cache directory")
	}
}

func TestSandboxOpensOnlyWhenGranted(t *testing.T) {
	t.Setenv("PBISYNC_TEST_GRANT", "x")
	for _, tt := range []struct {
		fixture, grant string
		kept           int
	}{
		{"clock", "", 3},
		{"clock", "    grant: {clock: true}\n", 0},
		{"env", "", 3},
		{"env", "    grant: {env: [PBISYNC_TEST_GRANT]}\n", 0},
	} {
		c := mustChain(t, fixture(tt.fixture, tt.grant))
		out, _, err := c.Translate(context.Background(), sampleRecords(3))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != tt.kept {
			t.Errorf("%s with grant %q: kept %d, want %d", tt.fixture, tt.grant, len(out), tt.kept)
		}
	}
}

func TestGuestLogs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	c, err := newChain(t, fixture("logger", ""), Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, _, err := c.Translate(context.Background(), sampleRecords(2)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="looking at it" translator=logger asset="report \"Sales Report 1\"`,
		`msg="to stderr" translator=logger stream="guest output"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestSHA256PinAccepts(t *testing.T) {
	data, err := os.ReadFile("testdata/wat/noop.wasm")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	c := mustChain(t, fixture("noop", "    sha256: "+strings.ToUpper(hex.EncodeToString(sum[:]))+"\n"))
	if got := c.Steps()[0].(*WASM).SHA256; got != hex.EncodeToString(sum[:]) {
		t.Fatalf("SHA256 %s", got)
	}
}

// TestCompiledCodeIsVerified: a compiled-code cache file changed after pbisync wrote
// it is discarded and the module compiled again, not run.
func TestCompiledCodeIsVerified(t *testing.T) {
	dir := t.TempDir()
	var logBuf bytes.Buffer
	load := func() {
		t.Helper()
		c, err := newChain(t, fixture("noop", ""), Options{CacheDir: dir, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Translate(context.Background(), sampleRecords(3)); err != nil {
			t.Fatal(err)
		}
		_ = c.Close(context.Background())
	}
	load()
	manifests, _ := filepath.Glob(filepath.Join(dir, "wazero", "*.sha256"))
	if len(manifests) != 1 {
		t.Fatalf("want one manifest, got %v", manifests)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSuffix(manifests[0], ".sha256"), "*", "*"))
	if len(files) == 0 {
		t.Fatal("no compiled code in the cache")
	}
	load()
	if strings.Contains(logBuf.String(), "does not match") {
		t.Fatalf("an untouched cache was discarded:\n%s", logBuf.String())
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	load()
	if !strings.Contains(logBuf.String(), "compiled-code cache does not match its manifest") {
		t.Fatalf("a changed cache file was not noticed:\n%s", logBuf.String())
	}
	if again, _ := os.ReadFile(files[0]); bytes.Equal(again, data) {
		t.Fatal("the changed file is still in the cache")
	}
}
