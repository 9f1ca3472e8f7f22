package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// decodeBoth decodes doc with the fast readers and with encoding/json alone.
func decodeBoth(doc []byte) (fast, slow *Snapshot, fastErr, slowErr error) {
	fast, fastErr = DecodeScanResult(bytes.NewReader(doc))
	encodingJSONOnly = true
	defer func() { encodingJSONOnly = false }()
	slow, slowErr = DecodeScanResult(bytes.NewReader(doc))
	return fast, slow, fastErr, slowErr
}

func sameDecoding(t *testing.T, doc []byte) {
	t.Helper()
	fast, slow, fastErr, slowErr := decodeBoth(doc)
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
		t.Fatalf("errors differ:\nfast: %v\nslow: %v\ndoc: %s", fastErr, slowErr, doc)
	}
	if !reflect.DeepEqual(fast, slow) {
		fj, _ := json.Marshal(fast)
		sj, _ := json.Marshal(slow)
		t.Fatalf("snapshots differ:\nfast: %s\nslow: %s\ndoc: %s", fj, sj, doc)
	}
}

// The fast readers decode exactly what encoding/json decodes, the odd shapes included.
func TestFastReadersMatchEncodingJSON(t *testing.T) {
	docs := []string{
		`{"workspaces":[{"id":"w","name":"W","datasets":[{"id":"d","name":"D","isRefreshable":true,"tables":[{"name":"t","source":[{"expression":"let x = 1 in x"}],"columns":[{"name":"c","dataType":"String"}],"measures":[{"name":"m","expression":"SUM(t[c])"}]}]}]}]}`,
		// Case of keys, nulls, empty lists, null elements, unknown members of every kind.
		`{"WORKSPACES":[{"ID":"w","Datasets":[{"ID":"d","TABLES":[{"Name":"t","Columns":null,"measures":[],"source":[null]},null],"expressions":[],"x":{"a":[1,2,{"b":"\"]}"}]},"upstreamDatasets":null,"isRefreshable":null,"endorsementDetails":null}]}],"datasourceInstances":[]}`,
		`{"workspaces":[{"id":"w","datasets":[{"id":"d","endorsementDetails":{"endorsement":"certified","certifiedBy":"x"},"sensitivityLabel":{"labelId":"l"},"schemaRetrievalError":{"code":1}}]}]}`,
		// Escapes and text outside ASCII go to encoding/json.
		`{"workspaces":[{"id":"w\u0031","name":"Café","datasets":[{"id":"d","name":"a\"b\\\\","tables":[{"name":"\ud83d\ude00"}]}]}]}`,
		"{\"workspaces\":[{\"id\":\"w\",\"name\":\"bad \xff utf8\"}]}",
		// An escaped key, a repeated key, a key outside ASCII.
		`{"workspaces":[{"i\u0064":"w","datasets":[{"id":"d","id":"e"}]}]}`,
		`{"workspaces":[{"id":"w","datasets":[{"id":"d","tables":[{"name":"a"}],"tables":[{"name":"b"}]}]}]}`,
		`{"workspaces":[{"id":"w","datasets":[{"id":"d","endorsementDetails":{"endorsement":"a"},"endorsementDetails":{"certifiedBy":"b"}}]}]}`,
		`{"workspaces":[{"id":"w","datasets":[{"ıd":"d"}]}]}`,
		// Values of the wrong type: the error and what is kept must be the same.
		`{"workspaces":[{"id":"w","datasets":[{"id":"d","tables":{"n":1}},{"id":7},"x",null,[]]}]}`,
		`{"workspaces":[{"id":"w","dashboards":{"n":1},"reports":[{"id":"r","reportType":"PAGINATEDREPORT"}]},{"id":"w2","isOnDedicatedCapacity":"yes"}],"datasourceInstances":{}}`,
		`{"workspaces":[{"id":"w","datasets":[{"id":"d","tables":[{"name":"t","isHidden":1,"columns":[{"name":"c","isHidden":"no"}]}]}]}]}`,
		`{"workspaces":"none"}`,
		`{"workspaces":null,"datasourceInstances":null}`,
		`{"workspaces":[null,1,"w",{"id":"w"}]}`,
		`{"workspaces":[{"id":"a"}],"workspaces":[{"id":"b"}],"datasourceInstances":[{"datasourceType":"Web","connectionDetails":{"url":"u"}}],"datasourceInstances":[{"datasourceType":"Sql"}]}`,
		// Reports and dashboards, their tiles' spans in every shape flexInt reads.
		`{"workspaces":[{"id":"w","reports":[{"id":"r","name":"R","reportType":"paginatedreport","datasetId":"d","datasourceUsages":[{"datasourceInstanceId":"x"},{"datasourceInstanceId":"x"}],"endorsementDetails":{"endorsement":"Promoted"},"sensitivityLabel":null},{"id":"r2","id":"r3"},{"id":"r4","name":5}],"dashboards":[{"id":"b","displayName":"B","isReadOnly":true,"tiles":[{"id":"t","rowSpan":2,"colSpan":"3"},{"id":"u","rowSpan":2.5,"colSpan":1e2},{"id":"v","rowSpan":-3,"colSpan":null},null,{"rowSpan":12345678901}]},{"id":"c","tiles":{"x":1}}]}]}`,
		// Not well formed: the stream decoder's errors, whatever it kept before them.
		`{"workspaces":[{"id":"w"},{"id":`,
		`{"workspaces":[{"id":"w"}]} trailing`,
		`[1]`,
		``,
	}
	for i, doc := range docs {
		t.Run(fmt.Sprint(i), func(t *testing.T) { sameDecoding(t, []byte(doc)) })
	}
}

