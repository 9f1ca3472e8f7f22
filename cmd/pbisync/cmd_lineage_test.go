package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLineageCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	server := write("Server.m", `"sql-prod.database.windows.net" meta [IsParameterQuery=true]`)
	orders := write("Orders.m", "let\n    Source = Sql.Database(Server, \"Ops\"),\n    t = Source{[Schema=\"dbo\",Item=\"Orders\"]}[Data]\nin\n    t")
	broken := write("Broken.m", "let\n    Source = Sql.Database(\"x\" \"y\")\nin\n    Source")

	var stdout, stderr bytes.Buffer
	g := &globals{stdout: &stdout, stderr: &stderr}
	code := dispatch(context.Background(), lineageCommand(), []string{"-shared", server, orders, broken}, g, "pbisync lineage")
	if code != exitProblems {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", code, exitProblems, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, `{"table":"Orders","upstream":[{"platform":"mssql","server":"sql-prod.database.windows.net","database":"Ops","schema":"dbo","table":"Orders"}]`) {
		t.Errorf("stdout = %s", out)
	}
	if !strings.Contains(out, `{"table":"Broken","unresolved":["syntax_error"]}`) {
		t.Errorf("stdout = %s", out)
	}
	if !strings.Contains(stderr.String(), "Broken.m:2:31: expected \",\", found a text literal") {
		t.Errorf("stderr = %s", stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	if code := dispatch(context.Background(), lineageCommand(), nil, g, "pbisync lineage"); code != exitUsage {
		t.Errorf("no files: exit code = %d, want %d", code, exitUsage)
	}
}
