package testenv

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// Fault is a way an AWS request fails.
type Fault int

// The faults. Each is answered as the service named by the request answers
// it (DynamoDB, S3 or SES v2), or as the network fails.
const (
	// Throttle is the service's answer to too many requests: DynamoDB's
	// ThrottlingException (400), S3's SlowDown (503), SES's
	// TooManyRequestsException (429).
	Throttle Fault = iota + 1
	// ThroughputExceeded is DynamoDB's ProvisionedThroughputExceededException
	// (400); other services answer it as Throttle.
	ThroughputExceeded
	// ServerError is the service's own failure: 500 InternalServerError
	// (DynamoDB), InternalError (S3), InternalFailure (SES).
	ServerError
	// Timeout is an answer that never comes: the attempt fails after
	// Rule.Wait with a time-out error, as the HTTP client's time-outs fail it.
	Timeout
	// Drop is a connection reset by the peer.
	Drop
)

func (f Fault) String() string {
	switch f {
	case Throttle:
		return "throttle"
	case ThroughputExceeded:
		return "throughput exceeded"
	case ServerError:
		return "server error"
	case Timeout:
		return "time-out"
	case Drop:
		return "dropped connection"
	}
	return fmt.Sprintf("fault %d", int(f))
}

// Service names, as the SDK's clients name themselves.
const (
	DynamoDBService = "DynamoDB"
	S3Service       = "S3"
	SESService      = "SESv2"
)

// Rule chooses requests to fail. The zero values of its selectors match
// every request.
type Rule struct {
	Fault Fault
	// Service and Operation, when set, choose requests by the SDK's names:
	// "DynamoDB" and "TransactWriteItems", "S3" and "PutObject", "SESv2"
	// and "SendEmail". Operation may list several, separated by commas.
	Service, Operation string
	// Nth, when not empty, fails only those of the matching requests (the
	// first is 1).
	Nth []int
	// Rate, when not 0, fails that share of the matching requests, drawn
	// from the Faults' seeded source.
	Rate float64
	// Times, when not 0, stops the rule after it failed that many requests:
	// a transient fault, which the SDK's retries may get past.
	Times int
	// After sends the request to the service before failing it (Timeout and
	// Drop only): the service did the work and the answer is lost.
	After bool
	// Wait is how long a Timeout takes (10 ms when 0).
	Wait time.Duration

	seen, failed int
}

// Faults is an http.RoundTripper for the HTTPClient option of the SDK's
// clients: the requests its rules choose fail as the services and the
// network fail, the others go to Base (http.DefaultTransport when nil).
// The SDK's own retries go through it too, one request per attempt.
type Faults struct {
	Base http.RoundTripper

	mu       sync.Mutex
	rules    []*Rule
	rand     *rand.Rand
	requests map[string]int // by "Service.Operation"
	calls    map[string]int // first attempts
	injected map[string]int
}

// NewFaults returns a transport with no rules, whose Rate rules draw from a
// source seeded with seed.
func NewFaults(seed uint64) *Faults {
	return &Faults{rand: rand.New(rand.NewPCG(seed, seed)), requests: map[string]int{}, calls: map[string]int{}, injected: map[string]int{}}
}

// Client returns an HTTP client on f, for the SDK's HTTPClient option.
func (f *Faults) Client() *http.Client { return &http.Client{Transport: f} }

