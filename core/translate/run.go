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
	defer w.caps.report(w.logger, w.name)
	st := &stage{limit: w.limits.StageMemory / 2}
	workers := min(cap(w.slots), (n+minChunk-1)/minChunk)
	var err error
	if workers <= 1 {
		err = w.runChunk(ctx, st, recs, res, out)
	} else {
		size := (n + workers - 1) / workers
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for i := range workers {
			lo, hi := i*size, min(n, (i+1)*size)
			if lo >= hi {
				break
			}
			wg.Go(func() { errs[i] = w.runChunk(ctx, st, recs[lo:hi], res[lo:hi], out[lo:hi]) })
		}
		wg.Wait()
		err = errors.Join(errs...)
	}
	if err == nil && st.exceeded.Load() {
		err = fmt.Errorf("translator %q: the edits of this batch passed half of limits.stage_memory (%s): the translator writes far more than its assets need, or raise the limit",
			w.name, sizeText(uint64(w.limits.StageMemory)))
	}
	return err
}

// runChunk runs recs on one instance. After a trap or a time-out only the asset the
// guest was on fails: the instance is discarded and the assets after it run on a
// fresh one, however often that happens.
func (w *WASM) runChunk(ctx context.Context, st *stage, recs []record.Record, res []result, out []record.Record) error {
	start := 0
	for start < len(recs) {
		if st.exceeded.Load() {
			return nil // run reports it
		}
		in, err := w.acquire(ctx)
		if err != nil {
			return fmt.Errorf("translator %q: %w", w.name, err)
		}
		done, broken, err := w.call(ctx, in, st, recs[start:], res[start:], out[start:])
		if broken {
			w.discard(ctx, in)
		} else {
			w.release(in)
		}
		if err != nil {
			return err
		}
		start += done
	}
	return nil
}

// call runs pbisync_translate once. It returns how many assets have a final result,
// whether the instance must be discarded, and an error only when ctx ended.
func (w *WASM) call(ctx context.Context, in *instance, st *stage, recs []record.Record, res []result, out []record.Record) (int, bool, error) {
	b := newBatch(recs, w.config, w.limits.MaxOutput)
	b.res, b.out, b.sb, b.stage = res, out, in.sb, st
	b.maxCalls, b.maxHostMem = w.limits.MaxCalls, w.limits.MaxHostMemory
	reused := in.used
	in.used = true
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	in.sb.reset(nil, "before")
	in.sb.stop = cctx.Done()
	in.out.b = b
	defer func() { in.out.b = nil }()
	unhook := context.AfterFunc(cctx, func() { in.halt(b) })
	stopWatch := watch(w.limits.AssetTimeout, &b.progress, cancel)
	in.stack[0] = 0
	err := in.translate.CallWithStack(context.WithValue(cctx, batchKey{}, b), in.stack)
	stopWatch()
	if !unhook() && err == nil { // stopped just as it returned: its results stand, the instance goes
		return w.finishCall(in, b, recs, res), true, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, true, ctx.Err()
		}
		if st.exceeded.Load() {
			return len(recs), true, nil
		}
		reason := w.describe(ctx, cctx, err, in.out, in.mod)
		switch {
		case b.cur < 0 && reused:
			// Before the first asset, on an instance earlier assets used: what they
			// left may be the cause, so the batch runs again on a fresh instance.
			return 0, true, nil
		case b.cur < 0: // a fresh instance failed before any asset: nothing is per-asset
			for i := range res {
				res[i] = result{outcome: outFail, err: reason}
			}
			return len(recs), true, nil
		case b.cur >= len(recs): // after the last asset: every result is final
			w.logger.Warn("translator trapped after its last asset", "translator", w.name, "reason", reason)
			return len(recs), true, nil
		}
		if prev := res[b.cur]; prev.outcome == outFail { // keep the first reason: it is the cause
			reason = fmt.Errorf("%w (then: %v)", prev.err, reason)
		}
		res[b.cur] = result{outcome: outFail, err: reason}
		return b.cur + 1, true, nil
	}
	return w.finishCall(in, b, recs, res), false, nil
}

// finishCall settles the results of a call that returned.
func (w *WASM) finishCall(in *instance, b *batch, recs []record.Record, res []result) int {
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
	return len(recs)
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
