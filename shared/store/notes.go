package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: noteKey(partnerID, licenseKey)})
	if err != nil {
		return license.Note{}, unavailable(err, "get note")
	}
	if out.Item == nil {
		return license.Note{}, notFound("no note on %s", licenseKey)
	}
	n, err := unmarshal[noteItem](out.Item)
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
	err := s.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		n, err := unmarshal[noteItem](item)
		notes[n.Key] = n.note()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notes of %s: %w", partnerID, err)
	}
	return notes, nil
}
