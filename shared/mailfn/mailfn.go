// Package mailfn wires the e-mail of the functions that send it, on top of
// lambdafn: the SES client, the templates, the sender and the portal's page
// (Mail), and the expiration notifier, which a daily EventBridge schedule
// invokes. It is called from main functions only (and from schedulefn);
// no other function links the SES client or the template engines.
package mailfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/lambdafn"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/portal"
)

// Mail returns the configuration of the portal's e-mail from the function's
// environment: SES, the templates, the sender and the portal's page.
func Mail(d *lambdafn.Deps) (*portal.MailConfig, error) {
	cfg := d.Config
	if cfg.MailFrom == "" || cfg.PortalURL == "" {
		return nil, fmt.Errorf("configuration: %s and %s are required by this function", config.MailFrom, config.PortalURL)
	}
	return &portal.MailConfig{Sender: ses.New(d.AWS, cfg.SESEndpoint), Renderer: render.Templates{}, From: cfg.MailFrom,
		PortalURL: cfg.PortalURL}, nil
}

// ServeNotifier is the main of the expiration notifier, which a daily
// EventBridge schedule invokes.
func ServeNotifier(getenv func(string) string) {
	d := lambdafn.Must(lambdafn.Setup(context.Background(), getenv))
	mail := lambdafn.Must(Mail(d))
	svc := lambdafn.Must(d.Portal(nil, mail))
	lambda.Start(lambdaevent.NotifyHandler(svc, d.Log))
}
