package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
)

// History returns a page of a license's history, newest first: at most
// req.Limit events after req.Cursor (nil for the first page), and the
// position of the next page (nil on the last). Note events of other
// partners are left out, since a partner's note is its own.
func (s *Store) History(ctx context.Context, licenseKey, partnerID string, req page.Request) ([]license.Event, []byte, error) {
	limit := req.Limit
	in := queryPrefix(s.table, pkLicense+licenseKey, skEvent)
	in.ScanIndexForward = aws.Bool(false)
	in.Limit = aws.Int32(int32(min(limit+1, page.MaxLimit)))
	if req.Cursor != nil {
		cursor := string(req.Cursor)
		if !strings.HasPrefix(cursor, skEvent) || !utf8.ValidString(cursor) {
			return nil, nil, fault.Errorf(fault.Invalid, "cursor is not valid: pass the nextCursor of the previous page as it is")
		}
		in.ExclusiveStartKey = key(pkLicense+licenseKey, cursor)
	}
	var (
		events []license.Event
		sks    []string
	)
	errFull := errors.New("page full")
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[eventItem](item)
		if err != nil {
			return err
		}
		if it.Partner != "" && it.Partner != partnerID {
			return nil
		}
		events = append(events, it.event())
		sks = append(sks, it.SK)
		if len(events) > limit {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, nil, fmt.Errorf("history of %s: %w", licenseKey, err)
	}
	if len(events) > limit {
		return events[:limit], []byte(sks[limit-1]), nil
	}
	return events, nil, nil
}

type eventItem struct {
	PK, SK string
	At     string `dynamodbav:"at"`
	Type   string `dynamodbav:"type"`
	Actor  string `dynamodbav:"actor"`
	// Who acted, for a change made through the portal.
	ByName    string         `dynamodbav:"byName,omitempty"`
	ByOrg     string         `dynamodbav:"byOrg,omitempty"`
	ByOrgName string         `dynamodbav:"byOrgName,omitempty"`
	Partner   string         `dynamodbav:"partnerId,omitempty"` // set on note events: only that partner sees them
	Data      map[string]any `dynamodbav:"data"`
}

// eventTimeLayout has a fixed width so that events sort by time as strings.
const eventTimeLayout = "2006-01-02T15:04:05.000000000Z"

func newEventItem(licenseKey string, e license.Event, partner, id string) eventItem {
	at := e.At.UTC()
	it := eventItem{PK: pkLicense + licenseKey, SK: skEvent + at.Format(eventTimeLayout) + "#" + id,
		At: formatTime(at), Type: string(e.Type), Actor: e.Actor, Partner: partner, Data: e.Data}
	if e.By != nil {
		it.Actor, it.ByName, it.ByOrg, it.ByOrgName = e.By.UserID, e.By.UserName, e.By.OrgID, e.By.OrgName
	}
	return it
}

func (i eventItem) event() license.Event {
	e := license.Event{Type: license.EventType(i.Type), Actor: i.Actor, Data: i.Data}
	if i.ByOrg != "" {
		e.By = &license.Actor{UserID: i.Actor, UserName: i.ByName, OrgID: i.ByOrg, OrgName: i.ByOrgName}
	}
	e.At, _ = time.Parse(time.RFC3339Nano, i.At)
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e
}
