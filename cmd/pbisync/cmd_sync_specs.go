package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/pipeline"
)

// syncWithSpecsOut runs `pbisync sync` on one source of the pipeline (all when source is
// empty) and, when specsOut is set, writes the final specs to it as JSON Lines through a
// temporary file that replaces specsOut only when the sync succeeded.
func syncWithSpecsOut(ctx context.Context, g *globals, file, source, specsOut string) error {
	p, err := pipeline.Load(file)
	if err != nil {
		return err
	}
	if source != "" {
		var keep []pipeline.Source
		var names []string
		for _, s := range p.Sources {
			names = append(names, s.Name)
			if s.Name == source {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			return usagef("%s: no source named %q (the sources are %q)", p.File, source, names)
		}
		p.Sources = keep
	}
	if specsOut == "" {
		return execute(ctx, g, p, runFlags{})
	}
	abs, err := filepath.Abs(specsOut)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("--specs-out: %w", err)
	}
	tmp := abs + ".partial"
	doc := fmt.Sprintf("name: pbisync-specs-out\njsonl: {path: %q, format: specs}\n", tmp)
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		return fmt.Errorf("--specs-out: %w", err)
	}
	p.Outputs = append(p.Outputs, config.Node{Node: n.Content[0], File: "(--specs-out)"})
	err = execute(ctx, g, p, runFlags{full: true}) // the specs file holds every spec: never an incremental sync
	var problems *problemsError
	if err != nil && !errors.As(err, &problems) {
		os.Remove(tmp)
		return err
	}
	// Some assets had problems, but the sync finished: the specs are complete.
	if rerr := os.Rename(tmp, abs); rerr != nil {
		return fmt.Errorf("--specs-out: %w", rerr)
	}
	g.logger.Info("specs written", "to", abs)
	return err
}
