package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// The parts of the license mix that do not change with the size of the data set.
const (
	evaluationShare    = 0.2  // of licenses
	fullyDeployedShare = 0.15 // of on-prem licenses: every instance deployed
	retiredShare       = 0.2  // of on-prem licenses: one or two inactive deployments as well
	scansUsedShare     = 0.7  // of cloud-service licenses: usage reported
	unnamedShare       = 0.1  // of deployments: no name given at activation
)

// keyAlphabet leaves out 0, 1, I and O, which read alike, as printed license keys do.
const keyAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

func (g *generator) addLicenses() {
	// Room for every license and about every deployment up front, so that a
	// large data set does not copy hundreds of thousands of them as it grows.
	// A license with retired deployments has 1.5 of them on average.
	onPrem := float64(g.cfg.Licenses) * float64(onPremWeight) / float64(catalogWeight)
	g.doc.Licenses = make([]dataset.License, 0, g.cfg.Licenses)
	g.doc.Deployments = make([]dataset.Deployment, 0, int(onPrem*(g.cfg.DeploymentsPerLicense+1.5*retiredShare)))
	for range g.cfg.Licenses {
		g.addLicense(g.pickProduct())
	}
}

// pickProduct draws a product of the catalog by its weight.
func (g *generator) pickProduct() *product {
	n, i := g.rng.IntN(catalogWeight), 0
	for n >= catalog[i].weight {
		n -= catalog[i].weight
		i++
	}
	return &catalog[i]
}

func (g *generator) addLicense(p *product) {
	typ := license.Purchased
	if g.chance(evaluationShare) {
		typ = license.Evaluation
	}
	start, exp := g.dates(typ)
	assigned := g.assignees()
	l := dataset.License{
		Key:            g.newKey(p.keyPrefix),
		ProductID:      p.id,
		Type:           string(typ),
		StartDate:      start.String(),
		ExpirationDate: exp.String(),
	}
	for _, i := range assigned {
		l.OrganizationIDs = append(l.OrganizationIDs, g.customers[i].id)
	}
	if g.chance(g.cfg.CustomerNoteShare) {
		l.CustomerNote = ptr(customerNotes[g.rng.IntN(len(customerNotes))])
	}
	switch p.category {
	case license.OnPrem:
		purchased, deployed := g.instances()
		l.PurchasedInstances = ptr(purchased)
		g.addDeployments(l.Key, p, deployed, start, exp)
	case license.CloudService:
		tiers := scanLimits
		if typ == license.Evaluation {
			tiers = tiers[:3] // evaluations get the small tiers
		}
		limit := tiers[g.rng.IntN(len(tiers))]
		l.ScanLimit = ptr(limit)
		if g.chance(scansUsedShare) {
			l.ScansUsed = ptr(g.rng.IntN(limit + 1))
		}
	}
	g.doc.Licenses = append(g.doc.Licenses, l)
	g.addPartnerNotes(l.Key, assigned)
}

// dates returns the start and expiration dates of a new license.
//
// Purchased licenses expire from 400 days ago to three years ahead, 30% of
// them in the next 60 days so that every partner's expiring window holds
// many; they start a whole number of years before, as subscriptions do, and
// always in the past. Evaluations run 30, 60 or 90 days and mostly end soon.
func (g *generator) dates(typ license.Type) (start, exp license.Date) {
	r := g.rng.Float64()
	if typ == license.Evaluation {
		term := 30 * (1 + g.rng.IntN(3))
		if r < 0.35 {
			exp = g.today.AddDays(-1 - g.rng.IntN(180))
		} else {
			exp = g.today.AddDays(g.rng.IntN(term)) // running, so started before today
		}
		return exp.AddDays(-term), exp
	}
	switch {
	case r < 0.18:
		exp = g.today.AddDays(-1 - g.rng.IntN(400))
	case r < 0.48:
		exp = g.today.AddDays(g.rng.IntN(61))
	default:
		exp = g.today.AddDays(61 + g.rng.IntN(3*365-60))
	}
	// The fewest whole years that put the start before today, and
	// sometimes one more, as for a multi-year contract.
	years := 1
	if ahead := exp.Sub(g.today); ahead >= 0 {
		years = ahead/365 + 1
	}
	if g.rng.IntN(4) == 0 {
		years++
	}
	return exp.AddDays(-365 * years), exp
}

