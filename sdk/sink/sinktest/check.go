package sinktest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/sink"
)

// CheckCase is a sink's Check test: a config that must pass and one that must fail with an
// error containing Want. In both, TARGET stands for a file in a folder that does not
// exist; Check must not create it.
type CheckCase struct {
	File      string // the target's file name
	Good, Bad string // JSON configs
	Want      string
}

// CheckOpensNothing tests that a sink's Check (what pbisync validate calls) accepts
// c.Good, refuses c.Bad with the error Configure gives for it, and creates, opens and
// writes nothing.
func CheckOpensNothing(t testing.TB, newSink func() sink.Sink, c CheckCase) {
	t.Helper()
	target := filepath.Join(t.TempDir(), "sub", c.File)
	cfg := func(doc string) sink.Config {
		return sink.Config{Name: "x", Raw: json.RawMessage(strings.ReplaceAll(doc, "TARGET", target))}
	}
	check := func(doc string) error {
		ch, ok := newSink().(sink.Checker)
		if !ok {
			t.Fatal("the sink does not implement sink.Checker")
		}
		return ch.Check(context.Background(), cfg(doc))
	}
	if err := check(c.Good); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	err := check(c.Bad)
	if err == nil || !strings.Contains(err.Error(), c.Want) {
		t.Errorf("bad config: %v, want %q", err, c.Want)
	}
	if cerr := newSink().Configure(context.Background(), cfg(c.Bad)); cerr == nil || err == nil || cerr.Error() != err.Error() {
		t.Errorf("Configure says %v, Check says %v", cerr, err)
	}
	if _, err := os.Stat(filepath.Dir(target)); !os.IsNotExist(err) {
		t.Errorf("Check created something: %v", err)
	}
}
