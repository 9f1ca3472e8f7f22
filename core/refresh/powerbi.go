package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/powerbi"
)

// NewAPI returns the refresh API on a Power BI client, which brings its credentials,
// token renewal, retries on 429 and 5xx, and request counting.
func NewAPI(c *powerbi.Client) API { return &clientAPI{c: c} }

type clientAPI struct{ c *powerbi.Client }

func refreshesPath(ws, ds string) string {
	return "groups/" + url.PathEscape(ws) + "/datasets/" + url.PathEscape(ds) + "/refreshes"
}

// MarshalJSON writes the request body; a standard refresh without a notify option asks
// for no mail, as service principals must.
func (b Body) MarshalJSON() ([]byte, error) {
	type plain Body
	out := struct {
		plain
		Timeout string `json:"timeout,omitempty"`
	}{plain: plain(b)}
	if b.Timeout > 0 {
		out.Timeout = serviceTimeout(b.Timeout)
	}
	if !b.Enhanced() && out.NotifyOption == "" {
		out.NotifyOption = "NoNotification"
	}
	return json.Marshal(out)
}

func (a *clientAPI) Trigger(ctx context.Context, ws, ds string, body *Body) (string, error) {
	// A trigger is not repeated blindly: when the service fails or the answer is lost,
	// the refresh may have started anyway. Look for it before asking again, so that a
	// model is not refreshed twice.
	asked := time.Now()
	resp, err := a.c.Do(powerbi.Once(ctx), http.MethodPost, refreshesPath(ws, ds), body, nil)
	if err != nil && uncertain(err) && ctx.Err() == nil {
		if id, ok := a.startedSince(ctx, ws, ds, asked); ok {
			return id, nil
		}
		resp, err = a.c.Do(ctx, http.MethodPost, refreshesPath(ws, ds), body, nil)
	}
	if err != nil {
		var ae *powerbi.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusConflict ||
			(ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Message), "already"))) {
			return "", fmt.Errorf("%w (%v)", ErrAlreadyRunning, err)
		}
		return "", err
	}
	if loc := resp.Location(); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			if id := path.Base(u.Path); id != "" && id != "/" && id != "." && id != "refreshes" {
				return id, nil
			}
		}
	}
	if id := resp.Header.Get("x-ms-request-id"); id != "" {
		return id, nil
	}
	if resp.RequestID != "" {
		return resp.RequestID, nil
	}
	return "", fmt.Errorf("the service accepted the refresh but sent no refresh id (no Location, x-ms-request-id or RequestId header)")
}

// uncertain reports whether a failed call may have taken effect: a server error or a
// broken connection, not a refusal (4xx).
func uncertain(err error) bool {
	var ae *powerbi.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return true
}

// startedSince finds an API-triggered refresh of the model that is running and was
// requested since asked (allowing for clock skew).
func (a *clientAPI) startedSince(ctx context.Context, ws, ds string, asked time.Time) (string, bool) {
	h, err := a.History(ctx, ws, ds, 5)
	if err != nil {
		return "", false
	}
	for _, e := range h {
		if e.EndTime != "" || (!strings.EqualFold(e.RefreshType, "ViaApi") && !strings.EqualFold(e.RefreshType, "ViaEnhancedApi")) {
			continue
		}
		if t := serviceTime(e.StartTime); !t.IsZero() && t.After(asked.Add(-time.Minute)) {
			return e.RequestID, true
		}
	}
	return "", false
}

func (a *clientAPI) History(ctx context.Context, ws, ds string, top int) ([]HistoryEntry, error) {
	var out struct {
		Value []json.RawMessage `json:"value"`
	}
	if _, err := a.c.Do(ctx, http.MethodGet, fmt.Sprintf("%s?$top=%d", refreshesPath(ws, ds), top), nil, &out); err != nil {
		return nil, err
	}
	// Each entry on its own: one odd entry must not hide the one being followed.
	entries := make([]HistoryEntry, 0, len(out.Value))
	for _, raw := range out.Value {
		var e HistoryEntry
		if json.Unmarshal(raw, &e) == nil {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

func (a *clientAPI) Execution(ctx context.Context, ws, ds, id string) (*Execution, error) {
	var ex Execution
	resp, err := a.c.Do(ctx, http.MethodGet, refreshesPath(ws, ds)+"/"+url.PathEscape(id), nil, &ex)
	if err != nil {
		var ae *powerbi.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil, fmt.Errorf("%w (%v)", ErrNotFound, err)
		}
		return nil, err
	}
	ex.Done = resp.Status == http.StatusOK
	return &ex, nil
}

func (a *clientAPI) Cancel(ctx context.Context, ws, ds, id string) error {
	_, err := a.c.Do(ctx, http.MethodDelete, refreshesPath(ws, ds)+"/"+url.PathEscape(id), nil, nil)
	return err
}

func (a *clientAPI) DataflowRefreshing(ctx context.Context, ws, df string) (bool, error) {
	var out struct {
		Value []struct {
			Status  string `json:"status"`
			EndTime string `json:"endTime"`
		} `json:"value"`
	}
	path := "groups/" + url.PathEscape(ws) + "/dataflows/" + url.PathEscape(df) + "/transactions?$top=1"
	if _, err := a.c.Do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return false, err
	}
	return len(out.Value) > 0 && out.Value[0].EndTime == "" && strings.EqualFold(out.Value[0].Status, "InProgress"), nil
}
