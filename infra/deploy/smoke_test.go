package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/truora/minidyn/server"

	"github.com/partnerportal/licenses/infra/deploy"
	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/subscription"
	"github.com/partnerportal/licenses/shared/testenv"
)

// smokeVariable gates TestLambdaSmoke, which needs the functions built and
// the runtime emulator installed: `make lambda-smoke` does both and sets it.
const smokeVariable = "LAMBDA_SMOKE"

// The functions' builds, as `make lambda-smoke` leaves them: for this
// machine, to run, and for AWS, to measure.
var (
	hostBuild  = filepath.Join(root, ".build", "host")
	arm64Build = filepath.Join(root, ".build", "arm64")
	// smokeReport is where the test writes what it ran and measured.
	smokeReport = filepath.Join(root, ".build", "lambda-smoke.txt")
)

// pendingExport is the export that the export function's finishing event
// finishes; sentDigest a digest the notifications function shows.
const (
	pendingExport = "0000000000000000000000pend"
	sentDigest    = "0000000000000000000000sent"
)

// smokeTime is the time of the scheduled event of the fixtures: the smoke
// subscription is due then.
var smokeTime = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// smokeResult is what the smoke test measured of a function.
type smokeResult struct {
	function  string
	size      int64         // of the arm64 binary
	coldStart time.Duration // from starting the emulator to the first response
	first     time.Duration // the first invocation, which starts the binary
	init      string        // the function's init, as the emulator reports it
	warm      time.Duration // the first event again
	ran       []string      // each event and its answer
}

