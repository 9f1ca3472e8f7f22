package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Target is a semantic model to refresh.
type Target struct {
	WorkspaceID string
	ModelID     string
	Name        string
	Key         spec.Key
	// DependsOn lists the model ids that must finish refreshing first, when they are
	// refreshed in the same run (a model built on another model).
	DependsOn []string
	// Dataflows are the dataflows the model reads: a refresh of one that is running
	// is waited for before the model's refresh starts.
	Dataflows []DataflowRef
	Body      Body
	Timeout   time.Duration
}

func (t Target) String() string {
	if t.Name != "" {
		return fmt.Sprintf("model %q (%s)", t.Name, t.ModelID)
	}
	return "model " + t.ModelID
}

// DataflowRef names a dataflow.
type DataflowRef struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId"`
}

// Outcome is how one refresh ended (or how far it got).
type Outcome struct {
	Target      Target
	RequestID   string
	Enhanced    bool
	StartedByUs bool // false when pbisync followed a refresh that was already running
	Status      event.RefreshState
	RequestedAt time.Time
	StartedAt   time.Time
	EndedAt     time.Time
	Err         error
	Service     *ServiceError
	Tables      []event.TableRefresh
	Polls       int

	// serviceStart and serviceEnd say StartedAt and EndedAt are the service's own
	// times; localEnd is when pbisync saw the end, by its own clock.
	serviceStart, serviceEnd bool
	localEnd                 time.Time
}

// Duration is how long the refresh took: by the service's own start and end times
// when it gave both, else by the local clock from the request to when pbisync saw the
// end. The two clocks are never mixed, so a duration is never negative.
func (o *Outcome) Duration() time.Duration {
	if o.serviceStart && o.serviceEnd && !o.EndedAt.Before(o.StartedAt) {
		return o.EndedAt.Sub(o.StartedAt)
	}
	if o.localEnd.IsZero() || o.RequestedAt.IsZero() {
		return 0
	}
	return max(o.localEnd.Sub(o.RequestedAt), 0)
}

// endLocally ends the outcome at a time of the local clock.
func (o *Outcome) endLocally(t time.Time) {
	o.EndedAt, o.localEnd, o.serviceEnd = t, t, false
}

// OK reports whether the refresh completed.
func (o *Outcome) OK() bool { return o.Status == event.RefreshCompleted && o.Err == nil }

// Event renders the outcome's current state for sinks.
func (o *Outcome) Event() event.Refresh {
	ev := event.Refresh{
		RequestID:   o.RequestID,
		State:       o.Status,
		Model:       spec.Identity{Type: spec.SemanticModel, ID: o.Target.ModelID, Name: o.Target.Name, WorkspaceID: o.Target.WorkspaceID},
		Key:         o.Target.Key,
		RefreshType: o.Target.Body.Type,
		Enhanced:    o.Enhanced,
		RequestedAt: o.RequestedAt,
		StartedAt:   o.StartedAt,
		EndedAt:     o.EndedAt,
		Tables:      o.Tables,
	}
	if o.Err != nil {
		ev.Error = o.Err.Error()
	}
	return ev
}

// Run is a refresh that pbisync started and has not seen end, as a Journal keeps it.
type Run struct {
	// Source names the pipeline source whose client started the refresh, so a resumed
	// follow asks the same tenant.
	Source      string
	RequestID   string
	WorkspaceID string
	ModelID     string
	Name        string
	Key         spec.Key
	Enhanced    bool
	RequestedAt time.Time
	Deadline    time.Time
}

// Journal remembers the refreshes being followed, so that a restarted `pbisync serve`
// goes on following them. Optional.
type Journal interface {
	Begin(ctx context.Context, r Run) error
	End(ctx context.Context, requestID string, state event.RefreshState, endedAt time.Time, errText string) error
	Unfinished(ctx context.Context) ([]Run, error)
}

// Refresher triggers and follows refreshes.
type Refresher struct {
	API    API
	Config *Config
	Logger *slog.Logger
	// OnEvent is called at every change of state of every refresh. It must be safe
	// for concurrent use.
	OnEvent func(event.Refresh)
	Journal Journal
	// Limiter, if set, bounds the request rate of the polls across every refresh.
	Limiter *Limiter
	// Now and Sleep let tests drive time; the defaults are the real clock.
	Now func() time.Time
	// Source names the pipeline source API belongs to, for the Journal.
	Source string
}

