package sinktest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Apart runs evs through one fresh sink, and then each event through a fresh sink of its
// own in reverse order (a restart before every event, at worst), and returns the distinct
// records each way, as read reads them from the file config points the sink at, sorted.
// A sink whose output is a function of the events alone gives equal sets.
func Apart(t testing.TB, newSink func() sink.Sink, config func(file string) string, evs []event.Event,
	read func(t testing.TB, file string) []string) (whole, apart []string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "whole")
	if err := Run(context.Background(), newSink(), Options{Config: config(file)}, evs); err != nil {
		t.Fatal(err)
	}
	whole = sortedSet(read(t, file))
	for i := len(evs) - 1; i >= 0; i-- {
		file := filepath.Join(dir, fmt.Sprintf("event-%d", i))
		if err := Run(context.Background(), newSink(), Options{Config: config(file)}, []event.Event{evs[i]}); err != nil {
			t.Fatal(err)
		}
		apart = append(apart, read(t, file)...)
	}
	return whole, sortedSet(apart)
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
