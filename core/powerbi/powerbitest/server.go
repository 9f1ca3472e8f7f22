// Package powerbitest is an emulator of the Power BI REST API and of Entra ID's token
// endpoint: a real HTTP server on 127.0.0.1 that answers the regular and scanner
// endpoints the way the live service does, from a tenant held as a snapshot.Snapshot,
// with fault injection for throttling, errors, broken connections, slow and failed scans
// and expiring tokens. Tests, the engine's built-in sample pipeline and `pbisync
// emulate` run it.
package powerbitest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// APIPrefix is the path of the API base on the emulator, as on the live service.
const APIPrefix = "/v1.0/myorg"

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	// TenantID is the Entra ID tenant the authority answers for.
	TenantID string

	apiSrv, authSrv *http.Server
	apiURL, authURL string
	mux             *http.ServeMux
	pki             *pki

	clientID, clientSecret string
	apiToken               string // the static bearer token, never expires
	clientCert             *x509.Certificate
	clientCertPEM          []byte

	tmu sync.RWMutex // guards tenant and idx
	// rendered keeps the workspaces' scan JSON; whoever takes tmu to change the
	// tenant drops it before letting go.
	rendered renderCache
	tenant   *snapshot.Snapshot
	idx      *index
	// modifiedAt is when each workspace last changed (changes.go); rev numbers changes.
	modifiedAt map[string]time.Time
	rev        int
	started    time.Time

	mu            sync.Mutex
	tokens        map[string]time.Time
	tokenLifetime time.Duration
	requests      map[string]int64
	faults        []*Fault
	scans         map[string]*scan
	scanned       map[string]int // getInfo requests accepted, per workspace id (ScannedWorkspaces)
	scanPolls     int
	failScans     map[string]bool // workspace ids whose scans fail; "*" fails every scan
	refuseAdmin   bool
	failRefresh   map[string]bool // dataset ids whose refreshes fail; "*" fails every refresh
	maxRunning    int
	log           []Request
	endpoints     []string
	quirks        Quirks

	rf refreshes // the refreshes of datasets, with their own lock

	// quotas are enforced per endpoint (quota.go): accepted holds the times of the
	// requests each let through, throttled counts 429s.
	quotas    []Quota
	accepted  map[string][]time.Time
	throttled map[string]int64
}

// Request is one API call the emulator answered, for tests.
type Request struct {
	Endpoint string // template, e.g. "GET /groups/{id}/datasets"
	Path     string
	Status   int
}

// Option configures a Server.
type Option func(*settings)

type settings struct {
	apiAddr, authAddr string
	apiTLS            bool
	tokenLifetime     time.Duration
	scanPolls         int
	clientID, secret  string
	apiToken          string
	tenantID          string
	faults            []Fault
	failScans         []string
	failRefreshes     []string
	refuseAdmin       bool
	quotas            []Quota
	quirks            Quirks
}

// WithAddr sets the API listener's address (default 127.0.0.1:0, a free port).
func WithAddr(addr string) Option { return func(s *settings) { s.apiAddr = addr } }

// WithAuthorityAddr sets the authority listener's address (default 127.0.0.1:0).
func WithAuthorityAddr(addr string) Option { return func(s *settings) { s.authAddr = addr } }

// WithAPITLS serves the API over TLS with the emulator's CA too (default plain HTTP).
func WithAPITLS(on bool) Option { return func(s *settings) { s.apiTLS = on } }

// WithTokenLifetime sets how long issued tokens live (default 1h, as Entra ID).
func WithTokenLifetime(d time.Duration) Option { return func(s *settings) { s.tokenLifetime = d } }

// WithScanPolls sets how many scanStatus polls a scan takes to finish (default 2:
// Running, then Succeeded).
func WithScanPolls(n int) Option { return func(s *settings) { s.scanPolls = n } }

// WithClient sets the service principal's client id and secret the authority accepts;
// an empty value keeps the generated one.
func WithClient(clientID, secret string) Option {
	return func(s *settings) {
		if clientID != "" {
			s.clientID = clientID
		}
		if secret != "" {
			s.secret = secret
		}
	}
}

// WithAPIToken sets the static bearer token the API accepts besides the tokens the
// authority issues (default: a random one; see APIToken).
func WithAPIToken(token string) Option {
	return func(s *settings) {
		if token != "" {
			s.apiToken = token
		}
	}
}

// WithTenantID sets the Entra ID tenant id.
func WithTenantID(id string) Option { return func(s *settings) { s.tenantID = id } }

// WithFaults injects faults from the start (see AddFault).
func WithFaults(f ...Fault) Option { return func(s *settings) { s.faults = append(s.faults, f...) } }

// WithFailedScans makes scans that include any of these workspaces fail ("*": all).
func WithFailedScans(workspaceIDs ...string) Option {
	return func(s *settings) { s.failScans = append(s.failScans, workspaceIDs...) }
}

// WithFailedRefreshes makes every refresh of these datasets ("*": all) that no
// RefreshScript scripts end Failed, with FailedRefreshException as its serviceExceptionJson.
func WithFailedRefreshes(datasetIDs ...string) Option {
	return func(s *settings) { s.failRefreshes = append(s.failRefreshes, datasetIDs...) }
}

