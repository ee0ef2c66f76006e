package store_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// These tests use no transactions: they run on dynalite too.

// Enabled settings, and only those, are found by the daily run; settings
// never set are not found.
func TestNotificationSettingsStore(t *testing.T) {
	w := newWorld(t)
	if _, err := w.s.NotificationSettings(w.ctx, "p1"); !errorIsNotFound(err) {
		t.Fatalf("settings never set: %v, want not found", err)
	}
	at := importNow.Add(time.Hour)
	for _, set := range []notification.Settings{
		{PartnerID: "p1", Enabled: true, Recipients: []string{"a@p1.example"}, ThresholdDays: []int{60, 30}, UpdatedAt: at, UpdatedBy: "u1"},
		{PartnerID: "p2", Enabled: false, Recipients: nil, ThresholdDays: []int{7}, UpdatedAt: at, UpdatedBy: "u2"},
		{PartnerID: "p3", Enabled: true, Recipients: []string{"a@p3.example", "b@p3.example"}, ThresholdDays: []int{0}, UpdatedAt: at, UpdatedBy: "u3"},
	} {
		if err := w.s.PutNotificationSettings(w.ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.s.NotificationSettings(w.ctx, "p2")
	if err != nil || got.Enabled || len(got.Recipients) != 0 || !slices.Equal(got.ThresholdDays, []int{7}) || !got.UpdatedAt.Equal(at) {
		t.Errorf("p2 = %+v, %v", got, err)
	}
	enabled := func() []string {
		list, err := w.s.EnabledNotifications(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range list {
			ids = append(ids, s.PartnerID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := enabled(); !slices.Equal(got, []string{"p1", "p3"}) {
		t.Errorf("enabled = %v, want p1 and p3", got)
	}
	// Disabling takes the partner out of the index.
	if err := w.s.PutNotificationSettings(w.ctx, notification.Settings{PartnerID: "p1", ThresholdDays: []int{30}, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if got := enabled(); !slices.Equal(got, []string{"p3"}) {
		t.Errorf("after disabling p1, enabled = %v", got)
	}
}

func errorIsNotFound(err error) bool { return err != nil && strings.Contains(err.Error(), "not_found") }

// One run at a time holds a partner's lease, until it releases it or it
// runs out.
func TestNotificationLease(t *testing.T) {
	w := newWorld(t)
	now := importNow
	lease := func(digest string, at time.Time) bool {
		ok, err := w.s.LeaseNotifications(w.ctx, "p1", digest, at, at.Add(notification.StaleAfter))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lease("d1", now) {
		t.Fatal("the first lease was refused")
	}
	if lease("d2", now.Add(time.Minute)) {
		t.Error("a second run got the lease while the first holds it")
	}
	if err := w.s.ReleaseNotifications(w.ctx, "p1", "d2"); err != nil {
		t.Fatal(err)
	}
	if lease("d3", now.Add(2*time.Minute)) {
		t.Error("another run's release ended the first run's lease")
	}
	if !lease("d4", now.Add(notification.StaleAfter+time.Second)) {
		t.Error("a lease that ran out was not given to the next run")
	}
	if err := w.s.ReleaseNotifications(w.ctx, "p1", "d4"); err != nil {
		t.Fatal(err)
	}
	if !lease("d5", now.Add(notification.StaleAfter+2*time.Second)) {
		t.Error("a released lease was not given to the next run")
	}
}

// A claim is made only over the claim it replaces: of runs claiming a
// license at once, exactly one does.
func TestClaimLicenses(t *testing.T) {
	w := newWorld(t)
	exp, _ := license.ParseDate("2025-07-01")
	claim := func(digest, replaces string, threshold int) store.Claim {
		return store.Claim{Claim: notification.Claim{LicenseKey: "L1", ExpirationDate: exp, Threshold: threshold, DigestID: digest,
			ClaimedAt: importNow}, Replaces: replaces}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		made []string
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			digest := fmt.Sprintf("d%d", i)
			ok, err := w.s.ClaimLicenses(w.ctx, "p1", []store.Claim{claim(digest, "", 60)})
			if err != nil {
				t.Error(err)
				return
			}
			if ok[0] {
				mu.Lock()
				made = append(made, digest)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(made) != 1 {
		t.Fatalf("%d of 8 concurrent claims were made, want 1: %v", len(made), made)
	}
	first := made[0]
	thirty := 60
	next := claim("dx", first, 30)
	next.Previous = &thirty
	ok, err := w.s.ClaimLicenses(w.ctx, "p1", []store.Claim{claim("dy", "d-other", 30), next})
	if err != nil || ok[0] || !ok[1] {
		t.Fatalf("claims over a stale and the current claim: %v, %v; want only the second", ok, err)
	}
	// A renewal is another expiration date, claimed on its own.
	renewed := claim("dz", "", 60)
	renewed.ExpirationDate = exp.AddDays(365)
	if ok, err := w.s.ClaimLicenses(w.ctx, "p1", []store.Claim{renewed}); err != nil || !ok[0] {
		t.Fatalf("claim of the renewed license: %v, %v", ok, err)
	}
	claims, err := w.s.Claims(w.ctx, "p1")
	if err != nil || len(claims) != 2 {
		t.Fatalf("claims = %+v, %v", claims, err)
	}
	c := claims[0]
	if c.DigestID != "dx" || c.Threshold != 30 || c.Previous == nil || *c.Previous != 60 || c.ExpirationDate != exp {
		t.Errorf("claim = %+v", c)
	}
	if other, err := w.s.Claims(w.ctx, "p2"); err != nil || len(other) != 0 {
		t.Errorf("another partner's claims = %v, %v", other, err)
	}
}

// A digest is created pending, finished once, listed newest first in pages,
// and keeps rows of any size.
func TestDigests(t *testing.T) {
	w := newWorld(t)
	now := importNow
	day := license.DateOf(now)
	var ids []string
	for i := 0; i < 5; i++ {
		d := &notification.Digest{ID: id.Ordered(now.Add(time.Duration(i) * time.Millisecond)), PartnerID: "p1", Status: notification.Pending,
			Date: day, CreatedAt: now, Recipients: []string{"a@p1.example"}, ByThreshold: map[int]int{}, ExpiresAt: now.Add(notification.Retention)}
		if err := w.s.CreateDigest(w.ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := w.s.CreateDigest(w.ctx, d); err == nil {
			t.Fatal("a digest was created twice")
		}
		ids = append(ids, d.ID)
		if i == 4 {
			continue // left pending
		}
		d.Status, d.SentAt, d.Licenses, d.ByThreshold = notification.Sent, now, 3, map[int]int{30: 2, 60: 1}
		if ok, err := w.s.FinishDigest(w.ctx, d); err != nil || !ok {
			t.Fatalf("finish: %v, %v", ok, err)
		}
		failed := *d
		failed.Status = notification.Failed
		if ok, err := w.s.FinishDigest(w.ctx, &failed); err != nil || ok {
			t.Fatalf("finishing a finished digest: %v, %v; want refused", ok, err)
		}
	}
	got, err := w.s.Digest(w.ctx, "p1", ids[0], now)
	if err != nil || got.Status != notification.Sent || got.Licenses != 3 || got.ByThreshold[30] != 2 || got.Date != day {
		t.Fatalf("digest = %+v, %v", got, err)
	}
	if _, err := w.s.Digest(w.ctx, "p2", ids[0], now); !errorIsNotFound(err) {
		t.Errorf("another partner's digest: %v", err)
	}
	if _, err := w.s.Digest(w.ctx, "p1", ids[0], now.Add(notification.Retention)); !errorIsNotFound(err) {
		t.Errorf("a digest past its retention: %v", err)
	}
	sent := func(d *notification.Digest) bool { return d.Status == notification.Sent }
	first, next, err := w.s.DigestPage(w.ctx, "p1", page.Request{Limit: 3}, now, sent)
	if err != nil || len(first) != 3 || next == nil || first[0].ID != ids[3] {
		t.Fatalf("first page: %d, %q, %v", len(first), next, err)
	}
	rest, next, err := w.s.DigestPage(w.ctx, "p1", page.Request{Limit: 3, Cursor: next}, now, sent)
	if err != nil || len(rest) != 1 || next != nil || rest[0].ID != ids[0] {
		t.Fatalf("second page: %d, %q, %v", len(rest), next, err)
	}
	if _, _, err := w.s.DigestPage(w.ctx, "p1", page.Request{Limit: 3, Cursor: []byte("NOTE#x")}, now, nil); err == nil {
		t.Error("a cursor of another kind was taken")
	}
	if err := w.s.DeleteDigest(w.ctx, "p1", ids[4]); err != nil {
		t.Fatal(err)
	}
	if err := w.s.DeleteDigest(w.ctx, "p1", ids[0]); err != nil {
		t.Fatal(err)
	}
	all, err := w.s.Digests(w.ctx, "p1", now)
	if err != nil || len(all) != 4 {
		t.Errorf("after deleting the pending digest (and not a sent one): %d digests, %v", len(all), err)
	}

	// Rows of any size: many parts.
	var rows []notification.Row
	for i := 0; i < 30_000; i++ {
		used := i
		rows = append(rows, notification.Row{Row: report.Row{LicenseKey: fmt.Sprintf("LIC-%06d-%x", i, i*7919), ProductID: "core",
			ProductName: "MetaDefender Core", Category: license.OnPrem, OrganizationID: fmt.Sprintf("org-%d", i%97),
			OrganizationName: fmt.Sprintf("Customer %d", i%97), Status: license.Expiring, Type: license.Purchased, StartDate: day,
			ExpirationDate: day.AddDays(i % 60), Deployed: i % 5, Purchased: 5, ScansUsed: &used, CustomerNote: strings.Repeat("n", i%40)},
			Threshold: 60, DaysLeft: i % 60})
	}
	d := &notification.Digest{ID: ids[1], PartnerID: "p1", ExpiresAt: now.Add(notification.Retention)}
	if err := w.s.SaveDigestRows(w.ctx, d, rows); err != nil {
		t.Fatal(err)
	}
	back, err := w.s.DigestRows(w.ctx, "p1", ids[1])
	if err != nil || len(back) != len(rows) {
		t.Fatalf("rows read back: %d, %v", len(back), err)
	}
	for i := range rows {
		b, r := back[i], rows[i]
		if b.ScansUsed == nil || *b.ScansUsed != *r.ScansUsed {
			t.Fatalf("row %d: scans used %v, want %d", i, b.ScansUsed, *r.ScansUsed)
		}
		b.ScansUsed, r.ScansUsed = nil, nil
		if !reflect.DeepEqual(b, r) {
			t.Fatalf("row %d = %+v, want %+v", i, b, r)
		}
	}
	if parts := len(w.queryPrefix("PARTNER#p1", "DIGESTROWS#"+ids[1]+"#")); parts < 2 {
		t.Errorf("30,000 rows in %d part(s): the test does not cover rows that need more than one", parts)
	}
	if none, err := w.s.DigestRows(w.ctx, "p1", ids[2]); err != nil || len(none) != 0 {
		t.Errorf("a digest without rows: %v, %v", none, err)
	}
}

// The notice of a ready export changes state only from the state it was
// read in, so that of two runs sending it one does; it is listed as due
// while due, and while a stale attempt is sending it.
func TestExportMailStates(t *testing.T) {
	w := newWorld(t)
	now := importNow
	e := &export.Export{ID: id.Ordered(now), PartnerID: "p1", Status: export.Pending, Trigger: export.Scheduled, SubscriptionID: "s",
		CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour), Recipients: []string{"a@p1.example"}}
	if err := w.s.CreateExport(w.ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Status, e.CompletedAt, e.ObjectKey = export.Ready, now, "exports/p1/x.xlsx"
	e.Mail = export.Mail{Status: export.MailDue, NextAt: now}
	if ok, err := w.s.FinishExport(w.ctx, e); err != nil || !ok {
		t.Fatal(ok, err)
	}
	due := func(at time.Time) int {
		list, err := w.s.DueExportMail(w.ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	if n := due(now); n != 1 {
		t.Fatalf("%d due, want the ready export", n)
	}
	sending := func(attempts int, at time.Time) *export.Export {
		s := *e
		s.Mail = export.Mail{Status: export.MailSending, Attempts: attempts, NextAt: at.Add(export.StaleAfter)}
		return &s
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := w.s.UpdateExportMail(w.ctx, sending(1, now), e.Mail)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 6 runs began sending the notice, want 1", won)
	}
	if n := due(now.Add(time.Minute)); n != 0 {
		t.Errorf("%d due while a run sends it", n)
	}
	if n := due(now.Add(export.StaleAfter)); n != 1 {
		t.Errorf("%d due once the attempt is stale, want 1", n)
	}
	got, err := w.s.Export(w.ctx, "p1", e.ID, now)
	if err != nil || got.Mail.Status != export.MailSending || got.Mail.Attempts != 1 || !slices.Equal(got.Recipients, e.Recipients) {
		t.Fatalf("export = %+v, %v", got, err)
	}
	sent := *got
	sent.Mail = export.Mail{Status: export.MailSent, Attempts: 1, MessageID: "m1"}
	if ok, err := w.s.UpdateExportMail(w.ctx, &sent, got.Mail); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := w.s.UpdateExportMail(w.ctx, sending(2, now), got.Mail); err != nil || ok {
		t.Errorf("a run began sending a notice sent already: %v, %v", ok, err)
	}
	if n := due(now.Add(time.Hour)); n != 0 {
		t.Errorf("%d due after it was sent", n)
	}
}
