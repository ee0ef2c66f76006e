// Package web serves the Customer Organizations page from the local server:
// the files that build.mjs writes to dist/ (committed, so that `go run
// ./infra/devserver` needs no Node.js), embedded in the binary, and the
// config.json the page reads when it starts.
//
// Deployed, the same files are static objects in the stack's web bucket
// behind CloudFront, next to a config.json for the identity provider
// (README, Deploy); the page is a client of the API like any other.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed dist
var dist embed.FS

// Config is the page's config.json.
type Config struct {
	// APIURL is the API's base URL; empty for the page's own origin.
	APIURL string `json:"apiUrl"`
	Auth   Auth   `json:"auth"`
}

// Auth says how the page signs in.
type Auth struct {
	// Mode is "dev" (a user picker over POST /dev/token, the local server
	// only) or "oidc" (the authorization code flow with PKCE).
	Mode string `json:"mode"`
	// Users are offered by the dev picker; any user id can be typed too.
	Users []DevUser `json:"users,omitempty"`
	// Issuer, ClientID, RedirectURI and Scope configure OpenID Connect.
	Issuer      string `json:"issuer,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	RedirectURI string `json:"redirectUri,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// DevUser is a user of the local server's data set, as the picker lists it.
type DevUser struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Organization string `json:"organization"`
	// OrganizationType is distributor, reseller or customer; Access the
	// level the user's roles grant on customer organizations.
	OrganizationType string `json:"organizationType"`
	Access           string `json:"access"`
}

// file is one file of the page, ready to serve.
type file struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
}

// Mount registers the page on mux: GET / (index.html), GET /config.json
// and GET /assets/<name> for each built asset, by exact path. Every other
// path is left to mux, which on the local server answers the API's JSON
// error.
func Mount(mux *http.ServeMux, cfg Config) error {
	files, err := Files()
	if err != nil {
		return err
	}
	for name, body := range files {
		f := &file{body: body, contentType: contentType(name), etag: etag(body)}
		pattern := "GET /" + name
		switch {
		case name == "index.html":
			// The page names its assets by content hash: it is read afresh,
			// and they are kept forever.
			pattern, f.cacheControl = "GET /{$}", "no-cache"
		case path.Dir(name) == "assets":
			f.cacheControl = "public, max-age=31536000, immutable"
		default:
			f.cacheControl = "no-cache"
		}
		mux.Handle(pattern, f)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	mux.Handle("GET /config.json", &file{body: raw, contentType: "application/json", cacheControl: "no-store", etag: etag(raw)})
	return nil
}

// Files returns the built page by path under dist/: index.html and the
// files under assets/.
func Files() (map[string][]byte, error) {
	files := make(map[string][]byte)
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		files[p[len("dist/"):]] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["index.html"]; !ok {
		return nil, fmt.Errorf("web: dist/index.html is missing; run make web")
	}
	return files, nil
}

func (f *file) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// contentType is the media type of a file of the page, by extension.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}