// assignees returns the indexes of the customers a new license is assigned
// to: one organization, or a sub-organization together with its main
// organization, in either order since the import does not order them.
func (g *generator) assignees() []int {
	i := g.rng.IntN(len(g.customers))
	parent := g.customers[i].parent
	switch {
	case parent < 0 || !g.chance(g.cfg.SharedShare):
		return []int{i}
	case g.rng.IntN(2) == 0:
		return []int{parent, i}
	default:
		return []int{i, parent}
	}
}

// newKey returns a license key not handed out before, such as "MDC-7F3K-9Q2L-X8PA".
func (g *generator) newKey(prefix string) string {
	b := make([]byte, 0, len(prefix)+15)
	for {
		b = append(b[:0], prefix...)
		for range 3 {
			b = append(b, '-')
			for range 4 {
				b = append(b, keyAlphabet[g.rng.IntN(len(keyAlphabet))])
			}
		}
		if key := string(b); !g.keys[key] {
			g.keys[key] = true
			return key
		}
	}
}

// instances returns the purchased instances of an on-prem license and how
// many of them are deployed. The deployed count is uniform over
// 0..2×DeploymentsPerLicense, so it averages DeploymentsPerLicense; the
// purchase leaves one to a few instances free, or none when fully deployed.
func (g *generator) instances() (purchased, deployed int) {
	spread := 2*g.cfg.DeploymentsPerLicense + 1
	deployed = int(g.rng.Float64() * spread)
	purchased = deployed
	if !g.chance(fullyDeployedShare) {
		purchased += 1 + g.rng.IntN(int(spread)+1)
	}
	return max(purchased, 1), deployed
}

// addDeployments adds active deployments of the license with the given key,
// and sometimes retired ones. They were activated while the license ran, up
// to today; active ones were last seen in their last three days.
func (g *generator) addDeployments(key string, p *product, active int, start, exp license.Date) {
	from, to := start.Time(), min(g.today, exp.AddDays(1)).Time()
	retired := 0
	if g.chance(retiredShare) {
		retired = 1 + g.rng.IntN(2)
	}
	for n := range active + retired {
		g.deployments++
		isActive := n < active
		activated := g.between(from, to)
		seenFrom := activated
		if recent := to.Add(-72 * time.Hour); isActive && recent.After(seenFrom) {
			seenFrom = recent
		}
		d := dataset.Deployment{
			DeploymentID: fmt.Sprintf("dep-%06d", g.deployments),
			LicenseKey:   key,
			ActivatedAt:  timestamp(activated),
			LastSeenAt:   ptr(timestamp(g.between(seenFrom, to))),
			Active:       ptr(isActive),
		}
		if !g.chance(unnamedShare) {
			d.Name = ptr(fmt.Sprintf("%s-%s-%02d", p.host, sites[g.rng.IntN(len(sites))], n+1))
		}
		g.doc.Deployments = append(g.doc.Deployments, d)
	}
}

// addPartnerNotes gives some of the partners that see a license a note on
// it, written by their administrator in the last 182 days. A license seen
// by a distributor and a reseller may carry a note of each, which must never
// show to the other.
func (g *generator) addPartnerNotes(key string, assigned []int) {
	var partners []string
	for _, i := range assigned {
		c := g.customers[i]
		for _, id := range []string{c.distributor, c.reseller} {
			if id != "" && !slices.Contains(partners, id) {
				partners = append(partners, id)
			}
		}
	}
	for _, org := range partners {
		if !g.chance(g.cfg.PartnerNoteShare) {
			continue
		}
		g.doc.PartnerNotes = append(g.doc.PartnerNotes, dataset.PartnerNote{
			OrganizationID: org,
			LicenseKey:     key,
			Text:           partnerNotes[g.rng.IntN(len(partnerNotes))],
			UpdatedBy:      ptr(g.admins[org]),
			UpdatedAt:      ptr(timestamp(g.between(g.now.Add(-182*24*time.Hour), g.now))),
		})
	}
}
