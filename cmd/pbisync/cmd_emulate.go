package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// faultFlags collects repeated --fault values.
type faultFlags []powerbitest.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f)) }

func (f *faultFlags) Set(v string) error {
	fault, err := powerbitest.ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

func emulateCommand() *command {
	return &command{
		name:    "emulate",
		summary: "Run the Power BI API and Entra ID emulator on loopback until interrupted.\nIt prints the powerbi source settings a pipeline needs to read from it.",
		usage:   "[flags]",
		flags: func(fs *flag.FlagSet, g *globals) func(ctx context.Context, args []string) error {
			addr := fs.String("addr", "127.0.0.1:0", "API listen address (loopback only; port 0 picks a free one)")
			authAddr := fs.String("authority-addr", "127.0.0.1:0", "Entra ID authority listen address (TLS; loopback only)")
			apiTLS := fs.Bool("api-tls", false, "serve the API over TLS too (trusted through the same CA file)")
			tenant := fs.String("tenant", "sample", "tenant to serve: sample, generated, or a path to a snapshot or scanResult file")
			seed := fs.Int64("seed", 1, "seed of a generated tenant")
			size := fs.String("size", "small", "shape of a generated tenant: small (10 workspaces) or large (1,000 workspaces, 1,000,000 columns)")
			workspaces := fs.Int("workspaces", 0, "number of workspaces of a generated tenant (overrides --size's)")
			dir := fs.String("dir", "", "directory for the CA certificate, client secret and certificate (default: a temporary directory removed on exit)")
			secretEnv := fs.String("secret-env", "PBISYNC_EMULATOR_SECRET", "environment variable holding the client secret; when set, the emulator accepts its value")
			tokenLifetime := fs.Duration("token-lifetime", time.Hour, "lifetime of issued tokens")
			scanPolls := fs.Int("scan-polls", 2, "scanStatus polls a scan takes to succeed")
			failScans := fs.String("fail-scans", "", "comma-separated workspace ids whose scans fail (* for all)")
			refuseAdmin := fs.Bool("refuse-admin", false, "answer 403 on admin endpoints (as for a principal without admin API access)")
			quotas := fs.Bool("quotas", false, "enforce the admin APIs' documented hourly limits per tenant (429 with Retry-After past them)")
			failRefreshes := fs.String("fail-refreshes", "", "comma-separated semantic model ids whose refreshes end Failed (* for all)")
			fabric := fs.Bool("fabric", false, "add Microsoft Fabric content: Lakehouses, Warehouses, SQL endpoints, Direct Lake models, dataflows with definitions, datamarts")
			var faults faultFlags
			var quirks powerbitest.Quirks
			fs.Func("quirk", "answer as the live service was recorded to, repeatable: "+strings.Join(powerbitest.QuirkNames, ", ")+
				"\n(see core/powerbi/powerbitest/testdata/QUIRKS.md)", func(v string) error { return powerbitest.ParseQuirk(v, &quirks) })
			fs.Var(&faults, "fault", "inject a fault, repeatable: KIND[:COUNT][@ENDPOINT][,retry-after=D][,status=N]\nKIND is throttle, error, drop, redirect, truncate or lost; e.g. 'throttle:3@GET /admin/groups,retry-after=2s'")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments: %s", strings.Join(args, " "))
				}
				t, err := emulatorTenant(*tenant, *seed, *size, *workspaces)
				if err != nil {
					return err
				}
				if *fabric {
					t = powerbitest.AddFabric(t)
				}
				opts := []powerbitest.Option{
					powerbitest.WithAddr(*addr), powerbitest.WithAuthorityAddr(*authAddr), powerbitest.WithAPITLS(*apiTLS),
					powerbitest.WithTokenLifetime(*tokenLifetime), powerbitest.WithScanPolls(*scanPolls),
					powerbitest.WithRefusedAdmin(*refuseAdmin), powerbitest.WithFaults(faults...), powerbitest.WithQuirks(quirks),
				}
				if *quotas {
					opts = append(opts, powerbitest.WithQuotas(powerbitest.DocumentedQuotas()...))
				}
				if *failScans != "" {
					opts = append(opts, powerbitest.WithFailedScans(strings.Split(*failScans, ",")...))
				}
				if *failRefreshes != "" {
					opts = append(opts, powerbitest.WithFailedRefreshes(strings.Split(*failRefreshes, ",")...))
				}
				if v := os.Getenv(*secretEnv); v != "" {
					opts = append(opts, powerbitest.WithClient("", v))
				}
				outDir := *dir
				if outDir == "" {
					if outDir, err = os.MkdirTemp("", "pbisync-emulator-"); err != nil {
						return err
					}
					defer os.RemoveAll(outDir)
				} else if err := os.MkdirAll(outDir, 0o700); err != nil {
					return err
				}
				srv, err := powerbitest.NewServer(t, opts...)
				if err != nil {
					return usagef("%v", err)
				}
				defer srv.Close()
				return serveEmulator(ctx, g, srv, outDir, *secretEnv, len(t.Workspaces))
			}
		},
	}
}

