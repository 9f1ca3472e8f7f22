package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
)

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
				o.Status = event.RefreshFailed
				o.endLocally(r.now().UTC())
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
			o.localEnd = r.now().UTC()
			if o.EndedAt.IsZero() {
				o.EndedAt = o.localEnd
			}
			if st != event.RefreshCompleted && o.Err == nil {
				o.Err = fmt.Errorf("%s: refresh %s %s", t, o.RequestID, strings.ReplaceAll(string(st), "_", " "))
				if o.Service != nil {
					o.Err = fmt.Errorf("%w: %v", o.Err, o.Service)
				}
			}
			log.Info("refresh ended", "request_id", o.RequestID, "state", st, "polls", o.Polls,
				"duration", o.Duration().Round(time.Second))
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
			o.StartedAt, o.serviceStart = ts, true
		}
		if te := serviceTime(ex.EndTime); !te.IsZero() {
			o.EndedAt, o.serviceEnd = te, true
		}
		st := mapStatus(ex.Status, ex.ExtendedStatus, ex.Done)
		if st == event.RefreshFailed || st == event.RefreshTimedOut {
			var msgs []string
			for _, m := range ex.Messages {
				if strings.EqualFold(m.Type, "Error") || m.Type == "" {
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
			o.StartedAt, o.serviceStart = ts, true
		}
		if te := serviceTime(e.EndTime); !te.IsZero() {
			o.EndedAt, o.serviceEnd = te, true
		}
		o.Service = decodeServiceError(e.ServiceExceptionJSON)
		return mapStatus(e.Status, e.ExtendedStatus, e.EndTime != ""), nil
	}
	return event.RefreshRequested, nil // not listed yet
}

// mapStatus maps the service's status and extended status to pbisync's states. The
// service's casing varies, so values compare case-insensitively.
func mapStatus(status, extended string, done bool) event.RefreshState {
	status, extended = strings.ToLower(status), strings.ToLower(extended)
	switch extended {
	case "completed":
		return event.RefreshCompleted
	case "failed", "disabled":
		return event.RefreshFailed
	case "timedout":
		return event.RefreshTimedOut
	case "cancelled":
		return event.RefreshCancelled
	}
	switch status {
	case "completed":
		return event.RefreshCompleted
	case "failed", "disabled":
		return event.RefreshFailed
	case "cancelled":
		return event.RefreshCancelled
	case "timedout":
		return event.RefreshTimedOut
	case "notstarted":
		return event.RefreshRequested
	}
	if done && status != "unknown" && status != "inprogress" {
		return event.RefreshFailed
	}
	if extended == "notstarted" {
		return event.RefreshRequested
	}
	return event.RefreshStarted
}

func (r *Refresher) timedOut(ctx context.Context, o *Outcome, log *slog.Logger) {
	o.Status = event.RefreshTimedOut
	o.endLocally(r.now().UTC())
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
		o.endLocally(r.now().UTC())
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
