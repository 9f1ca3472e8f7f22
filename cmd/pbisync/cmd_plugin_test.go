package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/sinkhost"
)

func TestPluginCommandRefusesHumans(t *testing.T) {
	root := &command{name: "pbisync", sub: []*command{pluginCommand()}}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plugin", "sink", "jsonl"}, exitError, "run by pbisync itself to serve the jsonl sink"},
		{[]string{"plugin", "sink", "nope"}, exitUsage, `unknown built-in sink "nope" (built in: datahub, jsonl, openlineage, sqlite)`},
		{[]string{"plugin", "sink"}, exitUsage, "want one sink name"},
	} {
		var out, errOut bytes.Buffer
		g := &globals{stdout: &out, stderr: &errOut}
		if code := dispatch(context.Background(), root, tc.args, g, "pbisync"); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: code %d, stderr %q", tc.args, code, errOut.String())
		}
	}
}

// TestBuiltinsMatchHost keeps the host's list of built-in outputs and the sinks this
// binary serves in step.
func TestBuiltinsMatchHost(t *testing.T) {
	if strings.Join(builtinSinkNames(), ",") != "datahub,jsonl,openlineage,sqlite" || len(sinkhost.Builtins) != len(builtinSinks) {
		t.Fatalf("served %v, host knows %v", builtinSinkNames(), sinkhost.Builtins)
	}
	for _, b := range sinkhost.Builtins {
		if _, ok := builtinSinks[b]; !ok {
			t.Errorf("the host runs built-in %q but pbisync does not serve it", b)
		}
	}
}
