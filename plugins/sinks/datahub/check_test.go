package datahub

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
	target := filepath.Join(dir, "sub", "mcps.json")
	raw := func(doc string) json.RawMessage {
		return json.RawMessage(strings.ReplaceAll(doc, "TARGET", target))
	}
	var _ sink.Checker = New()
	if err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET"}`)}); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET","workers":100}`)})
	if err == nil || !strings.Contains(err.Error(), "workers must be between 1 and 64") {
		t.Errorf("bad config: %v, want %q", err, "workers must be between 1 and 64")
	}
	// Configure refuses it with the same error.
	if cerr := New().Configure(context.Background(), sink.Config{Name: "x", Raw: raw(`{"file":"TARGET","workers":100}`)}); cerr == nil || cerr.Error() != err.Error() {
		t.Errorf("Configure says %v, Check says %v", cerr, err)
	}
	if _, err := os.Stat(filepath.Dir(target)); !os.IsNotExist(err) {
		t.Errorf("Check created something: %v", err)
	}
}
