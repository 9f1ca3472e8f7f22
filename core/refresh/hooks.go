package refresh

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Command is a hook command: an argv list, or one string that runs through `sh -c`.
type Command struct {
	Argv []string
}

// UnmarshalYAML reads a string or a list of strings.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.TrimSpace(n.Value) == "" {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a hook command must not be empty", n.Line)}}
		}
		c.Argv = []string{"sh", "-c", n.Value}
		return nil
	case yaml.SequenceNode:
		var argv []string
		if err := n.Decode(&argv); err != nil {
			return err
		}
		if len(argv) == 0 || argv[0] == "" {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a hook command must name a program", n.Line)}}
		}
		c.Argv = argv
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a hook command is a string or a list of strings", n.Line)}}
}

func (c Command) String() string { return strings.Join(c.Argv, " ") }

// HookError is a hook that failed, with what it printed.
type HookError struct {
	Phase   string // before or after
	Command string
	Err     error
	Output  string
}

func (e *HookError) Error() string {
	out := strings.TrimSpace(e.Output)
	if len(out) > 2000 {
		out = "..." + out[len(out)-2000:]
	}
	if out != "" {
		return fmt.Sprintf("%s hook %q: %v; output:\n%s", e.Phase, e.Command, e.Err, out)
	}
	return fmt.Sprintf("%s hook %q: %v", e.Phase, e.Command, e.Err)
}

// hookEnv is what a hook learns about the refresh, as PBISYNC_* variables.
func hookEnv(o *Outcome) []string {
	env := []string{
		"PBISYNC_MODEL_NAME=" + o.Target.Name,
		"PBISYNC_MODEL_ID=" + o.Target.ModelID,
		"PBISYNC_WORKSPACE_ID=" + o.Target.WorkspaceID,
		"PBISYNC_MODEL_KEY=" + strings.Join(o.Target.Key, "/"),
		"PBISYNC_REFRESH_ENHANCED=" + strconv.FormatBool(o.Enhanced),
	}
	if o.RequestID != "" {
		env = append(env, "PBISYNC_REFRESH_REQUEST_ID="+o.RequestID)
	}
	if o.Status != "" {
		env = append(env, "PBISYNC_REFRESH_STATUS="+string(o.Status))
	}
	if !o.RequestedAt.IsZero() {
		env = append(env, "PBISYNC_REFRESH_REQUESTED_AT="+o.RequestedAt.UTC().Format(time.RFC3339))
	}
	if !o.StartedAt.IsZero() {
		env = append(env, "PBISYNC_REFRESH_STARTED_AT="+o.StartedAt.UTC().Format(time.RFC3339))
	}
	if !o.EndedAt.IsZero() {
		env = append(env, "PBISYNC_REFRESH_ENDED_AT="+o.EndedAt.UTC().Format(time.RFC3339))
		env = append(env, fmt.Sprintf("PBISYNC_REFRESH_DURATION_SECONDS=%.3f", o.Duration().Seconds()))
	}
	if o.Err != nil {
		env = append(env, "PBISYNC_REFRESH_ERROR="+o.Err.Error())
	}
	return env
}

// runHooks runs commands one after another; the first failure stops them.
func runHooks(ctx context.Context, phase string, cmds []Command, timeout time.Duration, o *Outcome) error {
	for _, c := range cmds {
		hctx, cancel := context.WithTimeout(ctx, timeout)
		cmd := exec.CommandContext(hctx, c.Argv[0], c.Argv[1:]...)
		cmd.Env = append(os.Environ(), hookEnv(o)...)
		cmd.Env = append(cmd.Env, "PBISYNC_HOOK="+phase)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = 5 * time.Second
		err := cmd.Run()
		cancel()
		if err != nil {
			if hctx.Err() == context.DeadlineExceeded {
				err = fmt.Errorf("timed out after %s", timeout)
			}
			return &HookError{Phase: phase, Command: c.String(), Err: err, Output: out.String()}
		}
	}
	return nil
}
