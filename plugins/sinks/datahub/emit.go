package datahub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pbisync/pbisync/sdk/sink"
)

// restEmitter posts each MCP to GMS's Rest.li ingestProposal action.
type restEmitter struct {
	endpoint string
	token    sink.Secret
	client   *http.Client
	retries  int
	workers  int
}

func newRESTEmitter(server string, token sink.Secret, timeout time.Duration, retries, workers int) *restEmitter {
	return &restEmitter{
		endpoint: server + "/aspects?action=ingestProposal",
		token:    token,
		client:   &http.Client{Timeout: timeout},
		retries:  retries,
		workers:  workers,
	}
}

// proposalBody is the request body: the MCP with its aspect serialized as a JSON string.
func proposalBody(m MCP) ([]byte, error) {
	aspect, err := json.Marshal(m.Aspect)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"proposal": map[string]any{
		"entityType": m.EntityType,
		"entityUrn":  m.EntityURN,
		"changeType": "UPSERT",
		"aspectName": m.AspectName,
		"aspect":     map[string]string{"value": string(aspect), "contentType": "application/json"},
	}})
}

func (r *restEmitter) emit(ctx context.Context, mcps []MCP) error {
	if len(mcps) == 0 {
		return nil
	}
	jobs := make(chan MCP)
	errs := make(chan error, len(mcps))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(r.workers, len(mcps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				if err := r.post(ctx, m); err != nil {
					errs <- err
					cancel()
				}
			}
		}()
	}
feed:
	for _, m := range mcps {
		select {
		case jobs <- m:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs // nil when none
}

func (r *restEmitter) post(ctx context.Context, m MCP) error {
	body, err := proposalBody(m)
	if err != nil {
		return fmt.Errorf("%s %s: %w", m.EntityURN, m.AspectName, err)
	}
	var last error
	for attempt := 0; attempt <= r.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-RestLi-Protocol-Version", "2.0.0")
		if !r.token.IsZero() {
			req.Header.Set("Authorization", "Bearer "+r.token.Reveal())
		}
		resp, err := r.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = fmt.Errorf("%s %s: %w", m.EntityURN, m.AspectName, err)
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("%s %s: DataHub answered %s: %s", m.EntityURN, m.AspectName, resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode/100 == 4 && resp.StatusCode != 408 && resp.StatusCode != 429 {
			return last
		}
	}
	return fmt.Errorf("after %d attempts: %w", r.retries+1, last)
}

func (r *restEmitter) close() error {
	r.client.CloseIdleConnections()
	return nil
}

// fileEmitter writes a JSON array of MCPs in the form DataHub's file sink writes and
// its file source reads: one MCP per line, aspects as {"json": {...}}. The file is a
// sync's replacement of the target (sink.OpenRunFile), renamed over it on commit.
type fileEmitter struct {
	rf    *sink.RunFile
	w     *bufio.Writer
	count int
}

func newFileEmitter(path string, run sink.Run, opts sink.FileOptions) (*fileEmitter, error) {
	fe := &fileEmitter{}
	opts.Trim = fe.trim
	rf, err := sink.OpenRunFile(path, run, opts)
	if err != nil {
		return nil, err
	}
	fe.rf, fe.w = rf, bufio.NewWriter(rf)
	if rf.Fresh() {
		fe.w.WriteString("[")
	}
	return fe, nil
}

// trim cuts what a crash left of a resumed file after its last whole item. Items are
// written as ",\n{...}", so a kept file ends with a whole item or "[".
func (fe *fileEmitter) trim(f *os.File) error {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if data[0] != '[' {
		return f.Truncate(0) // not ours: start the array again
	}
	keep := 1
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		if json.Valid(data[i+1:]) {
			keep = len(data)
		} else {
			keep = i
		}
	}
	kept := bytes.TrimRight(data[:keep], ",")
	fe.count = bytes.Count(kept, []byte("\n"))
	return f.Truncate(int64(len(kept)))
}

func (fe *fileEmitter) emit(_ context.Context, mcps []MCP) error {
	for _, m := range mcps {
		line, err := json.Marshal(map[string]any{
			"entityType": m.EntityType, "entityUrn": m.EntityURN, "changeType": "UPSERT",
			"aspectName": m.AspectName, "aspect": map[string]any{"json": m.Aspect},
		})
		if err != nil {
			return fmt.Errorf("%s %s: %w", m.EntityURN, m.AspectName, err)
		}
		if fe.count > 0 {
			fe.w.WriteString(",")
		}
		fe.w.WriteString("\n")
		fe.w.Write(line)
		fe.count++
	}
	if err := fe.w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", fe.rf.Path(), err)
	}
	return fe.rf.Sync()
}

// commit ends the array and puts the file in place of the target.
func (fe *fileEmitter) commit() error {
	fe.w.WriteString("\n]\n")
	if err := fe.w.Flush(); err != nil {
		fe.rf.Abort(err.Error())
		return fmt.Errorf("%s: %w", fe.rf.Path(), err)
	}
	return fe.rf.Commit()
}

func (fe *fileEmitter) abort(reason string) error { return fe.rf.Abort(reason) }
