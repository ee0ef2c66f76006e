package store_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/store"
)

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string counts UTF-8 bytes", map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "東京"}}, 2 + 6},
		{"binary", map[string]types.AttributeValue{"rows": &types.AttributeValueMemberB{Value: make([]byte, 1000)}}, 4 + 1000},
		{"number of 5 significant digits", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "12345"}}, 1 + 3 + 1},
		{"zeros do not count", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "-1000.000"}}, 1 + 1 + 1},
		{"fraction", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "0.25"}}, 1 + 1 + 1},
		{"bool and null", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "ab"}, &types.AttributeValueMemberS{Value: "c"}}}}, 1 + 3 + (1 + 2) + (1 + 1)},
		{"map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberS{Value: "vv"}}}}, 1 + 3 + (1 + 2) + 1},
		{"string set", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bcd"}}}, 2 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.ItemSize(tt.item); got != tt.want {
				t.Errorf("ItemSize = %d, want %d", got, tt.want)
			}
		})
	}
}