func FuzzFastReaders(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameDecoding(t, doc)
	})
}

// Well-formed documents take the fast path (the tests above would pass without it).
func TestFastPathTaken(t *testing.T) {
	doc := []byte(`{"workspaces":[{"id":"w","datasets":[{"id":"d","tables":[{"name":"t","columns":[{"name":"c"}]}]}]}]}`)
	if !jsonenc.Valid(doc) {
		t.Fatal("jsonenc.Valid refused a well-formed document")
	}
	s, err, ok := decodeScanResultFast(doc)
	if !ok || err != nil || len(s.Workspaces) != 1 || len(s.Workspaces[0].SemanticModels) != 1 {
		t.Fatalf("fast path: ok=%v err=%v snapshot=%+v", ok, err, s)
	}
	var ww wireWorkspace
	if !fastWorkspace(doc[len(`{"workspaces":[`):len(doc)-2], &ww) || len(ww.read) != 1 || ww.read[0] == nil {
		t.Fatalf("the workspace's model was not read by the fast reader: %+v", ww)
	}
}

// readDocument reads every byte, of any length, and passes a read error on.
func TestReadDocument(t *testing.T) {
	for _, n := range []int{0, 1, 64 << 10, 64<<10 + 1, 5 << 20} {
		want := bytes.Repeat([]byte("x"), n)
		for _, r := range []io.Reader{bytes.NewReader(want), iotest.OneByteReader(bytes.NewReader(want)), struct{ io.Reader }{bytes.NewReader(want)}} {
			got, err := readDocument(r)
			if err != nil || !bytes.Equal(got, want) || cap(got) != n {
				t.Fatalf("n=%d %T: got %d bytes (cap %d), %v", n, r, len(got), cap(got), err)
			}
		}
	}
	// With a size hint, too small or too large: the bytes are all read, into one
	// allocation when the hint was large enough.
	for _, n := range []int{0, 1, 100 << 10, 5 << 20} {
		want := bytes.Repeat([]byte("y"), n)
		for _, hint := range []int{1, n / 2, n, n + n/32, 2 * n} {
			got, err := readDocument(hinted{struct{ io.Reader }{bytes.NewReader(want)}, hint})
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d hint=%d: got %d bytes, %v", n, hint, len(got), err)
			}
			if hint >= n && hint > 0 && cap(got) != hint+hint/16+4096 {
				t.Fatalf("n=%d hint=%d: cap %d, want the hinted buffer", n, hint, cap(got))
			}
			if hint < n && cap(got) != n {
				t.Fatalf("n=%d hint=%d: cap %d, want the exact size after chunks", n, hint, cap(got))
			}
		}
	}
	// A hint past maxHint allocates maxHint (and its margin), not the hint.
	if got, err := readDocument(hinted{struct{ io.Reader }{strings.NewReader("small")}, 1 << 40}); err != nil || string(got) != "small" || cap(got) > maxHint+maxHint/16+4096 {
		t.Fatalf("a huge hint: %q (cap %d), %v", got, cap(got), err)
	}
	broken := errors.New("connection reset")
	got, err := readDocument(hinted{io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)), 2})
	if !errors.Is(err, broken) || string(got) != "abc" {
		t.Fatalf("hinted: got %q, %v", got, err)
	}
	got, err = readDocument(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)))
	if !errors.Is(err, broken) || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
	// The decoder still names where the body broke off.
	_, err = DecodeScanResult(io.MultiReader(strings.NewReader(`{"workspaces":[{"id":"w"},`), iotest.ErrReader(broken)))
	if !errors.Is(err, broken) {
		t.Fatalf("DecodeScanResult of a broken body: %v", err)
	}
}

type hinted struct {
	io.Reader
	hint int
}

func (h hinted) SizeHint() int { return h.hint }

// unquote reads every string as encoding/json does.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`a\"b\\c\/d\b\f\n\r\t`, `\u00e9\u20AC`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\ude00\ud83d`, "caf\xc3\xa9", "\xff\xfe", `\u0000`, "let\n  Source = Sql.Database(\\\"s\\\", \\\"d\\\")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		quoted := `"` + body + `"`
		var want string
		if !jsonenc.Valid([]byte(quoted)) || json.Unmarshal([]byte(quoted), &want) != nil {
			return
		}
		got, ok := unquote([]byte(body))
		if !ok || got != want {
			t.Fatalf("unquote(%q) = %q, %v; encoding/json reads %q", body, got, ok, want)
		}
	})
}
