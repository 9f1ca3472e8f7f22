package sinkhost

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"gopkg.in/yaml.v3"
)

// Builtins are the sinks built into pbisync; `pbisync plugin sink <name>` serves each.
var Builtins = []string{"jsonl", "sqlite", "datahub", "openlineage"}

// Entry is one item of pipeline.yaml's `outputs:` list.
//
//   - name: specs
//     jsonl: {path: out/specs.jsonl}        # or sqlite:, datahub:, openlineage:
//   - name: mycatalog
//     plugin: {path: ./bin/x, args: [], env: {}, sha256: "..."}
//     config: {...}                          # handed to the plugin
//     auto_mtls: true                        # host options, for either form
//     max_restarts: 3
//     window: 8
//     batch_size: 500
//     start_timeout: 30s
type Entry struct {
	Name        string    `yaml:"name" required:"true"`
	JSONL       yaml.Node `yaml:"jsonl"`
	SQLite      yaml.Node `yaml:"sqlite"`
	DataHub     yaml.Node `yaml:"datahub"`
	OpenLineage yaml.Node `yaml:"openlineage"`
	Plugin      *Plugin   `yaml:"plugin"`
	Config      yaml.Node `yaml:"config"`

	// AutoMTLS secures the plugin connection with a certificate made for this run.
	// Default: true for external plugins, false for built-ins (the same binary).
	AutoMTLS *bool `yaml:"auto_mtls"`
	// MaxRestarts bounds how often a failed sink is restarted within one sync (default 3).
	MaxRestarts *int `yaml:"max_restarts"`
	// Window is how many batches may be unacknowledged at once (default 8).
	Window int `yaml:"window"`
	// BatchSize is the most events in one batch (default 500).
	BatchSize int `yaml:"batch_size"`
	// StartTimeout bounds the plugin's start and handshake (default 30s).
	StartTimeout time.Duration `yaml:"start_timeout"`
	// AckTimeout restarts a sink that acknowledged nothing for this long while
	// batches waited (default 10m; 0s turns it off).
	AckTimeout *time.Duration `yaml:"ack_timeout"`
}

// Plugin names an external sink executable.
type Plugin struct {
	Path   string            `yaml:"path" required:"true"`
	Args   []string          `yaml:"args"`
	Env    map[string]string `yaml:"env"`
	SHA256 string            `yaml:"sha256"`
}

// Defaults for Entry's host options.
const (
	DefaultMaxRestarts  = 3
	DefaultWindow       = 8
	DefaultBatchSize    = 500
	DefaultStartTimeout = 30 * time.Second
	DefaultAckTimeout   = 10 * time.Minute
)

// launch is a decoded entry: what to start and how.
type launch struct {
	name       string
	pos        config.Pos
	pathPos    config.Pos // where an external plugin's path is written
	sumPos     config.Pos // where its sha256 pin is written
	builtin    string     // set for built-ins
	path       string
	args       []string
	env        []string
	checksum   []byte
	autoMTLS   bool
	restarts   int
	window     int
	batchSize  int
	timeout    time.Duration
	ackTimeout time.Duration
	cfg        config.Node // the sink's config section; zero when absent
	cfgJSON    []byte
	// dir is the plugin's working directory: the pipeline file's folder, so relative
	// paths in a sink's config mean what they mean in the pipeline file.
	dir string
}

