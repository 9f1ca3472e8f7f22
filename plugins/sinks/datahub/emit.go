package datahub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
// its file source reads: one MCP per line, aspects as {"json": {...}}.
type fileEmitter struct {
	f     *os.File
	w     *bufio.Writer
	count int
}

func newFileEmitter(path string, resume bool) (*fileEmitter, error) {
	if resume {
		if fe, err := resumeFile(path); err == nil {
			return fe, nil
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString("["); err != nil {
		f.Close()
		return nil, err
	}
	return &fileEmitter{f: f, w: bufio.NewWriter(f)}, nil
}

// resumeFile reopens an unfinished file after a restart, cutting a partial last line.
// Items are written as ",\n{...}", so a kept file ends with a whole item or "[".
func resumeFile(path string) (*fileEmitter, error) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 || data[0] != '[' {
		return nil, errors.New("nothing to resume")
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
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(int64(len(kept))); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(int64(len(kept)), io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &fileEmitter{f: f, w: bufio.NewWriter(f), count: bytes.Count(kept, []byte("\n"))}, nil
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
		return fmt.Errorf("%s: %w", fe.f.Name(), err)
	}
	return nil
}

func (fe *fileEmitter) close() error {
	fe.w.WriteString("\n]\n")
	if err := fe.w.Flush(); err != nil {
		fe.f.Close()
		return fmt.Errorf("%s: %w", fe.f.Name(), err)
	}
	return fe.f.Close()
}
