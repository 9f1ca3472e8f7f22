package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	Body      Body
	Timeout   time.Duration
}

func (t Target) String() string {
	if t.Name != "" {
		return fmt.Sprintf("model %q (%s)", t.Name, t.ModelID)
	}
	return "model " + t.ModelID
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
		if err := r.Journal.Begin(context.WithoutCancel(ctx), Run{RequestID: id, WorkspaceID: t.WorkspaceID, ModelID: t.ModelID,
			Name: t.Name, Key: t.Key, Enhanced: o.Enhanced, RequestedAt: o.RequestedAt, Deadline: deadline}); err != nil {
			log.Warn("refresh journal", "error", err)
		}
	}
	r.follow(ctx, o, deadline, log)
	r.after(ctx, o, log)
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
		if e.EndTime == "" && (e.Status == "Unknown" || e.Status == "NotStarted" || e.Status == "InProgress") {
			o.Enhanced = e.RefreshType == "ViaEnhancedApi"
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

// follow polls the refresh until it ends, the deadline passes or ctx is cancelled.
func (r *Refresher) follow(ctx context.Context, o *Outcome, deadline time.Time, log *slog.Logger) {
	t := o.Target
	p := r.Config.Poll
	wait := p.Initial
	failures := 0
	defer func() {
		if r.Journal != nil && o.StartedByUs && o.Status != event.RefreshRequested && o.Status != event.RefreshStarted {
			errText := ""
			if o.Err != nil {
				errText = o.Err.Error()
			}
			if err := r.Journal.End(context.WithoutCancel(ctx), o.RequestID, o.Status, o.EndedAt, errText); err != nil {
				log.Warn("refresh journal", "error", err)
			}
		}
	}()
	for {
		// Jitter keeps many followers from polling in lockstep.
		d := time.Duration(float64(wait) * (0.9 + 0.2*rand.Float64()))
		if left := time.Until(deadline); left < d {
			d = max(left, 0)
		}
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			r.interrupted(ctx, o, log)
			return
		case <-timer.C:
		}
		if !r.now().Before(deadline) {
			r.timedOut(ctx, o, log)
			return
		}
		wait = min(time.Duration(float64(wait)*p.Factor), p.Max)
		if r.Limiter != nil {
			if err := r.Limiter.Wait(ctx); err != nil {
				continue // ctx is done: handled at the top
			}
		}
		o.Polls++
		st, err := r.poll(ctx, o)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			failures++
			log.Warn("refresh poll failed", "request_id", o.RequestID, "error", err, "consecutive", failures)
			if failures >= 5 {
				o.Status, o.EndedAt = event.RefreshFailed, r.now().UTC()
				o.Err = fmt.Errorf("%s: following refresh %s: %w", t, o.RequestID, err)
				r.emit(o)
				return
			}
			continue
		}
		failures = 0
		switch st {
		case event.RefreshRequested:
			// Not started, or not listed yet: keep polling.
		case event.RefreshStarted:
			if o.Status != event.RefreshStarted {
				o.Status = event.RefreshStarted
				if o.StartedAt.IsZero() {
					o.StartedAt = r.now().UTC()
				}
				log.Info("refresh started", "request_id", o.RequestID)
				r.emit(o)
			}
		default:
			o.Status = st
			if o.EndedAt.IsZero() {
				o.EndedAt = r.now().UTC()
			}
			if st != event.RefreshCompleted && o.Err == nil {
				o.Err = fmt.Errorf("%s: refresh %s %s", t, o.RequestID, strings.ReplaceAll(string(st), "_", " "))
				if o.Service != nil {
					o.Err = fmt.Errorf("%w: %v", o.Err, o.Service)
				}
			}
			log.Info("refresh ended", "request_id", o.RequestID, "state", st, "polls", o.Polls,
				"duration", o.EndedAt.Sub(o.RequestedAt).Round(time.Second))
			r.emit(o)
			return
		}
	}
}

