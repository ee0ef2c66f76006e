package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/partnerportal/licenses/shared/fault"
)

// router dispatches requests to the routes by the segments of the path as
// the client sent it. ServeMux cleans a path first and redirects to the
// clean one (//v1/me, /v1/./me, /v1/licenses/.. answer 301 or 307 with an
// HTML body); an API answers in its own format instead, and never
// redirects: a path no route has is 404 not_found, a route's value that
// is no id of any kind (".", "..", an escaped '/') is 400 invalid_request,
// and a method the route does not take is 405 with Allow. The routes keep
// ServeMux's pattern syntax and its PathValue, so handlers read
// r.PathValue("key") as they would under ServeMux.
type router struct {
	api    *API
	routes []mounted
}

// mounted is a route of the router.
type mounted struct {
	method string
	// segments are the path's literal segments and its {name} wildcards.
	segments []string
	handler  http.Handler
}

// add mounts a route. It panics, at start-up, on a pattern that ServeMux
// would refuse or that holds more than literal segments and {name}
// wildcards.
func (rt *router) add(method, path string, h http.Handler) {
	http.NewServeMux().Handle(method+" "+path, h) // ServeMux's checks of the pattern
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, s := range segments {
		if strings.ContainsAny(s, "{}") && (!strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") || strings.Contains(s, "...")) {
			panic(fmt.Sprintf("httpapi: route %s %s: the router takes whole-segment {name} wildcards only", method, path))
		}
	}
	rt.routes = append(rt.routes, mounted{method: method, segments: segments, handler: h})
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segments, err := segmentsOf(r.URL)
	if err != nil {
		rt.api.writeError(w, r, err)
		return
	}
	var (
		allow  []string
		best   *mounted
		values map[int]string
	)
	for i, m := range rt.routes {
		v, ok := m.match(segments)
		if !ok {
			continue
		}
		if m.method != r.Method && !(m.method == http.MethodGet && r.Method == http.MethodHead) {
			allow = append(allow, m.method)
			continue
		}
		// As with ServeMux, the most specific route wins: the one with
		// the fewest wildcards.
		if best == nil || len(v) < len(values) {
			best, values = &rt.routes[i], v
		}
	}
	if best != nil {
		for i, name := range values {
			v := segments[i]
			if v == "." || v == ".." || strings.Contains(v, "/") {
				rt.api.writeError(w, r, fault.Errorf(fault.Invalid, "the path's %s is not of the form of one: it may not be '.', '..' or contain '/'", name))
				return
			}
			r.SetPathValue(name, v)
		}
		best.handler.ServeHTTP(w, r)
		return
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		writeMethodNotAllowed(w, r.Method, allow)
		return
	}
	rt.api.writeError(w, r, errNoRoute)
}

// match reports whether the path's segments fit the route, with the names
// of its wildcards by segment.
func (m mounted) match(segments []string) (map[int]string, bool) {
	if len(segments) != len(m.segments) {
		return nil, false
	}
	var values map[int]string
	for i, s := range m.segments {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			if segments[i] == "" {
				return nil, false
			}
			if values == nil {
				values = make(map[int]string, 2)
			}
			values[i] = strings.TrimSuffix(name, "}")
			continue
		}
		if segments[i] != s {
			return nil, false
		}
	}
	return values, true
}

// segmentsOf splits the path as sent at its unescaped slashes and
// unescapes each segment: an escaped slash stays inside its segment, where
// no id may have it.
func segmentsOf(u *url.URL) ([]string, error) {
	raw := u.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		return nil, errNoRoute
	}
	segments := strings.Split(raw[1:], "/")
	for i, s := range segments {
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "the path is not well-formed: a '%%' must start an escape of two hex digits")
		}
		segments[i] = v
	}
	return segments, nil
}
