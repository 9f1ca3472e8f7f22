package powerbi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Client calls the Power BI REST API. Its methods are safe for concurrent use.
type Client struct {
	cfg    Config
	base   *url.URL
	http   *http.Client
	tokens tokenSource
	log    *slog.Logger
	sleep  func(ctx context.Context, d time.Duration) error

	progress func(Progress)
	quota    *Quota      // plans admin requests against the service's limits (quota.go)
	journal  ScanJournal // records started and read scans (scanjournal.go)

	mu       sync.Mutex
	requests map[string]int64

	discovered atomic.Int64 // workspaces the last listing returned, before filters
	// scanSize is the length of the last scan result read, per workspace: the next
	// one's size hint when the service does not declare a length (a chunked answer).
	scanSize atomic.Int64
}

// Option configures a Client.
type Option func(*options)

type options struct {
	httpClient        *http.Client
	authClient        *http.Client
	rootCAs           *x509.CertPool
	instanceDiscovery *bool
	logger            *slog.Logger
	progress          func(Progress)
}

// WithHTTPClient sets the client for API calls (default: one trusting the system roots
// plus ca_file).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithAuthorityHTTPClient sets the client MSAL uses to reach the authority.
func WithAuthorityHTTPClient(c *http.Client) Option { return func(o *options) { o.authClient = c } }

// WithRootCAs sets the root CAs trusted for both the API and the authority instead of
// the system roots (ca_file adds to them).
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithInstanceDiscovery turns MSAL's authority validation against
// login.microsoftonline.com on or off. Default: on for the default authority host, off
// for any other host (an emulator or a private cloud).
func WithInstanceDiscovery(on bool) Option { return func(o *options) { o.instanceDiscovery = &on } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithProgress sets a function called as workspaces are discovered and batches finish.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// New builds a client for cfg (defaults applied, validated). With a service principal
// it sets up MSAL; the first token is fetched on the first call.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	base, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("api_url: %w", err)
	}
	pool := o.rootCAs
	if pool != nil {
		pool = pool.Clone()
	}
	if cfg.CAFile != "" {
		pemData, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", cfg.CAFile)
		}
	}
	transport := func() *http.Client {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		t.ResponseHeaderTimeout = 2 * time.Minute // a hung call is retried rather than awaited forever
		if pool != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		return &http.Client{Transport: t}
	}
	c := &Client{cfg: cfg, base: base, log: o.logger, progress: o.progress, requests: map[string]int64{}, sleep: sleepCtx}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.http = o.httpClient
	if c.http == nil {
		c.http = transport()
	}
	// Redirects are followed by Do, which re-adds the token.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc

	if !cfg.Credentials.Token.IsZero() {
		c.tokens = staticToken(cfg.Credentials.Token.Reveal())
		return c, nil
	}
	authClient := o.authClient
	if authClient == nil {
		authClient = transport()
	}
	discovery := strings.TrimRight(cfg.AuthorityHost, "/") == DefaultAuthorityHost
	if o.instanceDiscovery != nil {
		discovery = *o.instanceDiscovery
	}
	src, err := newMSALSource(&cfg, authClient, discovery)
	if err != nil {
		return nil, err
	}
	c.tokens = src
	return c, nil
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// Response is what Do tells about a successful call.
type Response struct {
	Status int
	Header http.Header
	// RequestID is the service's RequestId header, for support cases.
	RequestID string
}

// Location is the Location header.
func (r *Response) Location() string { return r.Header.Get("Location") }

// APIError is an error answer of the Power BI API.
type APIError struct {
	Endpoint  string // template, e.g. "GET /groups/{id}/datasets"
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (RequestId " + e.RequestID + ")")
	}
	return b.String()
}

// Refused reports whether the error means the caller may not use the endpoint (401 or
// 403 other than an expired token).
func (e *APIError) Refused() bool {
	return (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) && e.Code != "TokenExpired"
}

// Requests returns how many requests were sent per endpoint template (retries count).
func (c *Client) Requests() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.requests))
	for k, v := range c.requests {
		out[k] = v
	}
	return out
}

func (c *Client) count(endpoint string) {
	c.mu.Lock()
	c.requests[endpoint]++
	c.mu.Unlock()
}

