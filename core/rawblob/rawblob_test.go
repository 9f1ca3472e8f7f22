package rawblob

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// msdocs is Microsoft's recorded scanResult example (core/snapshot/testdata, see the
// note there), as a snapshot.
func msdocs(t testing.TB) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Load("../snapshot/testdata/scanresult_msdocs.snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRawBlobRoundTrip: a batch split into raw blobs and merged back is the batch: each
// workspace with the data sources it references, unreferenced ones kept once.
func TestRawBlobRoundTrip(t *testing.T) {
	tenant := msdocs(t)
	// A second workspace sharing the first's data sources, and one nobody references.
	second := tenant.Workspaces[0]
	second.ID, second.Name = "0b5c9f2e-0000-4000-8000-000000000002", "Second"
	// ... whose model has tables of every shape of column list.
	second.SemanticModels = slices.Clone(second.SemanticModels)
	m := &second.SemanticModels[0]
	m.Tables = append(slices.Clone(m.Tables),
		snapshot.Table{Name: "Many", Columns: []snapshot.Column{
			{Name: "a", DataType: "Int64", ColumnType: "Data", FormatString: "0", IsHidden: true},
			{Name: "b\u00e9\"", DataType: "String", ColumnType: "Calculated", Expression: "[a] * 2"},
			{}}},
		snapshot.Table{Name: "Empty", Columns: []snapshot.Column{}},
		snapshot.Table{Name: "None"})
	tenant.Workspaces = append(tenant.Workspaces, second)
	tenant.DataSources = append(tenant.DataSources, snapshot.DataSource{ID: "unreferenced", Type: "Sql"})
	blobs, err := Encode(tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != len(tenant.Workspaces) {
		t.Fatalf("%d blobs for %d workspaces", len(blobs), len(tenant.Workspaces))
	}
	parts := make([]*snapshot.Snapshot, len(blobs))
	for i, b := range blobs {
		if parts[i], err = Decode(b); err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
	// Each blob is self-contained: it holds every data source its workspace references.
	for i, p := range parts {
		has := map[string]bool{}
		for _, d := range p.DataSources {
			has[d.ID] = true
		}
		refs := 0
		for _, m := range p.Workspaces[0].SemanticModels {
			for _, id := range m.DataSourceIDs {
				refs++
				if !has[id] {
					t.Errorf("blob %d lacks data source %s its model %s references", i, id, m.Name)
				}
			}
		}
		if refs == 0 {
			t.Fatalf("blob %d: the test tenant's workspace references no data source", i)
		}
	}
	got := Merge(parts)
	want := *tenant
	want.Version = snapshot.Version
	wantWS, _ := json.Marshal(want.Workspaces)
	gotWS, _ := json.Marshal(got.Workspaces)
	if string(gotWS) != string(wantWS) {
		t.Errorf("workspaces differ after the round trip:\n got %.400s\nwant %.400s", gotWS, wantWS)
	}
	have := map[string]bool{}
	for _, d := range got.DataSources {
		have[d.ID] = true
	}
	for _, d := range tenant.DataSources {
		if !have[d.ID] {
			t.Errorf("data source %s was lost", d.ID)
		}
	}
	if len(got.DataSources) != len(tenant.DataSources) {
		t.Errorf("%d data sources after the round trip, %d before", len(got.DataSources), len(tenant.DataSources))
	}
}

// scanned is n workspaces of the generated tenant as the scanner reads them: from a scan
// result document, then as the client leaves them (its source and time set).
func scanned(t testing.TB, n int) *snapshot.Snapshot {
	t.Helper()
	tenant := powerbitest.Generate(1, powerbitest.SmallSize())
	var ids []string
	for _, w := range tenant.Workspaces[:n] {
		ids = append(ids, w.ID)
	}
	var doc bytes.Buffer
	if err := powerbitest.WriteScanResult(&doc, tenant, ids); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.DecodeScanResult(&doc)
	if err != nil {
		t.Fatal(err)
	}
	s.Source, s.TakenAt = "scanner", time.Date(2026, 12, 1, 10, 0, 0, 123, time.UTC)
	return s
}

// TestScanBlobRoundTrip: workspaces read from a scan result are kept as the scan result
// held them (pbr3), and read back the same; one that other calls changed (its Raw
// cleared), or with a data source read elsewhere, is kept in the pbr2 form, and reads
// back the same too.
func TestScanBlobRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		snap func(t *testing.T) *snapshot.Snapshot
		want []string // each blob's magic
	}{
		{"generated", func(t *testing.T) *snapshot.Snapshot { return scanned(t, 4) }, []string{"pbr3", "pbr3", "pbr3", "pbr3"}},
		{"msdocs", func(t *testing.T) *snapshot.Snapshot {
			f, err := os.Open("../snapshot/testdata/scanresult_msdocs.json")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := snapshot.DecodeScanResult(f)
			if err != nil {
				t.Fatal(err)
			}
			s.Source, s.TakenAt = "scanner", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
			return s
		}, []string{"pbr3"}},
		{"changed after the scan", func(t *testing.T) *snapshot.Snapshot {
			s := scanned(t, 3)
			s.Workspaces[1].Raw = nil
			s.Workspaces[1].Reports[0].DataSourceIDs = append(s.Workspaces[1].Reports[0].DataSourceIDs, "added")
			return s
		}, []string{"pbr3", "pbr2", "pbr3"}},
		{"a data source read elsewhere", func(t *testing.T) *snapshot.Snapshot {
			s := scanned(t, 2)
			s.DataSources = append(s.DataSources, snapshot.DataSource{ID: "elsewhere", Type: "Sql"})
			return s
		}, []string{"pbr3", "pbr2"}}, // unreferenced data sources go with the last workspace
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.snap(t)
			blobs, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			var magics []string
			parts := make([]*snapshot.Snapshot, len(blobs))
			for i, b := range blobs {
				magics = append(magics, string(b[:4]))
				if parts[i], err = Decode(b); err != nil {
					t.Fatalf("blob %d: %v", i, err)
				}
				if !parts[i].TakenAt.Equal(s.TakenAt) || parts[i].Source != s.Source {
					t.Errorf("blob %d: source %q at %v, want %q at %v", i, parts[i].Source, parts[i].TakenAt, s.Source, s.TakenAt)
				}
			}
			if !slices.Equal(magics, c.want) {
				t.Errorf("blobs are %v, want %v", magics, c.want)
			}
			got := Merge(parts)
			wantWS, _ := json.Marshal(s.Workspaces)
			gotWS, _ := json.Marshal(got.Workspaces)
			if string(gotWS) != string(wantWS) {
				t.Errorf("workspaces differ after the round trip:\n got %.600s\nwant %.600s", gotWS, wantWS)
			}
			sortDS := func(ds []snapshot.DataSource) string {
				ds = slices.Clone(ds)
				slices.SortFunc(ds, func(a, b snapshot.DataSource) int { return strings.Compare(a.ID, b.ID) })
				js, _ := json.Marshal(ds)
				return string(js)
			}
			if g, w := sortDS(got.DataSources), sortDS(s.DataSources); g != w {
				t.Errorf("data sources differ after the round trip:\n got %.600s\nwant %.600s", g, w)
			}
			for i := range got.Workspaces {
				if c.want[i] == "pbr3" && string(got.Workspaces[i].Raw) != string(s.Workspaces[i].Raw) {
					t.Errorf("workspace %d: its raw object differs after the round trip", i)
				}
			}
		})
	}
}

