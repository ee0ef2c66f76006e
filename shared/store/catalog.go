package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/license"
)

type productItem struct {
	PK, SK   string
	ID       string `dynamodbav:"id"`
	Name     string `dynamodbav:"name"`
	Category string `dynamodbav:"category"`
	Visible  bool   `dynamodbav:"visible"`
}

func newProductItem(p license.Product) productItem {
	return productItem{PK: pkCatalog, SK: skProduct + p.ID, ID: p.ID, Name: p.Name, Category: string(p.Category), Visible: p.VisibleToPartners}
}

func (i productItem) product() license.Product {
	return license.Product{ID: i.ID, Name: i.Name, Category: license.Category(i.Category), VisibleToPartners: i.Visible}
}

// Catalog returns every product by id, hidden ones included: callers decide
// what to show.
func (s *Store) Catalog(ctx context.Context) (map[string]license.Product, error) {
	products := make(map[string]license.Product)
	err := s.query(ctx, queryPrefix(s.table, pkCatalog, skProduct), func(item map[string]types.AttributeValue) error {
		p, err := unmarshal[productItem](item)
		products[p.ID] = p.product()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return products, nil
}
