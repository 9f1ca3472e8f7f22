package pipes

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParamsRoundTrip(t *testing.T) {
	in := map[string]any{"path": "/tmp/x.json", "nested": map[string]any{"a": []any{1.0, "b"}}}
	enc, err := EncodeParams(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeParams(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip: got %v, want %v", got, in)
	}
}

func TestDecodeParamsErrors(t *testing.T) {
	notObject, _ := encodeRaw(`[1,2]`)
	null, _ := encodeRaw(`null`)
	cases := []struct{ name, value, want string }{
		{"not base64", "%%%", "not base64"},
		{"not zlib", "aGVsbG8=", "not zlib"},
		{"array", notObject, "not a JSON object"},
		{"null", null, "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeParams(c.value)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("DecodeParams(%q) = %v, want an error containing %q", c.value, err, c.want)
			}
		})
	}
}

func TestEscapeKey(t *testing.T) {
	cases := []struct {
		parts []string
		want  string
	}{
		{[]string{"semantic_model", "Sales"}, "semantic_model/Sales"},
		{[]string{"a/b", "c"}, `a\/b/c`},
		{[]string{`back\slash`}, `back\\slash`},
		{[]string{"one"}, "one"},
	}
	for _, c := range cases {
		if got := EscapeKey(c.parts); got != c.want {
			t.Errorf("EscapeKey(%q) = %q, want %q", c.parts, got, c.want)
		}
		if got := SplitKey(c.want); !reflect.DeepEqual(got, c.parts) {
			t.Errorf("SplitKey(%q) = %q, want %q", c.want, got, c.parts)
		}
	}
}

// env builds a bootstrap environment with inline context data and a message file.
func env(t *testing.T, data map[string]any) (func(string) string, string) {
	t.Helper()
	msgs := filepath.Join(t.TempDir(), "messages.jsonl")
	ctx, err := EncodeParams(map[string]any{"data": data})
	if err != nil {
		t.Fatal(err)
	}
	m, err := EncodeParams(map[string]any{"path": msgs})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{ContextEnv: ctx, MessagesEnv: m}
	return func(k string) string { return vars[k] }, msgs
}

func readMessages(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("message %q: %v", sc.Text(), err)
		}
		if m[versionField] != ProtocolVersion {
			t.Errorf("message %q: version %v", sc.Text(), m[versionField])
		}
		out = append(out, m)
	}
	return out
}

func TestOpenNotDagster(t *testing.T) {
	s, err := Open(func(string) string { return "" })
	if s != nil || err != nil {
		t.Fatalf("Open without the environment = %v, %v; want nil, nil", s, err)
	}
}

func TestOpenBadEnvironment(t *testing.T) {
	good, _ := EncodeParams(map[string]any{"data": map[string]any{}})
	s3, _ := EncodeParams(map[string]any{"bucket": "b", "key_prefix": "p"})
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no messages", map[string]string{ContextEnv: good}, "DAGSTER_PIPES_MESSAGES is not"},
		{"bad context", map[string]string{ContextEnv: "%%", MessagesEnv: good}, "DAGSTER_PIPES_CONTEXT: not base64"},
		{"unknown context loader", map[string]string{ContextEnv: s3, MessagesEnv: good}, `expected "path" or "data"`},
		{"unknown message writer", map[string]string{ContextEnv: good, MessagesEnv: s3}, `expected "path", "stdio"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(func(k string) string { return c.vars[k] })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestSessionMessages(t *testing.T) {
	getenv, msgs := env(t, map[string]any{"asset_keys": []any{"semantic_model/Sales"}, "run_id": "r1", "retry_number": 0,
		"extras": map[string]any{"x": 1.0}, "partition_key": nil, "job_name": nil})
	s, err := Open(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if s.Context().RunID != "r1" || s.Context().Extras["x"] != 1.0 {
		t.Fatalf("context = %+v", s.Context())
	}
	if err := s.Log(Info, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReportMaterialization("report/Other", nil, ""); err == nil {
		t.Error("a key outside the step was accepted")
	}
	md := map[string]Metadata{"status": {RawValue: "Completed", Type: "text"}}
	if err := s.ReportMaterialization("semantic_model/Sales", md, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReportMaterialization("semantic_model/Sales", md, ""); err == nil {
		t.Error("a second materialization of the same key was accepted")
	}
	if err := s.Close(&Exception{Message: "boom", Stack: []string{}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(nil); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Log(Info, "late"); err != ErrClosed {
		t.Fatalf("Log after Close = %v, want ErrClosed", err)
	}
	got := readMessages(t, msgs)
	var methods []string
	for _, m := range got {
		methods = append(methods, m["method"].(string))
	}
	if want := []string{"opened", "log", "report_asset_materialization", "closed"}; !reflect.DeepEqual(methods, want) {
		t.Fatalf("methods = %q, want %q", methods, want)
	}
	mat := got[2]["params"].(map[string]any)
	if mat["asset_key"] != "semantic_model/Sales" || mat["data_version"] != "v1" {
		t.Errorf("materialization params = %v", mat)
	}
	if exc := got[3]["params"].(map[string]any)["exception"].(map[string]any); exc["message"] != "boom" {
		t.Errorf("closed params = %v", got[3]["params"])
	}
}

func encodeRaw(s string) (string, error) {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	return encodeAny(v)
}

func encodeAny(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func TestFloatJSON(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{{3, "3.0"}, {3.5, "3.5"}, {-2, "-2.0"}, {1e21, "1e+21"}, {1764582000.25, "1.76458200025e+09"}}
	for _, c := range cases {
		b, err := json.Marshal(Float(c.in))
		if err != nil || string(b) != c.want {
			t.Errorf("Float(%v) = %s, %v; want %s", c.in, b, err, c.want)
		}
	}
}
