// Package lambdafn wires the Lambda functions: it reads their configuration,
// builds the AWS clients, the store and the logger, and hands main a ready
// API. It is called from main functions only.
package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/store"
)

// Deps is what a function's handler is built from.
type Deps struct {
	Config  config.Config
	Store   *store.Store
	Log     *slog.Logger
	Exports *export.Service // nil without EXPORT_BUCKET
	API     *httpapi.API
}

// Setup reads the configuration with getenv and builds the dependencies.
// Logs are JSON lines on stdout, which Lambda sends to CloudWatch.
func Setup(ctx context.Context, getenv func(string) string) (*Deps, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	aws, err := awsconf.Load(ctx)
	if err != nil {
		return nil, err
	}
	d := &Deps{Config: cfg, Log: log, Store: store.New(awsconf.DynamoDB(aws, cfg.DynamoDBEndpoint), cfg.Table)}
	if cfg.ExportBucket != "" {
		client := awsconf.S3(aws, cfg.S3Endpoint)
		d.Exports = export.New(d.Store, client, s3.NewPresignClient(client), export.Config{
			Bucket: cfg.ExportBucket, URLLifetime: cfg.ExportURLLifetime, Retention: cfg.ExportRetention,
			ExpiringWindow: cfg.ExpiringWindow, Log: log,
		})
		if cfg.ExportFunction != "" {
			d.Exports.SetFinisher(export.LambdaFinisher{Client: awslambda.NewFromConfig(aws), Function: cfg.ExportFunction})
		}
	}
	d.API = httpapi.New(d.Store, httpapi.Config{ExpiringWindow: cfg.ExpiringWindow, Log: log, Exports: d.Exports})
	return d, nil
}

// ServeAPI is the main of a function that serves routes of the API: it
// builds the dependencies from getenv (os.Getenv) and serves the named
// function's routes of httpapi.Routes to API Gateway until Lambda stops it.
func ServeAPI(getenv func(string) string, function string) {
	d := Must(Setup(context.Background(), getenv))
	lambda.Start(httpapi.LambdaHandler(d.API.Handler(function)))
}

// WithExports returns d, or ends the process when the function, which makes
// exports, has no export bucket configured.
func (d *Deps) WithExports() *Deps {
	if d.Exports == nil {
		return Must(nil, fmt.Errorf("configuration: %s is required by this function", config.ExportBucket))
	}
	return d
}

// Must returns d, or ends the process with err in the log: a function that
// cannot start should fail its init, loudly.
func Must(d *Deps, err error) *Deps {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("function cannot start", "error", err)
		os.Exit(1)
	}
	return d
}
