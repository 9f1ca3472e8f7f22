package sinkhost

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/pbisync/pbisync/plugins/sinks/jsonl"
	"github.com/pbisync/pbisync/plugins/sinks/sqlite"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func init() {
	testSinks["sqlite"] = func() sink.Sink { return sqlite.New() }
	// legacy is jsonl behind a protocol server that predates runs: Begin, Commit and
	// Abort answer UNIMPLEMENTED, as a plugin built before they existed does.
	testSinks["legacy"] = func() sink.Sink {
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  sink.Handshake,
			VersionedPlugins: sink.PluginSets(&sink.GRPCPlugin{Service: legacyServer{sink.NewServer(jsonl.New(), nil, nil)}}),
			GRPCServer:       func(opts []grpc.ServerOption) *grpc.Server { return grpc.NewServer(opts...) },
		})
		os.Exit(0)
		return nil
	}
}

type legacyServer struct{ sinkpb.SinkServer }

func (legacyServer) Begin(context.Context, *sinkpb.BeginRequest) (*sinkpb.BeginResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Begin not implemented")
}

func (legacyServer) Commit(context.Context, *sinkpb.CommitRequest) (*sinkpb.CommitResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Commit not implemented")
}

func (legacyServer) Abort(context.Context, *sinkpb.AbortRequest) (*sinkpb.AbortResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Abort not implemented")
}

func pluginEntry(name, kind, cfg string) string {
	return fmt.Sprintf("name: %s\nplugin: {path: %q, args: [plugin, sink, %s], env: {CRASH_AT_BATCH: \"4\"}}\nconfig: %s\nauto_mtls: false\nbatch_size: 100\n",
		name, os.Args[0], kind, cfg)
}

// TestRunCommitsOrAborts drives sync runs on real plugin processes: a committed run
// replaces the file whole, even across a crash of the plugin in the middle; an aborted
// run, or a run whose plugin could not resume it, leaves the file byte for byte.
func TestRunCommitsOrAborts(t *testing.T) {
	previous := []byte(`{"kind":"summary","summary":{"workspaces":1}}` + "\n")
	tests := []struct {
		name, kind string
		abort      bool
		restarts   int
		wantNew    bool
	}{
		{"commit", "jsonl", false, 0, true},
		{"crash midway, resumed, commit", "crashy", false, 1, true},
		{"abort", "jsonl", true, 0, false},
		{"crash midway, then abort", "crashy", true, 1, false},
		{"legacy plugin commits in close", "legacy", false, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "events.jsonl")
			os.WriteFile(out, previous, 0o644)
			s := startSink(t, pluginEntry("events", tc.kind, fmt.Sprintf("{path: %q}", out)), testOptions(nil))
			if err := s.Begin(context.Background(), sink.RunSync); err != nil {
				t.Fatal(err)
			}
			const n = 1000
			writeAll(t, s, specEvents(0, n), 150, nil)
			if tc.kind != "legacy" {
				if got, _ := os.ReadFile(out); !bytes.Equal(got, previous) {
					t.Fatal("the file changed before the run committed")
				}
			}
			if tc.abort {
				// Wait for every batch so the crash (if any) happened, then abort.
				if err := s.waitAcked(context.Background()); err != nil {
					t.Fatal(err)
				}
				s.AbortRun(context.Background(), errors.New("the source failed"))
			} else if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := s.Status(); st.Restarts != tc.restarts {
				t.Errorf("restarts %d, want %d", st.Restarts, tc.restarts)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantNew {
				if !bytes.Equal(got, previous) {
					t.Fatalf("an aborted run changed the file: %.200s", got)
				}
			} else {
				checkAllKeys(t, readKeys(t, bytes.NewReader(got)), n, tc.restarts > 0)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.partial")); len(left) > 0 {
				t.Errorf("unfinished files left after the run: %v", left)
			}
		})
	}
}

// waitAcked waits until every batch sent is acknowledged (restarting a crashed plugin
// on the way), for tests that abort after the last batch.
func (s *Sink) waitAcked(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, in := len(s.pending), s.inst
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-s.wake:
		case <-in.dead:
			if err := s.recover(ctx, in, in.err); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSyncResumesAfterCrash: a sqlite sync is staged batch by batch; the plugin dies
// in the middle of it, the restarted one resumes the run, and the commit applies every
// asset once. Until then the catalog has none of them.
func TestSyncResumesAfterCrash(t *testing.T) {
	db := filepath.Join(t.TempDir(), "catalog.db")
	s := startSink(t, pluginEntry("catalog", "sqlite", fmt.Sprintf("{path: %q}", db)), testOptions(nil))
	if err := s.Begin(context.Background(), sink.RunSync); err != nil {
		t.Fatal(err)
	}
	writeAll(t, s, specEvents(0, 200), 100, nil)
	if err := s.waitAcked(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	in := s.inst
	s.mu.Unlock()
	in.client.Kill() // the plugin dies in the middle of the sync
	<-in.dead
	assets := func() string {
		t.Helper()
		cat, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer cat.Close()
		var n, staged int
		if err := cat.QueryRow(`SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM staging_events)`).Scan(&n, &staged); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d assets, %d staged", n, staged)
	}
	if got := assets(); got != "0 assets, 200 staged" {
		t.Fatalf("after the kill: %s, want the 200 acknowledged events staged and none applied", got)
	}
	if err := s.Write(context.Background(), specEvents(200, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := assets(); got != "300 assets, 0 staged" {
		t.Fatalf("after the commit: %s", got)
	}
	if st := s.Status(); st.Restarts != 1 {
		t.Errorf("restarts %d, want 1", st.Restarts)
	}
}

// TestTakes: the host learns which events an output writes, to open it only for them.
func TestTakes(t *testing.T) {
	dir := t.TempDir()
	specs := startSink(t, pluginEntry("specs", "jsonl", fmt.Sprintf("{path: %q, format: specs}", filepath.Join(dir, "s.jsonl"))), testOptions(nil))
	if !specs.Takes(event.KindSpec) || specs.Takes(event.KindRefresh) || specs.Takes(event.KindSummary, event.KindRemoved) {
		t.Error("a file of specs takes spec events only")
	}
	all := startSink(t, pluginEntry("all", "jsonl", fmt.Sprintf("{path: %q}", filepath.Join(dir, "e.jsonl"))), testOptions(nil))
	if !all.Takes(event.KindRefresh) || !all.Takes(event.KindSpec) {
		t.Error("an events file takes every kind")
	}
	noop := startSink(t, pluginEntry("noop", "noop", "{}"), testOptions(nil))
	if !noop.Takes(event.KindRefresh) {
		t.Error("a sink that does not say takes every kind")
	}
	for _, f := range []string{"s.jsonl", "e.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created by starting the sink, before any run", f)
		}
	}
}
