// Command scheduled-reports is the Lambda function that an hourly EventBridge
// schedule invokes: it makes the exports of the report subscriptions that
// are due.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/exportfn"
)

func main() { exportfn.ServeSchedule(os.Getenv) }
