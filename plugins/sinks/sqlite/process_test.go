package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/sinkhost"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

// TestMain lets the test binary serve the sink as a plugin process, as pbisync does
// with `pbisync plugin sink sqlite`.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "sink" && os.Args[3] == "sqlite" {
		sink.Serve(New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPluginProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	n, err := config.Parse("pipeline.yaml", []byte(fmt.Sprintf("name: catalog\nsqlite: {path: %q}\n", path)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sinkhost.New(context.Background(), n, sinkhost.Options{Executable: os.Args[0], Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if err := s.Write(context.Background(), sinktest.Sample()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := query(t, db, `SELECT (SELECT count(*) FROM assets) || '/' || (SELECT count(*) FROM refresh_runs) || '/' || (SELECT count(*) FROM syncs)`); got != "5/2/1" {
		t.Fatalf("catalog has %s assets/runs/syncs", got)
	}
}
