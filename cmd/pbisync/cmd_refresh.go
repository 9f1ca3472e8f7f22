package main

import (
	"context"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
)

// runConfiguredRefreshes runs the refreshes a pipeline's `refresh` section selects, after
// a sync. Without a refresh section there is nothing to do.
func runConfiguredRefreshes(ctx context.Context, g *globals, p *pipeline.Pipeline, eng *engine.Engine) error {
	if p.Refresh.Node == nil {
		return nil
	}
	g.logger.Warn("the refresh section is read but refreshes are not run by this build yet", "file", p.File)
	return nil
}
