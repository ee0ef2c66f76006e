package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/partnerportal/licenses/shared/mail"
	"github.com/partnerportal/licenses/shared/mail/ses"
)

// outbox keeps the e-mails the local server sends, newest first, and
// answers GET /dev/outbox with them. With a next sender (SES, by
// -ses-endpoint) it sends each through it too and keeps those it accepted.
type outbox struct {
	next  mail.Sender
	mu    sync.Mutex
	items []sentMail
}

// sentMail is an e-mail as GET /dev/outbox lists it.
type sentMail struct {
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
	SentAt  time.Time `json:"sentAt"`
}

var _ mail.Sender = (*outbox)(nil)

// maxOutbox bounds what the outbox keeps: the oldest go first.
const maxOutbox = 500

func (o *outbox) Send(ctx context.Context, m mail.Message) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := "outbox-" + hex.EncodeToString(b[:])
	if o.next != nil {
		var err error
		if id, err = o.next.Send(ctx, m); err != nil {
			return "", err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items = append([]sentMail{{ID: id, From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		SentAt: time.Now().UTC()}}, o.items[:min(len(o.items), maxOutbox-1)]...)
	return id, nil
}

func (o *outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "" {
		writeDevError(w, http.StatusBadRequest, "invalid_request", "GET /dev/outbox takes no parameters")
		return
	}
	o.mu.Lock()
	items := append([]sentMail{}, o.items...)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string][]sentMail{"items": items})
}

// openMail returns the outbox, and the sender of the server's e-mail: the
// outbox, which sends through -ses-endpoint as well when it is set. On an
// emulator the sender address is made an identity that may send first, as
// on AWS a verified identity must be.
func openMail(ctx context.Context, o options) (*outbox, mail.Sender, error) {
	box := &outbox{}
	if o.sesEndpoint == "" {
		return box, box, nil
	}
	cfg, err := configFor(ctx, o.sesEndpoint)
	if err != nil {
		return nil, nil, err
	}
	sender := ses.New(cfg, o.sesEndpoint)
	if u, err := url.Parse(o.sesEndpoint); err == nil && !strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		client := sender.Client.(*sesv2.Client)
		_, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &o.mailFrom})
		var exists *sestypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return nil, nil, fmt.Errorf("make %s an identity of %s: %w", o.mailFrom, o.sesEndpoint, err)
		}
	}
	box.next = sender
	return box, box, nil
}

func orOutbox(endpoint string) string {
	if endpoint == "" {
		return "outbox only"
	}
	return endpoint
}
