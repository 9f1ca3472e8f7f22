package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// brokenPipelines are pipelines that `sync` refuses before it contacts anything. Each
// names what the refusal must say; "{dir}" is the test's directory. Sources are a
// snapshot file, so a pipeline that passed would sync offline.
var brokenPipelines = []struct {
	name, outputs, extra, want string
}{
	{"unknown top-level key", jsonlOut, "sourcez: []\n", `unknown key "sourcez"`},
	{"typo in an output's config", "  - name: x\n    jsonl: {path: out/a.jsonl, fromat: specs}\n", "", `output "x": fromat: unknown key "fromat"`},
	{"wrong type in an output's config", "  - name: x\n    jsonl: {path: out/a.jsonl, append: sometimes}\n", "", `output "x": append:`},
	{"jsonl format not known", "  - name: x\n    jsonl: {path: out/a.jsonl, format: spec}\n", "", `format must be events or specs, got "spec"`},
	{"jsonl kind not known", "  - name: x\n    jsonl: {path: out/a.jsonl, kinds: [specs]}\n", "", `unknown event kind "specs"`},
	{"datahub workers out of range", "  - name: x\n    datahub: {file: out/dh.json, workers: 100}\n", "", `workers must be between 1 and 64`},
	{"datahub server and file", "  - name: x\n    datahub: {file: out/dh.json, server: http://127.0.0.1:1}\n", "", `give server or file, not both`},
	{"openlineage url not http", "  - name: x\n    openlineage: {url: ftp://x}\n", "", `want an http(s) URL`},
	{"sqlite path empty", "  - name: x\n    sqlite: {path: \" \"}\n", "", `path is empty`},
	{"output without a kind", "  - name: x\n", "", `say which sink it is`},
	{"two outputs with one name", jsonlOut + "  - name: specs\n    jsonl: {path: out/b.jsonl}\n", "", `output name "specs" is used twice`},
	{"missing plugin binary", "  - name: x\n    plugin: {path: ./no-such-plugin}\n", "", `plugin {dir}/no-such-plugin does not exist`},
	{"plugin not executable", "  - name: x\n    plugin: {path: ./snap.json}\n", "", `is not executable`},
	{"plugin that is no sink", "  - name: x\n    plugin: {path: ./not-a-plugin.sh}\n", "", `did not answer pbisync's sink handshake`},
	{"plugin sha256 pin differs", "  - name: x\n    plugin: {path: ./not-a-plugin.sh, sha256: " + strings.Repeat("ab", 32) + "}\n", "", `the pipeline expects abab`},
	{"plugin sha256 malformed", "  - name: x\n    plugin: {path: ./not-a-plugin.sh, sha256: xyz}\n", "", `sha256 must be 64 hex digits`},
	{"translator wasm missing", jsonlOut, "translators:\n  - name: t\n    wasm: missing.wasm\n", `translator "t": open {dir}/missing.wasm: no such file`},
	{"translator not WebAssembly", jsonlOut, "translators:\n  - name: t\n    wasm: snap.json\n", `not a valid WebAssembly module`},
	{"translator sha256 pin differs", jsonlOut, "translators:\n  - name: t\n    wasm: echo.wasm\n    sha256: " + strings.Repeat("0", 64) + "\n", `but the pipeline pins 0000`},
	{"translator grant.fs missing", jsonlOut, "translators:\n  - name: t\n    wasm: echo.wasm\n    grant: {fs: [/no/such/dir]}\n", `grant.fs: "/no/such/dir" is not a directory`},
	{"translator go_package missing", jsonlOut, "translators:\n  - name: t\n    go_package: ./no-such-package\n", `translator "t"`},
	{"translator on_error unknown", jsonlOut, "translators:\n  - name: t\n    wasm: echo.wasm\n    on_error: ignore\n", `on_error must be fail, skip or keep_default`},
	{"translator rule unknown key", jsonlOut, "translators:\n  - name: t\n    translation:\n      - match: {type: report}\n        key_prefx: [x]\n", `unknown key "key_prefx"`},
	{"refresh pattern not a regexp", jsonlOut, "refresh:\n  select: [{pattern: \"(\"}]\n", "error parsing regexp"},
	{"refresh body unknown key", jsonlOut, "refresh:\n  select: [{all: true}]\n  body: {typ: Full}\n", `unknown key "typ"`},
	{"lineage rule unknown key", jsonlOut, "lineage:\n  keys:\n    - platform: snowflake\n      prefx: [x]\n", `unknown key "prefx"`},
	{"emulator tenant unknown", jsonlOut, "", `tenant must be sample or generated`},
	{"powerbi ca_file missing", jsonlOut, "", `ca_file`},
}

