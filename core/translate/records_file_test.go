package translate

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

// TestRecordsFile checks testdata/records.jsonl reads back to what wrote it; with
// -update it is regenerated from sampleRecords, with a few awkward names mixed in.
func TestRecordsFile(t *testing.T) {
	if *update {
		recs := sampleRecords(24)
		recs[4].Spec.Key = spec.Key{"dashboard", "Ventes_été_✓"}
		recs[4].Spec.PowerBI.Name = "Ventes – été ✓"
		recs[8].Spec.Description = "quotes \" and <html> & \\ backslash\nnew line"
		recs[8].Spec.Owners = []string{"ana@contoso.com"}
		var buf bytes.Buffer
		if err := WriteRecords(&buf, recs); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/records.jsonl", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(bytes.NewReader(data), "records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRecords(&buf, recs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("records.jsonl does not round-trip:\n%s", firstDiff(buf.Bytes(), data))
	}
	again, _ := ReadRecords(&buf, "again")
	if !reflect.DeepEqual(again, recs) {
		t.Fatal("records differ after a round trip")
	}
}

func TestReadRecordsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{\"spec\":{\"key\":[]}}\n", "key is empty"},
		{"\n{\"nope\":1}\n", "f.jsonl:2: json: unknown field \"nope\""},
		{"{\"spec\":{\"key\":[\"a\",\"\"]}}", "f.jsonl:1:"},
		{"not json", "f.jsonl:1: invalid character"},
	}
	for _, tt := range tests {
		_, err := ReadRecords(strings.NewReader(tt.in), "f.jsonl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadRecords(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}
