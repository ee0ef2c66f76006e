// Command exports is the Lambda function that serves the "exports" routes of
// the API route table (httpapi.Routes) behind API Gateway, and finishes large
// exports when it invokes itself asynchronously with an export.FinishEvent.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

func main() {
	deps := lambdafn.Must(lambdafn.Setup(context.Background(), os.Getenv)).WithExports()
	api := httpapi.LambdaHandler(deps.API.Handler("exports"))
	lambda.Start(export.LambdaHandler(api, deps.Exports))
}
