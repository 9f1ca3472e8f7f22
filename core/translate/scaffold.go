package translate

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/pbisync/pbisync/sdk"
	kits "github.com/pbisync/pbisync/sdk/translator"
)

// Langs are the languages `pbisync translator new` scaffolds.
var Langs = []string{"go", "rust", "assemblyscript", "c"}

// ScaffoldOptions configure Scaffold.
type ScaffoldOptions struct {
	// SDKDir is a pbisync checkout, for a Go translator outside it (its go.mod replaces
	// github.com/pbisync/pbisync with this directory). Without it, a Go translator made
	// outside a checkout gets a copy of the Go kit in kit/, and needs nothing else.
	SDKDir string
	// PBISync is the pbisync executable the scaffold's test.sh runs (the one that made
	// it); the PBISYNC variable overrides it.
	PBISync string
	// Checkout is a pbisync checkout test.sh may build pbisync from when PBISync does
	// not exist (a `go run` binary is deleted when it exits).
	Checkout string
}

// goKitVersion is the Go version a scaffold's go.mod asks for: the kit needs
// go:wasmexport, which Go 1.24 brought.
const goKitVersion = "1.24"

var translatorName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// Scaffold writes a new translator called name in lang into dir (which must not exist
// or be empty): sources, the kit (C, Rust, AssemblyScript), build.sh, test.sh, README and
// test records with the output they must produce. test.sh builds the module and runs
// `pbisync translator test --expect`, so the scaffold passes its own test as written.
func Scaffold(dir, lang, name string, opts ScaffoldOptions) ([]string, error) {
	if !translatorName.MatchString(name) {
		return nil, fmt.Errorf("translator name %q: use lower-case letters, digits, - and _, starting with a letter", name)
	}
	files, ok := scaffolds[lang]
	if !ok {
		return nil, fmt.Errorf("language %q: want one of %s", lang, strings.Join(Langs, ", "))
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data := map[string]string{"Name": name, "Ident": strings.NewReplacer("-", "_").Replace(name), "Lang": lang,
		"PBISync": shellQuote(opts.PBISync), "Checkout": shellQuote(opts.Checkout)}
	out := map[string][]byte{}
	for path, text := range files {
		t, err := template.New(path).Delims("{%", "%}").Parse(text)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, err
		}
		out[strings.ReplaceAll(path, "NAME", data["Ident"])] = b.Bytes()
	}
	for src, dst := range kitFiles[lang] {
		b, err := fs.ReadFile(kits.Kits, src)
		if err != nil {
			return nil, err
		}
		out[dst] = b
	}
	if lang == "go" {
		if _, mod, err := findModule(abs); err != nil || mod != "github.com/pbisync/pbisync" {
			if err := goModule(out, name, opts.SDKDir); err != nil {
				return nil, err
			}
		}
	}
	recs, err := ReadRecords(strings.NewReader(scaffoldRecords), "records")
	if err != nil {
		return nil, err
	}
	var in, want bytes.Buffer
	_ = WriteRecords(&in, recs)
	for i := range recs { // what the scaffolded translator does: tag every asset
		recs[i].Spec = recs[i].Spec.Clone()
		recs[i].Spec.Tags["translated_by"] = name
	}
	_ = WriteRecords(&want, recs)
	out["testdata/records.jsonl"], out["testdata/expected.jsonl"] = in.Bytes(), want.Bytes()

	var written []string
	for path, b := range out {
		p := filepath.Join(abs, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(path, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

// kitFiles copies kit sources into scaffolds: embedded path -> path in the new translator.
var kitFiles = map[string]map[string]string{
	"c":              {"c/pbisync.h": "pbisync.h"},
	"rust":           {"rust/src/lib.rs": "kit/lib.rs"},
	"assemblyscript": {"assemblyscript/index.ts": "kit/index.ts", "assemblyscript/package-lock.json": "package-lock.json"},
}

const scaffoldRecords = `{"spec":{"key":["dashboard","Sales_Overview"],"deps":[["report","Sales"]],"metadata":{"dagster-powerbi/name":{"type":"text","value":"Sales Overview"}},"tags":{"dagster-powerbi/asset_type":"dashboard"},"kinds":["powerbi","dashboard"],"owners":[],"powerbi":{"type":"dashboard","id":"5a0f6d0c-0000-4000-8000-000000000001","name":"Sales Overview","workspaceId":"w1","workspaceName":"Sales"}},"raw":{"displayName":"Sales Overview"},"workspace":{"id":"w1","name":"Sales"}}
{"spec":{"key":["report","Sales"],"deps":[["semantic_model","Sales_Model"]],"metadata":{},"tags":{"dagster-powerbi/asset_type":"report"},"kinds":["powerbi","report"],"owners":["ana@contoso.com"],"powerbi":{"type":"report","id":"5a0f6d0c-0000-4000-8000-000000000002","name":"Sales","workspaceId":"w1","workspaceName":"Sales"}},"raw":{"name":"Sales","createdBy":"ana@contoso.com"},"workspace":{"id":"w1","name":"Sales"}}
{"spec":{"key":["semantic_model","Sales_Model"],"deps":[["sales_db"]],"metadata":{},"tags":{"dagster-powerbi/asset_type":"semantic_model"},"kinds":["powerbi","semantic_model"],"owners":[],"powerbi":{"type":"semantic_model","id":"5a0f6d0c-0000-4000-8000-000000000003","name":"Sales Model","workspaceId":"w1","workspaceName":"Sales"}},"raw":{"name":"Sales Model"},"workspace":{"id":"w1","name":"Sales"}}
{"spec":{"key":["sales_db"],"deps":[],"metadata":{},"tags":{"dagster-powerbi/asset_type":"data_source"},"kinds":["powerbi"],"owners":[],"powerbi":{"type":"data_source","id":"5a0f6d0c-0000-4000-8000-000000000004","name":"sales_db","workspaceId":"w1","workspaceName":"Sales"}},"raw":{"datasourceType":"Sql"},"workspace":{"id":"w1","name":"Sales"}}
`

const scaffoldTest = `#!/usr/bin/env bash
# test.sh builds the translator and checks its output on testdata/records.jsonl against
# testdata/expected.jsonl. Change both when you change what the translator does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./build.sh {%.Ident%}.wasm
# The pbisync that made this scaffold, unless PBISYNC names another.
made_by={%.PBISync%}
pbisync="${PBISYNC:-$made_by}"
if [[ -z "$pbisync" || ! -x "$pbisync" ]]; then
	checkout={%.Checkout%}
	if [[ -n "$checkout" && -f "$checkout/go.mod" ]]; then
		# Made by "go run" in a pbisync checkout: build pbisync from it, once.
		[[ -x .pbisync/pbisync ]] || (here="$PWD" && cd "$checkout" && go build -o "$here/.pbisync/pbisync" ./cmd/pbisync)
		pbisync=.pbisync/pbisync
	elif command -v pbisync >/dev/null; then
		pbisync=pbisync
	else
		echo "test.sh: no pbisync to run: set PBISYNC=/path/to/pbisync, or build one from a pbisync" >&2
		echo "checkout (go build -o ~/bin/pbisync ./cmd/pbisync) and put it on PATH" >&2
		exit 127
	fi
fi
# ./test.sh --update writes the output to testdata/expected.jsonl instead of comparing.
"$pbisync" translator test --records testdata/records.jsonl --translator {%.Ident%}.wasm \
	--expect testdata/expected.jsonl --changed "$@"
`

const scaffoldReadme = "# {%.Name%}\n\nA pbisync translator in {%.Lang%}. It tags every asset with `translated_by: {%.Name%}`;\n" +
	"make it do what you need.\n\n- `./build.sh` builds `{%.Ident%}.wasm`.\n" +
	"- `./test.sh` builds it and runs `pbisync translator test` over `testdata/records.jsonl`,\n" +
	"  comparing the output with `testdata/expected.jsonl`; `./test.sh --update` writes the\n" +
	"  output there instead, when you changed what the translator does. test.sh runs the pbisync\n" +
	"  that made this scaffold; set `PBISYNC=/path/to/pbisync` for another.\n\nUse it in `pipeline.yaml`:\n\n" +
	"```yaml\ntranslators:\n  - name: {%.Name%}\n    wasm: path/to/{%.Ident%}.wasm\n    config: {}\n```\n\n" +
	"The kit's API and the ABI behind it: `sdk/translator/` and `sdk/ABI.md` in pbisync.\n"

var scaffolds = map[string]map[string]string{
	"go": {
		"main.go": `// Command {%.Ident%} is a pbisync translator.
package main

import translator "github.com/pbisync/pbisync/sdk/translator/go"

type {%.Ident%} struct{ name string }

// Init reads the pipeline's config once, at start.
func (t *{%.Ident%}) Init(c translator.Config) error {
	t.name = "{%.Name%}"
	return nil
}

// Translate edits one asset.
func (t *{%.Ident%}) Translate(a *translator.Asset) error {
	a.SetTag("translated_by", t.name)
	return nil
}

func init() { translator.Handle(&{%.Ident%}{}) }

func main() {}
`,
		"build.sh": `#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o "${1:-{%.Ident%}.wasm}" .
`,
		"test.sh":   scaffoldTest,
		"README.md": scaffoldReadme,
	},
	"c": {
		"NAME.c": `/* {%.Ident%} is a pbisync translator. */
#include "pbisync.h"

static int init(void) { return 0; }

static int translate(void) {
	pbs_tag_set("translated_by", "{%.Name%}");
	return PBS_KEEP;
}

PBISYNC_TRANSLATOR(init, translate)
`,
		"build.sh": `#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
clang --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Werror -I . -o "${1:-{%.Ident%}.wasm}" {%.Ident%}.c
`,
		"test.sh":   scaffoldTest,
		"README.md": scaffoldReadme,
	},
	"rust": {
		"src/lib.rs": `//! {%.Ident%} is a pbisync translator.
use pbisync_translator::{pbisync_translator, Asset, Translator};

struct Tagger;

impl Translator for Tagger {
    fn translate(&mut self, asset: &mut Asset) -> Result<(), String> {
        asset.set_tag("translated_by", "{%.Name%}");
        Ok(())
    }
}

pbisync_translator!(Tagger, Tagger);
`,
		"build.sh": `#!/usr/bin/env bash
# Needs a rustc with the wasm32-unknown-unknown std (Debian: rustc libstd-rust-dev-wasm32).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
rustc="${RUSTC:-/usr/bin/rustc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
flags=(--edition 2021 --target wasm32-unknown-unknown -C opt-level=2 -C panic=abort)
"$rustc" "${flags[@]}" --crate-type rlib --crate-name pbisync_translator -o "$tmp/libpbisync_translator.rlib" kit/lib.rs
"$rustc" "${flags[@]}" --crate-type cdylib --crate-name {%.Ident%} -C strip=symbols \
	--extern pbisync_translator="$tmp/libpbisync_translator.rlib" -o "${1:-{%.Ident%}.wasm}" src/lib.rs
`,
		"test.sh":   scaffoldTest,
		"README.md": scaffoldReadme,
	},
	"assemblyscript": {
		"NAME.ts": `// {%.Ident%} is a pbisync translator.
import { Asset, Translator, register } from "./kit/index";
export { pbisync_abi_version_1, pbisync_init, pbisync_translate } from "./kit/index";

class Tagger extends Translator {
  translate(asset: Asset): string | null {
    asset.setTag("translated_by", "{%.Name%}");
    return null;
  }
}

register(new Tagger());
`,
		"package.json": `{
  "name": "pbisync-translator",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "devDependencies": {
    "assemblyscript": "~0.28.0"
  }
}
`,
		"build.sh": `#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[[ -x node_modules/.bin/asc ]] || npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/asc {%.Ident%}.ts -O3 --runtime incremental -o "${1:-{%.Ident%}.wasm}"
`,
		"test.sh":   scaffoldTest,
		"README.md": scaffoldReadme,
	},
}

// goModule writes the go.mod of a Go translator made outside a pbisync checkout. With
// sdk (a checkout) it points there; without, the kit travels with the scaffold in kit/.
func goModule(out map[string][]byte, name, sdk string) error {
	if sdk == "" {
		if err := copyGoKit(out); err != nil {
			return err
		}
		out["go.mod"] = fmt.Appendf(nil, "module %s\n\ngo %s\n\nrequire github.com/pbisync/pbisync v0.0.0\n\n"+
			"// kit/ is pbisync's Go translator kit, copied by `pbisync translator new`.\nreplace github.com/pbisync/pbisync => ./kit\n", name, goKitVersion)
		return nil
	}
	sdk, err := filepath.Abs(sdk)
	if err != nil {
		return err
	}
	goVersion := "1.26"
	if mod, err := os.ReadFile(filepath.Join(sdk, "go.mod")); err != nil {
		return fmt.Errorf("--sdk %s: not a pbisync checkout: %w", sdk, err)
	} else if m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(mod); m != nil {
		goVersion = string(m[1]) // the kit's module needs at least this Go
	}
	out["go.mod"] = fmt.Appendf(nil, "module %s\n\ngo %s\n\nrequire github.com/pbisync/pbisync v0.0.0\n\nreplace github.com/pbisync/pbisync => %s\n", name, goVersion, sdk)
	return nil
}

// copyGoKit adds the Go kit and the spec package it imports to a scaffold, as the
// module github.com/pbisync/pbisync in kit/.
func copyGoKit(out map[string][]byte) error {
	out["kit/go.mod"] = fmt.Appendf(nil, "module github.com/pbisync/pbisync\n\ngo %s\n", goKitVersion)
	return fs.WalkDir(sdk.GoKit, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := fs.ReadFile(sdk.GoKit, path)
		if err != nil {
			return err
		}
		out["kit/sdk/"+path] = b
		return nil
	})
}

// shellQuote quotes s for a POSIX shell; "" stays an empty quoted word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
