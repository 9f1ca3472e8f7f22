package snapshot_test

import (
	"bytes"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// BenchmarkDecodeScanResult decodes the scanResult of one full scan batch: 100 large
// generated workspaces (10,000 tables, 100,000 columns), as the scanner path does.
func BenchmarkDecodeScanResult(b *testing.B) {
	size := powerbitest.LargeSize()
	size.Workspaces = 100
	tenant := powerbitest.Generate(1, size)
	var doc bytes.Buffer
	if err := powerbitest.WriteScanResult(&doc, tenant, nil); err != nil {
		b.Fatal(err)
	}
	// readers=encoding-json is the decoder before the fast readers, for the ratio.
	for _, slow := range []bool{false, true} {
		name := "readers=fast"
		if slow {
			name = "readers=encoding-json"
		}
		b.Run(name, func(b *testing.B) {
			*snapshot.EncodingJSONOnly = slow
			defer func() { *snapshot.EncodingJSONOnly = false }()
			b.SetBytes(int64(doc.Len()))
			b.ReportAllocs()
			for b.Loop() {
				s, err := snapshot.DecodeScanResult(bytes.NewReader(doc.Bytes()))
				if err != nil || len(s.Workspaces) != 100 {
					b.Fatalf("decoded %v workspaces: %v", s, err)
				}
			}
		})
	}
}
