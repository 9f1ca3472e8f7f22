package translate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/pbisync/pbisync/core/config"
)

// FuzzGuestOutput feeds the host arbitrary guest output through a real module: echo.wasm
// hands its config bytes to set, set_json, insert, put or remove for every asset. The
// host must never panic, and every asset must come out valid or as a problem.
func FuzzGuestOutput(f *testing.F) {
	seeds := [][]byte{
		append([]byte{1, fieldSpec}, `{"key":["a"],"deps":[],"metadata":{},"tags":{},"kinds":[],"owners":[]}`...),
		append([]byte{1, fieldSpec}, `{"key":[]}`...),
		append([]byte{1, fieldMetadata}, `{"x":{"type":"table_schema","value":{"columns":[{"name":"a","type":"int"}]}}}`...),
		append([]byte{1, fieldDeps}, `[["a"],[]]`...),
		append([]byte{0, fieldKey}, "a\x00\x00b"...),
		append([]byte{0, fieldOwners}, "\xff\xfe"...),
		append([]byte{2 + 5*30, fieldDeps}, "x\x00y"...),
		append([]byte{3, fieldMetadata}, `ab{"type":"int","value":1.5}`...),
		append([]byte{3, fieldTags}, "kkvv"...),
		{4, fieldKey},
		{0, 99, 'x'},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	c := mustChain(f, fixture("echo", "    on_error: skip\n    limits: {max_output: 4KiB}\n"))
	w := c.steps[0].(*WASM)
	recs := sampleRecords(4)
	f.Fuzz(func(t *testing.T, out []byte) {
		if len(out) > 60000 {
			return
		}
		w.config = out
		kept, probs, err := w.Translate(context.Background(), recs)
		if err != nil {
			t.Fatalf("batch error: %v", err)
		}
		if len(kept)+len(probs) != len(recs) {
			t.Fatalf("%d kept + %d problems != %d assets", len(kept), len(probs), len(recs))
		}
		for _, r := range kept {
			if err := r.Spec.Validate(); err != nil {
				t.Fatalf("invalid spec passed the host: %v", err)
			}
			if r.Spec.PowerBI.ID == "" {
				t.Fatal("identity lost")
			}
		}
		for _, p := range probs {
			if !strings.HasPrefix(p.Error(), "translator echo: ") {
				t.Fatalf("problem does not name the translator: %v", p)
			}
		}
	})
}

// FuzzDecodeEntry checks the entry parser returns errors, never panics.
func FuzzDecodeEntry(f *testing.F) {
	f.Add("name: a\nwasm: x.wasm\nlimits: {memory: 1MiB, max_output: 10KB, asset_timeout: 1s, max_calls: 10, stage_memory: 1GiB}\n")
	f.Add("name: a\ntranslation: [{match: {type: [report]}, key: \"{{.Name}}\", metadata: {a: {type: int, value: 1}}}]\n")
	f.Add("name: a\ngo_package: ./p\nconfig: {a: [1, {b: c}]}\non_error: skip\n")
	f.Fuzz(func(t *testing.T, doc string) {
		n, err := config.Parse("f.yaml", []byte(doc))
		if err != nil {
			return
		}
		_, _ = DecodeEntry(n)
	})
}

// FuzzReadRecords checks the JSON Lines reader returns errors, never panics, and that
// what it accepts writes back to records that read the same.
func FuzzReadRecords(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteRecords(&buf, sampleRecords(4))
	f.Add(buf.String())
	f.Add(`{"spec":{"key":["a"],"metadata":{"m":{"type":"json","value":[1,{"x":null}]}}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadRecords(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteRecords(&out, recs); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadRecords(&out, "again"); err != nil {
			t.Fatalf("written records do not read back: %v", err)
		}
	})
}

// FuzzLookup checks dotted-path lookups over arbitrary raw JSON.
func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,"x",{"c":null}]}}`), "a.b.2.c")
	f.Add([]byte(`[]`), "0")
	f.Fuzz(func(t *testing.T, raw []byte, path string) {
		recs := sampleRecords(1)
		recs[0].Raw = raw
		b := newBatch(recs, raw, 0)
		b.next()
		_, _ = b.lookup(fieldRaw, path)
		_, _ = b.lookup(fieldConfig, path)
		_, _ = b.lookup(fieldInput, path)
	})
}

// FuzzInstrument checks the stop-check rewriter never panics, and that whatever valid
// module it rewrites stays valid, with the same function and memory exports.
func FuzzInstrument(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/wat/*.wasm")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		_, _ = initialMemoryPages(wasm)
		out, err := instrument(wasm)
		if err != nil {
			if !errors.Is(err, errCannotInstrument) {
				t.Fatalf("error %v is not errCannotInstrument", err)
			}
			return
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			return // not valid to begin with
		}
		defer orig.Close(ctx)
		cm, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("a valid module became invalid: %v", err)
		}
		defer cm.Close(ctx)
		if len(cm.ExportedFunctions()) != len(orig.ExportedFunctions()) || len(cm.ExportedMemories()) != len(orig.ExportedMemories()) {
			t.Fatal("exports changed")
		}
	})
}
