// Command reports is the Lambda function that serves the "reports" routes of the API
// route table (httpapi.Routes) behind API Gateway.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

func main() { lambdafn.ServeAPI(os.Getenv, httpapi.Reports) }
