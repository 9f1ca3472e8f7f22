package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

type recorder struct {
	cfg struct {
		Limit int `json:"limit"`
	}
	got    []event.Event
	closed bool
}

func (r *recorder) Configure(_ context.Context, c sink.Config) error { return c.Decode(&r.cfg) }
func (r *recorder) WriteBatch(_ context.Context, ev []event.Event) error {
	if r.cfg.Limit > 0 && len(r.got)+len(ev) > r.cfg.Limit {
		return errors.New("over the limit")
	}
	r.got = append(r.got, ev...)
	return nil
}
func (r *recorder) Close(context.Context) error { r.closed = true; return nil }

func TestSampleRoundTrip(t *testing.T) {
	want := Sample()
	kinds := map[event.Kind]int{}
	for _, e := range want {
		kinds[e.Kind]++
	}
	if kinds[event.KindSpec] != 5 || kinds[event.KindRemoved] != 1 || kinds[event.KindRefresh] != 5 || kinds[event.KindSummary] != 1 {
		t.Fatalf("sample kinds %v", kinds)
	}
	r := &recorder{}
	if err := Run(context.Background(), r, Options{BatchSize: 4}, want); err != nil {
		t.Fatal(err)
	}
	if !r.closed || len(r.got) != len(want) {
		t.Fatalf("closed %v, %d events", r.closed, len(r.got))
	}
	// The protocol must carry every field: compare the JSON forms.
	var a, b bytes.Buffer
	for i := range want {
		if err := writeJSON(&a, &want[i]); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(&b, &r.got[i]); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("event %d changed on the way:\n got %s\nwant %s", i, b.String(), a.String())
		}
		a.Reset()
		b.Reset()
	}
	if s := r.got[1].Spec.Metadata["orders_column_schema"].Value.(spec.TableSchema); s.Columns[1].Description != "net of tax" {
		t.Fatalf("table schema %+v", s)
	}
}

func TestErrors(t *testing.T) {
	err := Run(context.Background(), &recorder{}, Options{Config: `{"limit": "x"}`}, nil)
	var ce ConfigErrors
	if !errors.As(err, &ce) || strings.Join(ce[0].Path, ".") != "limit" {
		t.Fatalf("error %v", err)
	}
	err = Run(context.Background(), &recorder{}, Options{Config: `{"limit": 3}`, BatchSize: 2}, Sample())
	if err == nil || !strings.Contains(err.Error(), "batch 2: batch 2: over the limit") {
		t.Fatalf("error %v", err)
	}
}

func writeJSON(b *bytes.Buffer, e *event.Event) error {
	data, err := json.Marshal(e)
	b.Write(data)
	return err
}

func FuzzReadEvents(f *testing.F) {
	f.Add(string(bytes.SplitAfter(sample, []byte("\n"))[1]))
	f.Add(`{"kind":"spec","spec":{"key":["a"],"metadata":{"m":{"type":"table_schema","value":{"columns":[]}}}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		evs, err := ReadEvents(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever parses must survive the protocol round trip or fail cleanly.
		for i := range evs {
			if pe, err := sink.EventToProto(&evs[i]); err == nil {
				if _, err := sink.EventFromProto(pe); err != nil {
					t.Fatalf("event %d converts to the protocol but not back: %v", i, err)
				}
			}
		}
	})
}
