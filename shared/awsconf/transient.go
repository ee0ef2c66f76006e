package awsconf

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Transient reports whether err is one the SDK's standard retryer retries:
// throttling (DynamoDB's ThrottlingException and
// ProvisionedThroughputExceededException, S3's SlowDown, SES's
// TooManyRequestsException), a 5xx, a time-out or a dropped connection.
// Returned by a client, it means the retries gave up (their attempts or the
// client's retry quota ran out): the service is unavailable for now, and
// the caller may try again later. A request whose deadline passed is
// transient too; one the caller cancelled is not.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var attempts *retry.MaxAttemptsError
	if errors.As(err, &attempts) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
