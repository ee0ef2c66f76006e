package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// BenchmarkNotifyLarge runs the daily notifier for the large tenant
// (demo.Large: a distributor and four resellers, 2,000 customer
// organizations, 100,000 licenses; without deployments, which the notifier
// does not read) with every partner's notifications enabled for [60, 30],
// and reports per run the DynamoDB requests, items read and written, the
// digests and the licenses they list, and the peak heap. Its first run is
// the worst case: a third of the licenses expire within 60 days, and all
// of them are claimed at once; the runs after it the everyday ones. make
// bench runs it on dynalite, with e-mail to moto; the time per run is the
// emulators' as much as ours.
func BenchmarkNotifyLarge(b *testing.B) {
	cfg := demo.Large()
	cfg.DeploymentsPerLicense = 0
	doc := demo.Generate(cfg, testToday)
	mailer := testenv.NewSES(b)
	clock := &clock{t: testToday.Time().Add(7 * time.Hour)}
	e := newEnvWith(b, testenv.Store(b), doc, func(c *portal.Config) {
		c.Now = clock.now
		c.Mail = &portal.MailConfig{Sender: ses.Sender{Client: mailer.Client}, Renderer: render.Templates{}, From: mailer.From,
			PortalURL: testPortal}
	})
	for _, o := range doc.Organizations {
		if o.Type == "distributor" || o.Type == "reseller" {
			if err := e.store.PutNotificationSettings(context.Background(), notification.Settings{PartnerID: o.ID, Enabled: true,
				Recipients: []string{"ops@" + o.ID + ".example"}, ThresholdDays: []int{60, 30}, UpdatedAt: clock.now()}); err != nil {
				b.Fatal(err)
			}
		}
	}
	run := func(b *testing.B, day license.Date) {
		at := day.Time().Add(7 * time.Hour)
		clock.set(at)
		stopHeap := peakHeap()
		ctx, stats := store.WithStats(context.Background())
		start := time.Now()
		ids, err := e.portal.Notify(ctx, at)
		took := time.Since(start)
		heap := stopHeap()
		if err != nil {
			b.Fatal(err)
		}
		licenses := 0
		for _, id := range ids {
			for _, o := range doc.Organizations {
				if d, err := e.store.Digest(context.Background(), o.ID, id, at); err == nil {
					licenses += d.Licenses
				}
			}
		}
		b.ReportMetric(took.Seconds(), "s/run")
		b.ReportMetric(float64(stats.Requests.Load()), "ddb-requests/run")
		b.ReportMetric(float64(stats.ItemsRead.Load()), "ddb-items-read/run")
		b.ReportMetric(float64(stats.Written.Load()), "ddb-items-written/run")
		b.ReportMetric(float64(len(ids)), "digests/run")
		b.ReportMetric(float64(licenses), "rows/run")
		b.ReportMetric(heap, "peak-heap-MiB")
	}
	steps := []struct {
		name string
		day  license.Date
	}{
		{"first-run", testToday},
		{"same-day-again", testToday},
		{"next-day", testToday.AddDays(1)},
		{"a-week-later", testToday.AddDays(8)},
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			if b.N > 1 {
				b.Skip("each run changes the state: run with -benchtime 1x")
			}
			run(b, s.day)
		})
	}
	largest := 0
	for _, m := range mailer.Sent(b) {
		largest = max(largest, len(m.Body))
	}
	b.Logf("largest e-mail's HTML part: %d bytes", largest)
}
