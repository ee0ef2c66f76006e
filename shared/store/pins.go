package store

import (
	"context"
	"fmt"
	"strings"

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
