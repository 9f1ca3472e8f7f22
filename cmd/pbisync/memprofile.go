package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// heapProfiler writes heap profiles for `--mem-profile FILE`: FILE when the command ends
// (every allocation the command made, and what it still held), and FILE.peak whenever the
// heap in use reached a new high (what was live at the largest heap, as of the garbage
// collection before it), so that both what allocates and what stays can be read.
type heapProfiler struct {
	path string
	stop chan struct{}
	wg   sync.WaitGroup
	err  error
}

// startHeapProfile samples the heap's size every 50 ms.
func startHeapProfile(path string) (*heapProfiler, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	h := &heapProfiler{path: path, stop: make(chan struct{})}
	h.wg.Go(h.watch)
	return h, nil
}

func (h *heapProfiler) watch() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	var peak uint64
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		runtime.ReadMemStats(&ms)
		// A new high by 5%: profiles are cheap, but not free.
		if ms.HeapInuse > peak+peak/20 {
			peak = ms.HeapInuse
			if err := h.write(h.path + ".peak"); err != nil && h.err == nil {
				h.err = err
			}
		}
	}
}

func (h *heapProfiler) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Stop ends the sampling and writes the final profile.
func (h *heapProfiler) Stop() error {
	close(h.stop)
	h.wg.Wait()
	if h.err != nil {
		return fmt.Errorf("%s.peak: %w", h.path, h.err)
	}
	return h.write(h.path)
}
