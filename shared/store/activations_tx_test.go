//go:build !notransactions

package store_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/testenv"
)

// multi is u-multi of dist-a as history records it.
var multi = license.Actor{UserID: "u-multi", UserName: "Mia Multi", OrgID: "dist-a", OrgName: "Distributor A"}

// Concurrent activations never deploy more than was bought, and each one
// that commits answers, and records, the count it committed: every count
// from the one read to the purchased instances exactly once. The same for
// deactivations. On minidyn and on moto, whose transactions are
// serializable.
func TestActivationCountsAreCommittedTx(t *testing.T) {
	t.Run("minidyn", func(t *testing.T) { activationCounts(t, loadBase(t)) })
	t.Run("moto", func(t *testing.T) {
		w := newWorldOn(t, testenv.MotoDynamoDB(t), testenv.MotoTable)
		w.loadDoc(baseDoc(), importNow)
		activationCounts(t, w)
	})
}

func activationCounts(t *testing.T, w *world) { // licMain: 5 purchased, 2 deployed
	const tries = 12
	var (
		mu      sync.Mutex
		counts  []int
		limited int
		wg      sync.WaitGroup
	)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.s.Activate(w.ctx, licMain, license.Deployment{DeploymentID: fmt.Sprintf("api-%02d", i),
				ActivatedAt: importNow.Add(time.Hour)}, multi)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case fault.Is(err, fault.InstanceLimit):
				limited++
			case err != nil:
				t.Errorf("activation %d: %v", i, err)
			default:
				counts = append(counts, res.Deployed)
			}
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	if want := []int{3, 4, 5}; !slices.Equal(counts, want) || limited != tries-3 {
		t.Errorf("committed counts %v and %d refused; want %v and %d", counts, limited, want, tries-3)
	}
	var recorded []int
	for _, e := range w.events(licMain) {
		if e.Type == "activated" && e.Actor == "u-multi" {
			recorded = append(recorded, int(e.Data["deployed"].(float64)))
		}
	}
	slices.Sort(recorded)
	if !slices.Equal(recorded, counts) {
		t.Errorf("events carry %v, the answers %v", recorded, counts)
	}

	rec, deps, err := w.s.License(w.ctx, licMain)
	if err != nil || rec.Deployed != 5 || len(activeIDs(deps, licMain)) != 5 {
		t.Fatalf("after the activations: %d deployed, %d active, %v", rec.Deployed, len(activeIDs(deps, licMain)), err)
	}
	ids := activeIDs(deps, licMain)
	var left []int
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.s.Deactivate(w.ctx, licMain, id, multi, importNow.Add(2*time.Hour))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("deactivate %s: %v", id, err)
			}
			left = append(left, n)
		}()
	}
	wg.Wait()
	slices.Sort(left)
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(left, want) {
		t.Errorf("deactivations committed %v, want %v", left, want)
	}
}

// An activation made through the portal survives the imports that follow:
// an unchanged document, a renewal of the license, and a full document that
// does not name the deployment (it was not the source's).
func TestImportKeepsActivationsTx(t *testing.T) {
	w := loadBase(t)
	if _, err := w.s.Activate(w.ctx, licShared, license.Deployment{DeploymentID: "api-1", Name: "Portal",
		ActivatedAt: importNow.Add(time.Hour)}, multi); err != nil {
		t.Fatal(err)
	}
	doc := baseDoc()
	w.assertSettled(doc, importNow.Add(2*time.Hour))
	findLicense(t, &doc, licShared).ExpirationDate = "2027-06-20"
	w.loadDoc(doc, importNow.Add(3*time.Hour))
	rec, deps, err := w.s.License(w.ctx, licShared)
	if err != nil || rec.Deployed != 2 || !slices.Equal(activeIDs(deps, licShared), []string{"api-1", "dep-s"}) {
		t.Errorf("after the imports: deployed %d, active %v, %v", rec.Deployed, activeIDs(deps, licShared), err)
	}
	// Both organizations' blocks show it to the partners that see it.
	for _, partner := range []string{"dist-a", "res-a"} {
		listings, err := w.s.View(w.ctx, w.partner(partner), []string{"cust-sub"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := activeIDs(listings[0].Deployments[licShared], licShared); !slices.Equal(got, []string{"api-1", "dep-s"}) {
			t.Errorf("%s's view: active %v", partner, got)
		}
	}
	// Deactivated, then active again: one deployment, active, once.
	if _, err := w.s.Deactivate(w.ctx, licShared, "api-1", multi, importNow.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Activate(w.ctx, licShared, license.Deployment{DeploymentID: "api-1", ActivatedAt: importNow.Add(5 * time.Hour)}, multi); err != nil {
		t.Fatal(err)
	}
	_, deps, _ = w.s.License(w.ctx, licShared)
	n := 0
	for _, d := range deps {
		if d.DeploymentID == "api-1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("api-1 listed %d times after it was active again: %+v", n, deps)
	}
}
