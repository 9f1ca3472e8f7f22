package powerbi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// tokenSource gives the bearer token for the next request. renew drops any cached token
// so the next token call fetches a new one.
type tokenSource interface {
	token(ctx context.Context) (string, error)
	renew()
}

type staticToken string

func (t staticToken) token(context.Context) (string, error) { return string(t), nil }
func (t staticToken) renew()                                {}

// msalSource asks MSAL for a token on every request: MSAL answers from its cache and
// renews a token close to expiry, so long syncs and refresh polls keep working.
type msalSource struct {
	authority, clientID string
	cred                confidential.Credential
	opts                []confidential.Option

	mu     sync.Mutex
	client *confidential.Client
}

var powerBIScopes = []string{"https://analysis.windows.net/powerbi/api/.default"}

func newMSALSource(cfg *Config, httpClient *http.Client, instanceDiscovery bool) (*msalSource, error) {
	cr := cfg.Credentials
	var cred confidential.Credential
	var err error
	switch {
	case !cr.ClientSecret.IsZero():
		cred, err = confidential.NewCredFromSecret(cr.ClientSecret.Reveal())
	default:
		pemData := []byte(cr.CertificatePEM.Reveal())
		if cr.CertificateFile != "" {
			pemData, err = os.ReadFile(cr.CertificateFile)
			if err != nil {
				return nil, fmt.Errorf("credentials.certificate_file: %w", err)
			}
		}
		certs, key, perr := confidential.CertFromPEM(pemData, cr.CertificatePassword.Reveal())
		if perr != nil {
			// MSAL's message does not include the password; still, say only what failed.
			return nil, fmt.Errorf("credentials: the certificate could not be read (want PEM with a CERTIFICATE and a PRIVATE KEY block; check certificate_password): %w", perr)
		}
		cred, err = confidential.NewCredFromCert(certs, key)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	opts := []confidential.Option{confidential.WithHTTPClient(httpClient)}
	if !instanceDiscovery {
		opts = append(opts, confidential.WithInstanceDiscovery(false))
	}
	m := &msalSource{
		authority: strings.TrimRight(cfg.AuthorityHost, "/") + "/" + cfg.TenantID,
		clientID:  cr.ClientID, cred: cred, opts: opts,
	}
	if _, err := m.get(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *msalSource) get() (*confidential.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil {
		c, err := confidential.New(m.authority, m.clientID, m.cred, m.opts...)
		if err != nil {
			return nil, fmt.Errorf("authority %s: %w", m.authority, err)
		}
		m.client = &c
	}
	return m.client, nil
}

func (m *msalSource) token(ctx context.Context) (string, error) {
	c, err := m.get()
	if err != nil {
		return "", err
	}
	res, err := c.AcquireTokenByCredential(ctx, powerBIScopes)
	if err != nil {
		return "", &AuthError{Authority: m.authority, ClientID: m.clientID, Err: err}
	}
	return res.AccessToken, nil
}

// renew starts over with an empty token cache: the service said the token expired
// although MSAL still held it as valid (clock skew, revoked token).
func (m *msalSource) renew() {
	m.mu.Lock()
	m.client = nil
	m.mu.Unlock()
}

// AuthError is a failure to get a token from Entra ID.
type AuthError struct {
	Authority, ClientID string
	Err                 error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("getting a token from %s for client %s: %v", e.Authority, e.ClientID, summarizeAuthError(e.Err))
}

func (e *AuthError) Unwrap() error { return e.Err }

// summarizeAuthError keeps MSAL's long error to its first meaningful line: the AADSTS
// code and description the authority sent.
func summarizeAuthError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "AADSTS"); i >= 0 {
		rest := msg[i:]
		if j := strings.IndexAny(rest, "\"\n"); j > 0 {
			rest = rest[:j]
		}
		return strings.TrimSpace(rest)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}
