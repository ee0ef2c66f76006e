// Package exportfn wires the functions that write exports (exports, and
// scheduled-reports through package schedulefn) on top of lambdafn: the S3
// client, the presigner, the workbook files, the portal's export operations
// and, for large exports, the asynchronous invocation of the export
// function. It is called from main functions only.
package exportfn

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/lambdafn"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/workbook"
)

// Setup builds the dependencies of lambdafn.Setup and the portal's
// operations with exports.
func Setup(ctx context.Context, getenv func(string) string) (*lambdafn.Deps, *portal.Service, error) {
	d, err := lambdafn.Setup(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	exports, err := Exports(d)
	if err != nil {
		return nil, nil, err
	}
	svc, err := d.Portal(exports, nil)
	if err != nil {
		return nil, nil, err
	}
	return d, svc, nil
}

// Exports returns the configuration of the portal's export operations from
// the function's environment.
func Exports(d *lambdafn.Deps) (*portal.ExportConfig, error) {
	cfg := d.Config
	if cfg.ExportBucket == "" {
		return nil, fmt.Errorf("configuration: %s is required by this function", config.ExportBucket)
	}
	client := awsconf.S3(d.AWS, cfg.S3Endpoint)
	files, err := workbook.NewFiles(client, s3.NewPresignClient(client), cfg.ExportBucket, cfg.ExportURLLifetime, time.Now)
	if err != nil {
		return nil, err
	}
	exports := &portal.ExportConfig{Files: files, Retention: cfg.ExportRetention, SyncLimit: config.ExportSyncLimit}
	if cfg.ExportFunction != "" {
		exports.Finisher = lambdaevent.Finisher{Client: awslambda.NewFromConfig(d.AWS), Function: cfg.ExportFunction}
	}
	return exports, nil
}

// ServeExports is the main of the export function: API Gateway events for
// its routes, and the events with which it finishes large exports.
func ServeExports(getenv func(string) string) {
	d, svc := must(Setup(context.Background(), getenv))
	api := lambdafn.Must(d.API(svc))
	lambda.Start(lambdaevent.ExportHandler(httpapi.LambdaHandler(api.Handler(httpapi.Exports)), svc, d.Log))
}

func must(d *lambdafn.Deps, svc *portal.Service, err error) (*lambdafn.Deps, *portal.Service) {
	lambdafn.Must(d, err)
	return d, svc
}
