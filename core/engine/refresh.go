package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/klauspost/compress/s2"
	"sort"
	"strings"
	"sync"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

// RefreshConfig returns the pipeline's refresh settings (defaults when the pipeline has
// no refresh section).
func (e *Engine) RefreshConfig() *refresh.Config {
	if e.refresh != nil {
		return e.refresh
	}
	c, _ := refresh.Decode(config.Node{}) // the defaults always decode
	return c
}

// clientOf returns the Power BI client of a source, if it reads from Power BI.
func clientOf(s Source) *powerbi.Client {
	if c, ok := s.(interface{ Client() *powerbi.Client }); ok {
		return c.Client()
	}
	return nil
}

// RefreshStep returns a Run step that refreshes semantic models: the ones named (by
// name, id or key, as in "semantic_model/Sales"), or without names the pipeline's
// selection. Every refresh event goes to the sinks and to onEvent (a live view); the
// outcomes are stored in *outs.
func (e *Engine) RefreshStep(names []string, onEvent func(event.Refresh), outs *[]*refresh.Outcome) func(context.Context, []Model, func(...event.Event) error) error {
	return func(ctx context.Context, models []Model, send func(...event.Event) error) error {
		cfg := e.RefreshConfig()
		picked, err := pickModels(cfg, models, names)
		if err != nil {
			return err
		}
		if len(picked) == 0 {
			e.Logger.Info("no semantic model selected for refresh")
			return nil
		}
		// One refresher per source: models are refreshed through the client of the
		// source that read them.
		groups := map[Source][]*record.Record{}
		for _, m := range picked {
			c := clientOf(m.Source)
			if c == nil {
				name := "?"
				if m.Source != nil {
					name = m.Source.Name()
				}
				return &SelectionError{Msg: fmt.Sprintf("semantic model %q comes from source %q, which reads a snapshot file: refreshing needs a powerbi or emulator source", m.Record.Spec.PowerBI.Name, name)}
			}
			groups[m.Source] = append(groups[m.Source], &m.Record)
		}
		byID := make(map[string]*Model, len(picked))
		for i := range picked {
			byID[picked[i].Record.Spec.PowerBI.ID] = &picked[i]
		}
		var mu sync.Mutex
		var sendErr error
		emit := func(ev event.Refresh) {
			if onEvent != nil {
				onEvent(ev)
			}
			// Self-contained: the event carries its model's spec and related assets.
			out := event.Event{Kind: event.KindRefresh, Refresh: &ev}
			if m := byID[ev.Model.ID]; m != nil {
				ev.ModelSpec, out.Related = m.refreshSpec(), m.related
			}
			mu.Lock()
			defer mu.Unlock()
			if err := send(out); err != nil && sendErr == nil {
				sendErr = err
			}
		}
		limiter := refresh.NewLimiter(cfg.RateLimit, max(1, int(cfg.RateLimit)))
		var wg sync.WaitGroup
		for src, recs := range groups {
			wg.Go(func() {
				r := &refresh.Refresher{API: refresh.NewAPI(clientOf(src)), Source: src.Name(), Config: cfg, Logger: e.Logger,
					OnEvent: emit, Limiter: limiter, Journal: e.Journal}
				o := r.Refresh(ctx, cfg.TargetsOf(recs))
				mu.Lock()
				*outs = append(*outs, o...)
				mu.Unlock()
			})
		}
		wg.Wait()
		return sendErr
	}
}

// pickModels finds the models named, or the configured selection without names.
func pickModels(cfg *refresh.Config, models []Model, names []string) ([]Model, error) {
	if len(names) == 0 {
		recs := make([]record.Record, len(models))
		for i := range models {
			recs[i] = models[i].Record
		}
		targets, _ := cfg.Targets(recs)
		byID := map[string]bool{}
		for _, t := range targets {
			byID[t.ModelID] = true
		}
		var out []Model
		for _, m := range models {
			if byID[m.Record.Spec.PowerBI.ID] {
				out = append(out, m)
			}
		}
		return out, nil
	}
	var out []Model
	for _, n := range names {
		var hits []Model
		for _, m := range models {
			if namedBy(&m.Record.Spec, n) {
				hits = append(hits, m)
			}
		}
		switch len(hits) {
		case 0:
			var all []string
			for _, m := range models {
				all = append(all, fmt.Sprintf("%q", m.Record.Spec.PowerBI.Name))
			}
			sort.Strings(all)
			return nil, &SelectionError{Msg: fmt.Sprintf("no semantic model is named %q (by name, id or key); the synced models are: %s", n, strings.Join(all, ", "))}
		case 1:
			out = append(out, hits[0])
		default:
			var ids []string
			for _, h := range hits {
				ids = append(ids, fmt.Sprintf("%s in workspace %q", h.Record.Spec.PowerBI.ID, h.Record.Spec.PowerBI.WorkspaceName))
			}
			return nil, &SelectionError{Msg: fmt.Sprintf("%q names %d semantic models (%s): name one by its id or key", n, len(hits), strings.Join(ids, "; "))}
		}
	}
	return out, nil
}

