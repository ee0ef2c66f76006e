// Command devserver serves the whole API on one address with embedded
// DynamoDB (minidyn) and S3 (gofakes3) and a demo data set, with no AWS
// account and no other process:
//
//	go run ./infra/devserver [-addr 127.0.0.1:8080] [-data FILE] [-today YYYY-MM-DD]
//	                         [-dynamodb-endpoint URL] [-s3-endpoint URL] [-ses-endpoint URL]
//
// It runs the same handlers, store and Excel code as the Lambda functions.
// Only here, POST /dev/token {"sub":"<user id>"} returns a token for
// Authorization: Bearer, POST /dev/scheduled-reports {"at":RFC3339} runs the
// scheduled-report function and POST /dev/notifications {"at":RFC3339} the
// expiration notifier as EventBridge would, and GET /dev/outbox lists the
// e-mails they sent (kept here instead of sent, unless -ses-endpoint names
// an SES API to send them through as well).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}
