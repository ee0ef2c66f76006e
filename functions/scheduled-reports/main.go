// Command scheduled-reports is the Lambda function that an hourly EventBridge
// schedule invokes: it makes the exports of the report subscriptions that
// are due, and e-mails their recipients when they are ready.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/schedulefn"
)

func main() { schedulefn.ServeSchedule(os.Getenv) }
