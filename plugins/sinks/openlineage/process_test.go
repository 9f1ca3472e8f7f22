package openlineage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/sinkhost"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestMain lets the test binary serve the sink as a plugin process, as pbisync does
// with `pbisync plugin sink openlineage`.
func TestMain(m *testing.M) {
	sinktest.ServeIfPlugin(map[string]func() sink.Sink{"openlineage": func() sink.Sink { return New() }})
	os.Exit(m.Run())
}

// TestPluginProcess runs the sink as a real plugin process under pbisync's host.
func TestPluginProcess(t *testing.T) {
	m := newMarquez(t)
	yml := fmt.Sprintf("name: lineage\nopenlineage:\n  url: %s\n  api_key: %s\n", m.srv.URL, apiKey)
	n, err := config.Parse("pipeline.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sinkhost.New(context.Background(), n, sinkhost.Options{Executable: os.Args[0], Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if s.PID() == os.Getpid() || s.PID() == 0 {
		t.Fatal("not a separate process")
	}
	if err := s.Write(context.Background(), sinktest.Sample()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(m.errs) > 0 {
		t.Fatalf("backend rejected events:\n%s", strings.Join(m.errs, "\n"))
	}
	if len(m.events) != 12 || !s.Status().Complete {
		t.Fatalf("%d events, status %+v", len(m.events), s.Status())
	}
}
