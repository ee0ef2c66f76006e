// Package awsconf builds the AWS SDK clients of the programs: the Lambda
// functions, the local server and the importer. Its constructors are called
// from main functions only; everything below them receives clients, and
// tells with Transient which of their errors mean "try again later".
package awsconf

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Local holds the dummy credentials and region that emulators accept.
var Local = aws.Config{
	Region:      "us-east-1",
	Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
}

// Load returns the SDK configuration from the environment, as on Lambda.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// DynamoDB returns a DynamoDB client, on endpoint when it is not empty (an
// emulator). Emulators do not always send the response checksums the SDK
// checks, so that check is off for them.
func DynamoDB(cfg aws.Config, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.DisableValidateResponseChecksum = true
		}
	})
}

// S3 returns an S3 client, on endpoint with path-style addressing when it is
// not empty (an emulator, which has no per-bucket host names).
func S3(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
}