// WithRefusedAdmin makes every admin endpoint answer 403, as for a service principal
// that is not allowed to use the admin APIs.
func WithRefusedAdmin(on bool) Option { return func(s *settings) { s.refuseAdmin = on } }

// NewServer starts an emulator serving tenant (which it keeps and reads; see Tenant).
func NewServer(tenant *snapshot.Snapshot, opts ...Option) (*Server, error) {
	st := settings{apiAddr: "127.0.0.1:0", authAddr: "127.0.0.1:0", tokenLifetime: time.Hour, scanPolls: 2,
		clientID: newID(), secret: "emu-" + randHex(16), apiToken: "emu-static." + randHex(24), tenantID: newID()}
	for _, o := range opts {
		o(&st)
	}
	if tenant == nil {
		tenant = &snapshot.Snapshot{Version: snapshot.Version}
	}
	p, err := newPKI()
	if err != nil {
		return nil, fmt.Errorf("emulator certificates: %w", err)
	}
	cert, certPEM, err := newClientCert()
	if err != nil {
		return nil, fmt.Errorf("emulator client certificate: %w", err)
	}
	s := &Server{
		TenantID: st.tenantID, pki: p, mux: http.NewServeMux(),
		clientID: st.clientID, clientSecret: st.secret, apiToken: st.apiToken, clientCert: cert, clientCertPEM: certPEM,
		tenant: tenant, idx: buildIndex(tenant), modifiedAt: map[string]time.Time{}, started: time.Now().UTC(), tokens: map[string]time.Time{}, tokenLifetime: st.tokenLifetime,
		requests: map[string]int64{}, scans: map[string]*scan{}, scanned: map[string]int{}, scanPolls: st.scanPolls,
		failScans: map[string]bool{}, refuseAdmin: st.refuseAdmin, maxRunning: 16, quirks: st.quirks,
		quotas: st.quotas, accepted: map[string][]time.Time{}, throttled: map[string]int64{},
	}
	for _, id := range st.failScans {
		s.failScans[id] = true
	}
	s.failRefresh = map[string]bool{}
	for _, id := range st.failRefreshes {
		s.failRefresh[id] = true
	}
	for _, f := range st.faults {
		s.AddFault(f)
	}
	s.rf.skew.Store(int64(st.quirks.ClockSkew))
	s.registerAPI()
	s.mux.HandleFunc("POST /emulator/change", s.handleChange)

	apiLn, err := listen(st.apiAddr)
	if err != nil {
		return nil, err
	}
	authLn, err := listen(st.authAddr)
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{p.serverTLS}, MinVersion: tls.VersionTLS12}
	scheme := "http"
	if st.apiTLS {
		apiLn = tls.NewListener(apiLn, tlsConf)
		scheme = "https"
	}
	authLn = tls.NewListener(authLn, tlsConf)
	s.apiURL = scheme + "://" + apiLn.Addr().String()
	s.authURL = "https://" + authLn.Addr().String()
	s.apiSrv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.authSrv = &http.Server{Handler: s.authorityMux(), ReadHeaderTimeout: 10 * time.Second}
	go s.apiSrv.Serve(apiLn)
	go s.authSrv.Serve(authLn)
	return s, nil
}

func listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("emulator address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("emulator address %q: the emulator listens on loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	return ln, nil
}

// Close stops both listeners.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return errors.Join(shutdown(ctx, s.apiSrv), shutdown(ctx, s.authSrv))
}

func shutdown(ctx context.Context, srv *http.Server) error {
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

// URL is the API base, like https://api.powerbi.com/v1.0/myorg.
func (s *Server) URL() string { return s.apiURL + APIPrefix }

// AuthorityURL is the authority host, like https://login.microsoftonline.com; the
// tenant's authority is AuthorityURL()+"/"+TenantID.
func (s *Server) AuthorityURL() string { return s.authURL }

// CAPEM is the certificate (PEM) of the CA that signed the emulator's TLS certificates.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.pki.caPEM...) }

// RootCAs returns a pool holding only the emulator's CA.
func (s *Server) RootCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.pki.caPEM)
	return pool
}

// TLSClient returns an HTTP client that trusts the emulator's CA.
func (s *Server) TLSClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.pki.caPEM)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// Credentials are what the emulated service principal authenticates with.
type Credentials struct {
	ClientID     string
	ClientSecret string
	// CertificatePEM holds the certificate and its private key (PKCS#8, unencrypted).
	CertificatePEM []byte
}

// Credentials returns the service principal the authority accepts.
func (s *Server) Credentials() Credentials {
	return Credentials{ClientID: s.clientID, ClientSecret: s.clientSecret, CertificatePEM: append([]byte(nil), s.clientCertPEM...)}
}

// APIToken is a static bearer token the API accepts without a sign-in, as a Power BI
// client configured with a raw access token (dagster-powerbi's PowerBIToken, pbisync's
// `credentials: {token: ...}`) sends it. Unlike issued tokens it never expires, and
// ExpireTokens leaves it alone.
func (s *Server) APIToken() string { return s.apiToken }

