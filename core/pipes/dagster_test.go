package pipes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/internal/pyenv"
)

// helperEnv makes the test binary act as a Pipes process (see TestMain) instead of
// running tests; real Dagster launches it through PipesSubprocessClient.
const helperEnv = "PBISYNC_PIPES_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := helper(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		return
	}
	os.Exit(m.Run())
}

var (
	salesKey = EscapeKey([]string{"semantic_model", "Sales_Model"})
	oddKey   = EscapeKey([]string{"report", "Sales_Model"})
)

func helper(mode string) error {
	s, err := Open(os.Getenv)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("not launched by Dagster")
	}
	if got := s.Context().Extras["mode"]; got != mode {
		return fmt.Errorf("extras mode = %v, want %s", got, mode)
	}
	if len(s.Context().AssetKeys) != 2 || !s.InScope(salesKey) || !s.InScope(oddKey) {
		return fmt.Errorf("asset keys = %q", s.Context().AssetKeys)
	}
	if err := s.Log(Info, "refreshing from pbisync"); err != nil {
		return err
	}
	if mode == "fail" {
		if err := s.Log(Error, "refresh of Sales Model failed: DMTS_DatasourceHasNoCredentialError"); err != nil {
			return err
		}
		if err := s.Close(&Exception{Message: "refresh of Sales Model failed: DMTS_DatasourceHasNoCredentialError", Stack: []string{}, Name: "RefreshFailed"}); err != nil {
			return err
		}
		os.Exit(3)
	}
	md := map[string]Metadata{
		"pbisync/request_id": {RawValue: "5f0b", Type: "text"},
		"pbisync/web_url":    {RawValue: "https://app.powerbi.com/groups/g/datasets/d", Type: "url"},
		"pbisync/polls":      {RawValue: 4, Type: "int"},
		"pbisync/duration":   {RawValue: Float(3), Type: "float"},
		"pbisync/enhanced":   {RawValue: false, Type: "bool"},
		"pbisync/tables":     {RawValue: []any{map[string]any{"table": "Sales", "status": "Completed"}}, Type: "json"},
		"pbisync/started_at": {RawValue: 1764582000.25, Type: "timestamp"},
		"pbisync/schema":     {RawValue: map[string]any{"columns": []any{map[string]any{"name": "id", "type": "Int64"}}}, Type: "table_schema"},
	}
	if err := s.ReportMaterialization(salesKey, md, "req-1"); err != nil {
		return err
	}
	if err := s.ReportMaterialization(oddKey, nil, ""); err != nil {
		return err
	}
	if err := s.ReportCustomMessage(map[string]any{"refreshed": 2}); err != nil {
		return err
	}
	return s.Close(nil)
}

type dagsterSaw struct {
	Success          bool `json:"success"`
	Materializations []struct {
		Key      []string `json:"key"`
		Metadata map[string]struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"metadata"`
	} `json:"materializations"`
	Logs []struct {
		Level   int    `json:"level"`
		Message string `json:"message"`
	} `json:"logs"`
	Custom []any `json:"custom"`
	Errors []struct {
		Message string `json:"message"`
		Cause   string `json:"cause"`
	} `json:"errors"`
}

func runUnderDagster(t *testing.T, mode string) dagsterSaw {
	t.Helper()
	py := pyenv.Python(t)
	cmd := exec.Command(py, "testdata/orchestrate.py", mode, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("orchestrate.py %s: %v\n%s\n%s", mode, err, out, stderr.Bytes())
	}
	var saw dagsterSaw
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &saw); err != nil {
		t.Fatalf("orchestrate.py output: %v\n%s", err, out)
	}
	return saw
}

// TestUnderRealDagster runs this package's Session inside real Dagster
// (PipesSubprocessClient with its default context injector and message reader) and
// checks what Dagster recorded.
func TestUnderRealDagster(t *testing.T) {
	saw := runUnderDagster(t, "ok")
	if !saw.Success {
		t.Fatalf("the run failed: %+v", saw.Errors)
	}
	if len(saw.Materializations) != 2 {
		t.Fatalf("materializations = %+v, want 2", saw.Materializations)
	}
	byKey := map[string]int{}
	for i, m := range saw.Materializations {
		byKey[strings.Join(m.Key, "|")] = i
	}
	sales, ok := byKey["semantic_model|Sales_Model"]
	if _, odd := byKey["report|Sales_Model"]; !ok || !odd {
		t.Fatalf("materialized keys = %v", byKey)
	}
	want := map[string]string{
		"pbisync/request_id": "TextMetadataValue", "pbisync/web_url": "UrlMetadataValue", "pbisync/polls": "IntMetadataValue",
		"pbisync/duration": "FloatMetadataValue", "pbisync/enhanced": "BoolMetadataValue", "pbisync/tables": "JsonMetadataValue",
		"pbisync/started_at": "TimestampMetadataValue", "pbisync/schema": "TableSchemaMetadataValue",
	}
	md := saw.Materializations[sales].Metadata
	for k, typ := range want {
		if md[k].Type != typ {
			t.Errorf("metadata %s: Dagster type %q, want %q", k, md[k].Type, typ)
		}
	}
	if md["pbisync/started_at"].Value != 1764582000.25 || md["pbisync/polls"].Value != 4.0 || md["pbisync/duration"].Value != 3.0 {
		t.Errorf("metadata values = %+v", md)
	}
	if !reflect.DeepEqual(saw.Custom, []any{map[string]any{"refreshed": 2.0}}) {
		t.Errorf("custom messages = %v", saw.Custom)
	}
	found := false
	for _, l := range saw.Logs {
		found = found || (l.Message == "refreshing from pbisync" && l.Level == 20)
	}
	if !found {
		t.Errorf("the log line did not reach Dagster at INFO: %+v", saw.Logs)
	}
}

// TestFailureUnderRealDagster checks that a closing exception and a non-zero exit fail
// the step, with the error text in Dagster's events.
func TestFailureUnderRealDagster(t *testing.T) {
	saw := runUnderDagster(t, "fail")
	if saw.Success {
		t.Fatal("the run succeeded")
	}
	var msgs []string
	for _, e := range saw.Errors {
		msgs = append(msgs, e.Message, e.Cause)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "DMTS_DatasourceHasNoCredentialError") || !strings.Contains(all, "failed with code 3") {
		t.Fatalf("errors Dagster recorded:\n%s", all)
	}
	found := false
	for _, l := range saw.Logs {
		found = found || (strings.Contains(l.Message, "DMTS_DatasourceHasNoCredentialError") && l.Level == 40)
	}
	if !found {
		t.Errorf("the error log line did not reach Dagster at ERROR: %+v", saw.Logs)
	}
}
