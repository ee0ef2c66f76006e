// Package ses sends the portal's e-mails through Amazon SES v2 (SendEmail,
// simple content: SES builds the MIME message of the text and HTML parts).
package ses

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/partnerportal/licenses/shared/mail"
)

// Client is the part of the SES v2 API that Sender uses.
type Client interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// New returns a Sender on an SES v2 client, on endpoint when it is not empty
// (an emulator).
func New(cfg aws.Config, endpoint string, opts ...func(*sesv2.Options)) Sender {
	return Sender{Client: sesv2.NewFromConfig(cfg, append([]func(*sesv2.Options){func(o *sesv2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, opts...)...)}
}

// Sender sends e-mails with SES. The SDK retries throttling (SES's
// TooManyRequestsException and LimitExceededException) with backoff before
// Send returns an error.
type Sender struct {
	Client Client
}

var _ mail.Sender = Sender{}

// Send sends m to every address of m.To in one message.
func (s Sender) Send(ctx context.Context, m mail.Message) (string, error) {
	if len(m.To) == 0 {
		return "", errors.New("ses: a message needs a recipient")
	}
	utf8 := aws.String("UTF-8")
	out, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: m.To},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: utf8},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: utf8},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: utf8},
			},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("ses: send %q: %w", m.Subject, err)
	}
	return aws.ToString(out.MessageId), nil
}
