package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's exit codes, command by command: 0 success; 1 the command failed; 2 bad
// flags, arguments or pipeline file; 3 finished with problems; 130 interrupted.

// cliCtx runs the CLI in-process under ctx.
func cliCtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// exitFixture is a folder of pipelines covering each way a command can end.
type exitFixture struct {
	dir                                   string
	good, broken, failing, problems, emul string
}

func newExitFixture(t *testing.T) *exitFixture {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, "../../core/snapshot/testdata/scanresult_msdocs.json", filepath.Join(dir, "snap.json"))
	copyFile(t, "../../core/translate/testdata/wat/trap.wasm", filepath.Join(dir, "trap.wasm"))
	if err := os.WriteFile(filepath.Join(dir, "corrupt.json"), []byte(`{"workspaces": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	out := "outputs:\n  - name: specs\n    jsonl: {path: out/specs.jsonl, format: specs}\n"
	return &exitFixture{
		dir:    dir,
		good:   write("good.yaml", "version: 1\nsources:\n  - snapshot: snap.json\n"+out),
		broken: write("broken.yaml", "version: 1\nsources:\n  - snapshot: snap.json\n"+out+"refrsh: {}\n"),
		// The source's file is there but is not JSON: the sync fails while reading.
		failing: write("failing.yaml", "version: 1\nsources:\n  - snapshot: corrupt.json\n"+out),
		// A translator that traps on every asset, whose policy is to skip them.
		problems: write("problems.yaml", "version: 1\nsources:\n  - snapshot: snap.json\n"+out+
			"translators:\n  - name: trap\n    wasm: trap.wasm\n    on_error: skip\n"),
		emul: write("emulator.yaml", "version: 1\nsources:\n  - emulator: {tenant: sample}\n"+
			"outputs:\n  - name: events\n    jsonl: {path: out/events.jsonl}\n"+
			"refresh:\n  poll: {initial: 50ms, max: 200ms}\n"+
			"serve:\n  token: t0ken\n  addr: 127.0.0.1:0\n  sync_on_start: false\n"),
	}
}

func TestExitCodes(t *testing.T) {
	fx := newExitFixture(t)
	mfile := func(name, src string) string {
		p := filepath.Join(fx.dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodM := mfile("Orders.m", "let\n    Source = Sql.Database(\"srv\", \"Ops\"),\n    t = Source{[Schema=\"dbo\",Item=\"Orders\"]}[Data]\nin\n    t")
	badM := mfile("Broken.m", "let\n    Source = Sql.Database(\"x\" \"y\")\nin\n    Source")
	cache := filepath.Join(fx.dir, "cache")
	timeout := func(d time.Duration) func() context.Context {
		return func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			t.Cleanup(cancel)
			return ctx
		}
	}
	background := func() context.Context { return context.Background() }
	tests := []struct {
		name string
		ctx  func() context.Context
		args []string
		code int
		want string // in stderr
	}{
		{"run ok", background, []string{"run", "-f", fx.good}, exitOK, "output written"},
		{"run failed", background, []string{"run", "-f", fx.failing}, exitError, "corrupt.json"},
		{"run bad pipeline", background, []string{"run", "-f", fx.broken}, exitUsage, `unknown key "refrsh"`},
		{"run missing pipeline", background, []string{"run", "-f", filepath.Join(fx.dir, "nope.yaml")}, exitUsage, "cannot read the pipeline file"},
		{"run problems", background, []string{"run", "-f", fx.problems}, exitProblems, "problem(s)"},
		{"run interrupted", cancelled, []string{"run", "-f", fx.good}, exitInterrupted, "interrupted"},
		{"sync ok", background, []string{"sync", "-f", fx.good}, exitOK, "sync finished"},
		{"sync failed", background, []string{"sync", "-f", fx.failing}, exitError, "corrupt.json"},
		{"sync bad flag", background, []string{"sync", "--nope"}, exitUsage, "flag provided but not defined"},
		{"sync bad pipeline", background, []string{"sync", "-f", fx.broken}, exitUsage, `unknown key "refrsh"`},
		{"sync problems", background, []string{"sync", "-f", fx.problems}, exitProblems, "problem(s)"},
		{"sync interrupted", cancelled, []string{"sync", "-f", fx.good}, exitInterrupted, "interrupted"},
		{"validate ok", background, []string{"validate", "-f", fx.good}, exitOK, ""},
		{"validate bad pipeline", background, []string{"validate", "-f", fx.broken}, exitUsage, `unknown key "refrsh"`},
		{"validate extra argument", background, []string{"validate", "-f", fx.good, "extra"}, exitUsage, "unexpected arguments"},
		{"snapshot save ok", background, []string{"snapshot", "save", "-f", fx.emul, "-o", filepath.Join(fx.dir, "saved.json")}, exitOK, "snapshot saved"},
		{"snapshot save failed", background, []string{"snapshot", "save", "-f", fx.emul, "-o", filepath.Join(fx.dir, "no", "dir", "s.json")}, exitError, "no such file"},
		{"snapshot save no -o", background, []string{"snapshot", "save", "-f", fx.emul}, exitUsage, "-o FILE is required"},
		{"snapshot save interrupted", cancelled, []string{"snapshot", "save", "-f", fx.emul, "-o", filepath.Join(fx.dir, "s2.json")}, exitInterrupted, "interrupted"},
		{"refresh ok", background, []string{"refresh", "Inventory", "-f", fx.emul}, exitOK, "refresh completed"},
		{"refresh unknown model", background, []string{"refresh", "-f", fx.emul, "Nope"}, exitUsage, `no semantic model is named "Nope"`},
		{"refresh bad pipeline", background, []string{"refresh", "-f", fx.broken}, exitUsage, `unknown key "refrsh"`},
		{"refresh interrupted", cancelled, []string{"refresh", "-f", fx.emul, "Inventory"}, exitInterrupted, "interrupted"},
		{"serve stopped", timeout(2 * time.Second), []string{"serve", "-f", fx.emul}, exitOK, "pbisync serve is ready"},
		{"serve without token", background, []string{"serve", "-f", fx.good}, exitUsage, "token"},
		{"emulate stopped", timeout(time.Second), []string{"emulate"}, exitOK, "emulator listening"},
		{"emulate bad size", background, []string{"emulate", "--tenant", "generated", "--size", "huge"}, exitUsage, "--size must be small or large"},
		{"lineage ok", background, []string{"lineage", goodM}, exitOK, "lineage resolved"},
		{"lineage missing file", background, []string{"lineage", filepath.Join(fx.dir, "Missing.m")}, exitUsage, "Missing.m"},
		{"lineage syntax error", background, []string{"lineage", badM}, exitProblems, "Broken.m:2:"},
		{"translator test ok", background, []string{"translator", "test", "--snapshot", filepath.Join(fx.dir, "snap.json"), "--translator", "../../core/translate/testdata/wat/noop.wasm", "--cache-dir", cache}, exitOK, ""},
		{"translator test problems", background, []string{"translator", "test", "--snapshot", filepath.Join(fx.dir, "snap.json"), "--translator", filepath.Join(fx.dir, "trap.wasm"), "--cache-dir", cache}, exitProblems, "problem(s)"},
		{"translator test no translator", background, []string{"translator", "test", "--snapshot", filepath.Join(fx.dir, "snap.json")}, exitUsage, "--translator"},
		{"translator test expect differs", background, []string{"translator", "test", "--snapshot", filepath.Join(fx.dir, "snap.json"), "--translator", "../../core/translate/testdata/wat/echo.wasm", "--cache-dir", cache, "--expect", filepath.Join(fx.dir, "snap.json")}, exitError, "output differs"},
		{"translator new ok", background, []string{"translator", "new", "--lang", "c", "--dir", filepath.Join(fx.dir, "tr"), "tr"}, exitOK, ""},
		{"translator new no lang", background, []string{"translator", "new", "x"}, exitUsage, "--lang is required"},
		{"impact ok", background, []string{"impact", "--snapshot", filepath.Join(fx.dir, "snap.json"), "ExportB"}, exitOK, ""},
		{"impact no name", background, []string{"impact", "--snapshot", filepath.Join(fx.dir, "snap.json")}, exitUsage, "give at least one NAME"},
		{"impact unknown name", background, []string{"impact", "--snapshot", filepath.Join(fx.dir, "snap.json"), "nope"}, exitUsage, "nothing in the estate matches nope"},
		{"impact missing snapshot", background, []string{"impact", "--snapshot", filepath.Join(fx.dir, "nope.json"), "x"}, exitUsage, "nope.json"},
		{"ui interrupted", timeout(time.Second), []string{"ui", "--snapshot", filepath.Join(fx.dir, "snap.json"), "--addr", "127.0.0.1:0"}, exitInterrupted, "pbisync ui is ready"},
		{"ui bad flag", background, []string{"ui", "--nope"}, exitUsage, "flag provided but not defined"},
		{"unknown command", background, []string{"nope"}, exitUsage, `unknown command "nope"`},
		{"no command", background, nil, exitUsage, "Commands:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cliCtx(tt.ctx(), tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
			if code != exitOK && strings.Contains(errOut, "sync finished") && code != exitProblems {
				t.Errorf("a failed command said the sync finished:\n%s", errOut)
			}
			if strings.Count(errOut, "pbisync "+firstWord(tt.args)+": pbisync") > 0 {
				t.Errorf("doubled error prefix:\n%s", errOut)
			}
		})
	}
}

func firstWord(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
