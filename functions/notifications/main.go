// Command notifications is the Lambda function that serves the "notifications" routes of the API
// route table (httpapi.Routes) behind API Gateway: the expiration notification settings and the
// digests sent.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdafn"
)

func main() { lambdafn.ServeAPI(os.Getenv, httpapi.Notifications) }
