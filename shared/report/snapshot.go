package report

import (
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// Lifetime is how long a report stays usable after it is made: pages of an
// open report keep working for a working day, well past the hour promised.
const Lifetime = 24 * time.Hour

// Snapshot is a report as made: what it covers and its overview. Its rows are
// kept beside it, so pages and filters never recompute them from licenses.
type Snapshot struct {
	ID             string       `json:"id"`
	PartnerID      string       `json:"-"`
	UserID         string       `json:"-"`
	GeneratedAt    time.Time    `json:"generatedAt"`
	Today          license.Date `json:"-"`
	Window         int          `json:"expiringWindowDays"`
	IncludeExpired bool         `json:"-"`
	Organizations  []access.Ref `json:"organizations"`
	Overview       Overview     `json:"overview"`
	ExpiresAt      time.Time    `json:"-"`
}
