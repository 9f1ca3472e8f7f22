package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
)

// scanDoc is a scanResult document of one workspace with a model, and with reports
// and a dashboard on a model of a later batch when on is set.
func scanDoc(ws, model, on string) string {
	later := ""
	if on != "" {
		// The builder holds the report on the later model; the dashboard is built
		// (its tile's report is on this batch's model), but its event names the
		// later model too and is held until that is sent.
		later = fmt.Sprintf(`"reports":[{"id":"r-%[1]s","name":"report on %[2]s","datasetId":"%[2]s"},
{"id":"here-%[1]s","name":"report here","datasetId":"%[3]s"}],
"dashboards":[{"id":"d-%[1]s","displayName":"board on %[2]s","tiles":[{"id":"t-%[1]s","title":"tile","reportId":"here-%[1]s","datasetId":"%[2]s"}]}],`, ws, on, model)
	}
	return fmt.Sprintf(`{"workspaces":[{"id":"%[1]s","name":"workspace %[1]s","type":"Workspace","state":"Active",%[3]s
"datasets":[{"id":"%[2]s","name":"model %[2]s","configuredBy":"someone@example.com","isRefreshable":true,
"tables":[{"name":"Sales","columns":[{"name":"Amount","dataType":"Double"}],"source":[{"expression":"let Source = Sql.Database(\"srv\", \"db\") in Source"}]}]}]}]}`,
		ws, model, later)
}

// docSource decodes each document as the scanner does, keeps a weak pointer to the
// first one, and before its last batch waits until the outputs have the batch before
// it, then says whether the first document was still reachable.
type docSource struct {
	docs     []string
	first    weak.Pointer[byte]
	sawPrev  chan struct{}
	reached  bool
	released bool
}

func (d *docSource) Name() string { return "docs" }

func (d *docSource) Snapshots(_ context.Context, emit func(*snapshot.Snapshot) error) error {
	for i, doc := range d.docs {
		if i == len(d.docs)-1 {
			select {
			case <-d.sawPrev:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("the outputs never got batch %d", i)
			}
			for range 3 {
				runtime.GC()
			}
			d.released = d.first.Value() == nil
		}
		if err := d.emitDoc(i, doc, emit); err != nil {
			return err
		}
	}
	return nil
}

// emitDoc decodes one document and emits it; nothing of it stays on this stack.
func (d *docSource) emitDoc(i int, doc string, emit func(*snapshot.Snapshot) error) error {
	s, err := snapshot.DecodeScanResult(strings.NewReader(doc))
	if err != nil {
		return err
	}
	if i == 0 {
		raw := s.Workspaces[0].Reports[0].Raw
		if len(raw) == 0 {
			return fmt.Errorf("the report has no raw properties")
		}
		d.first = weak.Make(&raw[0])
		d.reached = true
	}
	return emit(s)
}

// watch is an output that tells when it has the events of a workspace.
type watch struct {
	collect
	ws   string
	once sync.Once
	seen chan struct{}
}

// Write keeps copies of the specs: an event's spec is its batch's record, which a sink
// does not keep (the estate and plugins keep their encodings).
func (w *watch) Write(ctx context.Context, evs []event.Event) error {
	kept := make([]event.Event, len(evs))
	for i, e := range evs {
		if e.Kind == event.KindSpec {
			c := *e.Spec
			e.Spec = &c
			if c.PowerBI.WorkspaceID == w.ws {
				w.once.Do(func() { close(w.seen) })
			}
		}
		kept[i] = e
	}
	return w.collect.Write(ctx, kept)
}

// A report and a dashboard that wait for a model of a later batch (the builder holds
// the report, the related index the dashboard's event) keep what they need of their
// records, not their batch's scan document: a sync of a large tenant with references
// across batches otherwise held one document (tens of megabytes) per batch that had one.
func TestWaitingAssetsReleaseTheirDocument(t *testing.T) {
	src := &docSource{
		docs:    []string{scanDoc("w1", "m1", "m3"), scanDoc("w2", "m2", ""), scanDoc("w3", "m3", "")},
		sawPrev: make(chan struct{}),
	}
	out := &watch{collect: collect{name: "out"}, ws: "w2", seen: src.sawPrev}
	e := newEngine([]Source{src}, out)
	e.SinkBatch = 1
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !src.reached {
		t.Fatal("the first document was never decoded")
	}
	if !src.released {
		t.Error("the first batch's scan document was still reachable two batches later")
	}
	// The waiting assets were sent, complete, once the model came.
	var report, board, model *event.Event
	for i := range out.events {
		ev := &out.events[i]
		if ev.Kind != event.KindSpec {
			continue
		}
		switch ev.Spec.PowerBI.ID {
		case "r-w1":
			report = ev
		case "d-w1":
			board = ev
		case "m3":
			model = ev
		}
	}
	if report == nil || board == nil || model == nil {
		t.Fatalf("report %v, dashboard %v, model %v: not all sent", report != nil, board != nil, model != nil)
	}
	if len(report.Spec.Deps) != 1 || !report.Spec.Deps[0].Equal(model.Spec.Key) {
		t.Errorf("report deps %v, want the later model %v", report.Spec.Deps, model.Spec.Key)
	}
	if r, ok := board.RelatedByID("semantic_model", "m3"); !ok || !r.Key.Equal(model.Spec.Key) {
		t.Errorf("the dashboard's event does not name the later model: %+v", board.Related)
	}
}
