// Command notifier is the Lambda function that a daily EventBridge schedule
// invokes: it e-mails each partner organization that asked for them the
// digest of its customers' licenses about to expire.
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/mailfn"
)

func main() { mailfn.ServeNotifier(os.Getenv) }
