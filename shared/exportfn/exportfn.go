// Package exportfn wires the functions that write exports (exports and
// scheduled-reports) on top of lambdafn: the S3 client, the presigner, the
// export service and, for large exports, the asynchronous invocation of the
// export function. It is called from main functions only.
package exportfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

// Setup builds the dependencies of lambdafn.Setup, the export service, and
// an API that serves the export routes with it.
func Setup(ctx context.Context, getenv func(string) string) (*lambdafn.Deps, *export.Service, error) {
	d, err := lambdafn.Setup(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg := d.Config
	if cfg.ExportBucket == "" {
		return nil, nil, fmt.Errorf("configuration: %s is required by this function", config.ExportBucket)
	}
	client := awsconf.S3(d.AWS, cfg.S3Endpoint)
	svc := export.New(d.Store, client, s3.NewPresignClient(client), export.Config{
		Bucket: cfg.ExportBucket, URLLifetime: cfg.ExportURLLifetime, Retention: cfg.ExportRetention,
		ExpiringWindow: cfg.ExpiringWindow, Log: d.Log,
	})
	if cfg.ExportFunction != "" {
		svc.SetFinisher(export.LambdaFinisher{Client: awslambda.NewFromConfig(d.AWS), Function: cfg.ExportFunction})
	}
	apiConfig := d.APIConfig()
	apiConfig.Exports = svc
	d.API = httpapi.New(d.Store, apiConfig)
	return d, svc, nil
}

// ServeExports is the main of the export function: API Gateway events for
// its routes, and the events with which it finishes large exports.
func ServeExports(getenv func(string) string) {
	d, svc := must(Setup(context.Background(), getenv))
	lambda.Start(export.LambdaHandler(httpapi.LambdaHandler(d.API.Handler("exports")), svc))
}

// ServeSchedule is the main of the scheduled-report function, which an
// EventBridge schedule invokes.
func ServeSchedule(getenv func(string) string) {
	_, svc := must(Setup(context.Background(), getenv))
	lambda.Start(export.ScheduledHandler(svc))
}

func must(d *lambdafn.Deps, svc *export.Service, err error) (*lambdafn.Deps, *export.Service) {
	lambdafn.Must(d, err)
	return d, svc
}
