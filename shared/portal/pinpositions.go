package portal

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// pinnedPositions returns where the rows of the pinned licenses sit in a
// report list of the category (report.Position: organization name, product
// name, license key), so that a page reads only the chunks that hold them.
// A snapshot does not say which chunk holds a license, so the positions
// come from the licenses as they are now: their organizations as the
// partner sees them (sub-organization priority applied), and their
// products. A license whose organization or product was renamed since the
// report was made is still found (report.NewPager then reads the chunks of
// the organization's id); one moved to another organization since is not
// served among the pinned rows of that report.
func (s *Service) pinnedPositions(ctx context.Context, sc *access.Scope, pins map[string]bool, category license.Category) ([]report.Position, error) {
	keys := make([]string, 0, len(pins))
	for k := range pins {
		keys = append(keys, k)
	}
	var (
		records  []*store.Record
		products map[string]license.Product
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		records, err = s.store.LicensesByKey(gctx, keys)
		return err
	})
	g.Go(func() (err error) {
		products, err = s.store.Catalog(gctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	onPrem, cloud := report.Rows(listings(sc.Partner.ID, records...), products, s.cfg.Today(), s.window(sc))
	rows := onPrem
	if category == license.CloudService {
		rows = cloud
	}
	positions := make([]report.Position, len(rows))
	for i := range rows {
		positions[i] = report.PositionOf(&rows[i])
	}
	return positions, nil
}
