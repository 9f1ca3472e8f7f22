package translate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pbisync/pbisync/core/config"
)

// Entry is one translator in the pipeline's `translators:` list. Exactly one of WASM,
// GoPackage and Translation says what it runs.
type Entry struct {
	Name string `yaml:"name" required:"true"`
	// WASM is the path of a module (relative to the pipeline file).
	WASM string `yaml:"wasm"`
	// GoPackage is a Go package directory that pbisync builds for wasip1 into its cache.
	GoPackage string `yaml:"go_package"`
	// SHA256 pins the module's content (hex); a different module is refused.
	SHA256 string `yaml:"sha256"`
	// Config is handed to the module once at start, as JSON.
	Config yaml.Node `yaml:"config"`
	// OnError is fail (default), skip or keep_default.
	OnError string       `yaml:"on_error"`
	Limits  LimitsConfig `yaml:"limits"`
	Grant   Grant        `yaml:"grant"`
	// Translation is a no-code translation: rules applied in order.
	Translation []Rule `yaml:"translation"`

	pos config.Pos
}

// LimitsConfig caps what one WASM translator may use (sdk/ABI.md, "Limits").
type LimitsConfig struct {
	Memory        string        `yaml:"memory"`          // linear memory per instance, e.g. 64MiB (default)
	AssetTimeout  time.Duration `yaml:"asset_timeout"`   // time per asset, e.g. 2s (default)
	MaxOutput     string        `yaml:"max_output"`      // bytes of edits per asset, e.g. 1MiB (default)
	MaxCalls      int           `yaml:"max_calls"`       // host calls per asset (default 1,000,000)
	MaxHostMemory string        `yaml:"max_host_memory"` // host bytes one asset's calls may allocate, e.g. 64MiB (default)
	StageMemory   string        `yaml:"stage_memory"`    // the whole translator: instances' memory and held edits, e.g. 2GiB (default)
	MaxLogLines   int           `yaml:"max_log_lines"`   // guest log and output lines per asset (default 20)
	MaxRunLines   int           `yaml:"max_run_lines"`   // guest log and output lines per run (default 1000)

	// BatchTimeout is the key of earlier versions, refused with a pointer to asset_timeout.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
}

// Grant opens the sandbox. The zero value grants nothing.
type Grant struct {
	Clock  bool     `yaml:"clock"`
	Random bool     `yaml:"random"`
	Env    []string `yaml:"env"` // names of environment variables the module may read
	FS     []string `yaml:"fs"`  // directories mounted read-only at the same path
}

// Policy says what happens to an asset whose translation failed.
type Policy string

// The policies of `on_error`.
const (
	PolicyFail        Policy = "fail"         // stop the sync
	PolicySkip        Policy = "skip"         // drop the asset, report a problem
	PolicyKeepDefault Policy = "keep_default" // keep the asset as it was before this translator
)

// Limits are an entry's limits, parsed and with defaults applied.
type Limits struct {
	MemoryBytes   uint64
	AssetTimeout  time.Duration
	MaxOutput     int
	MaxCalls      int
	MaxHostMemory int64
	StageMemory   int64
	MaxLogLines   int
	MaxRunLines   int
}

// Default limits.
const (
	DefaultMemory        = 64 << 20
	DefaultAssetTimeout  = 2 * time.Second
	DefaultMaxOutput     = 1 << 20
	DefaultMaxCalls      = 1_000_000
	DefaultMaxHostMemory = 64 << 20
	DefaultStageMemory   = 2 << 30
	DefaultMaxLogLines   = 20
	DefaultMaxRunLines   = 1000
	// startTimeout is the least time an instance gets to start (_initialize, pbisync_init).
	startTimeout = 10 * time.Second
)

// DecodeEntry decodes one entry of `translators:` strictly; errors name file:line:col.
func DecodeEntry(n config.Node) (Entry, error) {
	var e Entry
	if err := config.Decode(n, &e); err != nil {
		return e, err
	}
	e.pos = n.Pos()
	set := 0
	for _, s := range []bool{e.WASM != "", e.GoPackage != "", e.Translation != nil} {
		if s {
			set++
		}
	}
	if set != 1 {
		return e, config.Errorf(n, "translator %q: give exactly one of wasm, go_package or translation", e.Name)
	}
	switch Policy(e.OnError) {
	case "", PolicyFail, PolicySkip, PolicyKeepDefault:
	default:
		return e, config.Errorf(n.Child("on_error"), "on_error must be fail, skip or keep_default, got %q", e.OnError)
	}
	if e.SHA256 != "" && e.GoPackage != "" {
		return e, config.Errorf(n.Child("sha256"), "sha256 pins a module file (wasm:); a go_package is built here, so its bytes depend on the Go version")
	}
	if e.SHA256 != "" && (len(e.SHA256) != 64 || strings.Trim(strings.ToLower(e.SHA256), "0123456789abcdef") != "") {
		return e, config.Errorf(n.Child("sha256"), "sha256 must be 64 hex digits")
	}
	if _, err := e.limits(); err != nil {
		return e, config.Errorf(n.Child("limits"), "%v", err)
	}
	if _, err := e.configJSON(); err != nil {
		return e, config.Errorf(n.Child("config"), "config: %v", err)
	}
	if e.Translation != nil && (e.SHA256 != "" || e.Config.Kind != 0 || e.Grant.Clock || e.Grant.Random || e.Grant.Env != nil || e.Grant.FS != nil) {
		return e, config.Errorf(n, "translator %q: sha256, config and grant apply to WASM translators only", e.Name)
	}
	for i, dir := range e.Grant.FS {
		if !filepath.IsAbs(dir) {
			continue // relative to the pipeline's directory: checked when the translator loads
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return e, config.Errorf(n.Child("grant").Child("fs").Item(i), "translator %q: grant.fs: %q is not a directory", e.Name, dir)
		}
	}
	for i := range e.Translation {
		if err := e.Translation[i].compile(n.Child("translation").Item(i)); err != nil {
			return e, err
		}
	}
	return e, nil
}