// idSegment lists the collections whose next path segment is an id.
var idSegment = map[string]bool{
	"groups": true, "datasets": true, "reports": true, "dashboards": true, "dataflows": true, "refreshes": true,
	"scanStatus": true, "scanResult": true, "imports": true, "gateways": true, "datasources": true, "capacities": true,
	"apps": true, "pages": true, "tiles": true, "users": true,
}

// EndpointTemplate turns a method and path into the template requests are counted by:
// ids become {id} and the query is dropped, e.g. "GET /groups/{id}/datasets".
func EndpointTemplate(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		if idSegment[segs[i-1]] && !idSegment[segs[i]] {
			segs[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

type onceKey struct{}

// Once marks a context so that Do sends a call only once when the service fails (5xx) or
// the connection breaks: for calls that must not be repeated blindly, such as triggering
// a refresh, whose caller checks what happened instead. 429 and an expired token are
// still retried: the service did not act on those calls.
func Once(ctx context.Context) context.Context { return context.WithValue(ctx, onceKey{}, true) }

func once(ctx context.Context) bool { v, _ := ctx.Value(onceKey{}).(bool); return v }

// Do calls the API: path is relative to api_url (e.g. "groups/{g}/datasets" with real
// ids; a query is allowed), body is sent as JSON when not nil, and a JSON answer is
// decoded into out when out is not nil. Do retries 429 (after Retry-After), 5xx and
// broken connections with jittered exponential backoff, renews an expired token once,
// follows 307 redirects with the token, and waits only as long as ctx allows.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (*Response, error) {
	endpoint := EndpointTemplate(method, path)
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("%s: encoding the request: %w", endpoint, err)
		}
	}
	target := c.base.String() + "/" + strings.TrimLeft(path, "/")
	renewed := false
	redirects := 0
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", endpoint, err)
		}
		if err := c.quota.take(ctx, endpoint); err != nil { // quota.go
			return nil, fmt.Errorf("%s: %w", endpoint, err)
		}
		resp, err := c.send(ctx, method, target, payload, endpoint)
		var wait time.Duration
		switch {
		case err != nil:
			var ae *AuthError
			if errors.As(err, &ae) || ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", endpoint, err)
			}
			lastErr = fmt.Errorf("%s: %w", endpoint, redactURL(err))
			if once(ctx) {
				return nil, lastErr
			}
			wait = backoff(attempt)
			c.log.Debug("Power BI call failed; retrying", "endpoint", endpoint, "attempt", attempt, "error", lastErr.Error(), "wait", wait)
		case resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect:
			loc := resp.Header.Get("Location")
			drain(resp)
			next, rerr := c.redirectTarget(target, loc)
			if rerr != nil || redirects >= 5 {
				return nil, fmt.Errorf("%s: redirect to %q not followed: %v", endpoint, loc, rerr)
			}
			redirects++
			target = next
			attempt-- // a redirect is not a failed attempt
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			apiErr := decodeError(resp, endpoint)
			wait = retryAfter(resp.Header.Get("Retry-After"), attempt)
			if wait > c.cfg.Retry.MaxWait {
				return nil, fmt.Errorf("%w (Retry-After %s is longer than retry.max_wait %s)", apiErr, wait, c.cfg.Retry.MaxWait)
			}
			c.log.Warn("Power BI API throttled the call; waiting", "endpoint", endpoint, "retry_after", wait)
			lastErr = apiErr
		case resp.StatusCode >= 500:
			lastErr = decodeError(resp, endpoint)
			if once(ctx) {
				return nil, lastErr
			}
			wait = backoff(attempt)
			c.log.Debug("Power BI call failed; retrying", "endpoint", endpoint, "attempt", attempt, "error", lastErr.Error(), "wait", wait)
		case resp.StatusCode >= 400:
			apiErr := decodeError(resp, endpoint)
			if apiErr.Code == "TokenExpired" && !renewed {
				renewed = true
				c.tokens.renew()
				c.log.Info("Power BI token expired; renewing", "endpoint", endpoint)
				attempt--
				continue
			}
			return nil, apiErr
		default:
			r := &Response{Status: resp.StatusCode, Header: resp.Header, RequestID: resp.Header.Get("RequestId")}
			var rerr error
			sr, streaming := out.(streamReader)
			switch {
			case streaming:
				var body io.Reader = resp.Body
				if resp.ContentLength > 0 && resp.ContentLength <= math.MaxInt32 {
					body = hintedBody{resp.Body, int(resp.ContentLength)}
				}
				rerr = sr.read(body)
			case out != nil && resp.StatusCode != http.StatusNoContent:
				if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
					rerr = err
				}
			}
			drain(resp)
			if rerr == nil || !brokenRead(rerr) || ctx.Err() != nil {
				if streaming {
					*sr.err = rerr
					return r, nil
				}
				if rerr != nil {
					return r, fmt.Errorf("%s: decoding the answer: %w", endpoint, rerr)
				}
				return r, nil
			}
			// The connection broke while the answer was read: repeat the call.
			lastErr = fmt.Errorf("%s: reading the answer: %w", endpoint, rerr)
			wait = backoff(attempt)
			c.log.Debug("Power BI answer broke off; retrying", "endpoint", endpoint, "attempt", attempt, "error", lastErr.Error())
		}
		if attempt >= c.cfg.Retry.MaxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: %w (while waiting to retry after: %v)", endpoint, err, lastErr)
		}
	}
}