// Add adds rules; the first rule that chooses a request fails it.
func (f *Faults) Add(rules ...Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rules {
		f.rules = append(f.rules, &r)
	}
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// Requests returns how many requests (attempts) of op ("DynamoDB.GetItem",
// or "DynamoDB" for all of a service) went through f, failed or not.
func (f *Faults) Requests(op string) int { return f.count(f.requests, op) }

// Calls returns how many calls of op went through f: the SDK's first
// attempts, without its retries. A caller that retries on its own what
// the SDK gave up on makes more than one.
func (f *Faults) Calls(op string) int { return f.count(f.calls, op) }

// Injected returns how many requests of op f failed.
func (f *Faults) Injected(op string) int { return f.count(f.injected, op) }

func (f *Faults) count(m map[string]int, op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range m {
		if k == op || strings.HasPrefix(k, op+".") {
			n += v
		}
	}
	return n
}

// operation names the request's service and operation: from the SDK's
// context, or from the request for clients made without the SDK.
func operation(r *http.Request) (service, op string) {
	ctx := r.Context()
	service, op = awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if service != "" && op != "" {
		return service, op
	}
	if target := r.Header.Get("X-Amz-Target"); strings.HasPrefix(target, "DynamoDB_") {
		_, op, _ = strings.Cut(target, ".")
		return DynamoDBService, op
	}
	if strings.HasPrefix(r.URL.Path, "/v2/email/") {
		return SESService, r.Method + " " + r.URL.Path
	}
	return S3Service, r.Method + " " + r.URL.Path
}

// choose returns the rule that fails r, if any, and counts r.
func (f *Faults) choose(r *http.Request, service, op string) *Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := service + "." + op
	f.requests[name]++
	if attempt, _, _ := strings.Cut(r.Header.Get("Amz-Sdk-Request"), ";"); attempt == "attempt=1" {
		f.calls[name]++
	}
	for _, rule := range f.rules {
		if rule.Service != "" && rule.Service != service {
			continue
		}
		if rule.Operation != "" && !listed(rule.Operation, op) {
			continue
		}
		if rule.Times > 0 && rule.failed >= rule.Times {
			continue
		}
		rule.seen++
		if len(rule.Nth) > 0 && !contains(rule.Nth, rule.seen) {
			continue
		}
		if rule.Rate > 0 && f.rand.Float64() >= rule.Rate {
			continue
		}
		rule.failed++
		f.injected[name]++
		return rule
	}
	return nil
}

func listed(list, op string) bool {
	for _, o := range strings.Split(list, ",") {
		if strings.TrimSpace(o) == op {
			return true
		}
	}
	return false
}

func contains(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// RoundTrip sends r, or fails it as a rule says.
func (f *Faults) RoundTrip(r *http.Request) (*http.Response, error) {
	base := f.Base
	if base == nil {
		base = http.DefaultTransport
	}
	service, op := operation(r)
	rule := f.choose(r, service, op)
	if rule == nil {
		return base.RoundTrip(r)
	}
	switch rule.Fault {
	case Timeout, Drop:
		if rule.After {
			res, err := base.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		} else if r.Body != nil {
			r.Body.Close()
		}
		if rule.Fault == Drop {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		}
		wait := rule.Wait
		if wait == 0 {
			wait = 10 * time.Millisecond
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	if r.Body != nil {
		r.Body.Close()
	}
	return answer(r, service, rule.Fault), nil
}

// timeoutError is the error of a read that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (injected)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// answer is the service's answer to a request it throttles or fails.
func answer(r *http.Request, service string, fault Fault) *http.Response {
	status, header, body := 0, http.Header{}, ""
	switch service {
	case DynamoDBService:
		header.Set("Content-Type", "application/x-amz-json-1.0")
		kind, message := "", ""
		switch fault {
		case Throttle:
			status, kind, message = 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."
		case ThroughputExceeded:
			status, kind, message = 400, "ProvisionedThroughputExceededException",
				"The level of configured provisioned throughput for the table was exceeded."
		default:
			status, kind, message = 500, "InternalServerError", "Internal server error"
		}
		body = fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, kind, message)
	case SESService:
		header.Set("Content-Type", "application/json")
		switch fault {
		case Throttle, ThroughputExceeded:
			status = 429
			header.Set("X-Amzn-Errortype", "TooManyRequestsException")
			body = `{"message":"Maximum sending rate exceeded."}`
		default:
			status = 500
			header.Set("X-Amzn-Errortype", "InternalFailure")
			body = `{"message":"The request processing has failed because of an unknown error."}`
		}
	default: // S3
		header.Set("Content-Type", "application/xml")
		code, message := "InternalError", "We encountered an internal error. Please try again."
		status = 500
		if fault == Throttle || fault == ThroughputExceeded {
			status, code, message = 503, "SlowDown", "Please reduce your request rate."
		}
		if r.Method != http.MethodHead {
			body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>injected</RequestId></Error>`, code, message)
		}
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: header, Request: r,
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}
}
