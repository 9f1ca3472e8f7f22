package translate

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"

	"github.com/pbisync/pbisync/core/record"
)

// sandbox is one instance's view of time and randomness. Unless granted, both are
// functions of the current asset only: the fake clocks restart and the random stream is
// reseeded from the asset's identity at every asset, so an asset's output does not
// depend on which instance ran it, what ran before, the batch size or the CPU count.
// It is touched only by the goroutine running the guest, except stop.
type sandbox struct {
	grant Grant
	wall  int64 // fake wall clock, ns since the Unix epoch
	mono  int64 // fake monotonic clock, ns
	rng   *rand.ChaCha8
	rec   *record.Record // the current asset; nil outside assets
	phase string         // outside assets: which part of the call (start, before, after)
	fresh bool           // the random stream is not seeded yet for this phase
	// stop is closed when the running call must end (time-out or cancellation); a
	// sleeping guest wakes up on it.
	stop <-chan struct{}
}

// fakeEpoch is what an ungranted wall clock reads at the start of every asset:
// 2022-01-01T00:00:00Z, wazero's fake epoch.
const fakeEpoch = 1640995200 * int64(time.Second)

// fakeTick is how far an ungranted clock advances per reading.
const fakeTick = int64(time.Millisecond)

// reset starts a phase whose clock and random derive from it alone: one asset (rec),
// or, with rec nil, the start of an instance or the part of a call before the first
// asset or after the last. It is on every asset's path, so it only stores pointers.
func (s *sandbox) reset(rec *record.Record, phase string) {
	s.wall, s.mono = fakeEpoch-fakeTick, -fakeTick
	s.rec, s.phase, s.fresh = rec, phase, true
}

// seed is what the current phase's random stream derives from: the asset's identity.
func (s *sandbox) seed() [32]byte {
	h := sha256.New()
	h.Write([]byte("pbisync random\x00"))
	if s.rec != nil {
		id := s.rec.Spec.PowerBI
		for _, part := range []string{"asset", string(id.Type), s.rec.Workspace.ID, id.ID} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
	} else {
		h.Write([]byte(s.phase))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func (s *sandbox) Read(p []byte) (int, error) {
	if s.grant.Random {
		return crand.Read(p)
	}
	if s.fresh {
		sum := s.seed()
		if s.rng == nil {
			s.rng = rand.NewChaCha8(sum)
		} else {
			s.rng.Seed(sum)
		}
		s.fresh = false
	}
	return s.rng.Read(p)
}

// seedF64 is env.seed (AssemblyScript's Math.random seed).
func (s *sandbox) seedF64() float64 {
	var b [8]byte
	_, _ = s.Read(b[:])
	return float64(binary.LittleEndian.Uint64(b[:]) >> 11)
}

func (s *sandbox) walltime() (int64, int32) {
	if s.grant.Clock {
		t := time.Now()
		return t.Unix(), int32(t.Nanosecond())
	}
	s.wall += fakeTick
	return s.wall / 1e9, int32(s.wall % 1e9)
}

var monoStart = time.Now()

func (s *sandbox) nanotime() int64 {
	if s.grant.Clock {
		return int64(time.Since(monoStart))
	}
	s.mono += fakeTick
	return s.mono
}

// nanosleep is WASI's sleep (poll_oneoff with a clock). Granted, it really sleeps, but
// ends the call when it must stop (the asset's time-out or the run's cancellation). Ungranted, it only advances the fake
// clocks.
func (s *sandbox) nanosleep(ns int64) {
	if ns <= 0 {
		return
	}
	if !s.grant.Clock {
		s.wall += ns
		s.mono += ns
		return
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.stop:
		// End the call here: returning would let the guest run on (and finish its
		// asset) until wazero notices the closed module.
		panic(guestFault{"stopped while asleep"})
	}
}

// configure makes mc read time and randomness from s.
func (s *sandbox) configure(mc wazero.ModuleConfig) wazero.ModuleConfig {
	return mc.WithWalltime(s.walltime, sys.ClockResolution(time.Microsecond)).
		WithNanotime(s.nanotime, sys.ClockResolution(time.Nanosecond)).
		WithNanosleep(s.nanosleep).
		WithRandSource(s)
}

// errAssetTimeout is the cause a watchdog cancels a call with.
var errAssetTimeout = errors.New("asset time-out")

// watchdogChecks is how many times per asset_timeout a watchdog looks at its call, so
// a stuck asset is stopped after between 1 and 1+1/watchdogChecks time-outs.
const watchdogChecks = 4

// watch cancels a guest call (with errAssetTimeout as the cause) once progress, which
// the host bumps at every next(), has not moved for timeout. With wazero's
// close-on-context-done, the cancellation closes the module, which stops a guest
// stuck in a loop at its next loop iteration or call, and wakes a sleeping one.
// The returned function ends the watch; call it when the guest call returns.
func watch(timeout time.Duration, progress *atomic.Uint64, cancel context.CancelCauseFunc) func() {
	tick := max(timeout/watchdogChecks, time.Millisecond)
	var (
		mu    sync.Mutex
		last  = progress.Load()
		still int
		timer *time.Timer
		done  bool
	)
	mu.Lock()
	defer mu.Unlock()
	timer = time.AfterFunc(tick, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		if p := progress.Load(); p != last {
			last, still = p, 0
		} else if still++; time.Duration(still)*tick >= timeout {
			cancel(errAssetTimeout)
			return
		}
		timer.Reset(tick)
	})
	return func() {
		mu.Lock()
		done = true
		mu.Unlock()
		timer.Stop()
	}
}
