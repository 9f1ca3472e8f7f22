package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// TestSecretsStayOut runs every command that touches credentials against the emulator,
// at debug level and with a wrong secret too, and looks for the secret and the token in
// everything pbisync wrote: logs, standard output, output files, the snapshot, the state.
func TestSecretsStayOut(t *testing.T) {
	emu, err := powerbitest.NewServer(powerbitest.SampleTenant())
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, emu.CAPEM(), 0o644)
	cr := emu.Credentials()
	token := emu.IssueToken(time.Hour)
	t.Setenv("PBISYNC_TEST_SECRET", cr.ClientSecret)
	t.Setenv("PBISYNC_TEST_TOKEN", token)
	t.Setenv("PBISYNC_TEST_CERT", string(cr.CertificatePEM))
	pipelineFor := func(creds string) string {
		return `version: 1
state_dir: state
sources:
` + emulatorSource(emu, ca, creds, "      scanner: {poll_interval: 20ms}\n") + `outputs:
  - name: events
    jsonl: {path: events.jsonl}
  - name: catalog
    sqlite: {path: catalog.db}
refresh:
  select: [{name: Inventory}]
  poll: {initial: 50ms, max: 200ms}
`
	}
	secrets := []string{cr.ClientSecret, token, "PRIVATE KEY", strings.Split(string(cr.CertificatePEM), "\n")[1]}
	runs := []struct {
		name, creds string
		args        []string
		wantCode    int
	}{
		{"secret run", "{client_id: " + cr.ClientID + ", client_secret: '${env:PBISYNC_TEST_SECRET}'}", []string{"run", "--log-level", "debug"}, exitOK},
		{"certificate sync", "{client_id: " + cr.ClientID + ", certificate_pem: '${env:PBISYNC_TEST_CERT}'}", []string{"sync", "--log-level", "debug"}, exitOK},
		{"token snapshot", "{token: '${env:PBISYNC_TEST_TOKEN}'}", []string{"snapshot", "save", "-o", filepath.Join(dir, "snap.json"), "--log-level", "debug"}, exitOK},
		{"wrong secret", "{client_id: " + cr.ClientID + ", client_secret: '${env:PBISYNC_TEST_SECRET}x'}", []string{"sync", "--log-level", "debug"}, exitError},
		{"json logs", "{client_id: " + cr.ClientID + ", client_secret: '${env:PBISYNC_TEST_SECRET}'}", []string{"sync", "--log-format", "json", "--log-level", "debug"}, exitOK},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			f := filepath.Join(dir, "pipeline.yaml")
			os.WriteFile(f, []byte(pipelineFor(r.creds)), 0o644)
			code, out, errOut := cli(t, append(r.args, "-f", f)...)
			if code != r.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, r.wantCode, errOut)
			}
			texts := map[string]string{"stdout": out, "stderr": errOut}
			filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() && !strings.HasSuffix(p, "ca.pem") && !strings.HasSuffix(p, "pipeline.yaml") {
					b, _ := os.ReadFile(p)
					texts[p] = string(b)
				}
				return nil
			})
			if r.name == "token snapshot" && texts[filepath.Join(dir, "snap.json")] == "" {
				t.Error("no snapshot written")
			}
			for where, text := range texts {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s contains a secret (%.12s...)", where, s)
					}
				}
			}
			if r.name == "wrong secret" && !strings.Contains(errOut, "AADSTS") {
				t.Errorf("the sign-in error is not reported: %s", errOut)
			}
		})
	}
}
