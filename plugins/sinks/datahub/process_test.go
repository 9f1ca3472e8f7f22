package datahub

import (
	"context"
	"fmt"
	"io"
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
// with `pbisync plugin sink datahub`.
func TestMain(m *testing.M) {
	sinktest.ServeIfPlugin(map[string]func() sink.Sink{"datahub": func() sink.Sink { return New() }})
	os.Exit(m.Run())
}

// TestPluginProcess runs the sink as a real plugin process under pbisync's host.
func TestPluginProcess(t *testing.T) {
	g := newGMS(t, token)
	t.Setenv("DH_TOKEN", token)
	yml := fmt.Sprintf("name: catalog\ndatahub:\n  server: %s\n  token: ${env:DH_TOKEN}\n  upstream: {platform: mssql}\nbatch_size: 2\n", g.srv.URL)
	n, err := config.Parse("pipeline.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sinkhost.New(context.Background(), n, sinkhost.Options{Executable: os.Args[0], Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	if st := s.Status(); !st.Complete {
		t.Fatalf("status %+v", st)
	}
	if len(g.errs) > 0 {
		t.Fatalf("GMS rejected requests:\n%s", strings.Join(g.errs, "\n"))
	}
	if _, ok := g.got[ordersURN]["schemaMetadata"]; !ok || len(g.got) < 10 {
		t.Fatalf("%d entities reached GMS", len(g.got))
	}

	// The plugin's config errors name the YAML line.
	bad, _ := config.Parse("pipeline.yaml", []byte("name: catalog\ndatahub:\n  server: ftp://x\n"))
	_, err = sinkhost.New(context.Background(), bad, sinkhost.Options{Executable: os.Args[0], Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), `pipeline.yaml:3:11: output "catalog": server: want an http(s) URL`) {
		t.Fatalf("error %v", err)
	}
}
