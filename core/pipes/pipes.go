// Package pipes speaks the external side of Dagster Pipes (protocol 0.1): when Dagster
// launches pbisync (PipesSubprocessClient, or any client using the default context
// injector and message reader), it reads the run's context and writes materializations,
// logs and the closing message back on the channel the DAGSTER_PIPES_* environment names.
// The wire format follows the dagster-pipes Python package: bootstrap values are
// base64(zlib(JSON)); messages are JSON objects, one a line.
package pipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Protocol constants of dagster-pipes.
const (
	ProtocolVersion = "0.1"
	ContextEnv      = "DAGSTER_PIPES_CONTEXT"
	MessagesEnv     = "DAGSTER_PIPES_MESSAGES"
	versionField    = "__dagster_pipes_version"
)

// ContextData is what Dagster tells the process about the step it runs.
type ContextData struct {
	AssetKeys             []string          `json:"asset_keys"`
	CodeVersionByAssetKey map[string]string `json:"code_version_by_asset_key"`
	PartitionKey          string            `json:"partition_key"`
	RunID                 string            `json:"run_id"`
	JobName               string            `json:"job_name"`
	RetryNumber           int               `json:"retry_number"`
	Extras                map[string]any    `json:"extras"`
}

// Metadata is one typed metadata value of a message. Type is one of Dagster's external
// metadata types: text, url, path, json, md, float (give a Float), int, bool, timestamp
// (seconds since the epoch), table_schema ({"columns": [{"name", "type"}]}), null, or
// __infer__.
type Metadata struct {
	RawValue any    `json:"raw_value"`
	Type     string `json:"type"`
}

// Exception is the error a closing message carries; Dagster shows it with the step.
type Exception struct {
	Message string     `json:"message"`
	Stack   []string   `json:"stack"`
	Name    string     `json:"name,omitempty"`
	Cause   *Exception `json:"cause"`
	Context *Exception `json:"context"`
}

// Log levels Dagster's logger takes.
const (
	Debug   = "DEBUG"
	Info    = "INFO"
	Warning = "WARNING"
	Error   = "ERROR"
)

// Session is an open Pipes connection. Its methods are safe for concurrent use.
type Session struct {
	data ContextData

	mu           sync.Mutex
	ch           *channel
	closed       bool
	materialized map[string]bool
}

// ErrClosed is returned for a message sent after Close.
var ErrClosed = errors.New("dagster pipes: session is closed")

// Open opens the session the bootstrap environment describes (getenv is os.Getenv in
// the CLI) and sends the "opened" message. It returns nil and no error when the process
// was not launched by Dagster (no DAGSTER_PIPES_CONTEXT).
func Open(getenv func(string) string) (*Session, error) {
	rawCtx := getenv(ContextEnv)
	if rawCtx == "" {
		return nil, nil
	}
	ctxParams, err := DecodeParams(rawCtx)
	if err != nil {
		return nil, fmt.Errorf("dagster pipes: %s: %w", ContextEnv, err)
	}
	rawMsg := getenv(MessagesEnv)
	if rawMsg == "" {
		return nil, fmt.Errorf("dagster pipes: %s is set but %s is not", ContextEnv, MessagesEnv)
	}
	msgParams, err := DecodeParams(rawMsg)
	if err != nil {
		return nil, fmt.Errorf("dagster pipes: %s: %w", MessagesEnv, err)
	}
	data, err := loadContext(ctxParams)
	if err != nil {
		return nil, fmt.Errorf("dagster pipes: context: %w", err)
	}
	ch, err := openChannel(msgParams)
	if err != nil {
		return nil, fmt.Errorf("dagster pipes: messages: %w", err)
	}
	s := &Session{data: data, ch: ch, materialized: map[string]bool{}}
	if err := s.write("opened", map[string]any{"extras": map[string]any{}}); err != nil {
		ch.close()
		return nil, err
	}
	return s, nil
}

// loadContext reads the context as PipesDefaultContextLoader does: from the file at
// "path", or inline under "data".
func loadContext(params map[string]any) (ContextData, error) {
	var data ContextData
	var raw []byte
	switch {
	case params["path"] != nil:
		path, ok := params["path"].(string)
		if !ok {
			return data, fmt.Errorf(`"path" must be a string, got %T`, params["path"])
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return data, err
		}
		raw = b
	case params["data"] != nil:
		if _, ok := params["data"].(map[string]any); !ok {
			return data, fmt.Errorf(`"data" must be an object, got %T`, params["data"])
		}
		raw, _ = json.Marshal(params["data"])
	default:
		return data, fmt.Errorf(`expected "path" or "data" (the default context loader's params), got %s`, keysOf(params))
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return data, fmt.Errorf("context data: %w", err)
	}
	return data, nil
}

