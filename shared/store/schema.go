package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableCreator is the part of the DynamoDB API that CreateTable uses.
type TableCreator interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// TableDefinition returns the table's keys and indexes, the same that
// template.yaml declares for AWS (a test holds the two together).
func TableDefinition(table string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	k := func(name string, t types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: t}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s(attrPK), s(attrSK), s(attrGSI1PK), s(attrGSI1SK)},
		KeySchema:            []types.KeySchemaElement{k(attrPK, types.KeyTypeHash), k(attrSK, types.KeyTypeRange)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(indexGSI1),
			KeySchema:  []types.KeySchemaElement{k(attrGSI1PK, types.KeyTypeHash), k(attrGSI1SK, types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// TTLAttribute is the attribute that DynamoDB's time to live reads. Reads
// check it too, since DynamoDB deletes expired items only eventually.
const TTLAttribute = attrExpiresAt

// CreateTable creates the table for the local server and tests; on AWS the
// SAM template creates it, with time to live on TTLAttribute.
func CreateTable(ctx context.Context, db TableCreator, table string) error {
	if _, err := db.CreateTable(ctx, TableDefinition(table)); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}