func emulatorTenant(name string, seed int64, size string, workspaces int) (*snapshot.Snapshot, error) {
	switch name {
	case "sample":
		return powerbitest.SampleTenant(), nil
	case "generated":
		var sz powerbitest.Size
		switch size {
		case "small":
			sz = powerbitest.SmallSize()
		case "large":
			sz = powerbitest.LargeSize()
		default:
			return nil, usagef("--size must be small or large, got %q", size)
		}
		if workspaces < 0 {
			return nil, usagef("--workspaces must not be negative")
		}
		if workspaces > 0 {
			sz.Workspaces = workspaces
		}
		return powerbitest.Generate(seed, sz), nil
	}
	s, err := snapshot.Load(name)
	if err != nil {
		return nil, usagef("--tenant must be sample, generated or a snapshot file: %v", err)
	}
	return s, nil
}

func serveEmulator(ctx context.Context, g *globals, srv *powerbitest.Server, dir, secretEnv string, workspaces int) error {
	cr := srv.Credentials()
	caFile := filepath.Join(dir, "ca.pem")
	secretFile := filepath.Join(dir, "client_secret")
	certFile := filepath.Join(dir, "client_cert.pem")
	for _, f := range []struct {
		path string
		data []byte
	}{{caFile, srv.CAPEM()}, {secretFile, []byte(cr.ClientSecret)}, {certFile, cr.CertificatePEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return err
		}
	}
	secretHint := fmt.Sprintf("export %s=\"$(cat %s)\"", secretEnv, secretFile)
	if os.Getenv(secretEnv) == cr.ClientSecret {
		secretHint = secretEnv + " is set; the emulator accepts its value"
	}
	// Each list is printed in order: a new setting is one more entry.
	settings := []emulatorSetting{
		{"api_url", srv.URL()},
		{"authority_host", srv.AuthorityURL()},
		{"tenant_id", srv.TenantID},
		{"client_id", cr.ClientID},
		{"client secret", secretHint},
		{"certificate", certFile + " (certificate and key, for certificate_file)"},
		{"CA file", caFile},
		{"change workspaces", "POST " + strings.TrimSuffix(srv.URL(), powerbitest.APIPrefix) + "/emulator/change?modify=N&delete=N&add=N&rename=N"},
		{"api_token", srv.APIToken() + " (a static bearer token, for any Power BI client: credentials: {token: ...})"},
	}
	source := []emulatorSetting{
		{"api_url", srv.URL()},
		{"authority_host", srv.AuthorityURL()},
		{"tenant_id", srv.TenantID},
		{"ca_file", caFile},
	}
	credentials := []emulatorSetting{
		{"client_id", cr.ClientID},
		{"client_secret", "${env:" + secretEnv + "}"},
	}
	printEmulator(g.stdout, workspaces, settings, source, credentials, secretHint)
	g.logger.Info("emulator listening", "api_url", srv.URL(), "authority_host", srv.AuthorityURL())
	<-ctx.Done()
	g.logger.Info("emulator stopping", "requests", total(srv.Requests()))
	return nil
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// emulatorSetting is one line of what `pbisync emulate` prints.
type emulatorSetting struct{ key, value string }

// printEmulator prints the emulator's settings and a whole pipeline that syncs from it
// as printed: its source, an output, and the secret's variable to export first.
func printEmulator(w io.Writer, workspaces int, settings, source, credentials []emulatorSetting, secretHint string) {
	fmt.Fprintf(w, "Power BI emulator running with %d workspaces (Ctrl-C to stop).\n\n", workspaces)
	for _, st := range settings {
		fmt.Fprintf(w, "  %-16s %s\n", st.key+":", st.value)
	}
	fmt.Fprintf(w, "\nA pipeline that syncs from it. Save the lines from \"version: 1\" to the blank line as\n"+
		"emulator.yaml, then, in another shell:\n\n  %s\n  pbisync sync -f emulator.yaml\n\n", secretHint)
	fmt.Fprintf(w, "version: 1\nsources:\n  - name: emulator\n    powerbi:\n")
	for _, st := range source {
		fmt.Fprintf(w, "      %s: %s\n", st.key, st.value)
	}
	fmt.Fprintf(w, "      credentials:\n")
	for _, st := range credentials {
		fmt.Fprintf(w, "        %s: %s\n", st.key, st.value)
	}
	fmt.Fprintf(w, "outputs:\n  - name: specs\n    jsonl: {path: out/specs.jsonl, format: specs}\n\n")
	fmt.Fprintf(w, "The emulator is a real HTTP server: a sync against it pays for HTTP, the TLS sign-in and\n"+
		"JSON encoding and decoding for real, as against the service (less the network's latency),\n"+
		"so it is slower than a sync from a snapshot file, which calls no API.\n")
}