func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Sprintf("%q", keys)
}

// Context returns what Dagster sent about the step.
func (s *Session) Context() ContextData { return s.data }

// InScope reports whether the step targets the asset key (escaped form); a step that
// names no asset keys has every key in scope.
func (s *Session) InScope(key string) bool {
	return len(s.data.AssetKeys) == 0 || slices.Contains(s.data.AssetKeys, key)
}

// Log sends a log line at level (Debug, Info, Warning, Error) to Dagster's event log.
func (s *Session) Log(level, message string) error {
	return s.write("log", map[string]any{"message": message, "level": level})
}

// ReportMaterialization reports that the asset key (escaped form, see EscapeKey) was
// materialized. As in dagster-pipes, a key outside the step's assets, or one already
// reported, is an error. dataVersion may be empty.
func (s *Session) ReportMaterialization(key string, metadata map[string]Metadata, dataVersion string) error {
	if key == "" {
		return errors.New("dagster pipes: report_asset_materialization needs an asset key")
	}
	if !s.InScope(key) {
		return fmt.Errorf("dagster pipes: asset key %q is not one of the step's %q", key, s.data.AssetKeys)
	}
	s.mu.Lock()
	dup := s.materialized[key]
	s.materialized[key] = true
	s.mu.Unlock()
	if dup {
		return fmt.Errorf("dagster pipes: asset %q was already reported materialized", key)
	}
	var dv any
	if dataVersion != "" {
		dv = dataVersion
	}
	var md any
	if len(metadata) > 0 {
		md = metadata
	}
	return s.write("report_asset_materialization", map[string]any{"asset_key": key, "data_version": dv, "metadata": md})
}

// ReportCustomMessage sends a JSON value the Dagster side reads with get_custom_messages.
func (s *Session) ReportCustomMessage(payload any) error {
	return s.write("report_custom_message", map[string]any{"payload": payload})
}

// Close sends the closing message, with exc when the process failed, and closes the
// channel. Later calls do nothing.
func (s *Session) Close(exc *Exception) error {
	params := map[string]any{}
	if exc != nil {
		params["exception"] = exc
	}
	err := s.write("closed", params)
	if errors.Is(err, ErrClosed) {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	cerr := s.ch.close()
	s.mu.Unlock()
	return errors.Join(err, cerr)
}

func (s *Session) write(method string, params map[string]any) error {
	line, err := json.Marshal(map[string]any{versionField: ProtocolVersion, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("dagster pipes: %s: %w", method, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.ch.write(append(line, '\n')); err != nil {
		return fmt.Errorf("dagster pipes: %s: %w", method, err)
	}
	return nil
}

// channel is where messages go: a file, or a standard stream, buffered or not.
type channel struct {
	w        io.Writer
	file     *os.File // owned, closed at the end
	buffered [][]byte // buffered_stdio: written at close
	buffer   bool
}

// openChannel opens the message channel as PipesDefaultMessageWriter does: a file at
// "path" (one message a line, appended), or "stdio"/"buffered_stdio" set to stdout or
// stderr.
func openChannel(params map[string]any) (*channel, error) {
	if p, ok := params["path"]; ok {
		path, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf(`"path" must be a string, got %T`, p)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		return &channel{w: f, file: f}, nil
	}
	for _, k := range []string{"stdio", "buffered_stdio"} {
		v, ok := params[k]
		if !ok {
			continue
		}
		var w io.Writer
		switch v {
		case "stdout":
			w = os.Stdout
		case "stderr":
			w = os.Stderr
		default:
			return nil, fmt.Errorf(`%q must be "stdout" or "stderr", got %v`, k, v)
		}
		return &channel{w: w, buffer: k == "buffered_stdio"}, nil
	}
	return nil, fmt.Errorf(`expected "path", "stdio" or "buffered_stdio" (the default message writer's params), got %s; `+
		"launch pbisync with the default message reader (PipesSubprocessClient's)", keysOf(params))
}

func (c *channel) write(line []byte) error {
	if c.buffer {
		c.buffered = append(c.buffered, line)
		return nil
	}
	_, err := c.w.Write(line)
	return err
}

func (c *channel) close() error {
	var errs []error
	for _, l := range c.buffered {
		if _, err := c.w.Write(l); err != nil {
			errs = append(errs, err)
			break
		}
	}
	c.buffered = nil
	if c.file != nil {
		errs = append(errs, c.file.Close())
	}
	return errors.Join(errs...)
}

// Float is a number that stays a float in JSON (3.0 is written 3.0, not 3): Dagster's
// "float" metadata rejects a JSON integer.
type Float float64

// MarshalJSON writes f with a decimal point or an exponent.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, fmt.Errorf("dagster pipes: float %v is not valid JSON", v)
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}
