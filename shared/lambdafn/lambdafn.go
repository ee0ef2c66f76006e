// Package lambdafn wires the Lambda functions: it reads their configuration,
// builds the AWS clients, the store, the portal's operations and the
// logger, and hands main a ready API. It is called from main functions
// only. The functions that write exports add their part with package
// exportfn, and those that send e-mail theirs with package mailfn, so
// that the others link neither the Excel writer nor the SES client.
package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
)

// Deps is what a function's handler is built from.
type Deps struct {
	Config config.Config
	AWS    aws.Config
	Store  *store.Store
	Log    *slog.Logger
}

// Setup reads the configuration with getenv and builds the dependencies.
// Logs are JSON lines on stdout, which Lambda sends to CloudWatch.
func Setup(ctx context.Context, getenv func(string) string) (*Deps, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	awsConfig, err := awsconf.Load(ctx)
	if err != nil {
		return nil, err
	}
	return &Deps{Config: cfg, AWS: awsConfig, Log: log, Store: store.New(awsconf.DynamoDB(awsConfig, cfg.DynamoDBEndpoint), cfg.Table)}, nil
}

// Portal returns the portal's operations on the system clock, with exports
// and e-mail when given their configuration.
func (d *Deps) Portal(exports *portal.ExportConfig, mail *portal.MailConfig) (*portal.Service, error) {
	return portal.New(d.Store, portal.Config{ExpiringWindow: d.Config.ExpiringWindow, Now: time.Now,
		Today: license.TodayOf(time.Now), Log: d.Log, Exports: exports, Mail: mail})
}

// API returns the HTTP API over the portal's operations.
func (d *Deps) API(svc *portal.Service) (*httpapi.API, error) {
	return httpapi.New(svc, httpapi.Config{Log: d.Log})
}

// ServeAPI is the main of a function that serves routes of the API: it
// builds the dependencies from getenv (os.Getenv) and serves the function's
// routes of httpapi.Routes to API Gateway until Lambda stops it.
func ServeAPI(getenv func(string) string, function httpapi.Function) {
	d := Must(Setup(context.Background(), getenv))
	svc := Must(d.Portal(nil, nil))
	api := Must(d.API(svc))
	lambda.Start(httpapi.LambdaHandler(api.Handler(function)))
}

// Must returns v, or ends the process with err in the log: a function that
// cannot start should fail its init, loudly.
func Must[T any](v T, err error) T {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("function cannot start", "error", err)
		os.Exit(1)
	}
	return v
}