// RefreshModels refreshes models outside a sync (a `serve` trigger or schedule). Its
// refresh events go to the outputs that take them: through the engine's stream when
// StartStream made one (so they never meet a sync's writes), otherwise in a refresh run
// of their own, committed when the refreshes ended.
func (e *Engine) RefreshModels(ctx context.Context, models []Model, names []string, onEvent func(event.Refresh)) ([]*refresh.Outcome, error) {
	var outs []*refresh.Outcome
	if e.stream != nil {
		send := func(evs ...event.Event) error { e.stream.send(evs...); return nil }
		err := e.RefreshStep(names, onEvent, &outs)(ctx, models, send)
		return outs, err
	}
	sinks, err := e.openOutputs(ctx, sink.RunRefresh, []event.Kind{event.KindRefresh})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	failed := make([]error, len(sinks))
	send := func(evs ...event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		var errs []error
		for i, s := range sinks {
			if failed[i] != nil {
				continue
			}
			if err := s.Write(ctx, evs); err != nil {
				failed[i] = fmt.Errorf("sink %s: %w", s.Name(), err)
				errs = append(errs, failed[i])
			}
		}
		return errors.Join(errs...)
	}
	err = e.RefreshStep(names, onEvent, &outs)(ctx, models, send)
	for i, s := range sinks {
		if failed[i] != nil {
			abortSink(ctx, s, failed[i])
			continue
		}
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, fmt.Errorf("sink %s: %w", s.Name(), cerr))
		}
	}
	return outs, err
}

// Downstream returns the ids of the models that read any of keys, directly (a warehouse
// table or data source among their deps) or through another such model.
func Downstream(models []Model, keys []spec.Key) []string {
	hit := map[string]bool{}
	for _, k := range keys {
		hit[keyString(k)] = true
	}
	var ids []string
	done := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, m := range models {
			s := &m.Record.Spec
			if done[s.PowerBI.ID] {
				continue
			}
			for _, d := range s.Deps {
				if hit[keyString(d)] {
					done[s.PowerBI.ID] = true
					hit[keyString(s.Key)] = true
					ids = append(ids, s.PowerBI.ID)
					changed = true
					break
				}
			}
		}
	}
	return ids
}

// SetRefreshConfig replaces the refresh settings (serve turns off cancel-on-interrupt).
func (e *Engine) SetRefreshConfig(c *refresh.Config) { e.refresh = c }

// RefreshAPIs returns a refresh API for every source that reads from Power BI, by
// source name, in the pipeline's order.
func (e *Engine) RefreshAPIs() (names []string, apis map[string]refresh.API) {
	apis = map[string]refresh.API{}
	for _, s := range e.Sources {
		if c := clientOf(s); c != nil {
			names = append(names, s.Name())
			apis[s.Name()] = refresh.NewAPI(c)
		}
	}
	return names, apis
}

// refreshSpec decodes the model's spec as its refresh events carry it (nil when the
// model was not built by this engine's sync).
func (m *Model) refreshSpec() *spec.AssetSpec {
	if len(m.spec) == 0 {
		return nil
	}
	b, err := s2.Decode(nil, m.spec)
	if err != nil {
		return nil
	}
	var s spec.AssetSpec
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	return &s
}

// RefreshPicks reports which models a RefreshStep of the same names may refresh (see
// pickModels): for RunOptions.ModelSpecFor, so that the run keeps the specs of those
// only.
func (e *Engine) RefreshPicks(names []string) func(*record.Record) bool {
	if len(names) == 0 {
		return e.RefreshConfig().Selects
	}
	return func(r *record.Record) bool {
		for _, n := range names {
			if namedBy(&r.Spec, n) {
				return true
			}
		}
		return false
	}
}

// namedBy reports whether a command's name n names the model s: its id, key or name.
func namedBy(s *spec.AssetSpec, n string) bool {
	return s.PowerBI.ID == n || s.Key.String() == n || s.PowerBI.Name == n
}

// SelectionError says that the models a command names cannot be refreshed as asked:
// no model has the name, or several have it, or the model's source cannot refresh.
// The CLI reports it as an argument error.
type SelectionError struct{ Msg string }

func (e *SelectionError) Error() string { return e.Msg }
