// Package refresh triggers semantic model refreshes and follows each one to its end: the
// refresh it started and no other, through every status, with a backoff that starts fast
// and slows down, time-outs that can cancel, hooks around each refresh, and many models at
// once under a concurrency limit in dependency order.
package refresh

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/config"
)

// Config is the `refresh` section of a pipeline.
type Config struct {
	// Select chooses the refreshable models; empty selects none.
	Select []Selector `yaml:"select"`
	// Body is the refresh request for every model; overrides change it per model.
	Body      Body       `yaml:"body"`
	Overrides []Override `yaml:"overrides"`
	// Timeout bounds how long a refresh is followed (default 2h).
	Timeout time.Duration `yaml:"timeout"`
	// CancelOnTimeout cancels an enhanced refresh that times out (default true).
	CancelOnTimeout *bool `yaml:"cancel_on_timeout"`
	// CancelOnInterrupt cancels the enhanced refreshes pbisync started when it is
	// interrupted (Ctrl-C, SIGTERM) (default true).
	CancelOnInterrupt *bool `yaml:"cancel_on_interrupt"`
	// WhenRunning says what to do when a model is already refreshing: "wait" follows that
	// refresh and reports its outcome, "fail" reports a failure (default wait).
	WhenRunning string `yaml:"when_running"`
	// Concurrency is how many refreshes run at once (default 4).
	Concurrency int `yaml:"concurrency"`
	// Poll sets the polling backoff.
	Poll Poll `yaml:"poll"`
	// RateLimit bounds the polls of all refreshes together, in requests a second
	// (default 10).
	RateLimit float64 `yaml:"rate_limit"`
	// Hooks run around every refresh.
	Hooks Hooks `yaml:"hooks"`
	// AfterSync makes `pbisync run` refresh the selected models after its sync (default true).
	AfterSync *bool `yaml:"after_sync"`
}

// Selector matches models by exact name, name regex, asset key, or a tag that a
// translator set. `all: true` matches every refreshable model.
type Selector struct {
	All     bool              `yaml:"all"`
	Name    string            `yaml:"name"`
	Pattern string            `yaml:"pattern"`
	ID      string            `yaml:"id"`
	Key     []string          `yaml:"key"`
	Tags    map[string]string `yaml:"tags"`

	re *regexp.Regexp
}

// Override changes the body or time-out of the models it matches.
type Override struct {
	Match   Selector      `yaml:"match" required:"true"`
	Body    *Body         `yaml:"body"`
	Timeout time.Duration `yaml:"timeout"`
}

// Body is a refresh request. Any field besides NotifyOption makes it an enhanced refresh.
type Body struct {
	NotifyOption       string        `yaml:"notify_option" json:"notifyOption,omitempty"`
	Type               string        `yaml:"type" json:"type,omitempty"`
	CommitMode         string        `yaml:"commit_mode" json:"commitMode,omitempty"`
	MaxParallelism     int           `yaml:"max_parallelism" json:"maxParallelism,omitempty"`
	RetryCount         int           `yaml:"retry_count" json:"retryCount,omitempty"`
	Objects            []Object      `yaml:"objects" json:"objects,omitempty"`
	ApplyRefreshPolicy *bool         `yaml:"apply_refresh_policy" json:"applyRefreshPolicy,omitempty"`
	EffectiveDate      string        `yaml:"effective_date" json:"effectiveDate,omitempty"`
	Timeout            time.Duration `yaml:"service_timeout" json:"-"` // the service's own limit, sent as hh:mm:ss
}

// Object is a table, or a partition of one, in an enhanced refresh.
type Object struct {
	Table     string `yaml:"table" json:"table" required:"true"`
	Partition string `yaml:"partition" json:"partition,omitempty"`
}

// Enhanced reports whether the body asks for an enhanced refresh.
func (b Body) Enhanced() bool {
	return b.Type != "" || b.CommitMode != "" || b.MaxParallelism != 0 || b.RetryCount != 0 ||
		len(b.Objects) > 0 || b.ApplyRefreshPolicy != nil || b.EffectiveDate != "" || b.Timeout != 0
}

// Poll is the polling backoff: the first wait, the factor it grows by, and its ceiling.
type Poll struct {
	Initial time.Duration `yaml:"initial"`
	Factor  float64       `yaml:"factor"`
	Max     time.Duration `yaml:"max"`
}

