package sinkhost

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// slogger forwards go-plugin's logs, and the plugin's own log lines that go-plugin
// parses from its stderr, into pbisync's slog logger.
type slogger struct {
	l    *slog.Logger
	name string
	args []any
}

func newSlogger(l *slog.Logger) hclog.Logger { return &slogger{l: l} }

func hclogToSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// lifecycle are go-plugin's own info lines about starting and stopping a plugin: routine
// for pbisync, which starts plugins every sync, so they are logged at debug level.
var lifecycle = map[string]bool{"starting plugin": true, "plugin started": true, "plugin process exited": true,
	"waiting for RPC address": true, "using plugin": true}

func (s *slogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Info && lifecycle[msg] {
		level = hclog.Debug
	}
	lvl := hclogToSlog(level)
	if s.name == "" && lvl == slog.LevelInfo {
		// go-plugin's own lifecycle notes ("plugin process exited"); the plugin's lines
		// come through a named logger and keep their level.
		lvl = slog.LevelDebug
	}
	if !s.l.Enabled(context.Background(), lvl) {
		return
	}
	all := make([]any, 0, len(s.args)+len(args)+2)
	if s.name != "" {
		all = append(all, "plugin", s.name)
	}
	all = append(all, s.args...)
	all = append(all, args...)
	s.l.Log(context.Background(), lvl, msg, all...)
}

func (s *slogger) Trace(msg string, args ...any) { s.Log(hclog.Trace, msg, args...) }
func (s *slogger) Debug(msg string, args ...any) { s.Log(hclog.Debug, msg, args...) }
func (s *slogger) Info(msg string, args ...any)  { s.Log(hclog.Info, msg, args...) }
func (s *slogger) Warn(msg string, args ...any)  { s.Log(hclog.Warn, msg, args...) }
func (s *slogger) Error(msg string, args ...any) { s.Log(hclog.Error, msg, args...) }

func (s *slogger) enabled(l hclog.Level) bool {
	return s.l.Enabled(context.Background(), hclogToSlog(l))
}
func (s *slogger) IsTrace() bool { return s.enabled(hclog.Trace) }
func (s *slogger) IsDebug() bool { return s.enabled(hclog.Debug) }
func (s *slogger) IsInfo() bool  { return s.enabled(hclog.Info) }
func (s *slogger) IsWarn() bool  { return s.enabled(hclog.Warn) }
func (s *slogger) IsError() bool { return s.enabled(hclog.Error) }

func (s *slogger) ImpliedArgs() []any { return s.args }

func (s *slogger) With(args ...any) hclog.Logger {
	c := *s
	c.args = append(append([]any{}, s.args...), args...)
	return &c
}

func (s *slogger) Name() string { return s.name }

func (s *slogger) Named(name string) hclog.Logger {
	c := *s
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (s *slogger) ResetNamed(name string) hclog.Logger {
	c := *s
	c.name = name
	return &c
}

// SetLevel is ignored: the level is pbisync's.
func (s *slogger) SetLevel(hclog.Level) {}

func (s *slogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn} {
		if s.enabled(l) {
			return l
		}
	}
	return hclog.Error
}

func (s *slogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(s.StandardWriter(opts), "", 0)
}

func (s *slogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		s.Info(string(trimNewline(p)))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
