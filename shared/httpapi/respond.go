package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/store"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 1 << 20

// statusOf maps the error codes to HTTP statuses: the one place that does.
var statusOf = map[fault.Code]int{
	fault.Invalid:         http.StatusBadRequest,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.NotFound:        http.StatusNotFound,
	fault.VersionConflict: http.StatusConflict,
	fault.InstanceLimit:   http.StatusConflict,
	fault.LicenseExpired:  http.StatusConflict,
	fault.PayloadTooLarge: http.StatusRequestEntityTooLarge,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.Internal:        http.StatusInternalServerError,
}

// errNoRoute answers paths and methods the API does not have.
var errNoRoute = fault.Errorf(fault.NotFound, "no such endpoint")

type errorBody struct {
	Code    fault.Code `json:"code"`
	Message string     `json:"message"`
}

// endpoint adapts a handler that returns an error: a nil error means the
// handler wrote its response, any other is written here in the API's format.
func (a *API) endpoint(h func(*API, http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(a, w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	fe := fault.As(err)
	if fe == nil && awsconf.Transient(err) {
		// DynamoDB, S3 or SES throttled or failed, and the SDK's retries
		// did not get past it.
		fe = &fault.Error{Code: fault.Unavailable, Message: "the service is busy; try again shortly"}
	}
	if fe == nil || fe.Code == fault.Internal {
		// The detail goes to the log, never to the client. A panic was
		// logged with its stack already.
		if fe == nil {
			a.cfg.Log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		}
		fe = &fault.Error{Code: fault.Internal, Message: "something went wrong on our side; try again later"}
	} else if fe.Code == fault.Unavailable {
		a.cfg.Log.WarnContext(r.Context(), "unavailable", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
	}
	body := map[string]any{"error": errorBody{Code: fe.Code, Message: fe.Message}}
	for k, v := range fe.Extra {
		body[k] = v
	}
	writeJSON(w, statusOf[fe.Code], body)
}

// writeMethodNotAllowed answers a method that the path's routes do not
// take: 405 with Allow, as HTTP asks, and the body of an invalid_request,
// the contract's code for a request the client must change. It is the one
// status that no error code maps to.
func writeMethodNotAllowed(w http.ResponseWriter, method string, allow []string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": errorBody{Code: fault.Invalid,
		Message: fmt.Sprintf("this endpoint does not take %s; it takes %s", method, strings.Join(allow, ", "))}})
}

// writeJSON writes v as the response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"response encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// decode reads a JSON request body into v: at most MaxBody bytes of UTF-8,
// one JSON value, no fields v does not have, each named exactly and once
// (see checkStrict). It is the one decoder of request bodies. Routes with a
// body take no query parameters: decode refuses any.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := noQuery(r); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fault.Errorf(fault.PayloadTooLarge, "the request body is larger than %d bytes", MaxBody)
		}
		return fault.Errorf(fault.Invalid, "the request body could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return fault.Errorf(fault.Invalid, "the request needs a JSON body")
	}
	if err := checkStrict(raw, reflect.TypeOf(v)); err != nil {
		return fault.Errorf(fault.Invalid, "the request body is not valid: %s", describeJSON(err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.Errorf(fault.Invalid, "the request body is not valid: %s", describeJSON(err))
	}
	if dec.More() {
		return fault.Errorf(fault.Invalid, "the request body holds more than one JSON value")
	}
	return nil
}

func describeJSON(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends too early"
	}
	var strict strictError
	if errors.As(err, &strict) {
		return string(strict)
	}
	return "it is not the JSON this endpoint takes"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	}
	return "a number"
}

// statusRecorder remembers the status a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recoverPanics answers a handler's panic as an internal error and logs it
// with its stack, so that no caller ever sees a bare 500 from the runtime.
// A response already begun is left as it is.
func (a *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's own way to abort a response
				panic(v)
			}
			a.cfg.Log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.status == 0 {
				a.writeError(w, r, fault.Errorf(fault.Internal, "panic"))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequests logs every request: method, path, status, duration, and the
// DynamoDB requests and items it took.
func (a *API) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, stats := store.WithStats(r.Context())
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		a.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)), slog.Int64("ddb_requests", stats.Requests.Load()),
			slog.Int64("ddb_items_read", stats.ItemsRead.Load()))
	})
}

// noQuery refuses a query string on a route that takes no parameters: an
// unknown parameter is a client's mistake worth saying so.
func noQuery(r *http.Request) error { return page.None(r.URL.RawQuery) }

// itemsOf is the body of a list that is not paged.
func itemsOf[T any](items []T) map[string][]T { return map[string][]T{"items": items} }
