package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/partnerportal/licenses/shared/dataset"
)

// actionsDoc is a small world for tests that write: distributors d1 and d2,
// reseller r1 selling under d1, customers c1 (d1 through r1) with sub-org
// c1s, and c2 (d2).
func actionsDoc(t testing.TB) dataset.Document {
	t.Helper()
	const doc = `{
 "products": [
  {"id":"core","name":"MetaDefender Core","category":"on_prem"},
  {"id":"cloud","name":"MetaDefender Cloud","category":"cloud_service"},
  {"id":"ita","name":"MetaDefender IT Access","category":"on_prem","visibleToPartners":false}],
 "organizations": [
  {"id":"d1","name":"Dist One","type":"distributor"},
  {"id":"d2","name":"Dist Two","type":"distributor"},
  {"id":"r1","name":"Res One","type":"reseller"},
  {"id":"c1","name":"Customer One","type":"customer","distributorId":"d1","resellerId":"r1"},
  {"id":"c1s","name":"Customer One Sub","type":"customer","parentId":"c1"},
  {"id":"c2","name":"Customer Two","type":"customer","distributorId":"d2"}],
 "roles": [
  {"id":"d1-full","organizationId":"d1","name":"Admin","permissions":{"license_management.customer_organizations":"full"}},
  {"id":"d1-read","organizationId":"d1","name":"Viewer","permissions":{"license_management.customer_organizations":"read"}},
  {"id":"d2-full","organizationId":"d2","name":"Admin","permissions":{"license_management.customer_organizations":"full"}},
  {"id":"r1-full","organizationId":"r1","name":"Admin","permissions":{"license_management.customer_organizations":"full"}}],
 "users": [
  {"id":"d1-admin","email":"a@d1.example","name":"A","organizationId":"d1","roleIds":["d1-full"]},
  {"id":"d1-admin2","email":"b@d1.example","name":"B","organizationId":"d1","roleIds":["d1-full"]},
  {"id":"d1-viewer","email":"v@d1.example","name":"V","organizationId":"d1","roleIds":["d1-read"]},
  {"id":"d2-admin","email":"a@d2.example","name":"A2","organizationId":"d2","roleIds":["d2-full"]},
  {"id":"r1-admin","email":"a@r1.example","name":"R","organizationId":"r1","roleIds":["r1-full"]}],
 "licenses": [
  {"key":"FREE-10","productId":"core","organizationIds":["c1","c1s"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":10},
  {"key":"FULL-1","productId":"core","organizationIds":["c1"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":1},
  {"key":"EXPIRED","productId":"core","organizationIds":["c1"],"type":"purchased","startDate":"2025-01-01","expirationDate":"2026-06-14","purchasedInstances":5},
  {"key":"CLOUD","productId":"cloud","organizationIds":["c1"],"type":"evaluation","startDate":"2026-01-01","expirationDate":"2027-01-01","scanLimit":1000},
  {"key":"HIDDEN","productId":"ita","organizationIds":["c1"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":5},
  {"key":"OTHER","productId":"core","organizationIds":["c2"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":5}],
 "deployments": [
  {"deploymentId":"old-srv","licenseKey":"FULL-1","name":"old","activatedAt":"2026-02-01T00:00:00Z","active":true}],
 "partnerNotes": []
}`
	var d dataset.Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// license reads a license as user.
func (e *env) license(t *testing.T, user, key string) map[string]any {
	t.Helper()
	return e.call("GET", "/v1/licenses/"+key, user, nil).want(t, 200, "").body
}

// history returns every event of a license as user, newest first.
func (e *env) history(t *testing.T, user, key string) []map[string]any {
	t.Helper()
	return items(t, e.call("GET", "/v1/licenses/"+key+"/history?limit=1000", user, nil).want(t, 200, "").body["items"])
}

func countEvents(events []map[string]any, typ string) int {
	n := 0
	for _, e := range events {
		if e["type"] == typ {
			n++
		}
	}
	return n
}

// concurrently runs n requests at once and counts the answers by status.
func concurrently(n int, do func(i int) response) map[int]int {
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		start    = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := do(i)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// The Must-show: 50 concurrent activations for 10 free instances give
// exactly 10 successes and a count of exactly purchased.
func TestConcurrentActivationsTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	statuses := concurrently(50, func(i int) response {
		return e.call("POST", "/v1/licenses/FREE-10/activations", "d1-viewer",
			map[string]string{"deploymentId": fmt.Sprintf("srv-%02d", i), "name": "server"})
	})
	if statuses[201] != 10 || statuses[409] != 40 || len(statuses) != 2 {
		t.Fatalf("statuses = %v, want 10 × 201 and 40 × 409", statuses)
	}
	lic := e.license(t, "d1-viewer", "FREE-10")
	if num(lic["deployed"]) != 10 || num(lic["purchased"]) != 10 {
		t.Errorf("deployed %v of %v, want 10 of 10", lic["deployed"], lic["purchased"])
	}
	active := 0
	for _, d := range items(t, lic["deployments"]) {
		if d["active"] == true {
			active++
		}
	}
	if active != 10 {
		t.Errorf("%d active deployments, want 10", active)
	}
	if n := countEvents(e.history(t, "d1-viewer", "FREE-10"), "activated"); n != 10 {
		t.Errorf("%d activated events, want 10", n)
	}
	// Every copy changed with the license: the distributor's report and the
	// reseller's show the same count.
	for _, user := range []string{"d1-viewer", "r1-admin"} {
		r := e.call("POST", "/v1/reports", user, map[string]any{"all": true}).want(t, 201, "")
		if got := num(obj(obj(r.body["overview"])["products"])["deployed"]); got != 11 { // 10 + FULL-1's one
			t.Errorf("%s's report: deployed %d, want 11", user, got)
		}
	}
	e.call("POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": "one-more"}).
		want(t, 409, "instance_limit_reached")
}

func TestActivationIsIdempotentTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	statuses := concurrently(10, func(int) response {
		return e.call("POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": "same", "name": "box"})
	})
	if statuses[201] != 1 || statuses[200] != 9 {
		t.Fatalf("statuses = %v, want one 201 and nine 200", statuses)
	}
	again := e.call("POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": "same"}).want(t, 200, "")
	if num(again.body["deployed"]) != 1 || again.body["name"] != "box" {
		t.Errorf("repeated activation = %s", again.raw)
	}
	if n := countEvents(e.history(t, "d1-viewer", "FREE-10"), "activated"); n != 1 {
		t.Errorf("%d activated events, want 1", n)
	}
}

func TestActivationRulesTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	tests := []struct {
		name, user, key string
		body            any
		status          int
		code            string
	}{
		{"new", "d1-viewer", "FREE-10", `{"deploymentId":"a","name":"A"}`, 201, ""},
		{"no name", "r1-admin", "FREE-10", `{"deploymentId":"b"}`, 201, ""},
		{"fully deployed", "d1-viewer", "FULL-1", `{"deploymentId":"x"}`, 409, "instance_limit_reached"},
		{"already active on a full license", "d1-viewer", "FULL-1", `{"deploymentId":"old-srv"}`, 200, ""},
		{"expired", "d1-viewer", "EXPIRED", `{"deploymentId":"x"}`, 409, "license_expired"},
		{"cloud service", "d1-viewer", "CLOUD", `{"deploymentId":"x"}`, 400, "invalid_request"},
		{"hidden product", "d1-viewer", "HIDDEN", `{"deploymentId":"x"}`, 404, "not_found"},
		{"another distributor's", "d1-viewer", "OTHER", `{"deploymentId":"x"}`, 404, "not_found"},
		{"missing", "d1-viewer", "NOPE", `{"deploymentId":"x"}`, 404, "not_found"},
		{"no deployment id", "d1-viewer", "FREE-10", `{"name":"x"}`, 400, "invalid_request"},
		{"bad deployment id", "d1-viewer", "FREE-10", `{"deploymentId":"a#b"}`, 400, "invalid_request"},
		{"unknown field", "d1-viewer", "FREE-10", `{"deploymentId":"x","host":"y"}`, 400, "invalid_request"},
		{"name too long", "d1-viewer", "FREE-10", `{"deploymentId":"x","name":"` + strings.Repeat("n", 201) + `"}`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.call("POST", "/v1/licenses/"+tt.key+"/activations", tt.user, tt.body).want(t, tt.status, tt.code)
		})
	}
	// Nothing refused changed a count.
	if got := num(e.license(t, "d1-viewer", "FULL-1")["deployed"]); got != 1 {
		t.Errorf("FULL-1 deployed = %d, want 1", got)
	}
	if got := num(e.license(t, "d1-viewer", "FREE-10")["deployed"]); got != 2 {
		t.Errorf("FREE-10 deployed = %d, want 2", got)
	}
}

func TestDeactivationTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	e.call("DELETE", "/v1/licenses/FULL-1/activations/old-srv", "d1-viewer", nil).want(t, 204, "")
	lic := e.license(t, "d1-viewer", "FULL-1")
	if num(lic["deployed"]) != 0 {
		t.Errorf("deployed = %v after deactivation, want 0", lic["deployed"])
	}
	deps := items(t, lic["deployments"])
	if len(deps) != 1 || deps[0]["deploymentId"] != "old-srv" || deps[0]["active"] != false {
		t.Errorf("deployments = %v, want old-srv kept as inactive", deps)
	}
	// Again: nothing changes. Unknown: not found.
	e.call("DELETE", "/v1/licenses/FULL-1/activations/old-srv", "d1-viewer", nil).want(t, 204, "")
	e.call("DELETE", "/v1/licenses/FULL-1/activations/never", "d1-viewer", nil).want(t, 404, "not_found")
	e.call("DELETE", "/v1/licenses/OTHER/activations/old-srv", "d1-viewer", nil).want(t, 404, "not_found")
	if n := countEvents(e.history(t, "d1-viewer", "FULL-1"), "deactivated"); n != 1 {
		t.Errorf("%d deactivated events, want 1", n)
	}
	// The freed instance can be used again, by the same deployment too.
	e.call("POST", "/v1/licenses/FULL-1/activations", "d1-viewer", map[string]string{"deploymentId": "old-srv"}).want(t, 201, "")
	if got := num(e.license(t, "d1-viewer", "FULL-1")["deployed"]); got != 1 {
		t.Errorf("deployed = %d after reactivation, want 1", got)
	}
}

// The Must-show: 20 concurrent note edits from the same version give exactly
// one success and one history event.
func TestConcurrentNoteEditsTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	statuses := concurrently(20, func(i int) response {
		return e.call("PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin", map[string]any{"text": fmt.Sprintf("edit %d", i), "version": 0})
	})
	if statuses[200] != 1 || statuses[409] != 19 {
		t.Fatalf("statuses = %v, want one 200 and nineteen 409", statuses)
	}
	if n := countEvents(e.history(t, "d1-admin", "FREE-10"), "partner_note_updated"); n != 1 {
		t.Errorf("%d note events, want 1", n)
	}
	// A stale editor is told what the note is now.
	stale := e.call("PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin2", map[string]any{"text": "mine", "version": 0}).
		want(t, 409, "version_conflict")
	current := obj(stale.body["current"])
	if num(current["version"]) != 1 || !strings.HasPrefix(current["text"].(string), "edit ") || current["updatedBy"] != "d1-admin" {
		t.Errorf("current = %v", stale.body["current"])
	}
}

func TestPartnerNoteTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	put := func(user string, body any) response {
		return e.call("PUT", "/v1/licenses/FREE-10/partner-note", user, body)
	}
	put("d1-viewer", `{"text":"x","version":0}`).want(t, 403, "forbidden")
	put("d1-admin", `{"text":"x"}`).want(t, 400, "invalid_request")
	put("d1-admin", `{"text":"x","version":-1}`).want(t, 400, "invalid_request")
	put("d1-admin", `{"text":"x","version":0,"pinned":true}`).want(t, 400, "invalid_request")
	put("d1-admin", map[string]any{"text": strings.Repeat("a", 2001), "version": 0}).want(t, 400, "invalid_request")
	put("d1-admin", map[string]any{"text": "bell\a", "version": 0}).want(t, 400, "invalid_request")
	e.call("PUT", "/v1/licenses/HIDDEN/partner-note", "d1-admin", `{"text":"x","version":0}`).want(t, 404, "not_found")
	e.call("PUT", "/v1/licenses/OTHER/partner-note", "d1-admin", `{"text":"x","version":0}`).want(t, 404, "not_found")
	e.call("PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin", `{"text":"x","version":3}`).want(t, 409, "version_conflict")

	// 2,000 characters of two bytes each are 2,000 characters.
	long := strings.Repeat("é", 2000)
	n1 := put("d1-admin", map[string]any{"text": long + "", "version": 0}).want(t, 200, "")
	if num(n1.body["version"]) != 1 || n1.body["updatedBy"] != "d1-admin" || n1.body["updatedAt"] == nil {
		t.Errorf("note = %s", n1.raw)
	}
	n2 := put("d1-admin", map[string]any{"text": "line 1\nline 2\twith tab", "version": 1}).want(t, 200, "")
	if num(n2.body["version"]) != 2 {
		t.Errorf("version = %v, want 2", n2.body["version"])
	}
	cleared := put("d1-admin", map[string]any{"text": "", "version": 2}).want(t, 200, "")
	if num(cleared.body["version"]) != 3 || cleared.body["text"] != "" {
		t.Errorf("cleared note = %s", cleared.raw)
	}

	// The reseller writes its own note on the same license; neither sees
	// the other's, in rows or in history.
	put("r1-admin", map[string]any{"text": "reseller's own", "version": 0}).want(t, 200, "")
	if note := obj(e.license(t, "r1-admin", "FREE-10")["partnerNote"]); note["text"] != "reseller's own" {
		t.Errorf("reseller sees note %v", note)
	}
	if note := obj(e.license(t, "d1-viewer", "FREE-10")["partnerNote"]); note["text"] != "" || num(note["version"]) != 3 {
		t.Errorf("distributor sees note %v, want its cleared note at version 3", note)
	}
	for _, ev := range e.history(t, "r1-admin", "FREE-10") {
		if ev["type"] == "partner_note_updated" && obj(ev["data"])["text"] != "reseller's own" {
			t.Errorf("reseller's history shows the distributor's note event %v", ev)
		}
	}
	if n := countEvents(e.history(t, "d1-viewer", "FREE-10"), "partner_note_updated"); n != 3 {
		t.Errorf("distributor's history has %d note events, want its own 3", n)
	}
}

