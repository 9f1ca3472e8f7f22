package powerbitest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The authority half of the emulator: Entra ID's OpenID configuration and token
// endpoints for one tenant, over TLS, as MSAL's confidential client calls them.

func (s *Server) authorityMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfig)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	return mux
}

func (s *Server) handleOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	s.count("GET /{tenant}/v2.0/.well-known/openid-configuration")
	tenant := r.PathValue("tenant")
	if tenant != s.TenantID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	base := s.authURL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

const powerBIScope = "https://analysis.windows.net/powerbi/api/.default"

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.count("POST /{tenant}/oauth2/v2.0/token")
	if r.PathValue("tenant") != s.TenantID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", 90002, "Tenant not found.")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be read.")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	if !strings.Contains(" "+r.PostForm.Get("scope")+" ", " "+powerBIScope+" ") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", 70011, "The provided value for scope is not valid.")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID != s.clientID {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory.", clientID))
		return
	}
	tokenURL := s.authURL + "/" + s.TenantID + "/oauth2/v2.0/token"
	switch {
	case r.PostForm.Has("client_secret"):
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(s.clientSecret)) != 1 {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided.")
			return
		}
	case r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		if err := s.verifyAssertion(r.PostForm.Get("client_assertion"), tokenURL); err != nil {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation: "+err.Error())
			return
		}
	default:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain client_assertion or client_secret.")
		return
	}
	lifetime := s.TokenLifetime()
	token := s.IssueToken(lifetime)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(lifetime.Seconds()),
		"ext_expires_in": int(lifetime.Seconds()),
		"access_token":   token,
	})
}

// verifyAssertion checks MSAL's client assertion: a JWT signed (PS256, or RS256 as ADFS
// clients send) with the registered certificate's key, for this token endpoint.
func (s *Server) verifyAssertion(jwt, audience string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var header struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("signature is not base64url")
	}
	pub, ok := s.clientCert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("registered certificate has no RSA key")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "PS256":
		want := sha256.Sum256(s.clientCert.Raw)
		if header.X5tS256 != base64.StdEncoding.EncodeToString(want[:]) && header.X5tS256 != base64.RawURLEncoding.EncodeToString(want[:]) {
			return errors.New("x5t#S256 does not match a registered certificate")
		}
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		want := sha1.Sum(s.clientCert.Raw)
		if header.X5t != base64.StdEncoding.EncodeToString(want[:]) && header.X5t != base64.RawURLEncoding.EncodeToString(want[:]) {
			return errors.New("x5t does not match a registered certificate")
		}
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		return fmt.Errorf("unsupported alg %q", header.Alg)
	}
	if err != nil {
		return errors.New("bad signature")
	}
	now := time.Now().Unix()
	switch {
	case claims.Aud != audience:
		return fmt.Errorf("aud %q is not this token endpoint", claims.Aud)
	case claims.Iss != s.clientID || claims.Sub != s.clientID:
		return errors.New("iss and sub must be the client id")
	case claims.Exp < now:
		return errors.New("assertion expired")
	case claims.Nbf > now+300:
		return errors.New("assertion not yet valid")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeOAuthError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s", aadsts, desc),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newID(),
		"correlation_id":    newID(),
	})
}
