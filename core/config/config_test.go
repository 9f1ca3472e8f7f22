package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name     string            `yaml:"name" required:"true"`
	Count    int               `yaml:"count"`
	Ratio    float64           `yaml:"ratio"`
	On       bool              `yaml:"on"`
	Wait     time.Duration     `yaml:"wait"`
	Tags     map[string]string `yaml:"tags"`
	List     []inner           `yaml:"list"`
	Password Secret            `yaml:"password"`
	Inner    *inner            `yaml:"inner"`
}

type inner struct {
	A string `yaml:"a"`
}

func decode(doc string) (sample, error) {
	var s sample
	n, err := Parse("c.yaml", []byte(doc))
	if err != nil {
		return s, err
	}
	return s, Decode(n, &s)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"count: 1", `c.yaml:1:1: missing required key "name"`},
		{"name: x\ncount: many", `c.yaml:2:8: want a whole number, got "many"`},
		{"name: x\nratio: [1]", `c.yaml:2:8: want a number, got a list`},
		{"name: x\non: yes please", `c.yaml:2:5: want true or false`},
		{"name: x\nwait: 5 minutes", `c.yaml:2:7: want a duration`},
		{"name: x\ntags: [a]", `c.yaml:2:7: want a mapping, got a list`},
		{"name: x\ntags: {a: [1]}", `c.yaml:2:11: want a string, got a list`},
		{"name: x\nlist:\n  - a: 1\n  - b: 2", `c.yaml:4:5: unknown key "b" (valid keys: a)`},
		{"name: x\ninner: {a: 1, a: 2}", `c.yaml:2`},
		{"name: x\npassword: {v: 1}", `c.yaml:2:11: want a string (a secret`},
		{"name: x\nname: y", `c.yaml:2:1`},
	}
	for _, tt := range tests {
		_, err := decode(tt.doc)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.doc, err, tt.want)
		}
	}
}

func TestDecodeOK(t *testing.T) {
	t.Setenv("PBISYNC_TEST_PW", "hunter2")
	s, err := decode("name: x\ncount: 3\nratio: 2\non: true\nwait: 90s\ntags: {a: b}\nlist: [{a: z}]\npassword: ${env:PBISYNC_TEST_PW}\ninner: {a: q}\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 3 || s.Ratio != 2 || !s.On || s.Wait != 90*time.Second || s.Tags["a"] != "b" || s.List[0].A != "z" || s.Inner.A != "q" {
		t.Errorf("decoded %+v", s)
	}
	if s.Password.Reveal() != "hunter2" {
		t.Errorf("secret not decoded")
	}
}

func TestEnvDefaultAndStringType(t *testing.T) {
	t.Setenv("PBISYNC_TEST_NUM", "42")
	s, err := decode("name: ${env:PBISYNC_TEST_NUM}\ntags: {x: '${env:PBISYNC_TEST_NOPE:-fallback}'}")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "42" || s.Tags["x"] != "fallback" {
		t.Errorf("got %+v", s)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2")
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s, "wrapped", struct{ S Secret }{s})
	j, _ := json.Marshal(map[string]any{"s": s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), buf.String(), string(j)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
}