// TestLambdaSmoke runs every function's binary under the AWS Lambda Runtime
// Interface Emulator (infra/testenv/rie.sh), one emulator per function and
// one invocation at a time, with the environment template.yaml gives it and
// DynamoDB and S3 emulated on loopback. Each function gets the events under
// testdata/events/<function>/: API Gateway HTTP API (payload 2.0) events,
// the export function's own finishing event, EventBridge's scheduled event.
// The answer to <name>.json must match <name>.want.json, where "*" stands
// for any value that is there, objects match on the members the want file
// names, and a JSON body is compared as JSON. A function that serves routes
// needs at least one event answered 2xx and one 4xx.
func TestLambdaSmoke(t *testing.T) {
	if os.Getenv(smokeVariable) == "" {
		t.Skipf("%s is not set: make lambda-smoke builds the functions, installs the runtime emulator and runs this", smokeVariable)
	}
	tpl, code := loadTemplate(t), readCode(t)
	ctx := context.Background()

	dynamoURL := serve(t, server.NewServer())
	db := awsconf.DynamoDB(awsconf.Local, dynamoURL)
	const table = "smoke"
	if err := store.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table)
	loadData(t, st)
	// An export left pending, for the export function's finishing event,
	// and a weekly subscription due at smokeTime, for the schedule.
	now := time.Now().UTC()
	if err := st.CreateExport(ctx, &export.Export{ID: pendingExport, PartnerID: "d1", Status: export.Pending, Trigger: export.Manual,
		CreatedBy: "d1-admin", CreatedAt: now, Selection: report.Selection{All: true}, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSubscription(ctx, subscription.Subscription{ID: "weekly-all", PartnerID: "d1", Frequency: subscription.Weekly,
		Selection: report.Selection{All: true}, Recipients: []string{"reports@d1.example"}, CreatedBy: "d1-admin",
		CreatedAt: smokeTime, UpdatedAt: smokeTime}, smokeTime); err != nil {
		t.Fatal(err)
	}
	// The notifier's partner, whose licenses (expiring on 2099-12-31) are
	// due at the time of its scheduled event, and a digest sent before, for
	// the notifications function to show.
	if err := st.PutNotificationSettings(ctx, notification.Settings{PartnerID: "d1", Enabled: true,
		Recipients: []string{"ops@d1.example"}, ThresholdDays: []int{60, 30}, UpdatedAt: now, UpdatedBy: "d1-admin"}); err != nil {
		t.Fatal(err)
	}
	sent := &notification.Digest{ID: sentDigest, PartnerID: "d1", Status: notification.Pending, Date: license.DateOf(now), CreatedAt: now,
		Recipients: []string{"ops@d1.example"}, ExpiresAt: now.Add(notification.Retention)}
	if err := st.CreateDigest(ctx, sent); err != nil {
		t.Fatal(err)
	}
	sent.Status, sent.SentAt = notification.Sent, now
	if _, err := st.FinishDigest(ctx, sent); err != nil {
		t.Fatal(err)
	}
	mail := testenv.NewSES(t)
	s3URL := serve(t, gofakes3.New(s3mem.New()).Server())
	const bucket = "smoke-exports"
	if _, err := awsconf.S3(awsconf.Local, s3URL).CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// The licensing system's documents: a full one, a delta and one the
	// import refuses, for the import function's S3 event.
	const ingest = "smoke-ingest"
	if _, err := awsconf.S3(awsconf.Local, s3URL).CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(ingest)}); err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ key, body string }{
		{"imports/1-full.json", testdataDocument(t)},
		// The license as it is: the other functions' events still find it.
		{"imports/2-delta.json", `{"mode":"delta","licenses":[{"key":"OTHER","productId":"core","organizationIds":["c2"],"type":"evaluation",` +
			`"startDate":"2026-01-01","expirationDate":"2099-12-31","purchasedInstances":2,"customerNote":"=SUM(A1)"}]}`},
		{"imports/3-refused.json", `{"mode":"delta","removed":{"licenses":["NO-SUCH-LICENSE"]}}`},
	} {
		if _, err := awsconf.S3(awsconf.Local, s3URL).PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(ingest), Key: aws.String(doc.key),
			Body: strings.NewReader(doc.body)}); err != nil {
			t.Fatal(err)
		}
	}
	local := map[string]string{config.TableName: table, config.ExportBucket: bucket, config.IngestBucket: ingest,
		// There is no Lambda service here: exports finish in the invocation.
		config.ExportFunctionName: "",
		config.MailFrom:           mail.From, config.PortalURL: "https://portal.example.com",
		config.DynamoDBEndpoint: dynamoURL, config.S3Endpoint: s3URL, config.SESEndpoint: mail.Endpoint}

	var results []smokeResult
	for _, function := range code.Functions {
		t.Run(function, func(t *testing.T) {
			results = append(results, smoke(t, tpl, function, local))
		})
	}
	if len(results) != len(code.Functions) {
		t.Fatalf("%d of %d functions ran", len(results), len(code.Functions))
	}
	// The scheduled export's notice and the notifier's digest, once each.
	var subjects []string
	for _, m := range mail.Sent(t) {
		subjects = append(subjects, m.Subject)
	}
	if len(subjects) != 2 {
		t.Errorf("SES received %q, want the notice of the scheduled export and one digest", subjects)
	}
	// The report: what ran, and the figures, for the README. `make
	// lambda-smoke` prints it; go test -json shows only failing tests' logs.
	var report bytes.Buffer
	for _, r := range results {
		fmt.Fprintln(&report, strings.Join(r.ran, "\n"))
	}
	fmt.Fprintln(&report, "\n| function | arm64 binary | RIE start → first response | first invocation | init (RIE) | warm invocation | events |")
	fmt.Fprintln(&report, "|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintf(&report, "| %s | %.1f MiB | %d ms | %d ms | %s | %.1f ms | %d |\n", r.function, float64(r.size)/(1<<20),
			r.coldStart.Milliseconds(), r.first.Milliseconds(), r.init, float64(r.warm.Microseconds())/1000, len(r.ran))
	}
	t.Log(report.String())
	if err := os.WriteFile(smokeReport, report.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// serve serves h on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// smoke runs one function's events under its own emulator.
func smoke(t *testing.T, tpl *deploy.Template, function string, local map[string]string) smokeResult {
	res := smokeResult{function: function}
	bootstrap := filepath.Join(hostBuild, function, "bootstrap")
	if _, err := os.Stat(bootstrap); err != nil {
		t.Fatalf("%v: make lambda-smoke builds it", err)
	}
	info, err := os.Stat(filepath.Join(arm64Build, function, "bootstrap"))
	if err != nil {
		t.Fatalf("%v: make build builds it", err)
	}
	res.size = info.Size()
	events := eventsOf(t, function)

	state := t.TempDir()
	rie := filepath.Join(root, "infra", "testenv", "rie.sh")
	args := append([]string{rie, "start", state, bootstrap}, environment(t, tpl, function, local)...)
	start := time.Now()
	out, err := exec.Command("bash", args...).Output()
	if err != nil {
		t.Fatalf("rie.sh start: %v\n%s", err, stderrOf(err))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("bash", rie, "stop", state).CombinedOutput(); err != nil {
			t.Errorf("rie.sh stop: %v\n%s", err, out)
		}
	})
	endpoint := strings.TrimSpace(string(out))
	defer func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(state, "rie.log"))
			t.Logf("the emulator's log:\n%s", log)
		}
	}()

	var succeeded, refused int
	for i, name := range events {
		event, want := readEvent(t, function, name)
		answer, took := invoke(t, endpoint, event)
		if i == 0 {
			res.coldStart, res.first = time.Since(start), took
			// The same event again, now that the function is warm. Its answer
			// may differ (what the first one made is there now), but it must
			// not be an error of the function.
			again, warm := invoke(t, endpoint, event)
			res.warm = warm
			if _, failed := again["errorType"]; failed {
				t.Errorf("%s, again: the function failed: %v", name, again)
			}
		}
		if problem := match("", want, answer); problem != "" {
			t.Errorf("%s: %s\nanswer: %s", name, problem, show(answer))
		}
		status, _ := want["statusCode"].(float64)
		switch {
		case status >= 200 && status < 300:
			succeeded++
		case status >= 400 && status < 500:
			refused++
		}
		line := fmt.Sprintf("%s/%s: %s → %s (%s)", function, name, kindOf(event), summary(answer), took.Round(time.Millisecond/10))
		t.Log(line)
		res.ran = append(res.ran, line)
	}
	if servesRoutes(function) && (succeeded == 0 || refused == 0) {
		t.Errorf("%s serves routes but its events had %d successes and %d client errors: want one of each at least", function, succeeded, refused)
	}
	log, _ := os.ReadFile(filepath.Join(state, "rie.log"))
	res.init = "-"
	if m := initReport.FindSubmatch(log); m != nil {
		ms, _ := strconv.ParseFloat(string(m[1]), 64)
		res.init = fmt.Sprintf("%.1f ms", ms)
	}
	return res
}

