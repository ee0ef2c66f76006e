package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
)

// PartnerNotes returns the partner organization's notes by license key.
// Cleared notes are included: they still carry a version.
func (s *Store) PartnerNotes(ctx context.Context, partnerID string) (map[string]license.Note, error) {
	notes := make(map[string]license.Note)
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skNote), func(item map[string]types.AttributeValue) error {
		n, err := unmarshal[noteItem](item)
		notes[n.Key] = n.note()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notes of %s: %w", partnerID, err)
	}
	return notes, nil
}

// PartnerNote returns the partner organization's note on a license, or
// ErrNotFound-coded error when it has never written one.
func (s *Store) PartnerNote(ctx context.Context, partnerID, licenseKey string) (license.Note, error) {
	n, err := getItem[noteItem](ctx, s, noteKey(partnerID, licenseKey), false, "note on "+licenseKey)
	return n.note(), err
}

// PartnerNotesOf returns the partner organization's notes on the given
// licenses, by license key, with BatchGetItem: the notes of a page of rows,
// without reading every note of the partner.
func (s *Store) PartnerNotesOf(ctx context.Context, partnerID string, licenseKeys []string) (map[string]license.Note, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(licenseKeys))
	for _, k := range licenseKeys {
		keys = append(keys, noteKey(partnerID, k))
	}
	notes := make(map[string]license.Note, len(licenseKeys))
	err := s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
		n, err := unmarshal[noteItem](item)
		notes[n.Key] = n.note()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notes of %s: %w", partnerID, err)
	}
	return notes, nil
}

// SaveNote sets the partner organization's note on a license, if the note is
// still at version seen (0: there is none), and records a
// partner_note_updated event, in one transaction. A stale version is a
// version_conflict error whose "current" member holds the note as it is.
func (s *Store) SaveNote(ctx context.Context, partnerID, licenseKey, text string, seen int, by license.Actor, now time.Time) (license.Note, error) {
	userID := by.UserID
	note := license.Note{Text: text, Version: seen + 1, UpdatedAt: now.UTC(), UpdatedBy: userID}
	item, err := marshal(noteItem{PK: pkPartner + partnerID, SK: skNote + licenseKey, Key: licenseKey, Text: text,
		Version: note.Version, UpdatedAt: formatTime(note.UpdatedAt), UpdatedBy: userID})
	if err != nil {
		return note, err
	}
	put := &types.Put{TableName: &s.table, Item: item}
	if seen == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :seen")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": &types.AttributeValueMemberN{Value: fmt.Sprint(seen)}}
	}
	event, err := marshal(newEventItem(licenseKey, license.Event{At: now, Type: license.PartnerNoteUpdated, By: &by,
		Data: map[string]any{"version": note.Version, "text": text}}, partnerID, newID()))
	if err != nil {
		return note, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: event}}})
	if failed, _ := conditionFailed(err); failed {
		return note, s.noteConflict(ctx, partnerID, licenseKey)
	}
	if err != nil {
		return note, unavailable(err, "save note on "+licenseKey)
	}
	return note, nil
}

// noteConflict reads the note that a failed save ran into.
func (s *Store) noteConflict(ctx context.Context, partnerID, licenseKey string) error {
	conflict := fault.Errorf(fault.VersionConflict, "the note was changed since you read it")
	current, err := s.PartnerNote(ctx, partnerID, licenseKey)
	switch {
	case err == nil:
		return conflict.With("current", current)
	case fault.Is(err, fault.NotFound):
		return conflict.With("current", nil)
	}
	return err
}

type noteItem struct {
	PK, SK    string
	Key       string `dynamodbav:"licenseKey"`
	Text      string `dynamodbav:"text"`
	Version   int    `dynamodbav:"version"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	UpdatedBy string `dynamodbav:"updatedBy"`
	// Imported says the last change came from the licensing system: a full
	// import removes only imported notes it no longer names.
	Imported bool `dynamodbav:"imported,omitempty"`
}

func noteKey(partner, licenseKey string) map[string]types.AttributeValue {
	return key(pkPartner+partner, skNote+licenseKey)
}

func (i noteItem) note() license.Note {
	n := license.Note{Text: i.Text, Version: i.Version, UpdatedBy: i.UpdatedBy}
	n.UpdatedAt, _ = time.Parse(time.RFC3339Nano, i.UpdatedAt)
	return n
}
