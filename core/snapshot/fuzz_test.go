package snapshot

import (
	"bytes"
	"os"
	"testing"
)

func seedCorpus(f *testing.F) {
	for _, p := range []string{"testdata/scanresult_msdocs.json", "testdata/scanresult_msdocs.snapshot.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"workspaces":[{"id":"w","datasets":[{"id":"d","tables":[{"name":"t","source":[{"expression":"x"}],"columns":[{"name":"c"}]}]}]}],"datasourceInstances":[{"datasourceType":"Web"}]}`))
	f.Add([]byte(`{"version":1,"workspaces":[{"id":"w"}]}`))
	f.Add([]byte(`{"workspaces":[{"reports":[{"id":1}]}],"datasourceInstances":[{"connectionDetails":"{"}]}`))
	// Recorded odd shapes: a workspace's dashboards as an object, enumerations in capitals.
	f.Add([]byte(`{"workspaces":[{"id":"w1","dashboards":{"n":1},"reports":[{"id":"r","reportType":"PAGINATEDREPORT"}]},{"id":"w2"}],"datasourceInstances":{}}`))
}

func FuzzDecodeScanResult(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeScanResult(bytes.NewReader(data))
		if s == nil {
			if err == nil {
				t.Fatal("nil snapshot without an error")
			}
			return
		}
		// Whatever decoded must save and read back.
		var buf bytes.Buffer
		if err := Save(&buf, s); err != nil {
			t.Fatalf("save: %v", err)
		}
		if _, err := Read(&buf); err != nil {
			t.Fatalf("read back: %v", err)
		}
	})
}

func FuzzLoad(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if s == nil && err == nil {
			t.Fatal("nil snapshot without an error")
		}
	})
}