// decodeEntry checks an `outputs:` entry and resolves what to run.
func decodeEntry(n config.Node, opts Options) (*launch, error) {
	var e Entry
	if err := config.Decode(n, &e); err != nil {
		return nil, err
	}
	l := &launch{name: e.Name, pos: n.Pos()}
	l.dir = opts.BaseDir
	if l.dir == "" && n.File != "" && !strings.HasPrefix(n.File, "(") {
		l.dir = filepath.Dir(n.File)
	}
	if l.dir != "" {
		abs, err := filepath.Abs(l.dir)
		if err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", n.Pos(), e.Name, err)
		}
		l.dir = abs
	}
	if strings.TrimSpace(e.Name) == "" {
		return nil, config.Errorf(n.Child("name"), "output name is empty")
	}
	kinds := map[string]*yaml.Node{"jsonl": &e.JSONL, "sqlite": &e.SQLite, "datahub": &e.DataHub, "openlineage": &e.OpenLineage}
	var chosen []string
	for _, b := range Builtins {
		if kinds[b].Kind != 0 {
			chosen = append(chosen, b)
		}
	}
	if e.Plugin != nil {
		chosen = append(chosen, "plugin")
	}
	switch len(chosen) {
	case 0:
		return nil, config.Errorf(n, "output %q: say which sink it is: one of %s or plugin", e.Name, strings.Join(Builtins, ", "))
	case 1:
	default:
		return nil, config.Errorf(n, "output %q: give exactly one of %s or plugin, not %s", e.Name, strings.Join(Builtins, ", "), strings.Join(chosen, " and "))
	}
	if e.Plugin == nil {
		if e.Config.Kind != 0 {
			return nil, config.Errorf(n.Child("config"), "output %q: config: is for external plugins; put the settings under %s:", e.Name, chosen[0])
		}
		l.builtin = chosen[0]
		l.cfg = config.Node{Node: kinds[l.builtin], File: n.File}
		exe := opts.Executable
		if exe == "" {
			return nil, fmt.Errorf("%s: output %q: no executable to run built-in sinks (Options.Executable)", n.Pos(), e.Name)
		}
		l.path, l.args = exe, []string{"plugin", "sink", l.builtin}
	} else {
		p := e.Plugin
		if strings.TrimSpace(p.Path) == "" {
			return nil, config.Errorf(n.Child("plugin").Child("path"), "output %q: plugin path is empty", e.Name)
		}
		l.path = p.Path
		l.pathPos = n.Child("plugin").Child("path").Pos()
		// A path with a separator is a file (relative to the pipeline's folder); a
		// bare name is looked up on PATH. Join drops "./", so decide before it.
		isFile := strings.ContainsRune(l.path, filepath.Separator)
		if !filepath.IsAbs(l.path) && isFile {
			base := opts.BaseDir
			if base == "" && n.File != "" {
				base = filepath.Dir(n.File)
			}
			l.path = filepath.Join(base, l.path)
		}
		if isFile {
			abs, err := filepath.Abs(l.path)
			if err != nil {
				return nil, fmt.Errorf("%s: output %q: %w", n.Pos(), e.Name, err)
			}
			l.path = abs
		}
		l.args = p.Args
		for k, v := range p.Env {
			l.env = append(l.env, k+"="+v)
		}
		if p.SHA256 != "" {
			sum, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(p.SHA256), "sha256:"))
			if err != nil || len(sum) != 32 {
				return nil, config.Errorf(n.Child("plugin").Child("sha256"), "output %q: sha256 must be 64 hex digits", e.Name)
			}
			l.checksum = sum
			l.sumPos = n.Child("plugin").Child("sha256").Pos()
		}
		if e.Config.Kind != 0 {
			l.cfg = config.Node{Node: &e.Config, File: n.File}
		}
		l.autoMTLS = true
	}
	if e.AutoMTLS != nil {
		l.autoMTLS = *e.AutoMTLS
	}
	l.restarts = DefaultMaxRestarts
	if e.MaxRestarts != nil {
		if *e.MaxRestarts < 0 {
			return nil, config.Errorf(n.Child("max_restarts"), "max_restarts must be 0 or more")
		}
		l.restarts = *e.MaxRestarts
	}
	l.window, l.batchSize, l.timeout = DefaultWindow, DefaultBatchSize, DefaultStartTimeout
	if e.Window != 0 {
		if e.Window < 1 {
			return nil, config.Errorf(n.Child("window"), "window must be 1 or more")
		}
		l.window = e.Window
	}
	if e.BatchSize != 0 {
		if e.BatchSize < 1 {
			return nil, config.Errorf(n.Child("batch_size"), "batch_size must be 1 or more")
		}
		l.batchSize = e.BatchSize
	}
	if e.StartTimeout != 0 {
		if e.StartTimeout < 0 {
			return nil, config.Errorf(n.Child("start_timeout"), "start_timeout must be positive")
		}
		l.timeout = e.StartTimeout
	}
	l.ackTimeout = DefaultAckTimeout
	if e.AckTimeout != nil {
		if *e.AckTimeout < 0 {
			return nil, config.Errorf(n.Child("ack_timeout"), "ack_timeout must not be negative")
		}
		l.ackTimeout = *e.AckTimeout
	}
	if l.cfg.Node != nil {
		if err := config.ExpandEnv(l.cfg); err != nil {
			return nil, err
		}
		v, err := nodeToJSON(l.cfg)
		if err != nil {
			return nil, err
		}
		if l.cfgJSON, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("%s: output %q: config: %w", l.cfg.Pos(), e.Name, err)
		}
	} else {
		l.cfgJSON = []byte("{}")
	}
	return l, nil
}

// nodeToJSON turns a YAML node into JSON values, keeping YAML's scalar types.
func nodeToJSON(n config.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, config.Errorf(config.Node{Node: k, File: n.File}, "mapping keys must be strings")
			}
			if _, dup := m[k.Value]; dup {
				return nil, config.Errorf(config.Node{Node: k, File: n.File}, "key %q appears twice", k.Value)
			}
			v, err := nodeToJSON(config.Node{Node: n.Content[i+1], File: n.File})
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeToJSON(config.Node{Node: c, File: n.File})
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, config.Errorf(n, "%v", err)
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, config.Errorf(n, "%v", err)
			}
			return i, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, config.Errorf(n, "%v", err)
			}
			return f, nil
		}
		return n.Value, nil
	case yaml.AliasNode:
		return nil, config.Errorf(n, "YAML aliases are not supported")
	}
	return nil, nil
}

// nodeAt finds the node a plugin's config error path points at: the deepest node
// that exists along the path.
func nodeAt(n config.Node, path []string) config.Node {
	cur := n
	for _, p := range path {
		if cur.Node == nil {
			break
		}
		switch cur.Kind {
		case yaml.MappingNode:
			next := cur.Child(p)
			if next.Node == nil {
				// Maybe the path names a key: point at it.
				return cur
			}
			cur = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(cur.Content) {
				return cur
			}
			cur = config.Node{Node: cur.Content[i], File: n.File}
		default:
			return cur
		}
	}
	return cur
}
