package datahub

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzTrim: whatever a crash left of a DataHub file, the resumed file is a prefix of it
// that, closed with "\n]\n", is a JSON array, and the item count matches it.
func FuzzTrim(f *testing.F) {
	f.Add([]byte("["))
	f.Add([]byte("[\n{\"a\":1},\n{\"b\":2}"))
	f.Add([]byte("[\n{\"a\":1},\n{\"b\":"))
	f.Add([]byte("[\n{\"a\":1},"))
	f.Add([]byte("not an array"))
	f.Add([]byte(""))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "mcps.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		fe := &fileEmitter{}
		if err := fe.trim(file); err != nil {
			t.Fatal(err)
		}
		kept, _ := os.ReadFile(path)
		if !bytes.HasPrefix(data, kept) {
			t.Fatalf("trim kept %q, not a prefix of %q", kept, data)
		}
		if len(kept) == 0 {
			return // the emitter starts the array again
		}
		// Items are written as ",\n{...}" after "[": only such files must close into
		// an array; anything else (not written by this sink) still ends with a whole item.
		if !wellFormedPrefix(data) {
			return
		}
		var items []json.RawMessage
		if err := json.Unmarshal(append(kept, "\n]\n"...), &items); err != nil {
			t.Fatalf("kept %q does not close into an array: %v", kept, err)
		}
		if len(items) != fe.count {
			t.Fatalf("count %d, array has %d", fe.count, len(items))
		}
	})
}

// wellFormedPrefix reports whether data is what the emitter writes, up to a crash: "["
// then items "\n{...}" joined by ",", the last possibly cut anywhere.
func wellFormedPrefix(data []byte) bool {
	if len(data) == 0 || data[0] != '[' {
		return false
	}
	lines := bytes.Split(data[1:], []byte("\n"))
	if len(lines[0]) != 0 {
		return false
	}
	for i, l := range lines[1:] {
		last := i == len(lines)-2
		item := l
		if !last {
			var ok bool
			if item, ok = bytes.CutSuffix(l, []byte(",")); !ok {
				return false
			}
		}
		if !last && !(json.Valid(item) && bytes.HasPrefix(item, []byte("{"))) {
			return false
		}
		if bytes.ContainsAny(item, "\n") {
			return false
		}
	}
	return true
}
