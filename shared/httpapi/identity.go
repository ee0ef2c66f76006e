package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/partnerportal/licenses/shared/fault"
)

type subjectKey struct{}

// WithSubject returns a context that carries the caller's identity: the sub
// claim of a token that has already been verified.
func WithSubject(ctx context.Context, sub string) context.Context {
	return context.WithValue(ctx, subjectKey{}, sub)
}

// Subject returns the verified sub claim of the request, or "".
func Subject(ctx context.Context) string {
	s, _ := ctx.Value(subjectKey{}).(string)
	return s
}

// Tokens issues and verifies the short-lived HS256 JWTs of the local server.
// On AWS, API Gateway's JWT authorizer verifies the identity provider's
// tokens instead, and the handlers only ever see the sub claim.
type Tokens struct {
	key []byte
	now func() time.Time
}

// NewTokens returns a token issuer with the given secret key.
func NewTokens(key []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, now: now}
}

type claims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Issue returns a token for sub that expires after ttl.
func (t *Tokens) Issue(sub string, ttl time.Duration) string {
	now := t.now()
	body, _ := json.Marshal(claims{Sub: sub, Iat: now.Unix(), Exp: now.Add(ttl).Unix()})
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	return signing + "." + base64.RawURLEncoding.EncodeToString(t.sign(signing))
}

func (t *Tokens) sign(s string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// Verify checks a token's header, signature and expiry and returns its sub.
func (t *Tokens) Verify(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return "", errors.New("not an HS256 JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, t.sign(parts[0]+"."+parts[1])) {
		return "", errors.New("bad signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("bad claims")
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil || c.Sub == "" {
		return "", errors.New("bad claims")
	}
	if !t.now().Before(time.Unix(c.Exp, 0)) {
		return "", errors.New("expired")
	}
	return c.Sub, nil
}

// Authenticate checks the bearer token of every request as API Gateway's JWT
// authorizer does, answering 401 without one, and passes the sub claim on in
// the context.
func (t *Tokens) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r.Header)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": errorBody{Code: fault.Unauthenticated, Message: err.Error()}})
			return
		}
		sub, err := t.Verify(token)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": errorBody{Code: fault.Unauthenticated,
				Message: "the token is not valid: " + err.Error()}})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSubject(r.Context(), sub)))
	})
}

// errAmbiguousCredentials refuses a request with more than one credential:
// two Authorization headers, or one of several comma-joined values (API
// Gateway joins repeated headers so). Which one a server would take is
// anybody's guess, so it takes none.
var errAmbiguousCredentials = errors.New("send one Authorization header with one credential")

// bearerToken returns the token of the request's one Authorization header.
// The scheme is Bearer in any case, as RFC 7235 has auth-schemes
// case-insensitive.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) > 1 || (len(values) == 1 && strings.Contains(values[0], ",")) {
		return "", errAmbiguousCredentials
	}
	if len(values) == 1 {
		scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
		if token = strings.TrimSpace(token); ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			return token, nil
		}
	}
	return "", errors.New("sign in: send Authorization: Bearer <token>")
}

// oneCredential answers 401 to a request with more than one credential,
// whoever checked them: on AWS, API Gateway's authorizer took one of them.
func (a *API) oneCredential(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := bearerToken(r.Header); errors.Is(err, errAmbiguousCredentials) {
			a.writeError(w, r, fault.Errorf(fault.Unauthenticated, "%s", err))
			return
		}
		next.ServeHTTP(w, r)
	})
}
