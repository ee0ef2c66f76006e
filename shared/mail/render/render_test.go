package render_test

import (
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail"
	"github.com/partnerportal/licenses/shared/mail/render"
)

var day, _ = license.ParseDate("2026-06-15")

// Data from outside is text: escaped in the HTML part, on one line in the
// text part, and never a header of its own.
func TestRenderDigestEscapes(t *testing.T) {
	hostile := `<script>alert(1)</script> & "Co"` + "\r\nBcc: x@evil.example"
	subject, text, html, err := render.Templates{}.Digest(mail.Digest{Partner: hostile, Date: day, Link: "https://portal.example.com/?notification=abc",
		Groups: []mail.Group{
			{Threshold: 0, Rows: []mail.Row{{Organization: hostile, Product: "Core", LicenseKey: "K1", ExpirationDate: day, Deployed: 1, Purchased: 2}}},
			{Threshold: 30, Rows: []mail.Row{{Organization: "=HYPERLINK(\"http://x\")", Product: "Cloud", LicenseKey: "K2",
				ExpirationDate: day.AddDays(1), DaysLeft: 1, Cloud: true, ScanLimit: 100}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") || !strings.Contains(subject, "2 licenses") {
		t.Errorf("subject = %q", subject)
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;") {
		t.Errorf("the HTML part does not escape the data:\n%s", html)
	}
	if strings.Contains(text, "\r\nBcc") || !strings.Contains(text, "Expiring today (1)") || !strings.Contains(text, "Expiring within 30 days (1)") ||
		!strings.Contains(text, "expires 2026-06-16 (1 day left) | 100 scans a day") || !strings.Contains(text, "1 of 2 deployed") {
		t.Errorf("text part:\n%s", text)
	}
	for _, part := range []string{text, html} {
		if !strings.Contains(part, "https://portal.example.com/?notification=abc") {
			t.Errorf("no link to the portal in:\n%s", part)
		}
	}
}

// A digest lists at most MaxDigestRows licenses and says how many more the
// portal lists.
func TestRenderDigestCap(t *testing.T) {
	rows := make([]mail.Row, mail.MaxDigestRows+7)
	for i := range rows {
		rows[i] = mail.Row{Organization: "O", Product: "P", LicenseKey: "KEY", ExpirationDate: day}
	}
	_, text, html, err := render.Templates{}.Digest(mail.Digest{Partner: "P", Date: day, Link: "https://p.example/",
		Groups: []mail.Group{{Threshold: 30, Rows: rows[:10]}, {Threshold: 60, Rows: rows[10:]}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html, "<td>KEY</td>"); n != mail.MaxDigestRows {
		t.Errorf("%d rows in the HTML, want %d", n, mail.MaxDigestRows)
	}
	if !strings.Contains(text, "and 7 more, listed in the portal") || !strings.Contains(html, "Expiring within 60 days (4997)") {
		t.Errorf("the digest does not say what it leaves out")
	}
}

func TestRenderExportReady(t *testing.T) {
	subject, text, html, err := render.Templates{}.ExportReady(mail.ExportReady{Partner: "Dist <One>", Subscription: "weekly", Date: day,
		Link: "https://portal.example.com/?export=abc", Licenses: 3, Cloud: 1, Deployments: 2, ListedDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Dist <One>: your scheduled report weekly of 2026-06-15 is ready" || strings.Contains(html, "<One>") ||
		!strings.Contains(text, "https://portal.example.com/?export=abc") || !strings.Contains(html, `href="https://portal.example.com/?export=abc"`) {
		t.Errorf("subject %q\ntext:\n%s\nhtml:\n%s", subject, text, html)
	}
}
