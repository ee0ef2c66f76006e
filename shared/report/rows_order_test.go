package report_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// TestRowsOrder holds Rows, which sorts each organization's licenses on
// their own, to the order of sorting every row against every other:
// organizations with the same name (whose rows interleave by product and
// key), products with the same name, and listings in any order.
func TestRowsOrder(t *testing.T) {
	today, _ := license.ParseDate("2026-06-01")
	products := map[string]license.Product{
		"core":   {ID: "core", Name: "MetaDefender Core", Category: license.OnPrem, VisibleToPartners: true},
		"kiosk":  {ID: "kiosk", Name: "MetaDefender Core", Category: license.OnPrem, VisibleToPartners: true},
		"vault":  {ID: "vault", Name: "MetaDefender Vault", Category: license.OnPrem, VisibleToPartners: true},
		"hidden": {ID: "hidden", Name: "Hidden", Category: license.OnPrem, VisibleToPartners: false},
		"cloud":  {ID: "cloud", Name: "MetaDefender Cloud", Category: license.CloudService, VisibleToPartners: true},
	}
	ids := []string{"core", "kiosk", "vault", "hidden", "cloud"}
	names := []string{"Acme", "Acme", "Bolt", "Acme GmbH", "Zeta", "Bolt"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var listings []report.Listing
		next := 0
		for o := range 1 + rng.IntN(8) {
			ls := report.Listing{Org: access.Ref{ID: fmt.Sprintf("org-%d", o), Name: names[rng.IntN(len(names))]}}
			for range rng.IntN(12) {
				// Keys are unique, as a license's key is.
				next++
				ls.Licenses = append(ls.Licenses, license.License{Key: fmt.Sprintf("K-%04d-%d", rng.IntN(10000), next),
					ProductID: ids[rng.IntN(len(ids))], ExpirationDate: today.AddDays(rng.IntN(400) - 100)})
			}
			listings = append(listings, ls)
		}
		gotPrem, gotCloud := report.Rows(listings, products, today, 30)
		var wantPrem, wantCloud []report.Row
		for _, ls := range listings {
			p, c := report.Rows([]report.Listing{ls}, products, today, 30)
			wantPrem, wantCloud = append(wantPrem, p...), append(wantCloud, c...)
		}
		report.Sort(wantPrem)
		report.Sort(wantCloud)
		key := func(r report.Row) string { return r.OrganizationID + "/" + r.ProductID + "/" + r.LicenseKey }
		for _, l := range []struct{ got, want []report.Row }{{gotPrem, wantPrem}, {gotCloud, wantCloud}} {
			got, want := make([]string, len(l.got)), make([]string, len(l.want))
			for i := range l.got {
				got[i] = key(l.got[i])
			}
			for i := range l.want {
				want[i] = key(l.want[i])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d:\n got %v\nwant %v", round, got, want)
			}
		}
	}
}
