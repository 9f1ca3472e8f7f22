package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEmulatePrintsAPIToken runs `pbisync emulate` and calls the API with the static
// token it printed, as a client configured with a raw token (dagster-powerbi's
// PowerBIToken) does.
func TestEmulatePrintsAPIToken(t *testing.T) {
	out := &syncBuffer{}
	g := &globals{stdout: out, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	run := emulateCommand().flags(fs, g)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	line := regexp.MustCompile(`(?m)^\s*api_token:\s+(\S+)`)
	urlLine := regexp.MustCompile(`(?m)^\s*api_url:\s+(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "api_token:") || !strings.Contains(out.String(), "client_secret: ${env:") {
		if time.Now().After(deadline) {
			t.Fatalf("no api_token printed:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	tok, api := line.FindStringSubmatch(text), urlLine.FindStringSubmatch(text)
	if tok == nil || api == nil {
		t.Fatalf("api_token or api_url missing in:\n%s", text)
	}
	for _, c := range []struct {
		token string
		want  int
	}{{tok[1], http.StatusOK}, {tok[1] + "x", http.StatusUnauthorized}} {
		req, _ := http.NewRequest("GET", api[1]+"/groups", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /groups with token %q: status %d, want %d", c.token, resp.StatusCode, c.want)
		}
	}
}