func (r *Refresher) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refresher) emit(o *Outcome) {
	if r.OnEvent != nil {
		r.OnEvent(o.Event())
	}
}

// Refresh refreshes the targets, at most Config.Concurrency at once, each after the
// targets it depends on. It returns one outcome per target, in the order given. ctx
// being cancelled (Ctrl-C) cancels the enhanced refreshes pbisync started, if the
// config says so, and ends the others' following.
func (r *Refresher) Refresh(ctx context.Context, targets []Target) []*Outcome {
	outs := make([]*Outcome, len(targets))
	byID := map[string]int{}
	for i, t := range targets {
		outs[i] = &Outcome{Target: t, Enhanced: t.Body.Enhanced()}
		byID[t.ModelID] = i
	}
	if cyc := findCycle(targets, byID); cyc != "" {
		for _, o := range outs {
			o.Status, o.Err = event.RefreshFailed, fmt.Errorf("refresh order has a cycle: %s", cyc)
		}
		return outs
	}
	done := make([]chan struct{}, len(targets))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, max(1, r.Config.Concurrency))
	var wg sync.WaitGroup
	for i := range targets {
		wg.Go(func() {
			defer close(done[i])
			o := outs[i]
			for _, dep := range targets[i].DependsOn {
				j, ok := byID[dep]
				if !ok || j == i {
					continue
				}
				select {
				case <-done[j]:
				case <-ctx.Done():
					o.Err = fmt.Errorf("not started: %w", context.Cause(ctx))
					return
				}
				if !outs[j].OK() {
					o.Status = event.RefreshFailed
					o.Err = fmt.Errorf("not started: it depends on %s, whose refresh did not complete", targets[j])
					r.emit(o)
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				o.Err = fmt.Errorf("not started: %w", context.Cause(ctx))
				return
			}
			defer func() { <-sem }()
			r.one(ctx, o)
		})
	}
	wg.Wait()
	return outs
}

func findCycle(targets []Target, byID map[string]int) string {
	state := make([]int, len(targets)) // 0 new, 1 on stack, 2 done
	var path []string
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = 1
		path = append(path, targets[i].Name)
		for _, d := range targets[i].DependsOn {
			j, ok := byID[d]
			if !ok || j == i {
				continue
			}
			if state[j] == 1 {
				path = append(path, targets[j].Name)
				return true
			}
			if state[j] == 0 && visit(j) {
				return true
			}
		}
		path = path[:len(path)-1]
		state[i] = 2
		return false
	}
	for i := range targets {
		if state[i] == 0 && visit(i) {
			return strings.Join(path, " -> ")
		}
	}
	return ""
}

// one runs the hooks, triggers and follows one refresh.
func (r *Refresher) one(ctx context.Context, o *Outcome) {
	t := o.Target
	log := r.log().With("model", t.Name, "model_id", t.ModelID, "workspace_id", t.WorkspaceID)
	if err := runHooks(ctx, "before", r.Config.Hooks.Before, r.Config.Hooks.Timeout, o); err != nil {
		o.Status, o.Err = event.RefreshFailed, err
		log.Error("refresh not started: before hook failed", "error", err)
		r.emit(o)
		return
	}
	if err := r.waitForDataflows(ctx, t, log); err != nil {
		o.Status, o.Err = event.RefreshFailed, fmt.Errorf("%s: not started: %w", t, err)
		log.Error("refresh not started", "error", err)
		r.emit(o)
		r.after(ctx, o, log)
		return
	}
	o.RequestedAt = r.now().UTC()
	id, err := r.API.Trigger(ctx, t.WorkspaceID, t.ModelID, &t.Body)
	switch {
	case errors.Is(err, ErrAlreadyRunning) && r.Config.WhenRunning == "wait":
		id, err = r.running(ctx, o)
		if err == nil {
			log.Info("a refresh is already running: following it", "request_id", id)
		}
	case err == nil:
		o.StartedByUs = true
	}
	if err != nil {
		o.Status, o.Err = event.RefreshFailed, fmt.Errorf("%s: %w", t, err)
		log.Error("refresh not started", "error", err)
		r.emit(o)
		r.after(ctx, o, log)
		return
	}
	o.RequestID = id
	o.Status = event.RefreshRequested
	r.emit(o)
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = r.Config.Timeout
	}
	deadline := o.RequestedAt.Add(timeout)
	if r.Journal != nil && o.StartedByUs {
		if err := r.Journal.Begin(context.WithoutCancel(ctx), Run{Source: r.Source, RequestID: id, WorkspaceID: t.WorkspaceID, ModelID: t.ModelID,
			Name: t.Name, Key: t.Key, Enhanced: o.Enhanced, RequestedAt: o.RequestedAt, Deadline: deadline}); err != nil {
			log.Warn("refresh journal", "error", err)
		}
	}
	r.follow(ctx, o, deadline, log)
	r.after(ctx, o, log)
}

