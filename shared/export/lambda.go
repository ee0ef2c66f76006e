package export

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// FinishEvent is the payload with which the export function invokes itself
// to finish a large export.
type FinishEvent struct {
	ExportID  string `json:"exportId"`
	PartnerID string `json:"partnerId"`
}

// Invoker is the part of the Lambda API that LambdaFinisher uses.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// LambdaFinisher finishes exports by invoking a function asynchronously
// with a FinishEvent; Lambda retries a failed invocation twice.
type LambdaFinisher struct {
	Client   Invoker
	Function string
}

// Finish invokes the function for the export and returns once Lambda has
// queued the invocation.
func (l LambdaFinisher) Finish(ctx context.Context, partnerID, exportID string) error {
	payload, _ := json.Marshal(FinishEvent{ExportID: exportID, PartnerID: partnerID})
	_, err := l.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &l.Function, InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", l.Function, err)
	}
	return nil
}

// GoroutineFinisher finishes exports in a goroutine of the same process, as
// the local server does.
type GoroutineFinisher struct{ Service *Service }

// Finish starts finishing the export and returns at once.
func (g GoroutineFinisher) Finish(ctx context.Context, partnerID, exportID string) error {
	go func() {
		_, _ = g.Service.Finish(context.WithoutCancel(ctx), partnerID, exportID) // the outcome is recorded on the export
	}()
	return nil
}

// APIHandler is an API Gateway HTTP API handler (httpapi.LambdaHandler).
type APIHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// LambdaHandler is the entry of the export function: API Gateway events go
// to api, FinishEvents finish their export.
func LambdaHandler(api APIHandler, svc *Service) func(context.Context, json.RawMessage) (any, error) {
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
				return nil, err
			}
			e, err := svc.Finish(ctx, ev.PartnerID, ev.ExportID)
			if err != nil {
				// The failure is on the export already; a retry would fail
				// the same way, so the invocation succeeds.
				return map[string]string{"id": ev.ExportID, "status": "failed"}, nil
			}
			return map[string]string{"id": e.ID, "status": string(e.Status)}, nil
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		return api(ctx, ev)
	}
}

// ScheduledHandler is the entry of the scheduled-report function, invoked by
// an EventBridge schedule: it makes the exports due at the event's time.
func ScheduledHandler(svc *Service) func(context.Context, events.EventBridgeEvent) (map[string][]string, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (map[string][]string, error) {
		ids, err := svc.RunSchedule(ctx, ev.Time)
		return map[string][]string{"exports": ids}, err
	}
}
