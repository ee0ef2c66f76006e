package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// reportItem is a snapshot's head: its owner and overview.
type reportItem struct {
	PK, SK         string
	ID             string `dynamodbav:"id"`
	PartnerID      string `dynamodbav:"partnerId"`
	UserID         string `dynamodbav:"userId"`
	GeneratedAt    string `dynamodbav:"generatedAt"`
	Today          string `dynamodbav:"today"`
	Window         int    `dynamodbav:"window"`
	IncludeExpired bool   `dynamodbav:"includeExpired"`
	Organizations  []byte `dynamodbav:"organizations"` // JSON
	Overview       []byte `dynamodbav:"overview"`      // JSON
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
}

// rowsItem is a chunk of a snapshot's rows (see rowcodec.go).
type rowsItem struct {
	PK, SK    string
	Rows      []byte `dynamodbav:"rows"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func categoryCode(c license.Category) string {
	if c == license.CloudService {
		return "cloud"
	}
	return "onprem"
}

// SaveReport stores a snapshot and its rows. The rows are written first and
// the head last, so a snapshot is never seen without all its rows.
func (s *Store) SaveReport(ctx context.Context, snap *report.Snapshot, onPrem, cloud []report.Row) error {
	ttl := snap.ExpiresAt.Unix()
	var reqs []types.WriteRequest
	for _, list := range [][]report.Row{onPrem, cloud} {
		if len(list) == 0 {
			continue
		}
		chunks, err := encodeRows(list)
		if err != nil {
			return err
		}
		for n, chunk := range chunks {
			item, err := marshal(rowsItem{PK: pkReport + snap.ID, SK: fmt.Sprintf("%s%s#%04d", skRows, categoryCode(list[0].Category), n),
				Rows: chunk, ExpiresAt: ttl})
			if err != nil {
				return err
			}
			reqs = append(reqs, put(item))
		}
	}
	if err := s.batchWrite(ctx, reqs, nil); err != nil {
		return fmt.Errorf("save report %s rows: %w", snap.ID, err)
	}
	orgs, _ := json.Marshal(snap.Organizations)
	overview, _ := json.Marshal(snap.Overview)
	head, err := marshal(reportItem{PK: pkReport + snap.ID, SK: skReport, ID: snap.ID, PartnerID: snap.PartnerID,
		UserID: snap.UserID, GeneratedAt: formatTime(snap.GeneratedAt), Today: snap.Today.String(), Window: snap.Window,
		IncludeExpired: snap.IncludeExpired, Organizations: orgs, Overview: overview, ExpiresAt: ttl})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: head}); err != nil {
		return unavailable(err, "save report "+snap.ID)
	}
	return nil
}

// Report returns the head of a snapshot made by the partner organization. A
// snapshot of another partner, or one past its lifetime, is not found.
func (s *Store) Report(ctx context.Context, partnerID, id string, now time.Time) (*report.Snapshot, error) {
	it, err := getItem[reportItem](ctx, s, key(pkReport+id, skReport), false, "report "+id)
	if err != nil {
		return nil, err
	}
	if it.PartnerID != partnerID || now.Unix() >= it.ExpiresAt {
		return nil, notFound("report %s not found", id)
	}
	snap := &report.Snapshot{ID: it.ID, PartnerID: it.PartnerID, UserID: it.UserID, Window: it.Window,
		IncludeExpired: it.IncludeExpired, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC()}
	snap.GeneratedAt, _ = time.Parse(time.RFC3339Nano, it.GeneratedAt)
	snap.Today, _ = license.ParseDate(it.Today)
	if err := json.Unmarshal(it.Organizations, &snap.Organizations); err != nil {
		return nil, fmt.Errorf("report %s organizations: %w", id, err)
	}
	if err := json.Unmarshal(it.Overview, &snap.Overview); err != nil {
		return nil, fmt.Errorf("report %s overview: %w", id, err)
	}
	return snap, nil
}

// ReportRows returns a snapshot's rows of one category, in report order.
func (s *Store) ReportRows(ctx context.Context, id string, category license.Category) ([]report.Row, error) {
	var rows []report.Row
	in := queryPrefix(s.table, pkReport+id, skRows+categoryCode(category)+"#")
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[rowsItem](item)
		if err != nil {
			return err
		}
		chunk, err := decodeRows(it.Rows, category)
		if err != nil {
			return fmt.Errorf("report %s chunk %s: %w", id, it.SK, err)
		}
		rows = append(rows, chunk...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rows of report %s: %w", id, err)
	}
	return rows, nil
}
