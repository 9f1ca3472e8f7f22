package openlineage

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
)

// TestCheckOpensNothing checks the config as Configure would (pbisync validate calls
// Check) and creates, opens and writes nothing.
func TestCheckOpensNothing(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "sub", "events.jsonl")
	raw := func(doc string) json.RawMessage {
		return json.RawMessage(strings.ReplaceAll(doc, "TARGET", target))
	}
	var _ sink.Checker = New()
	if err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET"}`)}); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET","endpoint":"api"}`)})
	if err == nil || !strings.Contains(err.Error(), "want a path starting with /") {
		t.Errorf("bad config: %v, want %q", err, "want a path starting with /")
	}
	// Configure refuses it with the same error.
	if cerr := New().Configure(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET","endpoint":"api"}`)}); cerr == nil || cerr.Error() != err.Error() {
		t.Errorf("Configure says %v, Check says %v", cerr, err)
	}
	if _, err := os.Stat(filepath.Dir(target)); !os.IsNotExist(err) {
		t.Errorf("Check created something: %v", err)
	}
}