// poll reads the refresh's state once and maps the service's status to pbisync's.
func (r *Refresher) poll(ctx context.Context, o *Outcome) (event.RefreshState, error) {
	t := o.Target
	if o.Enhanced {
		ex, err := r.API.Execution(ctx, t.WorkspaceID, t.ModelID, o.RequestID)
		if errors.Is(err, ErrNotFound) {
			return event.RefreshRequested, nil
		}
		if err != nil {
			return "", err
		}
		o.Tables = o.Tables[:0]
		for _, ob := range ex.Objects {
			o.Tables = append(o.Tables, event.TableRefresh{Table: ob.Table, Partition: ob.Partition, Status: ob.Status})
		}
		if ts := serviceTime(ex.StartTime); !ts.IsZero() {
			o.StartedAt = ts
		}
		if te := serviceTime(ex.EndTime); !te.IsZero() {
			o.EndedAt = te
		}
		st := mapStatus(ex.Status, ex.ExtendedStatus, ex.Done)
		if st == event.RefreshFailed || st == event.RefreshTimedOut {
			var msgs []string
			for _, m := range ex.Messages {
				if m.Type == "Error" || m.Type == "" {
					msgs = append(msgs, strings.TrimSpace(m.Code+" "+m.Message))
				}
			}
			if len(msgs) > 0 {
				o.Service = &ServiceError{ErrorDescription: strings.Join(msgs, "; ")}
			}
		}
		return st, nil
	}
	h, err := r.API.History(ctx, t.WorkspaceID, t.ModelID, 20)
	if err != nil {
		return "", err
	}
	for _, e := range h {
		if !strings.EqualFold(e.RequestID, o.RequestID) {
			continue
		}
		if ts := serviceTime(e.StartTime); !ts.IsZero() {
			o.StartedAt = ts
		}
		if te := serviceTime(e.EndTime); !te.IsZero() {
			o.EndedAt = te
		}
		o.Service = decodeServiceError(e.ServiceExceptionJSON)
		return mapStatus(e.Status, e.ExtendedStatus, e.EndTime != ""), nil
	}
	return event.RefreshRequested, nil // not listed yet
}

// mapStatus maps the service's status and extended status to pbisync's states.
func mapStatus(status, extended string, done bool) event.RefreshState {
	switch extended {
	case "Completed":
		return event.RefreshCompleted
	case "Failed":
		return event.RefreshFailed
	case "TimedOut":
		return event.RefreshTimedOut
	case "Cancelled":
		return event.RefreshCancelled
	case "Disabled":
		return event.RefreshFailed
	}
	switch status {
	case "Completed":
		return event.RefreshCompleted
	case "Failed", "Disabled":
		return event.RefreshFailed
	case "Cancelled":
		return event.RefreshCancelled
	case "TimedOut":
		return event.RefreshTimedOut
	case "NotStarted":
		return event.RefreshRequested
	}
	if done && status != "Unknown" && status != "InProgress" {
		return event.RefreshFailed
	}
	if extended == "NotStarted" {
		return event.RefreshRequested
	}
	return event.RefreshStarted
}

func (r *Refresher) timedOut(ctx context.Context, o *Outcome, log *slog.Logger) {
	o.Status, o.EndedAt = event.RefreshTimedOut, r.now().UTC()
	o.Err = fmt.Errorf("%s: refresh %s did not finish within %s", o.Target, o.RequestID, o.EndedAt.Sub(o.RequestedAt).Round(time.Second))
	if o.Enhanced && *r.Config.CancelOnTimeout {
		if err := r.cancel(ctx, o); err != nil {
			o.Err = fmt.Errorf("%w; cancelling it failed: %v", o.Err, err)
		} else {
			o.Err = fmt.Errorf("%w; it was cancelled", o.Err)
		}
	} else if !o.Enhanced {
		o.Err = fmt.Errorf("%w; a standard refresh cannot be cancelled through the API and goes on in the service", o.Err)
	}
	log.Error("refresh timed out", "request_id", o.RequestID, "error", o.Err)
	r.emit(o)
}

func (r *Refresher) interrupted(ctx context.Context, o *Outcome, log *slog.Logger) {
	cause := context.Cause(ctx)
	if o.Enhanced && o.StartedByUs && *r.Config.CancelOnInterrupt {
		o.EndedAt = r.now().UTC()
		if err := r.cancel(ctx, o); err != nil {
			o.Status, o.Err = event.RefreshFailed, fmt.Errorf("%s: interrupted (%v); cancelling refresh %s failed: %w", o.Target, cause, o.RequestID, err)
		} else {
			o.Status, o.Err = event.RefreshCancelled, fmt.Errorf("%s: interrupted (%v); refresh %s cancelled", o.Target, cause, o.RequestID)
		}
		log.Warn("refresh cancelled on interrupt", "request_id", o.RequestID, "error", o.Err)
		r.emit(o)
		return
	}
	// The refresh goes on in the service; the journal keeps it for a later resume.
	o.Err = fmt.Errorf("%s: interrupted (%v) while following refresh %s, which goes on in the service", o.Target, cause, o.RequestID)
	log.Warn("stopped following a refresh", "request_id", o.RequestID)
}

func (r *Refresher) cancel(ctx context.Context, o *Outcome) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return r.API.Cancel(cctx, o.Target.WorkspaceID, o.Target.ModelID, o.RequestID)
}