// initReport is the emulator's log line about the function's init.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

func servesRoutes(function string) bool {
	return slices.ContainsFunc(httpapi.Routes, func(r httpapi.Route) bool { return string(r.Function) == function })
}

// eventsOf returns the names of the function's events, in order.
func eventsOf(t *testing.T, function string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "events", function, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if name, ok := strings.CutSuffix(filepath.Base(f), ".json"); ok && !strings.HasSuffix(name, ".want") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("no events for %s: add testdata/events/%s/<name>.json and <name>.want.json", function, function)
	}
	slices.Sort(names)
	return names
}

func readEvent(t *testing.T, function, name string) (event []byte, want map[string]any) {
	t.Helper()
	dir := filepath.Join("testdata", "events", function)
	event, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(filepath.Join(dir, name+".want.json"))
	if err != nil {
		t.Fatalf("%v: every event needs the answer it must get", err)
	}
	if err := json.Unmarshal(w, &want); err != nil {
		t.Fatalf("%s.want.json: %v", name, err)
	}
	return event, want
}

// environment returns the function's environment in template.yaml as
// KEY=VALUE, with the values of this machine: local's for resources and
// emulators, each parameter's default for the rest.
func environment(t *testing.T, tpl *deploy.Template, function string, local map[string]string) []string {
	t.Helper()
	f, ok := tpl.Functions()[deploy.LogicalID(function)]
	if !ok || f.Environment == nil {
		t.Fatalf("template.yaml has no environment for %s", deploy.LogicalID(function))
	}
	var env []string
	for name, v := range f.Environment.Variables {
		value, isLocal := local[name]
		if !isLocal {
			value = deploy.Show(v)
			if ref, ok := strings.CutPrefix(value, "!Ref "); ok {
				param, isParam := tpl.Parameters[ref]
				if !isParam || param.Default == nil {
					t.Fatalf("%s=%s: no value for it here", name, value)
				}
				value = fmt.Sprint(param.Default)
			} else if strings.HasPrefix(value, "!") {
				t.Fatalf("%s=%s: no value for it here", name, value)
			}
		}
		env = append(env, name+"="+value)
	}
	for _, name := range config.Local {
		env = append(env, name+"="+local[name])
	}
	slices.Sort(env)
	return env
}

