// Command exports is the Lambda function that serves the "exports" routes of
// the API route table (httpapi.Routes) behind API Gateway, and finishes large
// exports when it invokes itself asynchronously with an lambdaevent.FinishEvent.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/exportfn"
)

func main() { exportfn.ServeExports(os.Getenv) }
