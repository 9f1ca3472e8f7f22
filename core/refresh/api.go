package refresh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// API is what the refresh engine needs from Power BI. NewAPI builds it on the client.
type API interface {
	// Trigger asks for a refresh and returns its request id. A model that is already
	// refreshing gives ErrAlreadyRunning.
	Trigger(ctx context.Context, workspaceID, modelID string, body *Body) (requestID string, err error)
	// History returns the newest entries of the model's refresh history, newest first.
	History(ctx context.Context, workspaceID, modelID string, top int) ([]HistoryEntry, error)
	// Execution returns the execution details of an enhanced refresh. A refresh the
	// service does not know (yet) gives ErrNotFound.
	Execution(ctx context.Context, workspaceID, modelID, requestID string) (*Execution, error)
	// Cancel cancels an enhanced refresh.
	Cancel(ctx context.Context, workspaceID, modelID, requestID string) error
	// DataflowRefreshing reports whether a dataflow is refreshing now.
	DataflowRefreshing(ctx context.Context, workspaceID, dataflowID string) (bool, error)
}

// ErrAlreadyRunning is returned by Trigger when the model is refreshing already.
var ErrAlreadyRunning = errors.New("a refresh of this model is already running")

// ErrNotFound is returned when the service does not know a refresh.
var ErrNotFound = errors.New("refresh not found")

// HistoryEntry is one entry of `GET .../refreshes`. It decodes tolerantly: unknown
// fields are ignored, a field of an unexpected type is left empty, and
// serviceExceptionJson is taken as a string holding JSON (as documented) or as the
// object itself (as other recorded answers send it).
type HistoryEntry struct {
	RequestID            string `json:"requestId"`
	ID                   int64  `json:"id"`
	RefreshType          string `json:"refreshType"`
	StartTime            string `json:"startTime"`
	EndTime              string `json:"endTime"`
	Status               string `json:"status"`
	ExtendedStatus       string `json:"extendedStatus"`
	ServiceExceptionJSON string `json:"serviceExceptionJson"`
}

// UnmarshalJSON decodes an entry as the service sends it, whatever the shape of
// serviceExceptionJson and id; only a value that is not a JSON object fails.
func (h *HistoryEntry) UnmarshalJSON(b []byte) error {
	var w struct {
		RequestID            flexString      `json:"requestId"`
		ID                   flexString      `json:"id"`
		RefreshType          flexString      `json:"refreshType"`
		StartTime            flexString      `json:"startTime"`
		EndTime              flexString      `json:"endTime"`
		Status               flexString      `json:"status"`
		ExtendedStatus       flexString      `json:"extendedStatus"`
		ServiceExceptionJSON json.RawMessage `json:"serviceExceptionJson"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, _ := strconv.ParseInt(string(w.ID), 10, 64)
	*h = HistoryEntry{RequestID: string(w.RequestID), ID: id, RefreshType: string(w.RefreshType), StartTime: string(w.StartTime),
		EndTime: string(w.EndTime), Status: string(w.Status), ExtendedStatus: string(w.ExtendedStatus),
		ServiceExceptionJSON: exceptionText(w.ServiceExceptionJSON)}
	return nil
}

// flexString takes a JSON string, number or boolean as text; null and other shapes
// become "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case json.Unmarshal(b, &s) == nil:
		*f = flexString(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9' || b[0] == 't' || b[0] == 'f'):
		*f = flexString(b)
	default:
		*f = ""
	}
	return nil
}

// exceptionText turns serviceExceptionJson (a string holding JSON, or an object) into
// the JSON text decodeServiceError reads; an empty object means no error.
func exceptionText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil && len(obj) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

// Execution is the answer of `GET .../refreshes/{id}` for an enhanced refresh.
type Execution struct {
	StartTime        string             `json:"startTime"`
	EndTime          string             `json:"endTime"`
	Type             string             `json:"type"`
	CommitMode       string             `json:"commitMode"`
	Status           string             `json:"status"`
	ExtendedStatus   string             `json:"extendedStatus"`
	NumberOfAttempts int                `json:"numberOfAttempts"`
	Objects          []ExecutionObject  `json:"objects"`
	Messages         []ExecutionMessage `json:"messages"`
	// Done is true when the service answered 200 (finished) rather than 202 (running).
	Done bool `json:"-"`
}

// ExecutionObject is the state of one table or partition.
type ExecutionObject struct {
	Table     string `json:"table"`
	Partition string `json:"partition"`
	Status    string `json:"status"`
}

// ExecutionMessage is a message the service attached to a refresh.
type ExecutionMessage struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// ServiceError is the decoded serviceExceptionJson of a failed refresh.
type ServiceError struct {
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
	Raw              string `json:"-"`
}

func (e *ServiceError) Error() string {
	switch {
	case e.ErrorCode != "" && e.ErrorDescription != "":
		return e.ErrorCode + ": " + e.ErrorDescription
	case e.ErrorCode != "":
		return e.ErrorCode
	case e.ErrorDescription != "":
		return e.ErrorDescription
	}
	return e.Raw
}

// decodeServiceError reads serviceExceptionJson, which is a string holding JSON. Text
// that is not JSON is kept as it is.
func decodeServiceError(s string) *ServiceError {
	if s == "" {
		return nil
	}
	e := &ServiceError{Raw: s}
	if err := json.Unmarshal([]byte(s), e); err != nil {
		return &ServiceError{Raw: s}
	}
	return e
}

// serviceTime parses the service's timestamps, which come with or without a zone.
func serviceTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