// invoke sends an event to the emulator and returns the function's answer,
// with a JSON body decoded.
func invoke(t *testing.T, endpoint string, event []byte) (map[string]any, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := http.Post(endpoint+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]any
	err = json.NewDecoder(res.Body).Decode(&answer)
	took := time.Since(start)
	if res.StatusCode != 200 || err != nil {
		t.Fatalf("invoke: %s, %v: the function crashed or exited", res.Status, err)
	}
	if body, ok := answer["body"].(string); ok && body != "" {
		var decoded any
		if json.Unmarshal([]byte(body), &decoded) == nil {
			answer["body"] = decoded
		}
	}
	return answer, took
}

// match returns how got differs from want, or "" when it matches: "*"
// stands for any value that is there, an object matches on the members that
// want names, a list member by member.
func match(path string, want, got any) string {
	if want == "*" {
		if got == nil {
			return path + ": missing"
		}
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %s, want an object", path, show(got))
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if p := match(path+"."+k, w[k], g[k]); p != "" {
				return p
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %s, want %d members", path, show(got), len(w))
		}
		for i := range w {
			if p := match(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); p != "" {
				return p
			}
		}
		return ""
	}
	if want != got {
		return fmt.Sprintf("%s: %s, want %s", path, show(got), show(want))
	}
	return ""
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// summary shortens an answer for the log: an API Gateway answer's status
// and error code, or the answer itself.
func summary(answer map[string]any) string {
	status, ok := answer["statusCode"].(float64)
	if !ok {
		return show(answer)
	}
	s := strconv.Itoa(int(status))
	if body, ok := answer["body"].(map[string]any); ok {
		if e, ok := body["error"].(map[string]any); ok {
			s += " " + fmt.Sprint(e["code"])
		}
	}
	return s
}

// kindOf says what an event is, for the log: an API Gateway request's route,
// or the type of another event.
func kindOf(event []byte) string {
	var ev struct {
		RouteKey   string `json:"routeKey"`
		DetailType string `json:"detail-type"`
		Records    []struct {
			EventName string `json:"eventName"`
			S3        struct {
				Object struct{ Key string } `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	_ = json.Unmarshal(event, &ev)
	switch {
	case ev.RouteKey != "":
		return ev.RouteKey
	case ev.DetailType != "":
		return ev.DetailType
	case len(ev.Records) == 1:
		return "S3 " + ev.Records[0].EventName + " " + ev.Records[0].S3.Object.Key
	}
	return string(bytes.Join(bytes.Fields(event), []byte(" ")))
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
