package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"

	"github.com/partnerportal/licenses/shared/config"
)

// statement is one statement of a function's policies, with its actions and
// resources as the template spells them.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string
	Condition string // as Show shows it; empty for none
}

// checkPolicyShape reports whether a function's Policies, as written, are
// what the checks can read: a list of inline policy documents. A managed
// policy or a SAM policy template grants more than the code calls, and
// goformation's type for Policies cannot tell them apart reliably.
func checkPolicyShape(v any) error {
	if v == nil {
		return nil
	}
	docs, ok := v.([]any)
	if !ok {
		return errors.New("the Policies property must be a list of inline policy documents")
	}
	for i, d := range docs {
		doc, ok := d.(map[string]any)
		if !ok {
			return fmt.Errorf("the Policies property's item %d is %s, not an inline policy document: a managed policy grants more than the code calls", i, Show(d))
		}
		for k := range doc {
			if k != "Statement" && k != "Version" {
				return fmt.Errorf("the Policies property's item %d has %s, not an inline policy document: a SAM policy template grants more than the code calls", i, k)
			}
		}
		if _, ok := doc["Statement"].([]any); !ok {
			return fmt.Errorf("Policies[%d].Statement must be a list of statements", i)
		}
	}
	return nil
}

// statements returns the statements of a function's policies.
func (t *Template) statements(id string) ([]statement, error) {
	if msg, ok := t.policyErrors[id]; ok {
		return nil, errors.New(msg)
	}
	f, ok := t.Resources[id].(*serverless.Function)
	if !ok || f.Policies == nil || f.Policies.IAMPolicyDocumentArray == nil {
		return nil, nil
	}
	var out []statement
	for i, doc := range *f.Policies.IAMPolicyDocumentArray {
		for j, raw := range doc.Statement {
			s, ok := raw.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Policies[%d].Statement[%d] is not a statement", i, j)
			}
			for k := range s {
				if !slices.Contains([]string{"Sid", "Effect", "Action", "Resource", "Condition"}, k) {
					// NotAction and NotResource allow everything else.
					return nil, fmt.Errorf("Policies[%d].Statement[%d] has %s", i, j, k)
				}
			}
			st := statement{Effect: Show(s["Effect"]), Actions: showAll(asList(s["Action"])), Resources: showAll(asList(s["Resource"])),
				Condition: Show(s["Condition"])}
			if st.Effect != "Allow" {
				return nil, fmt.Errorf("Policies[%d].Statement[%d] has Effect %q: a function's own policy only allows", i, j, st.Effect)
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// objectActions are the S3 actions a function may have on the exports: on
// objects, never on the bucket.
var objectActions = []string{"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}

// lambdaARN returns the ARN of the function with the name as the template
// spells it.
func lambdaARN(name string) string {
	if sub, ok := strings.CutPrefix(name, "!Sub "); ok {
		name = sub
	}
	return "!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + name
}

// The SES identity the functions send as, and the condition that holds
// them to the one sender address, as the template spells them.
const (
	sesIdentity       = "!Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailIdentity}"
	sesFromCondition  = `{"StringEquals":{"ses:FromAddress":"!Ref MailFrom"}}`
	sesSendEmail      = "ses:SendEmail"
	sesOutboundEmails = "/v2/email/outbound-emails"
)

// tableARNs returns the ARN of the table and those of its indexes by name,
// as the template spells them.
func (t *Template) tableARNs(p *problems) (table string, indexes map[string]string) {
	id := t.single(p, "AWS::DynamoDB::Table")
	indexes = make(map[string]string)
	if tbl, ok := t.Resources[id].(*dynamodb.Table); ok {
		for _, g := range tbl.GlobalSecondaryIndexes {
			indexes[g.IndexName] = "!Sub ${" + id + ".Arn}/index/" + g.IndexName
		}
	}
	return "!GetAtt " + id + ".Arn", indexes
}

// checkPolicies holds each function's policies to least privilege: no
// wildcard; DynamoDB actions on the table and its indexes only; S3 object
// actions on the exports only, and only for the functions that write them;
// Lambda only to invoke the function that finishes exports, and only for
// the function that names it; SES only to send, as the one identity and
// from the one address, and only for the functions that send e-mail.
func checkPolicies(p *problems, t *Template) {
	table, indexes := t.tableARNs(p)
	exports := "!Sub ${" + t.exportBucket(p) + ".Arn}/" + exportsPrefix + "*"
	fns := t.Functions()
	for _, id := range sortedKeys(fns) {
		f := fns[id]
		statements, err := t.statements(id)
		if err != nil {
			p.addf("%s: %v", id, err)
			continue
		}
		if len(statements) == 0 {
			p.addf("%s: no policy: the function cannot reach its table", id)
		}
		var vars map[string]string
		if f.Environment != nil {
			vars = f.Environment.Variables
		}
		invokes := Show(vars[config.ExportFunctionName])
		invokeGranted := false
		_, sendsMail := vars[config.MailFrom]
		mailGranted := false
		for _, s := range statements {
			for _, r := range s.Resources {
				if r == "*" {
					p.addf("%s: a statement allows %v on every resource", id, s.Actions)
				}
			}
			for _, a := range s.Actions {
				service, _, _ := strings.Cut(a, ":")
				switch {
				case strings.Contains(a, "*"):
					p.addf("%s: action %s is a wildcard", id, a)
				case service == "dynamodb":
					for _, r := range s.Resources {
						index := slices.Contains(slices.Collect(maps.Values(indexes)), r)
						switch {
						case r != table && !index:
							p.addf("%s: %s on %s, which is not the table or one of its indexes", id, a, r)
						case index && a != "dynamodb:Query" && a != "dynamodb:Scan":
							p.addf("%s: %s on index %s, which only Query and Scan read", id, a, r)
						}
					}
				case service == "s3":
					for _, r := range s.Resources {
						checkS3Grant(p, id, vars, a, r, exports)
					}
				case service == "ses":
					switch {
					case !sendsMail:
						p.addf("%s: %s, but the function does not read %s", id, a, config.MailFrom)
					case a != sesSendEmail:
						p.addf("%s: %s is not the action e-mail needs, %s", id, a, sesSendEmail)
					case s.Condition != sesFromCondition:
						p.addf("%s: %s with the condition %q, want %s: the functions send from the one address", id, a, s.Condition, sesFromCondition)
					}
					for _, r := range s.Resources {
						if r != sesIdentity {
							p.addf("%s: %s on %s, want only the sender identity, %s", id, a, r, sesIdentity)
						} else if a == sesSendEmail {
							mailGranted = true
						}
					}
				case a == "lambda:InvokeFunction" && invokes != "":
					for _, r := range s.Resources {
						if r != lambdaARN(invokes) {
							p.addf("%s: %s on %s, want only the function in %s, %s", id, a, r, config.ExportFunctionName, lambdaARN(invokes))
						} else {
							invokeGranted = true
						}
					}
				default:
					p.addf("%s: %s is not an action the function needs", id, a)
				}
			}
		}
		if invokes != "" && !invokeGranted {
			p.addf("%s: %s names %s, but the function may not invoke it", id, config.ExportFunctionName, invokes)
		}
		if sendsMail && !mailGranted {
			p.addf("%s: it reads %s, but may not send e-mail (%s on %s)", id, config.MailFrom, sesSendEmail, sesIdentity)
		}
	}
}

// ingestGrants are what a function that reads config.IngestBucket may do
// there: read the documents, read and write their results, and list the
// bucket (the documents without a result; and S3 answers a missing result
// 404 only to a caller that may list).
var ingestGrants = map[string][]string{
	ingestBucketARN + "/" + "imports/*": {"s3:GetObject"},
	ingestBucketARN + "/" + "results/*": {"s3:GetObject", "s3:PutObject"},
	ingestBucketARN:                     {"s3:ListBucket"},
}

// checkS3Grant holds an S3 action on a resource to the bucket the function
// reads: object actions of exports on the exports of config.ExportBucket,
// ingestGrants on the bucket of config.IngestBucket.
func checkS3Grant(p *problems, id string, vars map[string]string, action, resource, exports string) {
	if actions, ok := ingestGrants[resource]; ok {
		switch {
		case Show(vars[config.IngestBucket]) != ingestBucketName:
			p.addf("%s: %s on the ingest bucket, but the function does not read %s", id, action, config.IngestBucket)
		case !slices.Contains(actions, action):
			p.addf("%s: %s on %s, where the import needs only %v", id, action, resource, actions)
		}
		return
	}
	_, writesExports := vars[config.ExportBucket]
	switch {
	case !writesExports:
		p.addf("%s: %s on %s, but the function reads neither %s nor %s", id, action, resource, config.ExportBucket, config.IngestBucket)
	case !slices.Contains(objectActions, action):
		p.addf("%s: %s is not one of the object actions %v that exports need", id, action, objectActions)
	case resource != exports:
		p.addf("%s: %s on %s, want only the exports, %s", id, action, resource, exports)
	}
}

// Access is an IAM action that a request of the code needed, and the
// resource it needed it on: "table" or "index/<name>" of the DynamoDB table,
// "bucket/<name>" and "object/<bucket>/<key>" of S3, "function/<name>" of Lambda,
// "identity/<sender>" of SES.
type Access struct {
	Action   string // "dynamodb:Query"
	Resource string
}

// dynamoDBAccesses returns the IAM actions a DynamoDB request needs, from
// its operation (the X-Amz-Target header's) and body. An operation needs the
// action of its name, except a transaction: IAM authorizes each of its
// items as the single-item operation it stands for (Put: PutItem, Update:
// UpdateItem, Delete: DeleteItem, ConditionCheck: ConditionCheckItem, Get:
// GetItem; "Using IAM with DynamoDB transactions", DynamoDB Developer Guide).
func dynamoDBAccesses(operation string, body []byte) ([]Access, error) {
	var in struct {
		IndexName     string
		TransactItems []map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", operation, err)
	}
	if operation != "TransactWriteItems" && operation != "TransactGetItems" {
		resource := "table"
		if in.IndexName != "" {
			resource = "index/" + in.IndexName
		}
		return []Access{{"dynamodb:" + operation, resource}}, nil
	}
	var out []Access
	for _, item := range in.TransactItems {
		for kind := range item {
			action, ok := transactItemActions[kind]
			if !ok {
				return nil, fmt.Errorf("%s: unknown item %s", operation, kind)
			}
			out = append(out, Access{action, "table"})
		}
	}
	return out, nil
}

var transactItemActions = map[string]string{
	"Put":            "dynamodb:PutItem",
	"Update":         "dynamodb:UpdateItem",
	"Delete":         "dynamodb:DeleteItem",
	"ConditionCheck": "dynamodb:ConditionCheckItem",
	"Get":            "dynamodb:GetItem",
}

// s3Access returns the IAM action an S3 request needs, for a client with
// path-style addressing (/<bucket>/<key>). It knows the object operations
// and the listing of a bucket; a presigned GET, sent by whoever holds the
// link, needs s3:GetObject of the signer. Other requests are an error, so
// that none goes unaccounted.
func s3Access(req *http.Request) (Access, error) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	q := req.URL.Query()
	list := key == "" && req.Method == http.MethodGet && q.Get("list-type") == "2"
	for name := range q {
		// x-id names the operation; X-Amz-* are the presigned signature's.
		switch {
		case name == "x-id" || name == "uploads" || name == "uploadId" || name == "partNumber" || strings.HasPrefix(name, "X-Amz-"):
		case list && slices.Contains([]string{"list-type", "prefix", "continuation-token", "start-after", "max-keys", "delimiter", "encoding-type", "fetch-owner"}, name):
		default:
			return Access{}, fmt.Errorf("s3: %s %s: a subresource the recorder does not know", req.Method, req.URL)
		}
	}
	var action string
	switch {
	case list:
		return Access{"s3:ListBucket", "bucket/" + bucket}, nil
	case key == "":
		return Access{}, fmt.Errorf("s3: %s %s: a bucket operation the recorder does not know", req.Method, req.URL)
	case req.Header.Get("X-Amz-Copy-Source") != "":
		return Access{}, fmt.Errorf("s3: %s %s: a copy, which the recorder does not know", req.Method, req.URL)
	case req.Method == http.MethodDelete && q.Has("uploadId"):
		action = "s3:AbortMultipartUpload"
	case req.Method == http.MethodGet && q.Has("uploadId"):
		action = "s3:ListMultipartUploadParts"
	case req.Method == http.MethodPut, req.Method == http.MethodPost:
		// PutObject, and the create, part and complete requests of a
		// multipart upload.
		action = "s3:PutObject"
	case req.Method == http.MethodGet, req.Method == http.MethodHead:
		action = "s3:GetObject"
	case req.Method == http.MethodDelete:
		action = "s3:DeleteObject"
	default:
		return Access{}, fmt.Errorf("s3: %s %s: an operation the recorder does not know", req.Method, req.URL)
	}
	return Access{action, "object/" + bucket + "/" + key}, nil
}

// lambdaAccess returns the IAM action a Lambda request needs: the functions
// only ever invoke one.
func lambdaAccess(req *http.Request) (Access, error) {
	name, ok := strings.CutPrefix(req.URL.Path, "/2015-03-31/functions/")
	name, invocation := strings.CutSuffix(name, "/invocations")
	if !ok || !invocation || req.Method != http.MethodPost {
		return Access{}, fmt.Errorf("lambda: %s %s: not an invocation", req.Method, req.URL)
	}
	return Access{"lambda:InvokeFunction", "function/" + name}, nil
}

// sesAccess returns the IAM action an SES v2 request needs: the functions
// only ever send e-mail, as the identity of the sender.
func sesAccess(req *http.Request) (Access, error) {
	if req.Method != http.MethodPost || req.URL.Path != sesOutboundEmails || req.Body == nil {
		return Access{}, fmt.Errorf("ses: %s %s: not a SendEmail", req.Method, req.URL)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return Access{}, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ FromEmailAddress string }
	if err := json.Unmarshal(body, &in); err != nil || in.FromEmailAddress == "" {
		return Access{}, fmt.Errorf("ses: SendEmail without a FromEmailAddress: %v", err)
	}
	return Access{sesSendEmail, "identity/" + in.FromEmailAddress}, nil
}

// Recorder records the IAM actions that the requests of AWS SDK clients
// need: give each client the transport of its service. It is safe for
// concurrent use.
type Recorder struct {
	mu   sync.Mutex
	seen map[Access]bool
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{seen: make(map[Access]bool)} }

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// DynamoDB returns the transport for a DynamoDB client: it records what each
// request needs and sends it on with next.
func (r *Recorder) DynamoDB(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		if !ok || req.Body == nil {
			return nil, fmt.Errorf("dynamodb: %s %s is not a DynamoDB request", req.Method, req.URL)
		}
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		accesses, err := dynamoDBAccesses(op, body)
		if err != nil {
			return nil, err
		}
		r.record(accesses...)
		return next.RoundTrip(req)
	})
}

// S3 returns the transport for an S3 client with path-style addressing, or
// for the HTTP client that downloads presigned links. A read of a missing
// object also needs s3:ListBucket: without it, S3 answers 403, not 404.
func (r *Recorder) S3(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		a, err := s3Access(req)
		if err != nil {
			return nil, err
		}
		r.record(a)
		res, err := next.RoundTrip(req)
		if err == nil && res.StatusCode == http.StatusNotFound && a.Action == "s3:GetObject" {
			bucket, _, _ := strings.Cut(strings.TrimPrefix(a.Resource, "object/"), "/")
			r.record(Access{"s3:ListBucket", "bucket/" + bucket})
		}
		return res, err
	})
}

