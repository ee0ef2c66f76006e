// Package lambdaevent adapts the Lambda events other than API Gateway's
// (httpapi.LambdaHandler adapts those) to the portal's operations: the
// event with which the export function invokes itself to finish a large
// export, and EventBridge's scheduled events of the scheduled reports and
// of the expiration notifier.
package lambdaevent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
)

// FinishEvent is the payload with which the export function invokes itself
// to finish a large export.
type FinishEvent struct {
	ExportID  string `json:"exportId"`
	PartnerID string `json:"partnerId"`
}

// Invoker is the part of the Lambda API that Finisher uses.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Finisher finishes exports by invoking a function asynchronously with a
// FinishEvent. Lambda retries a failed invocation twice; an export whose
// finishing never succeeds is finished by a later run of the schedule.
type Finisher struct {
	Client   Invoker
	Function string
}

var _ portal.Finisher = Finisher{}

// Finish invokes the function for the export and returns once Lambda has
// queued the invocation.
func (f Finisher) Finish(ctx context.Context, partnerID, exportID string) error {
	payload, err := json.Marshal(FinishEvent{ExportID: exportID, PartnerID: partnerID})
	if err != nil {
		return err
	}
	_, err = f.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &f.Function, InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", f.Function, err)
	}
	return nil
}

// APIHandler is an API Gateway HTTP API handler (httpapi.LambdaHandler).
type APIHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// ExportHandler is the entry of the export function: API Gateway events go
// to api, FinishEvents finish their export. A FinishEvent whose export could
// not be given an outcome (ready or failed) fails the invocation, so that
// Lambda retries it; one for an export that is gone succeeds.
func ExportHandler(api APIHandler, svc *portal.Service, log *slog.Logger) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			ExportID       *string          `json:"exportId"`
			RequestContext *json.RawMessage `json:"requestContext"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("unreadable event: %w", err)
		}
		if probe.ExportID != nil && probe.RequestContext == nil {
			var ev FinishEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("unreadable finish event: %w", err)
			}
			ctx, done := logged(ctx, log, "finish export", "export", ev.ExportID, "partner", ev.PartnerID)
			e, err := svc.FinishExport(ctx, ev.PartnerID, ev.ExportID)
			done(err)
			if fault.Is(err, fault.NotFound) {
				// Gone past its retention: nothing is left to finish.
				return map[string]string{"id": ev.ExportID, "status": string(fault.NotFound)}, nil
			}
			if err != nil {
				return nil, fmt.Errorf("finish export %s of %s: %w", ev.ExportID, ev.PartnerID, err)
			}
			return map[string]string{"id": e.ID, "status": string(e.Status)}, nil
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("unreadable API Gateway event: %w", err)
		}
		return api(ctx, ev)
	}
}

// ScheduleHandler is the entry of the scheduled-report function, invoked by
// an EventBridge schedule: it makes the exports due at the event's time.
func ScheduleHandler(svc *portal.Service, log *slog.Logger) func(context.Context, events.EventBridgeEvent) (map[string][]string, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (map[string][]string, error) {
		ctx, done := logged(ctx, log, "scheduled reports", "at", ev.Time)
		ids, err := svc.RunSchedule(ctx, ev.Time)
		done(err, "exports", len(ids))
		return map[string][]string{"exports": ids}, err
	}
}

// logged counts the DynamoDB work of an event's handling, as a request's
// is counted, and returns the function that logs it once the work is done.
func logged(ctx context.Context, log *slog.Logger, msg string, attrs ...any) (context.Context, func(err error, more ...any)) {
	ctx, stats := store.WithStats(ctx)
	start := time.Now()
	return ctx, func(err error, more ...any) {
		attrs := append(attrs, more...)
		attrs = append(attrs, "duration", time.Since(start), "ddb_requests", stats.Requests.Load(),
			"ddb_items_read", stats.ItemsRead.Load(), "ddb_items_written", stats.Written.Load())
		if err != nil {
			log.ErrorContext(ctx, msg, append(attrs, "error", err)...)
			return
		}
		log.InfoContext(ctx, msg, attrs...)
	}
}

// NotifyHandler is the entry of the expiration notifier, invoked by a daily
// EventBridge schedule: it sends the digests due at the event's time.
func NotifyHandler(svc *portal.Service, log *slog.Logger) func(context.Context, events.EventBridgeEvent) (map[string][]string, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (map[string][]string, error) {
		ctx, done := logged(ctx, log, "expiration notifications", "at", ev.Time)
		ids, err := svc.Notify(ctx, ev.Time)
		done(err, "notifications", len(ids))
		return map[string][]string{"notifications": ids}, err
	}
}
