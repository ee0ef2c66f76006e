// Command subscriptions is the Lambda function that serves the "subscriptions" routes of the API
// route table (httpapi.Routes) behind API Gateway.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

func main() {
	deps := lambdafn.Must(lambdafn.Setup(context.Background(), os.Getenv))
	lambda.Start(httpapi.LambdaHandler(deps.API.Handler("subscriptions")))
}