// SES returns the transport for an SES v2 client.
func (r *Recorder) SES(next http.RoundTripper) http.RoundTripper {
	return r.single(next, sesAccess)
}

// Lambda returns the transport for a Lambda client.
func (r *Recorder) Lambda(next http.RoundTripper) http.RoundTripper {
	return r.single(next, lambdaAccess)
}

func (r *Recorder) single(next http.RoundTripper, access func(*http.Request) (Access, error)) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		a, err := access(req)
		if err != nil {
			return nil, err
		}
		r.record(a)
		return next.RoundTrip(req)
	})
}

func (r *Recorder) record(accesses ...Access) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range accesses {
		r.seen[a] = true
	}
}

// Accesses returns what the requests so far needed, sorted.
func (r *Recorder) Accesses() []Access {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Collect(maps.Keys(r.seen))
	slices.SortFunc(out, func(a, b Access) int {
		return strings.Compare(a.Resource+" "+a.Action, b.Resource+" "+b.Action)
	})
	return out
}

// Reset forgets what was recorded, so that a test can leave its set-up out.
func (r *Recorder) Reset() {
	r.mu.Lock()
	clear(r.seen)
	r.mu.Unlock()
}

// CheckGrants holds the permissions of the function in functions/<folder>
// to the accesses its code was seen to need: each access must be allowed,
// and every action the policy allows on a resource must have been needed
// there. buckets names the variable of the function's environment that
// names each bucket of the accesses (the exercise's bucket names are its
// own). An object access is allowed by a statement on a pattern of that
// bucket that matches its key; a Lambda invocation by a statement on the
// function that the function's EXPORT_FUNCTION_NAME names.
func CheckGrants(t *Template, folder string, seen []Access, buckets map[string]string) []string {
	var p problems
	id := LogicalID(folder)
	statements, err := t.statements(id)
	if err != nil {
		p.addf("%s: %v", id, err)
		return p
	}
	table, indexes := t.tableARNs(&p)
	var vars map[string]string
	if f, ok := t.Functions()[id]; ok && f.Environment != nil {
		vars = f.Environment.Variables
	}
	invoked := lambdaARN(Show(vars[config.ExportFunctionName]))
	arns := func(bucket string) (string, string) {
		v, ok := buckets[bucket]
		if !ok {
			p.addf("%s: the code reaches bucket %s, which no variable of its environment names", id, bucket)
			return "", ""
		}
		b, objects, err := bucketARNs(Show(vars[v]))
		if err != nil {
			p.addf("%s: %s: %v", id, v, err)
		}
		return b, objects
	}
	covers := func(resource string, a Access) bool {
		kind, name, _ := strings.Cut(a.Resource, "/")
		switch kind {
		case "table":
			return resource == table
		case "index":
			return resource == indexes[name]
		case "bucket":
			b, _ := arns(name)
			return b != "" && resource == b
		case "object":
			bucket, key, _ := strings.Cut(name, "/")
			_, objects := arns(bucket)
			pattern, ok := strings.CutPrefix(resource, objects)
			return objects != "" && ok && wildcard(pattern).MatchString(key)
		case "function":
			return resource == invoked
		case "identity":
			// The sender's identity is a parameter: any sender stands for it.
			return resource == sesIdentity
		}
		return false
	}
	type grant struct{ action, resource string }
	used := make(map[grant]bool)
	for _, s := range statements {
		for _, a := range s.Actions {
			for _, r := range s.Resources {
				used[grant{a, r}] = false
			}
		}
	}
	for _, a := range seen {
		allowed := false
		for g := range used {
			if g.action == a.Action && covers(g.resource, a) {
				used[g], allowed = true, true
			}
		}
		if !allowed {
			p.addf("%s: the code needs %s on %s, which its policy does not allow", id, a.Action, a.Resource)
		}
	}
	for _, g := range slices.SortedFunc(maps.Keys(used), func(a, b grant) int {
		return strings.Compare(a.resource+" "+a.action, b.resource+" "+b.action)
	}) {
		if !used[g] {
			p.addf("%s: its policy allows %s on %s, which the code was not seen to need", id, g.action, g.resource)
		}
	}
	return p
}

// wildcard compiles an IAM resource pattern: * matches any run of
// characters, ? any one.
func wildcard(pattern string) *regexp.Regexp {
	quoted := regexp.QuoteMeta(pattern)
	quoted = strings.ReplaceAll(quoted, `\*`, ".*")
	quoted = strings.ReplaceAll(quoted, `\?`, ".")
	return regexp.MustCompile("^" + quoted + "$")
}
