package httpapi_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// crashTransport stands between the store and DynamoDB and, when armed,
// breaks the next call of one operation: before it reaches DynamoDB (the
// function died before writing) or after DynamoDB answered (it died after
// writing, before replying).
type crashTransport struct {
	base  http.RoundTripper
	op    atomic.Value // "" or e.g. "TransactWriteItems"
	after atomic.Bool
}

func (c *crashTransport) arm(op string, after bool) {
	c.after.Store(after)
	c.op.Store(op)
}

func (c *crashTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op, _ := c.op.Load().(string)
	if op == "" || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+op) {
		return c.base.RoundTrip(r)
	}
	c.op.Store("")
	if !c.after.Load() {
		return nil, errors.New("injected crash before the write")
	}
	res, err := c.base.RoundTrip(r)
	if err == nil {
		res.Body.Close()
	}
	return nil, errors.New("injected crash after the write")
}

// crashEnv is an env whose store's DynamoDB calls go through a crashTransport,
// with the SDK's retries off so that a broken call fails the request.
func crashEnv(t *testing.T) (*env, *crashTransport) {
	ct := &crashTransport{base: http.DefaultTransport}
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: ct}
		o.RetryMaxAttempts = 1
	})
	return newEnvOn(t, store.New(db, testenv.Table(t, db)), actionsDoc(t)), ct
}

// state is what a write may change on FULL-1 and FREE-10, seen by both
// partners that hold copies.
func (e *env) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, key := range []string{"FULL-1", "FREE-10"} {
		lic := e.license(t, "d1-viewer", key)
		deps, _ := lic["deployments"].([]any)
		active := 0
		for _, d := range deps {
			if obj(d)["active"] == true {
				active++
			}
		}
		note, _ := lic["partnerNote"].(map[string]any)
		b.WriteString(strings.Join([]string{key, "deployed", strconv.Itoa(num(lic["deployed"])), "active", strconv.Itoa(active),
			"events", strconv.Itoa(len(e.history(t, "d1-viewer", key))), "note", strconv.Itoa(num(note["version"]))}, " "))
		b.WriteString("\n")
	}
	for _, user := range []string{"d1-viewer", "r1-admin"} {
		r := e.call("POST", "/v1/reports", user, map[string]any{"all": true}).want(t, 201, "")
		b.WriteString(user + " report deployed " + strconv.Itoa(num(obj(obj(r.body["overview"])["products"])["deployed"])) + "\n")
	}
	return b.String()
}

// The Must-show: a crash injected between the parts of a write leaves nothing
// half-written. Each write is one transaction, so a crash before it changes
// nothing, and a crash after it leaves all of it, which the client's retry
// then finds done.
func TestCrashLeavesNothingHalfWrittenTx(t *testing.T) {
	t.Parallel()
	writes := []struct {
		name        string
		method      string
		path        string
		user        string
		body        any
		retryStatus int // the answer to the client's retry after a crash after the write
	}{
		{"activate", "POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": "crash"}, 200},
		{"deactivate", "DELETE", "/v1/licenses/FULL-1/activations/old-srv", "d1-viewer", nil, 204},
		{"note", "PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin", map[string]any{"text": "n", "version": 0}, 409},
	}
	for _, w := range writes {
		t.Run(w.name+"/crash before", func(t *testing.T) {
			e, ct := crashEnv(t)
			before := e.state(t)
			ct.arm("TransactWriteItems", false)
			if r := e.call(w.method, w.path, w.user, w.body); r.status < 500 {
				t.Fatalf("status %d with the write broken, want a 5xx", r.status)
			}
			if after := e.state(t); after != before {
				t.Errorf("a write that never reached DynamoDB changed the state:\nbefore:\n%safter:\n%s", before, after)
			}
			// Nothing is stuck: the same request now succeeds.
			if r := e.call(w.method, w.path, w.user, w.body); r.status >= 300 {
				t.Errorf("retry after the crash: status %d: %s", r.status, r.raw)
			}
		})
		t.Run(w.name+"/crash after", func(t *testing.T) {
			e, ct := crashEnv(t)
			ct.arm("TransactWriteItems", true)
			if r := e.call(w.method, w.path, w.user, w.body); r.status < 500 {
				t.Fatalf("status %d with the reply lost, want a 5xx", r.status)
			}
			crashed := e.state(t)

			// The same write on a fresh table, without a crash, gives the
			// same state: all of it was written.
			clean, _ := crashEnv(t)
			if r := clean.call(w.method, w.path, w.user, w.body); r.status >= 300 {
				t.Fatalf("clean write: %d %s", r.status, r.raw)
			}
			if want := clean.state(t); crashed != want {
				t.Errorf("state after a crash after the write:\n%swant the whole write:\n%s", crashed, want)
			}
			if r := e.call(w.method, w.path, w.user, w.body); r.status != w.retryStatus {
				t.Errorf("client's retry: status %d, want %d: %s", r.status, w.retryStatus, r.raw)
			}
			if after := e.state(t); after != crashed {
				t.Errorf("the retry changed the state again:\n%s\nwas:\n%s", after, crashed)
			}
		})
	}
}
