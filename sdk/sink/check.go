package sink

import (
	"context"
	"errors"

	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Checker is implemented by a sink that can check its config without opening its
// output. `pbisync validate` calls Check through the protocol's Check call; a sink
// that is not a Checker answers that call with UNIMPLEMENTED, and its config is then
// checked only when a sync configures it. Configure should call the same function, so
// that validate refuses exactly what a sync refuses.
type Checker interface {
	// Check decodes and checks cfg as Configure does, and opens, creates or writes
	// nothing. Errors follow Configure's conventions (*ConfigError for a value).
	Check(ctx context.Context, cfg Config) error
}

func (s *server) Check(ctx context.Context, req *sinkpb.ConfigureRequest) (*sinkpb.ConfigureResponse, error) {
	c, ok := s.impl.(Checker)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this sink cannot check its config without opening its output")
	}
	cfg := Config{Name: req.GetName(), Raw: req.GetConfigJson(), Stdout: s.stdout, Logger: s.logger}
	return configResponse(c.Check(ctx, cfg)), nil
}

// configResponse turns a Configure or Check error into the protocol's answer: each
// problem with the path of its value.
func configResponse(err error) *sinkpb.ConfigureResponse {
	var resp sinkpb.ConfigureResponse
	if err == nil {
		return &resp
	}
	for _, e := range flatten(err) {
		var ce *ConfigError
		if errors.As(e, &ce) {
			resp.Errors = append(resp.Errors, &sinkpb.ConfigError{Path: ce.Path, Message: ce.Msg})
		} else {
			resp.Errors = append(resp.Errors, &sinkpb.ConfigError{Message: e.Error()})
		}
	}
	return &resp
}
