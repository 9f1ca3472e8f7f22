package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

// cli runs the CLI in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"--help"}, exitOK, "sync"},
		{[]string{"nope"}, exitUsage, `unknown command "nope"`},
		{[]string{"sync", "--help"}, exitOK, "--snapshot"},
		{[]string{"sync", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"sync", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"snapshot"}, exitUsage, "save"},
		{[]string{"snapshot", "save"}, exitUsage, "-o FILE is required"},
		{[]string{"validate", "-f", "testdata/missing.yaml"}, exitUsage, "testdata/missing.yaml: cannot read the pipeline file: no such file"},
		{[]string{"sync", "--log-format", "xml", "--snapshot", "x"}, exitUsage, "--log-format must be text or json"},
		{[]string{"sync", "--memory-limit", "lots", "--snapshot", "x"}, exitUsage, "--memory-limit: want a size"},
		{[]string{"sync", "--memory-limit", "12XB", "--snapshot", "x"}, exitUsage, "--memory-limit: want a size"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
		})
	}
}

func TestValidateReportsPosition(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.yaml")
	os.WriteFile(f, []byte("version: 1\nsources:\n  - snapshot: nope.json\noutputs:\n  - name: x\n    jsonl: {path: a, fromat: specs}\n"), 0o644)
	code, _, errOut := cli(t, "validate", "-f", f)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errOut)
	}
	if !strings.Contains(errOut, f+":3:5") || !strings.Contains(errOut, "nope.json") {
		t.Errorf("want the missing snapshot file named with its position, got %s", errOut)
	}
}

func TestValidateExamples(t *testing.T) {
	for _, v := range []string{"POWER_BI_API_TOKEN", "POWER_BI_WORKSPACE_ID", "POWER_BI_TENANT_ID", "POWER_BI_CLIENT_ID",
		"POWER_BI_CLIENT_SECRET", "POWER_BI_SALES_WORKSPACE_ID", "POWER_BI_FINANCE_WORKSPACE_ID"} {
		t.Setenv(v, "00000000-0000-0000-0000-000000000001")
	}
	files, _ := filepath.Glob("../../examples/*/pipeline.yaml")
	files = append(files, "../../pipeline.yaml")
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if code, out, errOut := cli(t, "validate", "-f", f); code != exitOK {
				t.Errorf("exit %d: %s%s", code, out, errOut)
			}
		})
	}
}

func TestSyncSnapshotFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "specs.jsonl")
	code, _, errOut := cli(t, "sync", "--snapshot", "../../core/snapshot/testdata/scanresult_msdocs.json", "--out", out)
	// The example's report points at a model outside the document: a warning, not a problem.
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "output written") || !strings.Contains(errOut, out) {
		t.Errorf("the log does not say where the specs went:\n%s", errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[spec.ContentType]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s spec.AssetSpec
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("line is not a spec: %v\n%s", err, sc.Text())
		}
		if err := s.Validate(); err != nil {
			t.Errorf("invalid spec %s: %v", s.Key, err)
		}
		types[s.PowerBI.Type]++
	}
	for _, ct := range spec.ContentTypes {
		if types[ct] == 0 {
			t.Errorf("no %s spec in the output (%v)", ct, types)
		}
	}
}

func TestSyncSnapshotToStdout(t *testing.T) {
	code, out, errOut := cli(t, "sync", "--snapshot", "../../core/snapshot/testdata/scanresult_msdocs.json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "\n"); n < 4 {
		t.Errorf("want a spec per line on stdout, got %d lines", n)
	}
	if !strings.Contains(errOut, "standard output") {
		t.Errorf("the log does not say the specs went to standard output")
	}
}

func TestSyncBadSnapshot(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(f, []byte(`{"version": 1, "workspaces": [{"id": 5}]}`), 0o644)
	code, _, errOut := cli(t, "sync", "--snapshot", f)
	if code != exitError || !strings.Contains(errOut, "bad.json") {
		t.Errorf("exit %d, want %d and the file named: %s", code, exitError, errOut)
	}
}

// TestHelpOnce checks --help for every command: printed once, to standard output, and
// the list of commands gives each a whole sentence.
func TestHelpOnce(t *testing.T) {
	var paths [][]string
	var walk func(prefix []string, cs []*command)
	walk = func(prefix []string, cs []*command) {
		for _, c := range cs {
			if c.hidden {
				continue
			}
			p := append(append([]string(nil), prefix...), c.name)
			if c.sub != nil {
				walk(p, c.sub)
			}
			paths = append(paths, p)
		}
	}
	walk(nil, commands())
	paths = append(paths, nil)
	for _, p := range paths {
		t.Run(strings.Join(append(p, "--help"), " "), func(t *testing.T) {
			code, out, errOut := cli(t, append(p, "--help")...)
			if code != exitOK || errOut != "" {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
			if n := strings.Count(out, "Usage:"); n != 1 {
				t.Errorf("usage printed %d times:\n%s", n, out)
			}
		})
	}
	_, out, _ := cli(t, "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasSuffix(line, ".") {
			t.Errorf("summary is not a whole sentence: %q", line)
		}
	}
	code, out, _ := cli(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "pbisync ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	pos, err := parseInterspersedFor(t, "Sales Model", "-f", "x.yaml", "Other", "--", "-f")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, "|") != "Sales Model|Other|-f" {
		t.Errorf("positional: %q", pos)
	}
}

func parseInterspersedFor(t *testing.T, args ...string) ([]string, error) {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := fs.String("f", "", "")
	pos, err := parseInterspersed(fs, args)
	if err == nil && *f != "x.yaml" {
		t.Errorf("-f = %q", *f)
	}
	return pos, err
}