func TestPins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	// A report made before the pin shows it at request time.
	r := e.call("POST", "/v1/reports", "d1-viewer", map[string]any{"all": true}).want(t, 201, "")
	id := r.body["id"].(string)
	first := items(t, obj(r.body["products"])["items"])[0]["licenseKey"]
	if first == "FREE-10" {
		t.Fatal("test needs FREE-10 not to be first without pins")
	}
	e.call("PUT", "/v1/pins/FREE-10", "d1-viewer", nil).want(t, 204, "")
	e.call("PUT", "/v1/pins/FREE-10", "d1-viewer", nil).want(t, 204, "")
	page := items(t, e.call("GET", "/v1/reports/"+id+"/products", "d1-viewer", nil).want(t, 200, "").body["items"])
	if page[0]["licenseKey"] != "FREE-10" || page[0]["pinned"] != true {
		t.Errorf("first row = %v, want pinned FREE-10", page[0])
	}
	if got := items(t, e.call("GET", "/v1/reports/"+id+"/products?pinned=true", "d1-viewer", nil).want(t, 200, "").body["items"]); len(got) != 1 {
		t.Errorf("pinned=true lists %d rows, want 1", len(got))
	}
	pins := items(t, e.call("GET", "/v1/pins", "d1-viewer", nil).want(t, 200, "").body["items"])
	if len(pins) != 1 || pins[0]["licenseKey"] != "FREE-10" || pins[0]["pinned"] != true {
		t.Errorf("pins = %v", pins)
	}
	// Pins are the user's own.
	if other := items(t, e.call("GET", "/v1/pins", "d1-admin", nil).want(t, 200, "").body["items"]); len(other) != 0 {
		t.Errorf("another user sees pins %v", other)
	}
	for _, key := range []string{"HIDDEN", "OTHER", "NOPE"} {
		e.call("PUT", "/v1/pins/"+key, "d1-viewer", nil).want(t, 404, "not_found")
		e.call("DELETE", "/v1/pins/"+key, "d1-viewer", nil).want(t, 404, "not_found")
	}
	e.call("DELETE", "/v1/pins/FREE-10", "d1-viewer", nil).want(t, 204, "")
	e.call("DELETE", "/v1/pins/FREE-10", "d1-viewer", nil).want(t, 204, "")
	if pins := items(t, e.call("GET", "/v1/pins", "d1-viewer", nil).want(t, 200, "").body["items"]); len(pins) != 0 {
		t.Errorf("pins after unpin = %v", pins)
	}
}

func TestHistoryTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	for i := 0; i < 3; i++ {
		e.now = e.now.Add(1e9)
		e.call("POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": fmt.Sprint("h", i)}).want(t, 201, "")
	}
	e.now = e.now.Add(1e9)
	e.call("DELETE", "/v1/licenses/FREE-10/activations/h1", "d1-viewer", nil).want(t, 204, "")
	all := e.history(t, "d1-viewer", "FREE-10")
	var types []string
	for _, ev := range all {
		types = append(types, ev["type"].(string))
	}
	if got, want := strings.Join(types, ","), "deactivated,activated,activated,activated,created"; got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
	// A partner's own users by name; the import as such.
	if all[1]["actor"] != "V" || all[4]["actor"] != "import" {
		t.Errorf("actors = %v, %v", all[1]["actor"], all[4]["actor"])
	}
	// Another partner of the same license reads the distributor's changes
	// as the distributor's, never its user ids.
	for _, ev := range e.history(t, "r1-admin", "FREE-10") {
		if a := ev["actor"]; a != "Dist One" && a != "import" {
			t.Errorf("the reseller reads actor %v in %v", a, ev)
		}
	}
	// Paged two at a time, the same events in the same order.
	var paged []string
	cursor := ""
	for i := 0; i < 10; i++ {
		path := "/v1/licenses/FREE-10/history?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.call("GET", path, "d1-viewer", nil).want(t, 200, "")
		for _, ev := range items(t, r.body["items"]) {
			paged = append(paged, ev["type"].(string))
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(paged, ",") != strings.Join(types, ",") {
		t.Errorf("paged history = %v, want %v", paged, types)
	}
	e.call("GET", "/v1/licenses/FREE-10/history?cursor=%%%", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/licenses/FREE-10/history?cursor=Zm9v", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/licenses/FREE-10/history?limit=0", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/licenses/OTHER/history", "d1-viewer", nil).want(t, 404, "not_found")
	e.call("GET", "/v1/licenses/HIDDEN/history", "d1-viewer", nil).want(t, 404, "not_found")
}
