// Package lambdafn wires the Lambda functions: it reads their configuration,
// builds the AWS clients, the store and the logger, and hands main a ready
// API. It is called from main functions only.
package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/store"
)

// Deps is what a function's handler is built from.
type Deps struct {
	Config config.Config
	Store  *store.Store
	Log    *slog.Logger
	API    *httpapi.API
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
	st := store.New(awsconf.DynamoDB(aws, cfg.DynamoDBEndpoint), cfg.Table)
	api := httpapi.New(st, httpapi.Config{ExpiringWindow: cfg.ExpiringWindow, Log: log})
	return &Deps{Config: cfg, Store: st, Log: log, API: api}, nil
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
