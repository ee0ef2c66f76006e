package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Pins returns the license keys the user has pinned.
func (s *Store) Pins(ctx context.Context, userID string) (map[string]bool, error) {
	pins := make(map[string]bool)
	err := s.query(ctx, queryPrefix(s.table, pkUser+userID, skPin), func(item map[string]types.AttributeValue) error {
		if k, ok := strings.CutPrefix(attrString(item, attrSK), skPin); ok {
			pins[k] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pins of %s: %w", userID, err)
	}
	return pins, nil
}

// Pin pins a license for the user; pinning twice is pinning once.
func (s *Store) Pin(ctx context.Context, userID, licenseKey string, now time.Time) error {
	item := key(pkUser+userID, skPin+licenseKey)
	item["pinnedAt"] = str(formatTime(now))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return unavailable(err, "pin "+licenseKey)
	}
	return nil
}

// Unpin removes the user's pin, if there is one.
func (s *Store) Unpin(ctx context.Context, userID, licenseKey string) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pkUser+userID, skPin+licenseKey)}); err != nil {
		return unavailable(err, "unpin "+licenseKey)
	}
	return nil
}
