package engine

import (
	"context"
	"time"

	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
)

// journal keeps a pipeline's running refreshes in the state store.
type journal struct {
	st       *state.Store
	pipeline string
}

// NewJournal returns a refresh journal for the pipeline on the state store.
func NewJournal(st *state.Store, pipeline string) refresh.Journal {
	return &journal{st: st, pipeline: pipeline}
}

func (j *journal) Begin(ctx context.Context, r refresh.Run) error {
	return j.st.BeginRefresh(ctx, state.RefreshRun{Source: r.Source, RequestID: r.RequestID, Pipeline: j.pipeline, WorkspaceID: r.WorkspaceID,
		ModelID: r.ModelID, Name: r.Name, Key: r.Key, Enhanced: r.Enhanced, RequestedAt: r.RequestedAt, Deadline: r.Deadline})
}

func (j *journal) End(ctx context.Context, requestID string, st event.RefreshState, endedAt time.Time, errText string) error {
	return j.st.EndRefresh(ctx, requestID, string(st), endedAt, errText)
}

func (j *journal) Unfinished(ctx context.Context) ([]refresh.Run, error) {
	open, err := j.st.OpenRefreshes(ctx, j.pipeline)
	if err != nil {
		return nil, err
	}
	runs := make([]refresh.Run, len(open))
	for i, r := range open {
		runs[i] = refresh.Run{Source: r.Source, RequestID: r.RequestID, WorkspaceID: r.WorkspaceID, ModelID: r.ModelID, Name: r.Name,
			Key: r.Key, Enhanced: r.Enhanced, RequestedAt: r.RequestedAt, Deadline: r.Deadline}
	}
	return runs, nil
}
