// Package schedulefn wires the scheduled-report function, which writes
// exports (exportfn) and e-mails their recipients (mailfn). It is called
// from its main function only.
package schedulefn

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerportal/licenses/shared/exportfn"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/lambdafn"
	"github.com/partnerportal/licenses/shared/mailfn"
)

// ServeSchedule is the main of the scheduled-report function, which an
// hourly EventBridge schedule invokes.
func ServeSchedule(getenv func(string) string) {
	d := lambdafn.Must(lambdafn.Setup(context.Background(), getenv))
	exports := lambdafn.Must(exportfn.Exports(d))
	mail := lambdafn.Must(mailfn.Mail(d))
	svc := lambdafn.Must(d.Portal(exports, mail))
	lambda.Start(lambdaevent.ScheduleHandler(svc, d.Log))
}
