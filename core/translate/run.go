package translate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pbisync/pbisync/core/record"
)

// minChunk is the smallest share of a batch worth handing to another instance.
const minChunk = 256

// Translate runs the module over a batch, split across the instance pool, and applies
// the on_error policy to the assets that failed. The input records are never modified;
// an output spec shares the fields the translator did not edit with its input (copy on
// write), so treat both as read-only or Clone before editing in place.
func (w *WASM) Translate(ctx context.Context, recs []record.Record) ([]record.Record, []record.Problem, error) {
	p, _ := w.resPool.Get().(*[]result)
	if p == nil || cap(*p) < len(recs) {
		p = &[]result{}
		*p = make([]result, len(recs))
	}
	res := (*p)[:len(recs)]
	clear(res)
	defer func() {
		clear(res) // drop the edited specs before pooling
		w.resPool.Put(p)
	}()
	out := make([]record.Record, len(recs))
	if err := w.run(ctx, recs, res, out); err != nil {
		return nil, nil, err
	}
	return applyPolicy(w.name, w.policy, recs, res, out)
}

// run translates recs into res; edited specs are written into out's slots.
func (w *WASM) run(ctx context.Context, recs []record.Record, res []result, out []record.Record) error {
	n := len(recs)
	if n == 0 {
		return nil
	}
	workers := min(cap(w.slots), (n+minChunk-1)/minChunk)
	if workers <= 1 {
		return w.runChunk(ctx, recs, res, out)
	}
	size := (n + workers - 1) / workers
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		lo, hi := i*size, min(n, (i+1)*size)
		if lo >= hi {
			break
		}
		wg.Go(func() { errs[i] = w.runChunk(ctx, recs[lo:hi], res[lo:hi], out[lo:hi]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runChunk runs recs on one instance; after a trap or time-out it discards the instance
// and runs the assets after the failed one on a fresh instance, a bounded number of times.
func (w *WASM) runChunk(ctx context.Context, recs []record.Record, res []result, out []record.Record) error {
	start := 0
	for attempt := 1; start < len(recs); attempt++ {
		in, err := w.acquire(ctx)
		if err != nil {
			return fmt.Errorf("translator %q: %w", w.name, err)
		}
		done, broken, err := w.call(ctx, in, recs[start:], res[start:], out[start:])
		if broken {
			w.discard(ctx, in)
		} else {
			w.release(in)
		}
		if err != nil {
			return err
		}
		start += done
		if start < len(recs) && attempt >= maxAttempts {
			for i := start; i < len(recs); i++ {
				res[i] = result{outcome: outFail, err: fmt.Errorf("not translated: the translator failed %d times in this batch", maxAttempts)}
			}
			break
		}
	}
	return nil
}

// call runs pbisync_translate once. It returns how many assets have a final result,
// whether the instance must be discarded, and an error only when ctx ended.
func (w *WASM) call(ctx context.Context, in *instance, recs []record.Record, res []result, out []record.Record) (int, bool, error) {
	b := newBatch(recs, w.config, w.limits.MaxOutput)
	b.res, b.out = res, out
	cctx, cancel := context.WithTimeout(ctx, w.limits.BatchTimeout)
	defer cancel()
	cctx = context.WithValue(cctx, batchKey{}, b)
	in.stack[0] = 0
	if err := in.translate.CallWithStack(cctx, in.stack); err != nil {
		if ctx.Err() != nil {
			return 0, true, ctx.Err()
		}
		reason := w.describe(ctx, cctx, err, in.out, in.mod)
		switch {
		case b.cur < 0: // before the first asset: nothing is per-asset
			for i := range res {
				res[i] = result{outcome: outFail, err: reason}
			}
			return len(recs), true, nil
		case b.cur >= len(recs): // after the last asset: every result is final
			w.logger.Warn("translator trapped after its last asset", "translator", w.name, "reason", reason)
			return len(recs), true, nil
		}
		res[b.cur] = result{outcome: outFail, err: reason}
		return b.cur + 1, true, nil
	}
	if b.current() { // returned while on an asset: that asset is done
		b.finish(b.cur)
		b.cur++
	}
	for i := max(b.cur, 0); i < len(recs); i++ {
		res[i] = result{outcome: outFail, err: fmt.Errorf("%s returned before reaching this asset", exportTranslate)}
	}
	if st := int32(in.stack[0]); st != 0 {
		for i := range res {
			if res[i].outcome != outFail {
				res[i] = result{outcome: outFail, err: fmt.Errorf("%s returned status %d for this batch", exportTranslate, st)}
			}
		}
	}
	return len(recs), false, nil
}

// applyPolicy turns results into the records to pass on and problems to report. It
// compacts them into out (len(recs) long, holding the specs edited in place), or into a
// new slice when out is nil.
func applyPolicy(name string, policy Policy, recs []record.Record, res []result, out []record.Record) ([]record.Record, []record.Problem, error) {
	if out == nil {
		out = make([]record.Record, len(recs))
	}
	var probs []record.Problem
	stage := "translator " + name
	j := 0
	for i := range recs {
		r := &res[i]
		switch r.outcome {
		case outKeep:
			switch {
			case r.spec == nil:
				out[j] = recs[i]
			case r.spec == &out[i].Spec: // edited in its slot: fill in the rest
				out[i].Raw, out[i].Workspace = recs[i].Raw, recs[i].Workspace
				if j != i {
					out[j] = out[i]
				}
			default:
				s := *r.spec
				out[j] = recs[i]
				out[j].Spec = s
			}
			j++
		case outDrop:
		case outFail:
			p := record.Problem{Stage: stage, Asset: recs[i].Spec.PowerBI, Err: r.err}
			switch policy {
			case PolicySkip:
				probs = append(probs, p)
			case PolicyKeepDefault:
				probs = append(probs, p)
				out[j] = recs[i]
				j++
			default:
				return nil, nil, p
			}
		}
	}
	clear(out[j:])
	return out[:j:j], probs, nil
}
