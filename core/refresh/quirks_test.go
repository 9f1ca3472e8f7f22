package refresh_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/sdk/event"
)

// The refresh engine against the emulator answering as the live service was recorded
// to (see core/powerbi/powerbitest/testdata/QUIRKS.md).
func TestRefreshAgainstRecordedQuirks(t *testing.T) {
	enhanced := refresh.Body{Type: "Full", Objects: []refresh.Object{{Table: "Sales"}}}
	failure := `{"errorCode":"ModelRefreshFailed_CredentialsNotSpecified"}`
	tests := []struct {
		name    string
		quirks  powerbitest.Quirks
		script  powerbitest.RefreshScript
		body    refresh.Body
		want    event.RefreshState
		wantErr string
	}{
		{name: "upper-case status", quirks: powerbitest.Quirks{StatusCasing: "upper"}, want: event.RefreshCompleted},
		{name: "lower-case status", quirks: powerbitest.Quirks{StatusCasing: "lower"}, want: event.RefreshCompleted},
		{name: "upper-case enhanced status", quirks: powerbitest.Quirks{StatusCasing: "upper"}, body: enhanced, want: event.RefreshCompleted},
		{name: "upper-case failure", quirks: powerbitest.Quirks{StatusCasing: "upper"},
			script: powerbitest.RefreshScript{Outcome: "Failed", ServiceException: failure}, want: event.RefreshFailed, wantErr: "CredentialsNotSpecified"},
		{name: "serviceExceptionJson as an object on a completed refresh", quirks: powerbitest.Quirks{ServiceExceptionObject: true},
			want: event.RefreshCompleted},
		{name: "serviceExceptionJson as an object on a failure", quirks: powerbitest.Quirks{ServiceExceptionObject: true},
			script: powerbitest.RefreshScript{Outcome: "Failed", ServiceException: failure}, want: event.RefreshFailed, wantErr: "ModelRefreshFailed_CredentialsNotSpecified"},
		{name: "an odd entry ahead of the followed one", quirks: powerbitest.Quirks{OddHistoryEntry: true, StatusCasing: "lower"},
			want: event.RefreshCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, powerbitest.WithQuirks(tt.quirks))
			cfg := fastConfig(t, "select: [{all: true}]")
			cfg.Timeout = 20 * time.Second // a status misread would poll until this
			sc := tt.script
			sc.Run = 40 * time.Millisecond
			e.srv.ScriptRefresh(e.ds, sc)
			o := e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, tt.body)})[0]
			if o.Status != tt.want {
				t.Fatalf("status %q, want %q (err %v)", o.Status, tt.want, o.Err)
			}
			if tt.wantErr != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want it to contain %q", o.Err, tt.wantErr)
			}
			if tt.want == event.RefreshCompleted && o.Err != nil {
				t.Errorf("completed with error %v", o.Err)
			}
		})
	}
}

// A service clock off the local one must not make durations wrong or negative: a
// refresh's duration comes from the service's own start and end times.
func TestDurationFromServiceTimes(t *testing.T) {
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		for _, body := range []refresh.Body{{}, {Type: "Full"}} {
			e := newEnv(t, powerbitest.WithQuirks(powerbitest.Quirks{ClockSkew: skew}))
			run := 300 * time.Millisecond
			e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: run})
			o := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, body)})[0]
			if !o.OK() {
				t.Fatalf("skew %s: %s %v", skew, o.Status, o.Err)
			}
			if d := o.Duration(); d < run || d > run+5*time.Second {
				t.Errorf("skew %s, enhanced %v: duration %s, want about %s (started %s, ended %s, requested %s)",
					skew, body.Enhanced(), d, run, o.StartedAt, o.EndedAt, o.RequestedAt)
			}
		}
	}
}

// `type: full` as Airflow users write it: the service takes its enumerations in any
// case, and pbisync sends the documented spelling.
func TestBodyEnumerationsIgnoreCase(t *testing.T) {
	n, err := config.Parse("r.yaml", []byte("body: {type: full, commit_mode: partialbatch, apply_refresh_policy: false}\nselect: [{all: true}]"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := refresh.Decode(n)
	if err != nil {
		t.Fatal(err)
	}
	if c.Body.Type != "Full" || c.Body.CommitMode != "PartialBatch" {
		t.Errorf("body %+v, want the documented spelling", c.Body)
	}
	e := newEnv(t)
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 20 * time.Millisecond})
	cfg := fastConfig(t, "select: [{all: true}]")
	o := e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, c.Body)})[0]
	if !o.OK() {
		t.Fatalf("%s %v", o.Status, o.Err)
	}
	if got := e.srv.RefreshBody(o.RequestID)["type"]; got != "Full" {
		t.Errorf("the service got type %v", got)
	}
}
