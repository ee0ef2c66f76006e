// Command scheduled-reports is the Lambda function that an hourly EventBridge
// schedule invokes: it makes the exports of the report subscriptions that
// are due.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

func main() {
	deps := lambdafn.Must(lambdafn.Setup(context.Background(), os.Getenv)).WithExports()
	lambda.Start(export.ScheduledHandler(deps.Exports))
}