// waitForDataflows waits, polling with the refresh backoff, until no dataflow the model
// reads is refreshing, so the model does not load a dataflow that is half written.
func (r *Refresher) waitForDataflows(ctx context.Context, t Target, log *slog.Logger) error {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = r.Config.Timeout
	}
	deadline := r.now().Add(timeout)
	for _, df := range t.Dataflows {
		ws := df.WorkspaceID
		if ws == "" {
			ws = t.WorkspaceID
		}
		wait := r.Config.Poll.Initial
		for said := false; ; {
			busy, err := r.API.DataflowRefreshing(ctx, ws, df.ID)
			if err != nil {
				return fmt.Errorf("checking dataflow %s: %w", df.ID, err)
			}
			if !busy {
				break
			}
			if !said {
				log.Info("waiting for a dataflow the model reads to finish refreshing", "dataflow_id", df.ID)
				said = true
			}
			if !r.now().Add(wait).Before(deadline) {
				return fmt.Errorf("dataflow %s was still refreshing after %s", df.ID, timeout)
			}
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return context.Cause(ctx)
			case <-timer.C:
			}
			wait = min(time.Duration(float64(wait)*r.Config.Poll.Factor), r.Config.Poll.Max)
		}
	}
	return nil
}

func (r *Refresher) after(ctx context.Context, o *Outcome, log *slog.Logger) {
	if len(r.Config.Hooks.After) == 0 {
		return
	}
	if err := runHooks(context.WithoutCancel(ctx), "after", r.Config.Hooks.After, r.Config.Hooks.Timeout, o); err != nil {
		log.Error("after hook failed", "error", err)
		if o.Err == nil {
			o.Err = err
		} else {
			o.Err = errors.Join(o.Err, err)
		}
	}
}

// running finds the refresh in progress in the model's history.
func (r *Refresher) running(ctx context.Context, o *Outcome) (string, error) {
	t := o.Target
	h, err := r.API.History(ctx, t.WorkspaceID, t.ModelID, 10)
	if err != nil {
		return "", err
	}
	for _, e := range h {
		if st := strings.ToLower(e.Status); e.EndTime == "" && (st == "unknown" || st == "notstarted" || st == "inprogress") {
			o.Enhanced = strings.EqualFold(e.RefreshType, "ViaEnhancedApi")
			return e.RequestID, nil
		}
	}
	return "", fmt.Errorf("%w, but it is not in the refresh history", ErrAlreadyRunning)
}

// Resume follows refreshes that a previous process started (from the Journal).
func (r *Refresher) Resume(ctx context.Context, runs []Run) []*Outcome {
	outs := make([]*Outcome, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		o := &Outcome{
			Target:    Target{WorkspaceID: run.WorkspaceID, ModelID: run.ModelID, Name: run.Name, Key: run.Key},
			RequestID: run.RequestID, Enhanced: run.Enhanced, StartedByUs: true,
			Status: event.RefreshRequested, RequestedAt: run.RequestedAt,
		}
		outs[i] = o
		wg.Go(func() {
			log := r.log().With("model", run.Name, "model_id", run.ModelID, "request_id", run.RequestID)
			log.Info("resuming a refresh started before a restart")
			r.follow(ctx, o, run.Deadline, log)
		})
	}
	wg.Wait()
	return outs
}
