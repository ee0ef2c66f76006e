package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/id"
)

// A subscription deleted and created again with the same id is a new one,
// due at once: the schedule makes its export in the period in which the old
// one already had one. Replacing a subscription keeps its periods.
func TestResubscribedIsDueAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	path := "/v1/report-subscriptions/weekly"
	run := func(at time.Time) []string {
		t.Helper()
		ids, err := e.portal.RunSchedule(context.Background(), at)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return ids
	}
	e.call("PUT", path, "d1-admin", `{"frequency":"weekly","all":true}`).want(t, 201, "")
	if ids := run(e.now); len(ids) != 1 {
		t.Fatalf("the first run made %v, want the subscription's export", ids)
	}
	// Replaced: the same subscription, its week done.
	e.now = e.now.Add(time.Hour)
	e.call("PUT", path, "d1-admin", `{"frequency":"weekly","organizationIds":["c1"]}`).want(t, 200, "")
	if ids := run(e.now); len(ids) != 0 {
		t.Errorf("a run after the subscription was replaced made %v", ids)
	}
	// Deleted and created again the same week (at the same instant even):
	// a new subscription, due at once, once.
	e.now = e.now.Add(time.Hour)
	old, err := e.store.Subscription(context.Background(), "d1", "weekly")
	if err != nil {
		t.Fatal(err)
	}
	e.call("DELETE", path, "d1-admin", nil).want(t, 204, "")
	e.call("PUT", path, "d1-admin", `{"frequency":"weekly","all":true}`).want(t, 201, "")
	again := run(e.now)
	if len(again) != 1 {
		t.Fatalf("a run after the subscription was created again made %v, want its export", again)
	}
	if ids := run(e.now.Add(time.Hour)); len(ids) != 0 {
		t.Errorf("a second run the same week made %v", ids)
	}
	got := e.call("GET", "/v1/exports/"+again[0], "d1-admin", nil).want(t, 200, "")
	if got.body["subscriptionId"] != "weekly" || got.body["status"] != "ready" {
		t.Errorf("the new subscription's export = %s", got.raw)
	}
	if n := len(items(t, e.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"])); n != 2 {
		t.Errorf("%d exports listed, want 2 (one per subscription)", n)
	}
	// A run that read the old subscription before it was deleted claims
	// nothing of the new one's: next week the new one gets its export.
	nextWeek := e.now.Add(7 * 24 * time.Hour)
	stale := &export.Export{ID: id.Ordered(nextWeek), PartnerID: "d1", Status: export.Pending, Trigger: export.Scheduled,
		SubscriptionID: "weekly", CreatedAt: nextWeek, Selection: old.Selection, ExpiresAt: nextWeek.Add(time.Hour)}
	if claimed, _, err := e.store.ClaimPeriod(context.Background(), old, stale); err != nil || claimed != nil {
		t.Errorf("the deleted subscription claimed next week: %v, %v", claimed, err)
	}
	if ids := run(nextWeek); len(ids) != 1 {
		t.Errorf("next week's run made %v, want one export", ids)
	}
}
