package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// The recipients of a subscription get an e-mail when its scheduled export
// is ready, linking to the export in the portal, once per export: retried
// and concurrent runs of the schedule send no second one, and a send that
// fails is tried again by the next run.
func TestScheduledReportMail(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, notifyDoc(t))
	m.call("PUT", "/v1/report-subscriptions/weekly", "d1-admin",
		`{"frequency":"weekly","all":true,"recipients":["reports@d1.example","x"]}`).want(t, 400, "invalid_request")
	sub := m.call("PUT", "/v1/report-subscriptions/weekly", "d1-admin",
		`{"frequency":"weekly","all":true,"recipients":["reports@d1.example","boss@d1.example"]}`).want(t, 201, "")
	if got := mustJSON(sub.body["recipients"]); got != `["reports@d1.example","boss@d1.example"]` {
		t.Errorf("recipients = %s", got)
	}
	m.call("PUT", "/v1/report-subscriptions/quiet", "d1-admin", `{"frequency":"weekly","organizationIds":["c2"]}`).want(t, 201, "")

	run := func(at time.Time) []string {
		t.Helper()
		m.clock.set(at)
		ids, err := m.portal.RunSchedule(context.Background(), at)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return ids
	}
	monday := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
	made := run(monday)
	if len(made) != 2 {
		t.Fatalf("first run made %v, want the exports of both subscriptions", made)
	}
	if again := run(monday.Add(time.Hour)); len(again) != 0 {
		t.Errorf("the same week again made %v", again)
	}
	mails := m.mailTo(t, "reports@d1.example")
	if len(mails) != 1 {
		t.Fatalf("%d e-mails, want 1 (the quiet subscription has no recipients)", len(mails))
	}
	var weekly string
	for _, x := range items(t, m.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"]) {
		if x["subscriptionId"] == "weekly" {
			weekly = x["id"].(string)
		}
	}
	body := mails[0].Body
	if !strings.Contains(body, `href="`+testPortal+`/?export=`+weekly+`"`) || strings.Contains(body, "X-Amz") ||
		strings.Contains(body, "exports/") || !strings.Contains(mails[0].Subject, "weekly") || len(mails[0].To) != 2 {
		t.Errorf("the e-mail: %q\n%s", mails[0].Subject, body)
	}

	// SES refuses the next week's notice; the next run sends it.
	m.faults.down.Store(true)
	next := monday.AddDate(0, 0, 7)
	if made := run(next); len(made) != 2 {
		t.Fatalf("next week made %v", made)
	}
	m.faults.down.Store(false)
	if n := len(m.mailTo(t, "reports@d1.example")); n != 1 {
		t.Fatalf("%d e-mails while SES refused them", n)
	}
	run(next.Add(time.Hour))
	run(next.Add(2 * time.Hour))
	if n := len(m.mailTo(t, "reports@d1.example")); n != 2 {
		t.Errorf("%d e-mails after the retry, want 2", n)
	}

	// Five runs at once in the week after: one export, one e-mail.
	third := next.AddDate(0, 0, 7)
	m.clock.set(third)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.portal.RunSchedule(context.Background(), third); err != nil {
				t.Errorf("concurrent run: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := len(m.mailTo(t, "reports@d1.example")); n != 3 {
		t.Errorf("%d e-mails after five concurrent runs, want 3 in all", n)
	}
}
