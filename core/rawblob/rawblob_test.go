package rawblob

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"

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
		{"no header", []byte(`{"version":1}`), "no pbr2 header"},
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
