package main

import (
	"context"
	"os"

	"github.com/pbisync/pbisync/core/pipes"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/sdk/event"
)

// pipesRefresh is `pbisync refresh` launched by Dagster through Pipes: refresh events
// become materializations and log lines in Dagster, and failures its step's error.
type pipesRefresh struct {
	rep *pipes.RefreshReporter
}

// openPipes opens the Dagster Pipes session of the environment, or returns nil when
// Dagster did not launch pbisync.
func openPipes(g *globals) (*pipesRefresh, error) {
	s, err := pipes.Open(os.Getenv)
	if err != nil || s == nil {
		return nil, err
	}
	g.logger.Info("reporting to Dagster through Pipes", "run_id", s.Context().RunID, "assets", len(s.Context().AssetKeys))
	return &pipesRefresh{rep: pipes.NewRefreshReporter(s)}, nil
}

// run refreshes the models named, else those the Dagster step asks for, and closes the
// session with what happened.
func (p *pipesRefresh) run(ctx context.Context, g *globals, file string, args []string) error {
	if len(args) == 0 {
		args = p.rep.Models()
	}
	var outs []*refresh.Outcome
	err := refreshModels(ctx, g, file, args, func(ev event.Refresh) {
		if err := p.rep.Event(ev); err != nil {
			g.logger.Warn("dagster pipes", "error", err)
		}
	}, &outs)
	final := make([]event.Refresh, 0, len(outs))
	for _, o := range outs {
		final = append(final, o.Event())
	}
	var runErr error
	if _, problems := err.(*problemsError); err != nil && !problems {
		runErr = err // failed refreshes are already named one by one
	}
	if cerr := p.rep.Close(final, runErr); cerr != nil {
		g.logger.Warn("dagster pipes", "error", cerr)
	}
	return err
}
