package main

import (
	"net/http"
	"path"
	"strings"
)

// apiPaths sends every request whose path begins with /v1 (after any
// number of slashes), or cleans to one that does, to the API, and the rest to mux. A ServeMux cleans a path before it
// matches it and redirects to the clean one, so //v1/me or
// /v1/licenses/.. would be answered with a redirect and an HTML body
// before the API could answer them in its format; the API takes them as
// sent (httpapi's router).
func apiPaths(api http.Handler, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if underV1(r.URL.Path) || underV1(path.Clean(r.URL.Path)) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// underV1 reports whether the path's first segment, after any slashes, is v1.
func underV1(p string) bool {
	p = strings.TrimLeft(p, "/")
	return p == "v1" || strings.HasPrefix(p, "v1/")
}
