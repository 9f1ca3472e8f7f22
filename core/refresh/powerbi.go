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
	resp, err := a.c.Do(ctx, http.MethodPost, refreshesPath(ws, ds), body, nil)
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

func (a *clientAPI) History(ctx context.Context, ws, ds string, top int) ([]HistoryEntry, error) {
	var out struct {
		Value []HistoryEntry `json:"value"`
	}
	if _, err := a.c.Do(ctx, http.MethodGet, fmt.Sprintf("%s?$top=%d", refreshesPath(ws, ds), top), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
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