const jsonlOut = "  - name: specs\n    jsonl: {path: out/specs.jsonl, format: specs}\n"

// writeBrokenPipeline writes one case's pipeline and the files it refers to.
func writeBrokenPipeline(t *testing.T, dir, name, outputs, extra string) string {
	t.Helper()
	copyFile(t, "../../core/snapshot/testdata/scanresult_msdocs.json", filepath.Join(dir, "snap.json"))
	copyFile(t, "../../core/translate/testdata/wat/echo.wasm", filepath.Join(dir, "echo.wasm"))
	if err := os.WriteFile(filepath.Join(dir, "not-a-plugin.sh"), []byte("#!/bin/sh\necho not a plugin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sources := "sources:\n  - snapshot: snap.json\n"
	switch name {
	case "emulator tenant unknown":
		sources = "sources:\n  - name: emu\n    emulator: {tenant: huge}\n"
	case "powerbi ca_file missing":
		sources = "sources:\n  - name: prod\n    powerbi:\n      ca_file: missing-ca.pem\n      credentials: {token: x}\n      workspaces: {ids: [w1]}\n"
	}
	f := filepath.Join(dir, "pipeline.yaml")
	doc := "version: 1\n" + sources + "outputs:\n" + outputs + extra
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var position = regexp.MustCompile(`pipeline\.yaml:\d+:\d+: `)

// refusal is what a command said about the pipeline: its error lines, without the
// command's name (logs before it are left out).
func refusal(stderr, cmd string) string {
	_, after, ok := strings.Cut(stderr, "pbisync "+cmd+": ")
	if !ok {
		return ""
	}
	return after
}

// TestValidateRefusesWhatSyncRefuses runs each broken pipeline through `validate` and
// `sync`: both exit 2 with the same message, which names the place in the file.
func TestValidateRefusesWhatSyncRefuses(t *testing.T) {
	if len(brokenPipelines) < 20 {
		t.Fatalf("want at least 20 broken pipelines, have %d", len(brokenPipelines))
	}
	for _, tt := range brokenPipelines {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := writeBrokenPipeline(t, dir, tt.name, tt.outputs, tt.extra)
			want := strings.ReplaceAll(tt.want, "{dir}", dir)
			vcode, _, vErr := cli(t, "validate", "-f", f)
			scode, _, sErr := cli(t, "sync", "-f", f)
			v, s := refusal(vErr, "validate"), refusal(sErr, "sync")
			if vcode != exitUsage || scode != exitUsage {
				t.Errorf("validate exit %d, sync exit %d; want %d for both\nvalidate: %s\nsync: %s", vcode, scode, exitUsage, vErr, sErr)
			}
			if v == "" || v != s {
				t.Errorf("validate and sync say different things\nvalidate: %s\nsync:     %s", v, s)
			}
			if !strings.Contains(v, want) {
				t.Errorf("the refusal lacks %q: %s", want, v)
			}
			if tt.name != "unknown top-level key" && !position.MatchString(v) {
				t.Errorf("the refusal names no file:line:column: %s", v)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Errorf("a refused pipeline created its outputs' folder")
			}
		})
	}
}

// TestValidateReportsEveryProblem checks that validate lists all the errors of a
// pipeline at once, each with its place, and that sync lists the same.
func TestValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	extra := "translators:\n  - name: t1\n    wasm: missing.wasm\n  - name: t2\n    wasm: snap.json\n" +
		"refresh:\n  select: [{pattern: \"(\"}]\n"
	outputs := "  - name: x\n    jsonl: {path: out/a.jsonl, fromat: specs}\n  - name: y\n    plugin: {path: ./nope}\n" +
		"  - name: z\n    datahub: {file: out/dh.json, workers: 100}\n"
	f := writeBrokenPipeline(t, dir, "many", outputs, extra)
	code, _, vErr := cli(t, "validate", "-f", f)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, vErr)
	}
	for _, want := range []string{"6 problems", "pipeline.yaml:13:11: translator \"t1\"", "pipeline.yaml:15:11: translator \"t2\"", "not a valid WebAssembly module",
		"pipeline.yaml:17:22: pattern", "pipeline.yaml:6:40: output \"x\": fromat", "pipeline.yaml:8:20: output \"y\"", "pipeline.yaml:10:43: output \"z\": workers"} {
		if !strings.Contains(vErr, want) {
			t.Errorf("validate's report lacks %q:\n%s", want, vErr)
		}
	}
	_, _, sErr := cli(t, "sync", "-f", f)
	if refusal(sErr, "sync") != refusal(vErr, "validate") {
		t.Errorf("sync says something else:\n%s\nvalidate:\n%s", sErr, vErr)
	}
}
