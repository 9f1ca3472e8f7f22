// Package pipeline reads pipeline.yaml: the top-level sections of a pipeline. Each
// component (a source, a translator, an output, the refresh settings) decodes its own
// section, so its fields, defaults and checks live beside its code.
package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/pbisync/pbisync/core/config"
)

// Version is the pipeline file format this build reads.
const Version = 1

// DefaultFile is the pipeline file that commands read when none is named.
const DefaultFile = "pipeline.yaml"

// Pipeline is a parsed pipeline file.
type Pipeline struct {
	File     string
	Version  int
	Name     string
	StateDir string
	// NoEstate turns off keeping the estate (what `pbisync impact` and the UI read) in the
	// state store: `estate: false`.
	NoEstate bool

	Sources     []Source
	Translators []config.Node
	Outputs     []config.Node
	Refresh     config.Node
	Lineage     config.Node
	Serve       config.Node
}

// Source is one entry of `sources`: exactly one of Emulator, PowerBI and Snapshot is set.
type Source struct {
	Name     string
	Pos      config.Pos
	Emulator config.Node // the bundled emulator, run in-process on loopback
	PowerBI  config.Node // a Power BI tenant
	Snapshot string      // a snapshot or raw scanResult file, relative to the pipeline file
}

// Kind says which kind of source this is.
func (s Source) Kind() string {
	switch {
	case s.Emulator.Node != nil:
		return "emulator"
	case s.PowerBI.Node != nil:
		return "powerbi"
	default:
		return "snapshot"
	}
}

type rawPipeline struct {
	Version     int         `yaml:"version" required:"true"`
	Name        string      `yaml:"name"`
	StateDir    string      `yaml:"state_dir"`
	Estate      *bool       `yaml:"estate"`
	Sources     []rawSource `yaml:"sources" required:"true"`
	Translators []yaml.Node `yaml:"translators"`
	Outputs     []yaml.Node `yaml:"outputs"`
	Refresh     yaml.Node   `yaml:"refresh"`
	Lineage     yaml.Node   `yaml:"lineage"`
	Serve       yaml.Node   `yaml:"serve"`
}

type rawSource struct {
	Name     string    `yaml:"name"`
	Emulator yaml.Node `yaml:"emulator"`
	PowerBI  yaml.Node `yaml:"powerbi"`
	Snapshot string    `yaml:"snapshot"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Load reads and checks a pipeline file.
func Load(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// A pipeline file that cannot be read is the caller's mistake, like one
		// that does not parse: a *config.Error naming the file.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &config.Error{Pos: config.Pos{File: path}, Msg: "cannot read the pipeline file: " + err.Error()}
	}
	return Parse(path, data)
}

// Parse checks a pipeline document; file names it in errors.
func Parse(file string, data []byte) (*Pipeline, error) {
	root, err := config.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var raw rawPipeline
	if err := config.Decode(root, &raw); err != nil {
		return nil, err
	}
	if raw.Version != Version {
		return nil, config.Errorf(root.Child("version"), "pipeline version %d is not supported by this pbisync (it reads version %d)", raw.Version, Version)
	}
	p := &Pipeline{File: file, Version: raw.Version, Name: raw.Name, StateDir: raw.StateDir, NoEstate: raw.Estate != nil && !*raw.Estate}
	if p.Name == "" {
		p.Name = "default"
	} else if !namePattern.MatchString(p.Name) {
		return nil, config.Errorf(root.Child("name"), "pipeline name %q must start with a letter or digit and hold only letters, digits, '_', '.' and '-'", p.Name)
	}
	if p.StateDir == "" {
		p.StateDir = ".pbisync"
	}
	srcNode := root.Child("sources")
	if len(raw.Sources) == 0 {
		return nil, config.Errorf(srcNode, "sources: at least one source is needed")
	}
	names := map[string]bool{}
	for i, rs := range raw.Sources {
		n := srcNode.Item(i)
		s := Source{Name: rs.Name, Pos: n.Pos(), Snapshot: rs.Snapshot}
		if s.Name == "" {
			s.Name = fmt.Sprintf("source%d", i+1)
		}
		if names[s.Name] {
			return nil, config.Errorf(n, "source name %q is used twice", s.Name)
		}
		names[s.Name] = true
		set := 0
		if rs.Emulator.Kind != 0 {
			s.Emulator = config.Node{Node: node(rs.Emulator), File: file}
			set++
		}
		if rs.PowerBI.Kind != 0 {
			s.PowerBI = config.Node{Node: node(rs.PowerBI), File: file}
			set++
		}
		if rs.Snapshot != "" {
			set++
		}
		if set != 1 {
			return nil, config.Errorf(n, "source %q needs exactly one of emulator, powerbi or snapshot", s.Name)
		}
		p.Sources = append(p.Sources, s)
	}
	for i := range raw.Translators {
		p.Translators = append(p.Translators, config.Node{Node: &raw.Translators[i], File: file})
	}
	for i := range raw.Outputs {
		p.Outputs = append(p.Outputs, config.Node{Node: &raw.Outputs[i], File: file})
	}
	p.Refresh = optional(raw.Refresh, file)
	p.Lineage = optional(raw.Lineage, file)
	p.Serve = optional(raw.Serve, file)
	return p, nil
}

func node(n yaml.Node) *yaml.Node { return &n }

func optional(n yaml.Node, file string) config.Node {
	if n.Kind == 0 || n.ShortTag() == "!!null" {
		return config.Node{File: file}
	}
	return config.Node{Node: node(n), File: file}
}
