package refresh_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pbisync/pbisync/core/refresh"
)

// FuzzHistoryEntry decodes refresh-history entries: any JSON object must decode (the
// decoding is tolerant by design), and nothing may panic.
func FuzzHistoryEntry(f *testing.F) {
	for _, s := range []string{
		`{"requestId":"r","id":1,"refreshType":"ViaApi","startTime":"2017-06-13T09:25:43.153Z","status":"Unknown"}`,
		`{"refreshType":"ViaApi","status":"Failed","serviceExceptionJson":"{\"errorCode\":\"ModelRefreshFailed_CredentialsNotSpecified\"}"}`,
		`{"status":"Completed","serviceExceptionJson":{}}`,
		`{"id":"7","refreshAttempts":[{"attemptId":1}],"serviceExceptionJson":{"errorCode":"X","errorDescription":"Y"}}`,
		`{"id":null,"status":5,"endTime":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e refresh.HistoryEntry
		err := json.Unmarshal(data, &e)
		trimmed := bytes.TrimSpace(data)
		if err != nil && json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '{' {
			t.Fatalf("a JSON object did not decode: %v", err)
		}
	})
}
