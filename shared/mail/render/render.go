// Package render writes the portal's e-mails from their templates: the
// expiration digest and the notice that a scheduled report is ready, each
// in text and HTML. Everything they show of the data comes from outside and
// is escaped by html/template in the HTML part; the text part is plain
// text, and header values have their control characters removed.
//
// It is a package of its own, handed to the portal as a mail.Renderer, so
// that only the functions that send e-mail link the template engines (which
// keep every exported method of a program from the linker's dead-code
// elimination).
package render

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/partnerportal/licenses/shared/mail"
)

// digestView is what the digest templates show.
type digestView struct {
	mail.Digest
	Total   int
	Groups  []groupView
	Omitted int
}

type groupView struct {
	Heading string
	Count   int
	Rows    []rowView
}

type rowView struct {
	Organization, Product, LicenseKey, Expires, DaysLeft, Usage string
}

// Templates is the mail.Renderer of the portal's e-mails.
type Templates struct{}

var _ mail.Renderer = Templates{}

// Digest returns the subject, text and HTML of a digest.
func (Templates) Digest(d mail.Digest) (subject, text, html string, err error) {
	v := digestView{Digest: d}
	listed := 0
	for _, g := range d.Groups {
		gv := groupView{Heading: heading(g.Threshold), Count: len(g.Rows)}
		v.Total += len(g.Rows)
		for _, r := range g.Rows {
			if listed == mail.MaxDigestRows {
				v.Omitted++
				continue
			}
			listed++
			gv.Rows = append(gv.Rows, rowView{Organization: oneLine(r.Organization), Product: oneLine(r.Product),
				LicenseKey: oneLine(r.LicenseKey), Expires: r.ExpirationDate.String(), DaysLeft: daysLeft(r.DaysLeft), Usage: usage(r)})
		}
		v.Groups = append(v.Groups, gv)
	}
	subject = mail.Header(fmt.Sprintf("%s: %s of your customers expiring soon", oneLine(d.Partner), count(v.Total, "license")))
	text, html, err = render(digestText, digestHTML, v)
	return subject, text, html, err
}

func heading(threshold int) string {
	if threshold == 0 {
		return "Expiring today"
	}
	return "Expiring within " + count(threshold, "day")
}

func daysLeft(n int) string {
	if n == 0 {
		return "today"
	}
	return count(n, "day")
}

func usage(r mail.Row) string {
	if r.Cloud {
		return fmt.Sprintf("%d scans a day", r.ScanLimit)
	}
	return fmt.Sprintf("%d of %d deployed", r.Deployed, r.Purchased)
}

// count returns "1 license", "2 licenses".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine returns s with control characters, line breaks included, as
// spaces: data shown on a line of the text part stays on it.
func oneLine(s string) string { return strings.TrimSpace(mail.Header(s)) }

// ExportReady returns the subject, text and HTML of the notice that a
// scheduled report is ready.
func (Templates) ExportReady(e mail.ExportReady) (subject, text, html string, err error) {
	e.Partner, e.Subscription = oneLine(e.Partner), oneLine(e.Subscription)
	subject = mail.Header(fmt.Sprintf("%s: your scheduled report %s of %s is ready", e.Partner, e.Subscription, e.Date))
	text, html, err = render(exportText, exportHTML, e)
	return subject, text, html, err
}

func render(t *texttemplate.Template, h *htmltemplate.Template, v any) (string, string, error) {
	var text, html bytes.Buffer
	if err := t.Execute(&text, v); err != nil {
		return "", "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	if err := h.Execute(&html, v); err != nil {
		return "", "", fmt.Errorf("render %s: %w", h.Name(), err)
	}
	return text.String(), html.String(), nil
}

var digestText = texttemplate.Must(texttemplate.New("digest.txt").Parse(`Licenses of your customers that expire soon, as of {{.Date}}: {{.Total}}.
{{range .Groups}}
{{.Heading}} ({{.Count}})
{{range .Rows}}
  {{.Organization}} | {{.Product}} | {{.LicenseKey}}
    expires {{.Expires}} ({{.DaysLeft}} left) | {{.Usage}}
{{end}}{{end}}{{if .Omitted}}
... and {{.Omitted}} more, listed in the portal.
{{end}}
See them in the portal: {{.Link}}

You get this e-mail because your organization's expiration notifications in
the partner license portal name this address.
`))

var digestHTML = htmltemplate.Must(htmltemplate.New("digest.html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Licenses expiring soon</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933">
<p>Licenses of your customers that expire soon, as of {{.Date}}: <strong>{{.Total}}</strong>.</p>
{{range .Groups}}<h2 style="font-size:16px;margin:24px 0 8px">{{.Heading}} ({{.Count}})</h2>
<table cellpadding="6" cellspacing="0" style="border-collapse:collapse;font-size:13px">
<thead><tr style="background:#eef2f7;text-align:left"><th>Organization</th><th>Product</th><th>License key</th><th>Expires</th><th>Days left</th><th>Usage</th></tr></thead>
<tbody>{{range .Rows}}
<tr style="border-top:1px solid #d9e2ec"><td>{{.Organization}}</td><td>{{.Product}}</td><td>{{.LicenseKey}}</td><td>{{.Expires}}</td><td>{{.DaysLeft}}</td><td>{{.Usage}}</td></tr>{{end}}
</tbody></table>
{{end}}{{if .Omitted}}<p>… and {{.Omitted}} more, listed in the portal.</p>
{{end}}<p><a href="{{.Link}}" style="display:inline-block;padding:8px 14px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">See them in the portal</a></p>
<p style="color:#616e7c;font-size:12px">You get this e-mail because your organization's expiration notifications in the partner license portal name this address.</p>
</body></html>
`))

var exportText = texttemplate.Must(texttemplate.New("export.txt").Parse(`Your scheduled report "{{.Subscription}}" of {{.Date}} is ready:
{{.Licenses}} licenses, {{.Cloud}} cloud services, {{.Deployments}} active deployments.

Download it in the portal: {{.Link}}
The portal lists it for {{.ListedDays}} days.

You get this e-mail because the report subscription "{{.Subscription}}" of
your organization in the partner license portal names this address.
`))

var exportHTML = htmltemplate.Must(htmltemplate.New("export.html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Your report is ready</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933">
<p>Your scheduled report <strong>{{.Subscription}}</strong> of {{.Date}} is ready:
{{.Licenses}} licenses, {{.Cloud}} cloud services, {{.Deployments}} active deployments.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:8px 14px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">Download it in the portal</a></p>
<p>The portal lists it for {{.ListedDays}} days.</p>
<p style="color:#616e7c;font-size:12px">You get this e-mail because the report subscription "{{.Subscription}}" of your organization in the partner license portal names this address.</p>
</body></html>
`))