// Hooks are commands run before and after each refresh. Each is an argv list; a single
// string runs through `sh -c`.
type Hooks struct {
	Before  []Command     `yaml:"before"`
	After   []Command     `yaml:"after"`
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults, chosen so a 10-minute refresh costs about 20 requests.
const (
	DefaultTimeout     = 2 * time.Hour
	DefaultConcurrency = 4
	DefaultPollInitial = 2 * time.Second
	DefaultPollFactor  = 1.5
	DefaultPollMax     = time.Minute
	DefaultHookTimeout = 10 * time.Minute
	DefaultRateLimit   = 10.0
)

var (
	notifyOptions = []string{"NoNotification", "MailOnFailure", "MailOnCompletion"}
	refreshTypes  = []string{"Full", "ClearValues", "Calculate", "DataOnly", "Automatic", "Defragment"}
	commitModes   = []string{"Transactional", "PartialBatch"}
)

// Decode reads and checks a refresh section, filling defaults.
func Decode(n config.Node) (*Config, error) {
	c := &Config{}
	if n.Node != nil {
		if err := config.Decode(n, c); err != nil {
			return nil, err
		}
	}
	if err := c.check(n); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) check(n config.Node) error {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 {
		return config.Errorf(n.Child("timeout"), "timeout must be positive")
	}
	t := true
	if c.CancelOnTimeout == nil {
		c.CancelOnTimeout = &t
	}
	if c.CancelOnInterrupt == nil {
		c.CancelOnInterrupt = &t
	}
	if c.AfterSync == nil {
		c.AfterSync = &t
	}
	switch c.WhenRunning {
	case "":
		c.WhenRunning = "wait"
	case "wait", "fail":
	default:
		return config.Errorf(n.Child("when_running"), "when_running must be wait or fail, got %q", c.WhenRunning)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Concurrency < 0 {
		return config.Errorf(n.Child("concurrency"), "concurrency must be positive")
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateLimit < 0 {
		return config.Errorf(n.Child("rate_limit"), "rate_limit must be positive")
	}
	if err := c.Poll.check(n.Child("poll")); err != nil {
		return err
	}
	if c.Hooks.Timeout == 0 {
		c.Hooks.Timeout = DefaultHookTimeout
	}
	for i := range c.Select {
		if err := c.Select[i].compile(n.Child("select").Item(i)); err != nil {
			return err
		}
	}
	if err := c.Body.check(n.Child("body")); err != nil {
		return err
	}
	for i := range c.Overrides {
		on := n.Child("overrides").Item(i)
		if err := c.Overrides[i].Match.compile(on.Child("match")); err != nil {
			return err
		}
		if c.Overrides[i].Body != nil {
			if err := c.Overrides[i].Body.check(on.Child("body")); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Poll) check(n config.Node) error {
	if p.Initial == 0 {
		p.Initial = DefaultPollInitial
	}
	if p.Factor == 0 {
		p.Factor = DefaultPollFactor
	}
	if p.Max == 0 {
		p.Max = DefaultPollMax
	}
	if p.Initial < 0 || p.Max < p.Initial || p.Factor < 1 {
		return config.Errorf(n, "poll: want 0 < initial <= max and factor >= 1 (got initial %s, max %s, factor %g)", p.Initial, p.Max, p.Factor)
	}
	return nil
}

func (b *Body) check(n config.Node) error {
	// The service takes its enumerations in any case (Airflow users write `type:
	// full`); each is sent in the documented spelling.
	if err := oneOf(n.Child("notify_option"), "notify_option", &b.NotifyOption, notifyOptions); err != nil {
		return err
	}
	if err := oneOf(n.Child("type"), "type", &b.Type, refreshTypes); err != nil {
		return err
	}
	if err := oneOf(n.Child("commit_mode"), "commit_mode", &b.CommitMode, commitModes); err != nil {
		return err
	}
	if b.NotifyOption != "" && b.Enhanced() && b.NotifyOption != "NoNotification" {
		return config.Errorf(n.Child("notify_option"), "notify_option %s is only for standard refreshes; an enhanced refresh (any other body field) sends no mail", b.NotifyOption)
	}
	if b.ApplyRefreshPolicy != nil && *b.ApplyRefreshPolicy && b.CommitMode == "PartialBatch" {
		return config.Errorf(n.Child("apply_refresh_policy"), "apply_refresh_policy must be false with commit_mode PartialBatch")
	}
	if b.MaxParallelism < 0 || b.RetryCount < 0 {
		return config.Errorf(n, "max_parallelism and retry_count must not be negative")
	}
	if b.EffectiveDate != "" {
		if _, err := time.Parse("2006-01-02", b.EffectiveDate); err != nil {
			if _, err2 := time.Parse(time.RFC3339, b.EffectiveDate); err2 != nil {
				return config.Errorf(n.Child("effective_date"), "effective_date must be a date such as 2024-06-30, got %q", b.EffectiveDate)
			}
		}
	}
	return nil
}

// oneOf checks that *v is one of allowed, without regard to case, and spells it as
// allowed does.
func oneOf(n config.Node, field string, v *string, allowed []string) error {
	if *v == "" {
		return nil
	}
	for _, a := range allowed {
		if strings.EqualFold(*v, a) {
			*v = a
			return nil
		}
	}
	return config.Errorf(n, "%s must be one of %v, got %q", field, allowed, *v)
}

func (s *Selector) compile(n config.Node) error {
	set := 0
	for _, b := range []bool{s.All, s.Name != "", s.Pattern != "", s.ID != "", len(s.Key) > 0, len(s.Tags) > 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return config.Errorf(n, "a selector needs exactly one of all, name, pattern, id, key or tags")
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			return config.Errorf(n.Child("pattern"), "pattern: %v", err)
		}
		s.re = re
	}
	return nil
}

// serviceTimeout renders a duration as the service's "hh:mm:ss".
func serviceTimeout(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