// brokenRead reports whether reading an answer failed because the connection broke
// (rather than because the answer was malformed), so the call is worth repeating.
func brokenRead(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &ne)
}

// DoStream is Do for large answers: on success it hands the open body to read, which
// must consume it (e.g. with a streaming decoder).
func (c *Client) DoStream(ctx context.Context, method, path string, read func(io.Reader) error) (*Response, error) {
	var streamErr error
	r, err := c.Do(ctx, method, path, nil, streamReader{read: read, err: &streamErr})
	if err == nil && streamErr != nil {
		return r, streamErr
	}
	return r, err
}

// hintedBody is a response body that says how long it is (snapshot.SizeHinter), so a
// large document is read into one buffer of its size.
type hintedBody struct {
	io.Reader
	n int
}

func (b hintedBody) SizeHint() int { return b.n }

// streamReader is an "out" for Do that reads the body itself.
type streamReader struct {
	read func(io.Reader) error
	err  *error
}

func (c *Client) send(ctx context.Context, method, target string, payload []byte, endpoint string) (*http.Response, error) {
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.count(endpoint)
	return c.http.Do(req)
}

// redirectTarget resolves a 307 Location; the token is only sent on to https hosts or
// to the API host itself.
func (c *Client) redirectTarget(current, loc string) (string, error) {
	if loc == "" {
		return "", errors.New("no Location header")
	}
	cur, err := url.Parse(current)
	if err != nil {
		return "", err
	}
	next, err := cur.Parse(loc)
	if err != nil {
		return "", err
	}
	if next.Scheme != "https" && next.Host != c.base.Host {
		return "", errors.New("refusing to send the token to a non-https host")
	}
	return next.String(), nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// decodeError reads {"error":{"code","message"}} or the bare {"message"} of a 429.
func decodeError(resp *http.Response, endpoint string) *APIError {
	defer drain(resp)
	e := &APIError{Endpoint: endpoint, Status: resp.StatusCode, RequestID: resp.Header.Get("RequestId")}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			PBI     *struct {
				Code string `json:"code"`
			} `json:"pbi.error"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &env) == nil {
		switch {
		case env.Error != nil:
			e.Code, e.Message = env.Error.Code, env.Error.Message
			if e.Code == "" && env.Error.PBI != nil {
				e.Code = env.Error.PBI.Code
			}
		default:
			e.Message = env.Message
		}
	} else if len(data) > 0 {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 300)]))
	}
	return e
}

// retryAfter reads Retry-After (seconds or an HTTP date); without one it backs off.
func retryAfter(v string, attempt int) time.Duration {
	if v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
			return time.Duration(secs * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0)
		}
	}
	return backoff(attempt)
}

// backoff is exponential from 500ms, capped at 30s, with full jitter on the upper half.
func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt-1, 6)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redactURL drops query strings from transport errors (they carry no secrets today, but
// a URL is not the place to find out).
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return fmt.Errorf("%s %s: %w", ue.Op, u, ue.Err)
	}
	return err
}