// TestScanBlobIsSmaller: keeping the scan result's own bytes takes less room than the
// decoded form (pbr2) of the same workspaces.
func TestScanBlobIsSmaller(t *testing.T) {
	s := scanned(t, 6)
	scan, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Workspaces {
		s.Workspaces[i].Raw = nil
	}
	decoded, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	size := func(bs [][]byte) (n int) {
		for _, b := range bs {
			n += len(b)
		}
		return n
	}
	if a, b := size(scan), size(decoded); a >= b {
		t.Fatalf("pbr3 blobs take %d bytes, pbr2 ones %d", a, b)
	}
}

func TestDecodeRawWorkspaceRejects(t *testing.T) {
	good, err := Encode(msdocs(t))
	if err != nil {
		t.Fatal(err)
	}
	blob := func(js string) []byte { return rawBlob([]byte(js)) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"no header", []byte(`{"version":1}`), "no pbr2 or pbr3 header"},
		{"truncated", good[0][:len(good[0])/2], "raw workspace blob"},
		{"not JSON", blob("not json"), "raw workspace blob"},
		{"newer version", blob(`{"version":99,"workspaces":[{"id":"w"}]}`), "version 99"},
		{"two workspaces", blob(`{"version":1,"workspaces":[{"id":"a"},{"id":"b"}]}`), "holds 2 workspaces"},
		{"no id", blob(`{"version":1,"workspaces":[{"name":"a"}]}`), "want one with an id"},
		{"checksum", damaged(good[0]), "checksum mismatch"},
		{"raw object missing", rawBlob([]byte(oneModel)), "truncated"},
		{"raw object not JSON", rawBlob([]byte(oneModel), []byte(`{"id":`)), "not JSON"},
		{"bytes after", rawBlob([]byte(oneModel), []byte(`{}`), []byte(`{}`)), "after the last column"},
		{"columns missing", rawBlob([]byte(oneTable), []byte(`{}`)), "truncated"},
		{"column flag", rawBlobTail([]byte(oneTable), []byte{2, 1, 'a', 0, 0, 0, 0, 7}, []byte(`{}`)), "hidden flag"},
		{"scan: not a scan result", scanBlob("scanner", goodTime, `[1,2]`), "raw workspace blob"},
		{"scan: not JSON", scanBlob("scanner", goodTime, `{"workspaces":[`), "raw workspace blob"},
		{"scan: two workspaces", scanBlob("scanner", goodTime, `{"workspaces":[{"id":"a"},{"id":"b"}]}`), "holds 2 workspaces"},
		{"scan: no id", scanBlob("scanner", goodTime, `{"workspaces":[{"name":"a"}]}`), "want one with an id"},
		{"scan: bad time", scanBlob("scanner", []byte{9, 9}, `{"workspaces":[{"id":"a"}]}`), "its time"},
		{"scan: truncated header", packed("pbr3", []byte{200}), "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// FuzzDecodeRawWorkspace: a stored blob, damaged any way, decodes or gives an error;
// what decodes holds one workspace and encodes again.
func FuzzDecodeRawWorkspace(f *testing.F) {
	good, _ := Encode(msdocs(f))
	for _, b := range good {
		f.Add(b)
	}
	f.Add([]byte("pbr2"))
	scan, _ := Encode(scanned(f, 3))
	for _, b := range scan {
		f.Add(b)
	}
	f.Add(scanBlob("scanner", goodTime, `{"workspaces":[{"id":"a","datasets":[{"id":"m","tables":[{"name":"t","columns":[{"name":"c"}]}]}]}],"datasourceInstances":[{"datasourceId":"d"}]}`))
	f.Add(rawBlob([]byte(`{"version":1,"workspaces":[{"id":"w","semanticModels":[{"id":"m"}]}],"dataSources":null}`), []byte(`{"id":"m"}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		if len(s.Workspaces) != 1 {
			t.Fatalf("decoded %d workspaces", len(s.Workspaces))
		}
		if _, err := Encode(s); err != nil {
			t.Fatalf("a decoded blob does not encode again: %v", err)
		}
	})
}

// goodTime is a snapshot time as a pbr3 blob holds it.
var goodTime, _ = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).MarshalBinary()

// scanBlob frames a pbr3 payload: the source, the time and a scan result document.
func scanBlob(source string, at []byte, doc string) []byte {
	payload := binary.AppendUvarint(nil, uint64(len(source)))
	payload = append(payload, source...)
	payload = binary.AppendUvarint(payload, uint64(len(at)))
	payload = append(payload, at...)
	return packed("pbr3", append(payload, doc...))
}

// packed frames a payload as Encode does, under a magic.
func packed(magic string, payload []byte) []byte {
	out := append([]byte(magic), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(out[4:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, s2.Encode(nil, payload)...)
}

// rawBlob frames a payload's JSON and raw objects as Encode does.
func rawBlob(js []byte, raws ...[]byte) []byte { return rawBlobTail(js, nil, raws...) }

// rawBlobTail is rawBlob with the column section given.
func rawBlobTail(js, columns []byte, raws ...[]byte) []byte {
	payload := binary.AppendUvarint(nil, uint64(len(js)))
	payload = append(payload, js...)
	for _, r := range raws {
		payload = binary.AppendUvarint(payload, uint64(len(r)))
		payload = append(payload, r...)
	}
	payload = append(payload, columns...)
	out := append([]byte("pbr2"), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(out[4:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, s2.Encode(nil, payload)...)
}

const oneModel = `{"version":1,"workspaces":[{"id":"w","semanticModels":[{"id":"m"}]}]}`

// damaged changes one byte of a blob's payload, keeping its checksum.
func damaged(b []byte) []byte {
	payload, err := s2.Decode(nil, b[8:])
	if err != nil {
		panic(err)
	}
	payload[len(payload)/2] ^= 0x20
	return append(append([]byte(nil), b[:8]...), s2.Encode(nil, payload)...)
}

const oneTable = `{"version":1,"workspaces":[{"id":"w","semanticModels":[{"id":"m","tables":[{"name":"t"}]}]}]}`

// TestColumnFields: the blob carries every field of snapshot.Column (appendColumns); a
// new field must be added there, or replayed columns would lose it.
func TestColumnFields(t *testing.T) {
	var got []string
	for f := range reflect.TypeFor[snapshot.Column]().Fields() {
		got = append(got, f.Name)
	}
	want := []string{"Name", "DataType", "ColumnType", "Expression", "FormatString", "IsHidden"}
	if !slices.Equal(got, want) {
		t.Fatalf("snapshot.Column has fields %v; rawblob's appendColumns and readColumns carry %v: update them", got, want)
	}
}

// BenchmarkEncode encodes the generated 1,000-workspace tenant (1,000,000 columns) as
// the raw store does, a batch of 100 workspaces at a time.
func BenchmarkEncode(b *testing.B) {
	s := powerbitest.Generate(1, powerbitest.LargeSize())
	var n int
	for b.Loop() {
		n = 0
		for i := 0; i < len(s.Workspaces); i += 100 {
			batch := *s
			batch.Workspaces = s.Workspaces[i:min(i+100, len(s.Workspaces))]
			blobs, err := Encode(&batch)
			if err != nil {
				b.Fatal(err)
			}
			for _, bl := range blobs {
				n += len(bl)
			}
		}
	}
	b.ReportMetric(float64(n)/(1<<20), "MB-kept")
}
