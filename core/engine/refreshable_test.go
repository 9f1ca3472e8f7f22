package engine

import (
	"bytes"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

// For a model the scanResult decoder read, refreshableOf answers from the decoded value
// what reading its raw properties again would answer.
func TestRefreshableOfDecodedModels(t *testing.T) {
	for _, raw := range []string{
		`{"id":"m","isRefreshable":true}`,
		`{"id":"m","ISREFRESHABLE":false}`,
		`{"id":"m","tables":[{"name":"t","isRefreshable":true}]}`,
		`{"id":"m","name":"isRefreshable"}`,
		`{"id":"m"}`,
	} {
		doc := `{"workspaces":[{"id":"w","datasets":[` + raw + `]}]}`
		s, err := snapshot.DecodeScanResult(bytes.NewReader([]byte(doc)))
		if err != nil {
			t.Fatal(err)
		}
		m := s.Workspaces[0].SemanticModels[0]
		r := &run{}
		r.noteRefreshable(s)
		got := r.refreshableOf("m", m.Raw)
		if want := refreshableOnly(m.Raw); !bytes.Equal(got, want) {
			t.Errorf("%s: got %s, want %s", raw, got, want)
		}
	}
}
