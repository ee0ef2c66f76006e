package main

import (
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/testenv"
)

// outboxItems returns what GET /dev/outbox lists.
func outboxItems(t *testing.T, base string) []map[string]any {
	t.Helper()
	status, out := (&client{t: t, base: base}).do("GET", "/dev/outbox", nil)
	if status != 200 {
		t.Fatalf("outbox: %d %v", status, out)
	}
	var list []map[string]any
	for _, x := range out["items"].([]any) {
		list = append(list, x.(map[string]any))
	}
	return list
}

// notifyAt runs the notifier on the local server at 07:00 UTC of day and
// returns the digests it sent.
func notifyAt(t *testing.T, base, day string) []any {
	t.Helper()
	status, out := (&client{t: t, base: base}).do("POST", "/dev/notifications", map[string]string{"at": day + "T07:00:00Z"})
	if status != 200 {
		t.Fatalf("notifier on %s: %d %v", day, status, out)
	}
	return out["notifications"].([]any)
}

// The README's walkthrough of the notifications, as a partner tries it:
// recipients and thresholds set, the notifier run for today and again (one
// digest in the outbox, none the second time), then the date moved to see
// the next threshold.
func TestNotificationWalkthrough(t *testing.T) {
	base := start(t, "-today", "2026-06-15")
	c := signIn(t, base, "dist-1-admin")
	status, set := c.do("PUT", "/v1/notification-settings", map[string]any{"enabled": true,
		"recipients": []string{"renewals@partner.example"}, "thresholdDays": []int{30, 60}})
	if status != 200 || set["thresholdDays"].([]any)[0].(float64) != 60 {
		t.Fatalf("settings: %d %v", status, set)
	}
	first := notifyAt(t, base, "2026-06-15")
	if len(first) != 1 {
		t.Fatalf("first run sent %v, want one digest", first)
	}
	if again := notifyAt(t, base, "2026-06-15"); len(again) != 0 {
		t.Errorf("the second run sent %v", again)
	}
	box := outboxItems(t, base)
	if len(box) != 1 {
		t.Fatalf("the outbox holds %d e-mails, want 1", len(box))
	}
	m := box[0]
	link := base + "/?notification=" + first[0].(string)
	if to := m["to"].([]any); len(to) != 1 || to[0] != "renewals@partner.example" || !strings.Contains(m["from"].(string), "notifications@portal.example") ||
		!strings.Contains(m["text"].(string), link) || !strings.Contains(m["html"].(string), link) ||
		!strings.Contains(m["subject"].(string), "Northbridge Distribution") {
		t.Errorf("the e-mail: %v", m)
	}

	thresholds := func(id string) map[string]float64 {
		status, d := c.do("GET", "/v1/notifications/"+id+"?limit=1000", nil)
		if status != 200 {
			t.Fatalf("digest %s: %d %v", id, status, d)
		}
		out := map[string]float64{}
		for _, r := range d["rows"].([]any) {
			row := r.(map[string]any)
			out[row["licenseKey"].(string)] = row["threshold"].(float64)
		}
		return out
	}
	before := thresholds(first[0].(string))
	// A month on, licenses notified for 60 days are due for 30.
	later := notifyAt(t, base, "2026-07-15")
	if len(later) != 1 {
		t.Fatalf("a month later: %v, want one digest", later)
	}
	moved := 0
	for key, th := range thresholds(later[0].(string)) {
		if before[key] == 60 && th == 30 {
			moved++
		}
		if before[key] == 30 {
			t.Errorf("%s was notified for 30 days twice", key)
		}
	}
	if moved == 0 {
		t.Error("no license notified for 60 days came due for 30 a month later")
	}
	if n := len(outboxItems(t, base)); n != 2 {
		t.Errorf("the outbox holds %d e-mails, want 2", n)
	}
	status, list := c.do("GET", "/v1/notifications", nil)
	if items := list["items"].([]any); status != 200 || len(items) != 2 || items[0].(map[string]any)["id"] != later[0] {
		t.Errorf("digests: %d %v", status, list)
	}
}

// With -ses-endpoint the server sends through that SES API: moto receives
// the digest, and the outbox still lists it. The sender is an identity of
// the emulator already (the server makes it one when it is not).
func TestSESEndpoint(t *testing.T) {
	ses := testenv.NewSES(t)
	base := start(t, "-today", "2026-06-15", "-ses-endpoint", ses.Endpoint, "-mail-from", ses.From,
		"-portal-url", "https://portal.example.com")
	c := signIn(t, base, "res-1-admin")
	if status, out := c.do("PUT", "/v1/notification-settings", map[string]any{"enabled": true,
		"recipients": []string{"ops@res1.example"}, "thresholdDays": []int{90}}); status != 200 {
		t.Fatalf("settings: %d %v", status, out)
	}
	sent := notifyAt(t, base, "2026-06-15")
	if len(sent) != 1 {
		t.Fatalf("sent %v", sent)
	}
	mails := ses.Sent(t)
	if len(mails) != 1 || mails[0].To[0] != "ops@res1.example" ||
		!strings.Contains(mails[0].Body, "https://portal.example.com/?notification="+sent[0].(string)) {
		t.Fatalf("moto received %+v", mails)
	}
	if box := outboxItems(t, base); len(box) != 1 || box[0]["id"] != mails[0].ID {
		t.Errorf("the outbox lists %v, want the message SES accepted, %s", box, mails[0].ID)
	}
}