func (e *Entry) policy() Policy {
	if e.OnError == "" {
		return PolicyFail
	}
	return Policy(e.OnError)
}

func (e *Entry) limits() (Limits, error) {
	l := Limits{MemoryBytes: DefaultMemory, AssetTimeout: DefaultAssetTimeout, MaxOutput: DefaultMaxOutput,
		MaxCalls: DefaultMaxCalls, MaxHostMemory: DefaultMaxHostMemory, StageMemory: DefaultStageMemory,
		MaxLogLines: DefaultMaxLogLines, MaxRunLines: DefaultMaxRunLines}
	if e.Limits.Memory != "" {
		n, err := parseSize(e.Limits.Memory)
		if err != nil {
			return l, fmt.Errorf("memory: %w", err)
		}
		if n < 64<<10 || n > 4<<30 {
			return l, fmt.Errorf("memory must be between 64KiB and 4GiB, got %s", e.Limits.Memory)
		}
		l.MemoryBytes = n
	}
	if e.Limits.BatchTimeout != 0 {
		return l, fmt.Errorf("batch_timeout is gone: time limits are per asset now; use asset_timeout (default %s)", DefaultAssetTimeout)
	}
	if e.Limits.AssetTimeout < 0 {
		return l, fmt.Errorf("asset_timeout must be positive")
	}
	if e.Limits.AssetTimeout > 0 {
		l.AssetTimeout = e.Limits.AssetTimeout
	}
	if e.Limits.MaxCalls < 0 {
		return l, fmt.Errorf("max_calls must be positive")
	}
	if e.Limits.MaxCalls > 0 {
		l.MaxCalls = e.Limits.MaxCalls
	}
	for _, c := range []struct {
		name string
		n    int
		dst  *int
	}{{"max_log_lines", e.Limits.MaxLogLines, &l.MaxLogLines}, {"max_run_lines", e.Limits.MaxRunLines, &l.MaxRunLines}} {
		if c.n < 0 {
			return l, fmt.Errorf("%s must be 0 or more", c.name)
		}
		if c.n > 0 {
			*c.dst = c.n
		}
	}
	for _, c := range []struct {
		name, text string
		lo, hi     uint64
		dst        *int64
	}{
		{"max_host_memory", e.Limits.MaxHostMemory, 64 << 10, 16 << 30, &l.MaxHostMemory},
		{"stage_memory", e.Limits.StageMemory, 1 << 20, 1 << 40, &l.StageMemory},
	} {
		if c.text == "" {
			continue
		}
		n, err := parseSize(c.text)
		if err != nil {
			return l, fmt.Errorf("%s: %w", c.name, err)
		}
		if n < c.lo || n > c.hi {
			return l, fmt.Errorf("%s must be between %s and %s, got %s", c.name, sizeText(c.lo), sizeText(c.hi), c.text)
		}
		*c.dst = int64(n)
	}
	if l.MemoryBytes > uint64(l.StageMemory)/2 && e.Limits.StageMemory != "" {
		return l, fmt.Errorf("memory (%s) must be at most half of stage_memory (%s): one instance must fit", sizeText(l.MemoryBytes), e.Limits.StageMemory)
	}
	if e.Limits.MaxOutput != "" {
		n, err := parseSize(e.Limits.MaxOutput)
		if err != nil {
			return l, fmt.Errorf("max_output: %w", err)
		}
		if n == 0 || n > 1<<30 {
			return l, fmt.Errorf("max_output must be between 1 byte and 1GiB, got %s", e.Limits.MaxOutput)
		}
		l.MaxOutput = int(n)
	}
	return l, nil
}

// sizeText renders a byte count the way parseSize reads it.
func sizeText(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatUint(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatUint(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatUint(n>>10, 10) + "KiB"
	}
	return strconv.FormatUint(n, 10) + "B"
}

// parseSize reads a byte count such as 1048576, 512KiB, 64MiB, 1GiB, 10MB.
func parseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := strings.TrimSpace(s), uint64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a size such as 64MiB, 512KiB or 1048576, got %q", s)
	}
	return n * mult, nil
}

// configJSON renders the entry's config as JSON with sorted keys ({} when absent).
func (e *Entry) configJSON() ([]byte, error) {
	if e.Config.Kind == 0 {
		return []byte("{}"), nil
	}
	var v any
	if err := e.Config.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return []byte("{}"), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot be expressed as JSON (mapping keys must be strings): %w", err)
	}
	return j, nil
}
