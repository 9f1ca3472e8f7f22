package sink

import (
	"strings"
	"testing"
	"time"
)

type testConfig struct {
	URL     string            `json:"url" required:"true"`
	Token   Secret            `json:"token"`
	Timeout Duration          `json:"timeout"`
	Retries int               `json:"retries"`
	Ratio   float64           `json:"ratio"`
	Headers map[string]string `json:"headers"`
	Tables  []struct {
		Name string `json:"name" required:"true"`
	} `json:"tables"`
	Nested *struct {
		On bool `json:"on"`
	} `json:"nested"`
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		in, path, msg string
	}{
		{`{"url":"u","token":"t","timeout":"5s","retries":2,"ratio":0.5,"headers":{"a":"b"},"tables":[{"name":"x"}],"nested":{"on":true}}`, "", ""},
		{`{}`, "", `missing required key "url"`},
		{`{"url":"u","retries":"2"}`, "retries", `want a whole number, got "2"`},
		{`{"url":"u","retries":2.5}`, "retries", `want a whole number, got 2.5`},
		{`{"url":"u","tables":[{"name":"x"},{}]}`, "tables.1", `missing required key "name"`},
		{`{"url":"u","tables":[{"name":"x","nme":1}]}`, "tables.0.nme", `unknown key "nme" (valid keys: name)`},
		{`{"url":"u","timeout":"soon"}`, "timeout", `want a duration such as 30s or 5m, got "soon"`},
		{`{"url":"u","token":5}`, "token", `a secret must be a string`},
		{`{"url":"u","headers":{"a":1}}`, "headers.a", `want a string, got 1`},
		{`{"url":"u","nested":{"on":"yes"}}`, "nested.on", `want true or false, got "yes"`},
		{`[1]`, "", `want a mapping, got a list`},
		{`{"url":`, "", `config is not valid JSON`},
	}
	for _, tc := range tests {
		var c testConfig
		err := DecodeStrict([]byte(tc.in), &c)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.in, err)
			}
			if c.Token.Reveal() != "t" || time.Duration(c.Timeout) != 5*time.Second || !c.Nested.On {
				t.Errorf("decoded %+v", c)
			}
			continue
		}
		ce, ok := err.(*ConfigError)
		if !ok {
			t.Errorf("%s: error %v (%T), want a *ConfigError", tc.in, err, err)
			continue
		}
		if strings.Join(ce.Path, ".") != tc.path || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("%s: got path %q msg %q, want %q %q", tc.in, strings.Join(ce.Path, "."), ce.Msg, tc.path, tc.msg)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	var c testConfig
	if err := DecodeStrict([]byte(`{"url":"u","token":"hunter2"}`), &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.Token.String(), c.Token.GoString(), c.Token.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatal("secret printed")
		}
	}
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add(`{"url":"u","tables":[{"name":"x"}],"timeout":"1s"}`)
	f.Add(`{"headers":{"a":"b"},"nested":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		var c testConfig
		_ = DecodeStrict([]byte(in), &c)
	})
}
