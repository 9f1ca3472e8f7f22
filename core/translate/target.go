package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pbisync/pbisync/core/config"
)

// EntryForTarget builds a translator entry from what a command line names: a .wasm file,
// a Go package directory, or a YAML file with one entry (or a pipeline, from whose
// `translators:` the entry called name is taken). configText, YAML or JSON, becomes the
// entry's config.
func EntryForTarget(target, name, configText string) (config.Node, error) {
	st, err := os.Stat(target)
	if err != nil {
		return config.Node{}, fmt.Errorf("translator %s: %w", target, err)
	}
	var n config.Node
	switch {
	case st.IsDir():
		n, err = entryNode(name, "go_package", target)
	case strings.HasSuffix(target, ".wasm"):
		n, err = entryNode(name, "wasm", target)
	case strings.HasSuffix(target, ".yaml") || strings.HasSuffix(target, ".yml"):
		n, err = entryFromYAML(target, name)
	default:
		return config.Node{}, fmt.Errorf("translator %s: want a .wasm file, a Go package directory or a .yaml file", target)
	}
	if err != nil || configText == "" {
		return n, err
	}
	cfg, err := config.Parse("--config", []byte(configText))
	if err != nil {
		return config.Node{}, err
	}
	if n.Child("config").Node != nil {
		return config.Node{}, fmt.Errorf("translator %s already has a config; leave out --config", target)
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "config"}, cfg.Node)
	return n, nil
}

func entryNode(name, kind, path string) (config.Node, error) {
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".wasm")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return config.Node{}, err
	}
	data, err := yaml.Marshal(map[string]string{"name": name, kind: abs})
	if err != nil {
		return config.Node{}, err
	}
	return config.Parse("--translator", data)
}

func entryFromYAML(file, name string) (config.Node, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return config.Node{}, err
	}
	root, err := config.Parse(file, data)
	if err != nil {
		return config.Node{}, err
	}
	list := root.Child("translators")
	if list.Node == nil {
		return root, nil // a single entry
	}
	var names []string
	for _, c := range list.Content {
		e := config.Node{Node: c, File: file}
		n := e.Child("name").Value
		if n == name || (name == "" && len(list.Content) == 1) {
			return e, nil
		}
		names = append(names, n)
	}
	if name == "" {
		return config.Node{}, fmt.Errorf("%s has %d translators (%s): pick one with --name", file, len(names), strings.Join(names, ", "))
	}
	return config.Node{}, fmt.Errorf("%s has no translator named %q (it has %s)", file, name, strings.Join(names, ", "))
}