// IssueToken returns a fresh access token valid for lifetime, as if the authority had
// issued it (for the static-token credential and for tests).
func (s *Server) IssueToken(lifetime time.Duration) string {
	tok := "emu." + randHex(24)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(lifetime)
	s.mu.Unlock()
	return tok
}

// TokenLifetime is the lifetime of tokens the authority issues now.
func (s *Server) TokenLifetime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenLifetime
}

// SetTokenLifetime changes the lifetime of tokens issued from now on.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	s.tokenLifetime = d
	s.mu.Unlock()
}

// ExpireTokens makes every token issued so far expired, as if an hour had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	past := time.Now().Add(-time.Second)
	for t := range s.tokens {
		s.tokens[t] = past
	}
	s.mu.Unlock()
}

// CheckToken checks the bearer token of r. It returns the status and error code the
// live service would answer with (401 for a missing or unknown token, 403 TokenExpired
// for an expired one), or 0 when the token is good.
func (s *Server) CheckToken(r *http.Request) (status int, code, message string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return http.StatusUnauthorized, "PowerBINotAuthorizedException", "Authorization header with a bearer token is required"
	}
	if tok == s.apiToken {
		return 0, "", ""
	}
	s.mu.Lock()
	exp, known := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case !known:
		return http.StatusUnauthorized, "PowerBINotAuthorizedException", "The access token is not valid"
	case time.Now().After(exp):
		return http.StatusForbidden, "TokenExpired", "Access token has expired, resubmit with a new access token"
	}
	return 0, "", ""
}

// Tenant calls fn with the tenant under the emulator's lock, so handlers registered with
// Handle can read or change it consistently. Call Reindex after adding or removing items.
func (s *Server) Tenant(fn func(t *snapshot.Snapshot)) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	fn(s.tenant)
}

// Reindex rebuilds the id lookups after the tenant changed; call it inside Tenant's fn.
func (s *Server) Reindex() { s.idx = buildIndex(s.tenant) }

// Requests returns how many calls each endpoint template answered (faults included),
// e.g. "GET /groups/{id}/datasets", plus the authority's endpoints.
func (s *Server) Requests() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Log returns the API calls answered so far, in order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetCounts clears Requests and Log.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.requests = map[string]int64{}
	s.log = nil
	s.mu.Unlock()
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.requests[endpoint]++
	s.mu.Unlock()
}

var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// Template turns a mux pattern such as "GET /v1.0/myorg/groups/{group}/datasets" into
// the endpoint template the emulator and client count by: "GET /groups/{id}/datasets".
func Template(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(path, APIPrefix)
	return method + " " + wildcard.ReplaceAllString(path, "{id}")
}

// Handle registers an API handler. pattern is a net/http pattern relative to the API
// base, e.g. "POST /groups/{group}/datasets/{dataset}/refreshes". The emulator checks
// the token, counts and logs the call and applies injected faults before h runs; h
// reads path values with r.PathValue.
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	full := method + " " + APIPrefix + path
	endpoint := Template(full)
	admin := strings.HasPrefix(path, "/admin/")
	s.mu.Lock()
	s.endpoints = append(s.endpoints, endpoint)
	s.mu.Unlock()
	s.mux.HandleFunc(full, func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w.Header().Set("RequestId", newID())
		defer func() {
			s.mu.Lock()
			s.requests[endpoint]++
			s.log = append(s.log, Request{Endpoint: endpoint, Path: r.URL.RequestURI(), Status: rec.status})
			s.mu.Unlock()
		}()
		if s.applyFault(endpoint, rec, r) {
			return
		}
		if status, code, msg := s.CheckToken(r); status != 0 {
			WriteError(rec, status, code, msg)
			return
		}
		s.mu.Lock()
		refused := admin && s.refuseAdmin
		s.mu.Unlock()
		if refused {
			WriteError(rec, http.StatusForbidden, "PowerBINotAuthorizedException", "The caller is not allowed to use the admin APIs")
			return
		}
		if s.throttle(endpoint, rec) {
			return
		}
		if s.takeLost(endpoint) {
			// Carry the call out, then lose the answer.
			h(&discardWriter{header: http.Header{}}, r)
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			rec.status = 0
			return
		}
		h(rec, r)
	})
}

// discardWriter takes an answer that will never be sent (a Lost fault).
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (for dropped-connection faults).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// WriteJSON writes v as the body of a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// WriteError writes the live service's error envelope {"error":{"code","message"}}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

// odata wraps a collection as the live service does.
func (s *Server) odata(r *http.Request, entity string, value any) map[string]any {
	return map[string]any{"@odata.context": s.apiURL + APIPrefix + "/$metadata#" + entity, "value": value}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Endpoints lists the endpoint templates the emulator serves, sorted.
func (s *Server) Endpoints() []string {
	s.mu.Lock()
	out := append([]string(nil), s.endpoints...)
	s.mu.Unlock()
	sort.Strings(out)
	return out
}
