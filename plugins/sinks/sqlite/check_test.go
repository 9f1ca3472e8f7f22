package sqlite

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
	target := filepath.Join(dir, "sub", "catalog.db")
	raw := func(doc string) json.RawMessage {
		return json.RawMessage(strings.ReplaceAll(doc, "TARGET", target))
	}
	var _ sink.Checker = New()
	if err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"path":"TARGET"}`)}); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	err := New().Check(context.Background(), sink.Config{Name: "x", Raw: raw(`{"path":"TARGET","pth":1}`)})
	if err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("bad config: %v, want %q", err, "unknown key")
	}
	// Configure refuses it with the same error.
	if cerr := New().Configure(context.Background(), sink.Config{Name: "x", Raw: raw(`{"path":"TARGET","pth":1}`)}); cerr == nil || cerr.Error() != err.Error() {
		t.Errorf("Configure says %v, Check says %v", cerr, err)
	}
	if _, err := os.Stat(filepath.Dir(target)); !os.IsNotExist(err) {
		t.Errorf("Check created something: %v", err)
	}
}
