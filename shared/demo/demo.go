// Package demo generates the demo data set: a complete import document
// (dataset.Document) of products, partners, customer organizations, users,
// licenses, deployments and notes that look real. Small is the built-in data
// set of the local server, Large the "large distributor" tenant of the
// benchmarks, and Generate makes any size in between.
//
// Dates are relative to the day passed in, so that the demo shows expired,
// expiring and active licenses whatever day it runs; the seed makes the same
// document every time.
//
// The data holds every case the portal must handle: every product (and
// "MetaDefender IT Access", which partners must never see), both license
// types, customers sold directly and through resellers, sub-organizations
// that inherit their sellers or name their own reseller, licenses assigned to
// a main organization and one of its sub-organizations, fully deployed
// licenses, inactive deployments, customer notes that begin with '=', '+',
// '-' or '@' or are not ASCII, partner notes of distributors and resellers,
// and per-partner expiring windows (org-dist-1: 45 days, org-res-2: 14).
//
// Users have ids that say who they are. Every partner organization that sells
// to customers has three, one per access level on the role object
// license_management.customer_organizations:
//
//	dist-N-admin   full   distributor org-dist-N
//	dist-N-viewer  read   distributor org-dist-N
//	dist-N-none    none   distributor org-dist-N (its role grants another permission only)
//	res-N-admin    full   reseller org-res-N
//	res-N-viewer   read   reseller org-res-N
//	res-N-none     none   reseller org-res-N
//
// and three more cover the remaining cases:
//
//	dist-1-multi    full  two roles, read and full, of org-dist-1: the higher wins
//	res-idle-admin  full  reseller org-res-idle, which has no customer organization
//	cust-001-admin  full  customer organization org-cust-001, which is no partner
//
// Small has distributors 1 and 2 and resellers 1 to 5.
package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// Config sets the size and the mix of a generated data set.
type Config struct {
	// Seed selects the data set: the same seed and day give the same document.
	Seed uint64

	// Distributors is the number of distributors; at least 1.
	Distributors int
	// Resellers is the number of resellers that sell to customers. Each sells
	// under one distributor. One more reseller, org-res-idle, has no customers.
	Resellers int
	// Customers is the number of customer organizations, sub-organizations included.
	Customers int
	// SubOrgShare is the fraction of main customer organizations that have
	// one to three sub-organizations.
	SubOrgShare float64
	// DirectShare is the fraction of main customer organizations that buy
	// from their distributor directly, without a reseller.
	DirectShare float64

	// Licenses is the number of licenses, over all products.
	Licenses int
	// SharedShare is the fraction of the licenses of a sub-organization that
	// are also assigned to its main organization.
	SharedShare float64
	// DeploymentsPerLicense is the average number of active deployments of an
	// on-prem license. Its purchased instances always cover them, with a few
	// to spare unless it is fully deployed.
	DeploymentsPerLicense float64
	// CustomerNoteShare is the fraction of licenses with a customer note.
	CustomerNoteShare float64
	// PartnerNoteShare is the chance that a partner who sees a license has a
	// note on it.
	PartnerNoteShare float64
}

// Small returns the configuration of the built-in demo of the local server:
// two distributors, five resellers with customers and one without, 40
// customer organizations and 800 licenses.
func Small() Config {
	return Config{
		Seed:                  1,
		Distributors:          2,
		Resellers:             5,
		Customers:             40,
		SubOrgShare:           0.25,
		DirectShare:           0.3,
		Licenses:              800,
		SharedShare:           0.3,
		DeploymentsPerLicense: 2,
		CustomerNoteShare:     0.15,
		PartnerNoteShare:      0.12,
	}
}

// Large returns the configuration of the "large distributor" tenant of the
// benchmarks: one distributor and four resellers with 2,000 customer
// organizations, 100,000 licenses and about 250,000 active deployments.
func Large() Config {
	return Config{
		Seed:         2,
		Distributors: 1,
		Resellers:    4,
		Customers:    2000,
		SubOrgShare:  0.15,
		DirectShare:  0.3,
		Licenses:     100_000,
		SharedShare:  0.2,
		// 78% of the licenses are on-prem (see catalog): 3.2 × 78,000 ≈ 250,000.
		DeploymentsPerLicense: 3.2,
		CustomerNoteShare:     0.1,
		PartnerNoteShare:      0.05,
	}
}

// Document returns the built-in demo data set, Generate(Small(), today).
func Document(today license.Date) dataset.Document {
	return Generate(Small(), today)
}

// Generate returns the data set that cfg describes, with dates relative to
// today: start dates lie in the past, expiration dates from about 400 days
// ago to three years ahead, with a large share in the next 60 days. It panics
// if cfg has no distributor, since customer organizations need one, or
// licenses but no customer organization to assign them to.
func Generate(cfg Config, today license.Date) dataset.Document {
	switch {
	case cfg.Distributors < 1:
		panic(fmt.Sprintf("demo: Config.Distributors is %d, want at least 1", cfg.Distributors))
	case cfg.Licenses > 0 && cfg.Customers < 1:
		panic(fmt.Sprintf("demo: Config.Customers is %d, want at least 1 for %d licenses", cfg.Customers, cfg.Licenses))
	}
	g := &generator{
		cfg:   cfg,
		today: today,
		now:   today.Time(),
		// PCG takes two words; the second is fixed so that one number
		// names a data set.
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x5eed_0f_de70)),
		keys:   make(map[string]bool, cfg.Licenses),
		admins: make(map[string]string),
	}
	g.addProducts()
	g.addPartners()
	g.addCustomers()
	g.addUsers()
	g.addLicenses()
	return g.doc
}

// generator holds the state of one Generate call.
type generator struct {
	cfg   Config
	today license.Date
	// now is midnight at the start of today: every timestamp lies before it,
	// so none is in the future whatever time of day the demo runs.
	now time.Time
	rng *rand.Rand
	doc dataset.Document

	distributors []partner
	resellers    []partner // those with customers; org-res-idle is not among them
	customers    []customer
	keys         map[string]bool   // license keys handed out
	admins       map[string]string // partner organization id → the user who writes its notes
	people       int               // person names handed out
	deployments  int               // deployments handed out
}

// partner is a distributor or a reseller that sells to customers.
type partner struct {
	company
	id     string
	prefix string // of its users' ids: "dist-1", "res-3"
	// distributor is, for a reseller, the index of the distributor it sells under.
	distributor int
}

// customer is a customer organization with the sellers it inherits resolved,
// so that partner notes can go to partners who see the license.
type customer struct {
	id          string
	name        string
	parent      int // index in generator.customers, -1 for a main organization
	distributor string
	reseller    string // "" when sold directly
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// timestamp formats t as the import format's RFC 3339 timestamps.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// between returns a time in [from, to), to the second; from when the range is empty.
func (g *generator) between(from, to time.Time) time.Time {
	secs := int64(to.Sub(from) / time.Second)
	if secs <= 0 {
		return from
	}
	return from.Add(time.Duration(g.rng.Int64N(secs)) * time.Second)
}

func ptr[T any](v T) *T { return &v }
