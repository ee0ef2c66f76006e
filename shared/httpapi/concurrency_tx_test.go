//go:build !notransactions

package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// crowdDoc is actionsDoc with CROWD (5 purchased, 3 deployed: 2 free) and
// SEVEN (10 purchased, 7 deployed), for crowds of activations and
// deactivations.
func crowdDoc(t *testing.T) dataset.Document {
	t.Helper()
	doc := actionsDoc(t)
	var more struct {
		Licenses    []dataset.License    `json:"licenses"`
		Deployments []dataset.Deployment `json:"deployments"`
	}
	raw := `{"licenses":[
  {"key":"CROWD","productId":"core","organizationIds":["c1","c1s"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":5},
  {"key":"SEVEN","productId":"core","organizationIds":["c1"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":10}],
 "deployments":[`
	for i := 1; i <= 3; i++ {
		raw += fmt.Sprintf(`{"deploymentId":"c-%d","licenseKey":"CROWD","activatedAt":"2026-02-01T00:00:00Z","active":true},`, i)
	}
	for i := 1; i <= 7; i++ {
		sep := ","
		if i == 7 {
			sep = ""
		}
		raw += fmt.Sprintf(`{"deploymentId":"s-%d","licenseKey":"SEVEN","activatedAt":"2026-02-01T00:00:00Z","active":true}%s`, i, sep)
	}
	raw += "]}"
	if err := json.Unmarshal([]byte(raw), &more); err != nil {
		t.Fatal(err)
	}
	doc.Licenses = append(doc.Licenses, more.Licenses...)
	doc.Deployments = append(doc.Deployments, more.Deployments...)
	return doc
}

// eventCounts returns the "deployed" of the license's events of a type.
func (e *env) eventCounts(t *testing.T, key, typ string) []int {
	t.Helper()
	var out []int
	for _, ev := range e.history(t, "d1-viewer", key) {
		if ev["type"] == typ {
			out = append(out, num(obj(ev["data"])["deployed"]))
		}
	}
	slices.Sort(out)
	return out
}

// The finding: 50 activations at once with 2 free instances answered two
// 201s that both said "deployed":4, and 6 deactivations at once took the
// count from 7 to 1 with events [1,6,6,6,6,6]. Each answer and each event
// carries the count its write committed: on minidyn and on moto, whose
// transactions are serializable.
func TestConcurrentCountsAreCommittedTx(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name  string
		store func(testing.TB) *store.Store
	}{
		{"minidyn", testenv.Store},
		{"moto", testenv.MotoStore},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvOn(t, b.store(t), crowdDoc(t))

			var (
				mu       sync.Mutex
				deployed []int
			)
			statuses := concurrently(50, func(i int) response {
				r := e.call("POST", "/v1/licenses/CROWD/activations", "d1-viewer",
					map[string]string{"deploymentId": fmt.Sprintf("crowd-%02d", i)})
				if r.status == 201 {
					mu.Lock()
					deployed = append(deployed, num(r.body["deployed"]))
					mu.Unlock()
				}
				return r
			})
			slices.Sort(deployed)
			if statuses[201] != 2 || statuses[409] != 48 {
				t.Errorf("statuses = %v, want 2 × 201 and 48 × 409", statuses)
			}
			if want := []int{4, 5}; !slices.Equal(deployed, want) {
				t.Errorf("the 201 answers say deployed %v, want %v", deployed, want)
			}
			if got := e.eventCounts(t, "CROWD", "activated"); !slices.Equal(got, deployed) {
				t.Errorf("the activated events carry %v, the answers %v", got, deployed)
			}
			if got := num(e.license(t, "d1-viewer", "CROWD")["deployed"]); got != 5 {
				t.Errorf("CROWD deployed = %d, want 5", got)
			}

			statuses = concurrently(6, func(i int) response {
				return e.call("DELETE", fmt.Sprintf("/v1/licenses/SEVEN/activations/s-%d", i+1), "d1-viewer", nil)
			})
			if statuses[204] != 6 {
				t.Errorf("deactivations: %v, want 6 × 204", statuses)
			}
			if got, want := e.eventCounts(t, "SEVEN", "deactivated"), []int{1, 2, 3, 4, 5, 6}; !slices.Equal(got, want) {
				t.Errorf("the deactivated events carry %v, want %v", got, want)
			}
			lic := e.license(t, "d1-viewer", "SEVEN")
			active := 0
			for _, d := range items(t, lic["deployments"]) {
				if d["active"] == true {
					active++
				}
			}
			if num(lic["deployed"]) != 1 || active != 1 {
				t.Errorf("SEVEN: deployed %v, %d active, want 1 and 1", lic["deployed"], active)
			}
		})
	}
}
