package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/logs"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"

	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/store"
)

// Code is what the code says the template must declare.
type Code struct {
	// Functions are the folders under functions/.
	Functions []string
	// Routes are the routes each function serves, "METHOD /path".
	Routes map[string][]string
	// Schedules are the functions that EventBridge invokes, with their
	// schedule expressions.
	Schedules map[string]string
	// ExportWriters are the functions that write exports, which read
	// config.Export besides config.Common.
	ExportWriters []string
	// Importers are the functions that S3 invokes with the documents of
	// the ingest bucket, which read config.Import besides config.Common.
	Importers []string
	// MailSenders are the functions that send e-mail through SES, which
	// read config.Mail.
	MailSenders []string
	// Leases are how long the work of a function may stay claimed before
	// another run takes it for abandoned: the function must end sooner.
	Leases map[string]time.Duration
	// Table is the table the store expects, TTL its time-to-live attribute.
	Table *dynamodb.CreateTableInput
	TTL   string
}

// ReadCode returns what the code of the repository at root declares: the
// folders under root/functions, and the route table, configuration and
// table definition compiled into this package.
func ReadCode(root string) (Code, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return Code{}, err
	}
	c := Code{
		Routes: make(map[string][]string),
		// The spec's §5: an hourly schedule is enough; §8: the notifier runs
		// daily, in the morning in Europe.
		Schedules:     map[string]string{"scheduled-reports": "rate(1 hour)", "notifier": "cron(0 7 * * ? *)"},
		ExportWriters: []string{"exports", "scheduled-reports"},
		MailSenders:   []string{"scheduled-reports", "notifier"},
		Importers:     []string{"import"},
		Leases: map[string]time.Duration{"exports": export.StaleAfter, "scheduled-reports": export.StaleAfter,
			"notifier": notification.StaleAfter},
		Table: store.TableDefinition(""),
		TTL:   store.TTLAttribute,
	}
	for _, e := range entries {
		if e.IsDir() {
			c.Functions = append(c.Functions, e.Name())
		}
	}
	for _, r := range httpapi.Routes {
		c.Routes[string(r.Function)] = append(c.Routes[string(r.Function)], r.Method+" "+r.Path)
	}
	return c, nil
}

// Env returns the environment variables the function reads.
func (c Code) Env(function string) []string {
	env := slices.Clone(config.Common)
	if slices.Contains(c.ExportWriters, function) {
		env = append(env, config.Export...)
	}
	if slices.Contains(c.MailSenders, function) {
		env = append(env, config.Mail...)
	}
	if slices.Contains(c.Importers, function) {
		env = append(env, config.Import...)
	}
	return env
}

// problems collects what a check finds.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Check holds the template to the code and returns every problem it finds:
// the functions, their routes, environment, runtime and build, the API, the
// table, the bucket, the log groups, the shape of the IAM policies and the
// outputs. What each policy allows is held to what the code calls by
// CheckGrants.
func Check(t *Template, c Code) []string {
	var p problems
	checkFunctions(&p, t, c)
	checkRoutes(&p, t, c)
	checkEnvironment(&p, t, c)
	checkParameters(&p, t)
	checkAPI(&p, t, c)
	checkTable(&p, t, c)
	checkBucket(&p, t)
	checkIngest(&p, t, c)
	checkPage(&p, t)
	checkLogGroups(&p, t)
	checkPolicies(&p, t)
	checkOutputs(&p, t)
	// Checks that look for the same resource report its absence alike.
	seen := make(map[string]bool)
	return slices.DeleteFunc(p, func(s string) bool {
		dup := seen[s]
		seen[s] = true
		return dup
	})
}

// function is a function of the template with the folder it is built from.
type function struct {
	id, folder string
	*serverless.Function
}

// functions returns the template's functions that have a folder under
// functions/, sorted by folder.
func (t *Template) functions(c Code) []function {
	all := t.Functions()
	var fns []function
	for _, folder := range c.Functions {
		if f, ok := all[LogicalID(folder)]; ok {
			fns = append(fns, function{LogicalID(folder), folder, f})
		}
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].folder < fns[j].folder })
	return fns
}

// The runtime every function has: a Go binary named bootstrap, built for
// Graviton by the Makefile (README, Deploy).
const (
	wantRuntime      = "provided.al2023"
	wantArchitecture = "arm64"
	wantHandler      = "bootstrap"
	buildMethod      = "makefile"
	// apiTimeout is the longest a function serving API requests may run:
	// API Gateway gives up on an integration after 30 s.
	apiTimeout = 29
)

func checkFunctions(p *problems, t *Template, c Code) {
	all := t.Functions()
	hasFolder := make(map[string]bool)
	for _, folder := range c.Functions {
		hasFolder[LogicalID(folder)] = true
		if _, ok := all[LogicalID(folder)]; !ok {
			p.addf("functions/%s has no AWS::Serverless::Function %s", folder, LogicalID(folder))
		}
	}
	for _, id := range sortedKeys(all) {
		if !hasFolder[id] {
			p.addf("%s is the function of no folder under functions/ (the function of functions/<name> is <Name>Function)", id)
		}
	}
	for _, g := range t.unmergedGlobals() {
		p.addf("Globals.Function.%s is not merged into the functions by deploy.Functions, so no check sees it: set it on the functions", g)
	}
	for _, f := range t.functions(c) {
		if got, want := Show(f.FunctionName), "!Sub ${AWS::StackName}-"+f.folder; got != want {
			p.addf("%s: FunctionName is %q, want %q", f.id, got, want)
		}
		if got := f.AWSCloudFormationMetadata["BuildMethod"]; got != buildMethod {
			p.addf("%s: Metadata.BuildMethod is %v, want %s (the Makefile's build-%s)", f.id, got, buildMethod, f.id)
		}
		if f.CodeUri == nil || Show(f.CodeUri.String) != "." {
			p.addf("%s: CodeUri must be . (the repository, where the Makefile and go.mod are)", f.id)
		}
		if got := Show(f.Runtime); got != wantRuntime {
			p.addf("%s: Runtime is %q, want %s", f.id, got, wantRuntime)
		}
		if !slices.Equal(f.Architectures, []string{wantArchitecture}) {
			p.addf("%s: Architectures are %v, want [%s]", f.id, f.Architectures, wantArchitecture)
		}
		if got := Show(f.Handler); got != wantHandler {
			p.addf("%s: Handler is %q, want %s", f.id, got, wantHandler)
		}
		if f.Role != nil {
			p.addf("%s: Role is set; let SAM make the function its own role, with only its policies", f.id)
		}
		if f.MemorySize == nil {
			p.addf("%s: no MemorySize", f.id)
		}
		switch {
		case f.Timeout == nil:
			p.addf("%s: no Timeout", f.id)
		case servesAPI(f.Function) && !invokesItself(t, f) && *f.Timeout > apiTimeout:
			p.addf("%s: Timeout is %d s, but API Gateway answers for it after 30 s: at most %d", f.id, *f.Timeout, apiTimeout)
		case c.Leases[f.folder] > 0 && time.Duration(*f.Timeout)*time.Second >= c.Leases[f.folder]:
			p.addf("%s: Timeout is %d s, but a later run takes its work for abandoned after %s: less than that", f.id, *f.Timeout, c.Leases[f.folder])
		}
	}
}

func servesAPI(f *serverless.Function) bool {
	for _, e := range f.Events {
		if e.Type == "HttpApi" {
			return true
		}
	}
	return false
}

// invokesItself reports whether the function may invoke itself: it then
// finishes work asynchronously, beyond API Gateway's 30 s.
func invokesItself(t *Template, f function) bool {
	statements, err := t.statements(f.id)
	if err != nil {
		return false
	}
	own := lambdaARN(Show(f.FunctionName))
	for _, s := range statements {
		if slices.Contains(s.Actions, "lambda:InvokeFunction") && slices.Contains(s.Resources, own) {
			return true
		}
	}
	return false
}

func checkRoutes(p *problems, t *Template, c Code) {
	api := t.single(p, "AWS::Serverless::HttpApi")
	servedBy := make(map[string]string)
	for _, f := range t.functions(c) {
		var routes []string
		schedules := 0
		for _, name := range sortedKeys(f.Events) {
			e := f.Events[name]
			switch {
			case e.Type == "HttpApi" && e.Properties != nil && e.Properties.HttpApiEvent != nil:
				ev := e.Properties.HttpApiEvent
				route := Show(ev.Method) + " " + Show(ev.Path)
				routes = append(routes, route)
				if other, ok := servedBy[route]; ok {
					p.addf("%s: %s is also an event of %s", f.id, route, other)
				}
				servedBy[route] = f.id
				if got := Show(ev.ApiId); got != "!Ref "+api {
					p.addf("%s: event %s has ApiId %q, want !Ref %s", f.id, name, got, api)
				}
				if ev.Auth != nil {
					p.addf("%s: event %s sets its own Auth; every route uses the API's JWT authorizer", f.id, name)
				}
				if v := Show(ev.PayloadFormatVersion); v != "" && v != "2.0" {
					p.addf("%s: event %s has PayloadFormatVersion %s; httpapi.LambdaHandler reads 2.0", f.id, name, v)
				}
			case e.Type == "S3" && slices.Contains(c.Importers, f.folder):
				// checkIngest holds it to the bucket and the prefix.
			case e.Type == "Schedule" && e.Properties != nil && e.Properties.ScheduleEvent != nil:
				schedules++
				want, ok := c.Schedules[f.folder]
				switch got := Show(e.Properties.ScheduleEvent.Schedule); {
				case !ok:
					p.addf("%s: event %s is a schedule, but the function is not invoked by EventBridge", f.id, name)
				case got != want:
					p.addf("%s: event %s runs on %s, want %s", f.id, name, got, want)
				}
			default:
				p.addf("%s: event %s of type %s is none of the function's triggers", f.id, name, e.Type)
			}
		}
		if _, ok := c.Schedules[f.folder]; ok && schedules != 1 {
			p.addf("%s: %d Schedule events, want 1", f.id, schedules)
		}
		for _, r := range missing(c.Routes[f.folder], routes) {
			p.addf("%s: route %s of httpapi.Routes has no HttpApi event", f.id, r)
		}
		for _, r := range missing(routes, c.Routes[f.folder]) {
			p.addf("%s: HttpApi event %s is not a route of %s in httpapi.Routes", f.id, r, f.folder)
		}
	}
	for _, fn := range sortedKeys(c.Routes) {
		if !slices.Contains(c.Functions, fn) {
			p.addf("httpapi.Routes: %s is served by %s, which has no folder under functions/", strings.Join(c.Routes[fn], ", "), fn)
		}
	}
}

func checkEnvironment(p *problems, t *Template, c Code) {
	table := "!Ref " + t.single(p, "AWS::DynamoDB::Table")
	bucket := "!Ref " + t.exportBucket(p)
	want := map[string]string{
		config.TableName:           table,
		config.ExpiringWindowDays:  "!Ref ExpiringWindowDays",
		config.ExportBucket:        bucket,
		config.IngestBucket:        ingestBucketName,
		config.ExportURLMinutes:    "!Ref ExportUrlMinutes",
		config.ExportRetentionDays: "!Ref ExportRetentionDays",
		config.MailFrom:            "!Ref MailFrom",
		config.PortalURL:           "!Ref PortalUrl",
	}
	names := make(map[string]bool)
	for _, f := range t.Functions() {
		names[Show(f.FunctionName)] = true
	}
	for _, f := range t.functions(c) {
		vars := map[string]string{}
		if f.Environment != nil {
			vars = f.Environment.Variables
		}
		got := sortedKeys(vars)
		for _, v := range missing(c.Env(f.folder), got) {
			p.addf("%s: environment has no %s", f.id, v)
		}
		for _, v := range missing(got, c.Env(f.folder)) {
			if slices.Contains(goRuntime, v) {
				continue
			}
			if slices.Contains(config.Local, v) {
				p.addf("%s: environment sets %s, which only runs on emulators set", f.id, v)
			} else {
				p.addf("%s: environment sets %s, which the function does not read", f.id, v)
			}
		}
		for _, name := range sortedKeys(vars) {
			if w, ok := want[name]; ok && Show(vars[name]) != w {
				p.addf("%s: %s is %q, want %q", f.id, name, Show(vars[name]), w)
			}
		}
		if v := Show(vars[config.ExportFunctionName]); v != "" && !names[v] {
			p.addf("%s: %s is %q, the FunctionName of no function", f.id, config.ExportFunctionName, v)
		}
		if v, ok := vars["GOMEMLIMIT"]; ok && writesExports(vars) && "GOMEMLIMIT="+v != config.ExportMemoryLimit {
			p.addf("%s: GOMEMLIMIT=%s, want the measured %s of config.ExportMemoryLimit", f.id, v, config.ExportMemoryLimit)
		}
		if v, ok := vars["GOMEMLIMIT"]; ok {
			limit, err := memoryLimit(v)
			switch {
			case err != nil:
				p.addf("%s: GOMEMLIMIT=%s: %v", f.id, v, err)
			case f.MemorySize != nil && limit >= int64(*f.MemorySize)<<20:
				p.addf("%s: GOMEMLIMIT=%s is not below its MemorySize of %d MB, so Lambda ends the function before the limit acts", f.id, v, *f.MemorySize)
			}
		}
		checkConfigurable(p, t, f.id, vars)
	}
}

// writesExports reports whether a function with these variables writes
// export workbooks.
func writesExports(vars map[string]string) bool {
	_, ok := vars[config.ExportBucket]
	return ok
}

// goRuntime are the variables of the Go runtime, which a function may set
// besides its configuration.
var goRuntime = []string{"GOMEMLIMIT", "GOGC", "GODEBUG", "GOMAXPROCS"}

// memoryLimit parses a GOMEMLIMIT value as the Go runtime does: a number of
// bytes with an optional unit, B, KiB, MiB, GiB or TiB.
func memoryLimit(v string) (int64, error) {
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a number of bytes with an optional unit (B, KiB, MiB, GiB, TiB)")
	}
	return n << shift, nil
}

// checkConfigurable runs the function's configuration (config.FromEnv) on
// its environment as AWS would set it: with every parameter at its default,
// then each parameter it reads at the least and the greatest value the
// template lets a deployment choose. Every one must be a configuration the
// function starts with, or a deployment could pass CloudFormation and leave
// the function failing at every start.
func checkConfigurable(p *problems, t *Template, id string, vars map[string]string) {
	params := make(map[string]string) // variable → parameter it takes
	for name, v := range vars {
		if ref, ok := strings.CutPrefix(Show(v), "!Ref "); ok {
			if _, isParam := t.Parameters[ref]; isParam {
				params[name] = ref
			}
		}
	}
	getenv := func(override map[string]string) func(string) string {
		return func(name string) string {
			if v, ok := override[name]; ok {
				return v
			}
			if param, ok := params[name]; ok {
				if def := t.Parameters[param].Default; def != nil {
					return fmt.Sprint(def)
				}
				// No default: the deployment chooses, as the example does.
				return wantParameters[param].example
			}
			// Other references name resources: any value stands for them.
			return strings.TrimPrefix(Show(vars[name]), "!Ref ")
		}
	}
	if _, err := config.FromEnv(getenv(nil)); err != nil {
		p.addf("%s: the environment with the parameters' defaults is not a valid configuration: %v", id, err)
	}
	for _, name := range sortedKeys(params) {
		param := t.Parameters[params[name]]
		if param.Type != "Number" {
			continue
		}
		var values []any
		switch {
		case len(param.AllowedValues) > 0:
			values = param.AllowedValues
		default:
			// Without a bound, CloudFormation takes any number.
			low, high := -1e9, 1e9
			if param.MinValue != nil {
				low = *param.MinValue
			}
			if param.MaxValue != nil {
				high = *param.MaxValue
			}
			values = []any{low, high}
		}
		for _, v := range values {
			if _, err := config.FromEnv(getenv(map[string]string{name: fmt.Sprint(v)})); err != nil {
				p.addf("Parameters: %s allows %v, which %s refuses: %v", params[name], v, id, err)
			}
		}
	}
}

// wantParameters are the parameters that the README and samconfig.toml
// document, with their defaults, tied to the code's where it has one. Their
// bounds are held to the code by checkConfigurable.
var wantParameters = map[string]struct {
	typ     string
	def     any    // nil: no default, the deployment must choose
	example string // a value a deployment may choose, for a parameter without a default
}{
	"Stage":               {"String", "dev", ""},
	"JwtIssuer":           {"String", nil, "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_EXAMPLE"},
	"JwtAudience":         {"String", nil, "exampleappclientid"},
	"ExpiringWindowDays":  {"Number", float64(license.DefaultExpiringWindow), ""},
	"ExportUrlMinutes":    {"Number", config.DefaultExportURLLifetime.Minutes(), ""},
	"ExportRetentionDays": {"Number", config.DefaultExportRetention.Hours() / 24, ""},
	"MailFrom":            {"String", nil, "notifications@portal.example.com"},
	"MailIdentity":        {"String", nil, "portal.example.com"},
	"PortalUrl":           {"String", nil, "https://portal.example.com"},
	"LogRetentionDays":    {"Number", float64(30), ""},
}

func checkParameters(p *problems, t *Template) {
	for _, name := range sortedKeys(wantParameters) {
		want := wantParameters[name]
		got, ok := t.Parameters[name]
		switch {
		case !ok:
			p.addf("Parameters: no %s", name)
		case got.Type != want.typ:
			p.addf("Parameters: %s is a %s, want a %s", name, got.Type, want.typ)
		case fmt.Sprint(got.Default) != fmt.Sprint(want.def):
			p.addf("Parameters: %s defaults to %v, want %v", name, got.Default, want.def)
		}
	}
}

func checkAPI(p *problems, t *Template, c Code) {
	id := t.single(p, "AWS::Serverless::HttpApi")
	api, ok := t.Resources[id].(*serverless.HttpApi)
	if !ok {
		return
	}
	if got := Show(api.StageName); got != "$default" {
		p.addf("%s: StageName is %q, want $default: a named stage prefixes the rawPath of every request, and no route would match", id, got)
	}
	checkAuthorizer(p, id, api.Auth)
	if api.CorsConfiguration == nil || api.CorsConfiguration.CorsConfigurationObject == nil {
		p.addf("%s: no CorsConfiguration for the portal's origin", id)
	} else {
		cors := api.CorsConfiguration.CorsConfigurationObject
		origin := "!Sub https://${" + t.single(p, "AWS::CloudFront::Distribution") + ".DomainName}"
		if got := showAll(cors.AllowOrigins); !slices.Equal(got, []string{origin}) {
			p.addf("%s: CORS allows the origins %v, want only the page's, %s", id, got, origin)
		}
		for _, m := range routeMethods(c) {
			if !slices.Contains(cors.AllowMethods, m) {
				p.addf("%s: CORS does not allow %s, which routes use", id, m)
			}
		}
		for _, h := range []string{"Authorization", "Content-Type"} {
			if !slices.ContainsFunc(cors.AllowHeaders, func(s string) bool { return strings.EqualFold(s, h) }) {
				p.addf("%s: CORS does not allow the header %s", id, h)
			}
		}
	}
	if api.AccessLogSetting == nil {
		p.addf("%s: no AccessLogSettings", id)
		return
	}
	group, ok := strings.CutPrefix(Show(api.AccessLogSetting.DestinationArn), "!GetAtt ")
	group, isArn := strings.CutSuffix(group, ".Arn")
	if _, isGroup := t.Resources[group].(*logs.LogGroup); !ok || !isArn || !isGroup {
		p.addf("%s: access logs go to %q, want !GetAtt <a log group of the template>.Arn", id, Show(api.AccessLogSetting.DestinationArn))
	}
	if !strings.Contains(Show(api.AccessLogSetting.Format), "$context.requestId") {
		p.addf("%s: the access log format has no $context.requestId", id)
	}
}

func checkAuthorizer(p *problems, id string, auth *serverless.HttpApi_HttpApiAuth) {
	if auth == nil || auth.DefaultAuthorizer == nil {
		p.addf("%s: no DefaultAuthorizer: every route must need a token", id)
		return
	}
	name := Show(auth.DefaultAuthorizer)
	authorizers, _ := auth.Authorizers.(map[string]any)
	a, _ := authorizers[name].(map[string]any)
	if a == nil {
		p.addf("%s: the DefaultAuthorizer %s is not among its Authorizers", id, name)
		return
	}
	if got := Show(a["IdentitySource"]); got != "$request.header.Authorization" {
		p.addf("%s: %s reads the token from %q, want $request.header.Authorization", id, name, got)
	}
	jwt, _ := a["JwtConfiguration"].(map[string]any)
	if got := Show(jwt["issuer"]); got != "!Ref JwtIssuer" {
		p.addf("%s: %s has issuer %q, want !Ref JwtIssuer", id, name, got)
	}
	audience, _ := jwt["audience"].([]any)
	if got := showAll(audience); !slices.Equal(got, []string{"!Ref JwtAudience"}) {
		p.addf("%s: %s has audience %v, want [!Ref JwtAudience]", id, name, got)
	}
}

func routeMethods(c Code) []string {
	var methods []string
	for _, routes := range c.Routes {
		for _, r := range routes {
			m, _, _ := strings.Cut(r, " ")
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	sort.Strings(methods)
	return methods
}

func checkTable(p *problems, t *Template, c Code) {
	id := t.single(p, "AWS::DynamoDB::Table")
	table, ok := t.Resources[id].(*cfndynamodb.Table)
	if !ok {
		return
	}
	def := c.Table
	var gotAttrs, wantAttrs []string
	for _, a := range table.AttributeDefinitions {
		gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
	}
	for _, a := range def.AttributeDefinitions {
		wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	sort.Strings(gotAttrs)
	sort.Strings(wantAttrs)
	if !slices.Equal(gotAttrs, wantAttrs) {
		p.addf("%s: AttributeDefinitions are %v, store.TableDefinition's %v", id, gotAttrs, wantAttrs)
	}
	if got, want := keysOf(table.KeySchema), wantKeys(def.KeySchema); got != want {
		p.addf("%s: KeySchema is %s, store.TableDefinition's %s", id, got, want)
	}
	gotIndexes := make(map[string]string)
	for _, g := range table.GlobalSecondaryIndexes {
		gotIndexes[g.IndexName] = keysOf(g.KeySchema) + " " + projectionOf(g.Projection)
	}
	wantIndexes := make(map[string]string)
	for _, g := range def.GlobalSecondaryIndexes {
		proj := string(g.Projection.ProjectionType)
		if len(g.Projection.NonKeyAttributes) > 0 {
			proj += fmt.Sprint(g.Projection.NonKeyAttributes)
		}
		wantIndexes[aws.ToString(g.IndexName)] = wantKeys(g.KeySchema) + " " + proj
	}
	for _, name := range sortedKeys(wantIndexes) {
		if gotIndexes[name] != wantIndexes[name] {
			p.addf("%s: index %s is %q, store.TableDefinition's %q", id, name, gotIndexes[name], wantIndexes[name])
		}
	}
	for _, name := range missing(sortedKeys(gotIndexes), sortedKeys(wantIndexes)) {
		p.addf("%s: index %s is not in store.TableDefinition", id, name)
	}
	if len(table.LocalSecondaryIndexes) != len(def.LocalSecondaryIndexes) {
		p.addf("%s: %d local secondary indexes, store.TableDefinition has %d", id, len(table.LocalSecondaryIndexes), len(def.LocalSecondaryIndexes))
	}
	if got := Show(table.BillingMode); got != string(def.BillingMode) {
		p.addf("%s: BillingMode is %q, want %s", id, got, def.BillingMode)
	}
	if s := table.PointInTimeRecoverySpecification; s == nil || !aws.ToBool(s.PointInTimeRecoveryEnabled) {
		p.addf("%s: point-in-time recovery is not enabled", id)
	}
	if s := table.SSESpecification; s == nil || !s.SSEEnabled {
		p.addf("%s: SSESpecification.SSEEnabled is not true", id)
	}
	if !aws.ToBool(table.DeletionProtectionEnabled) {
		p.addf("%s: DeletionProtectionEnabled is not true", id)
	}
	if ttl := table.TimeToLiveSpecification; ttl == nil || !ttl.Enabled || aws.ToString(ttl.AttributeName) != c.TTL {
		p.addf("%s: time to live must be enabled on %s (store.TTLAttribute)", id, c.TTL)
	}
}

func keysOf(ks []cfndynamodb.Table_KeySchema) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.AttributeName+":"+k.KeyType)
	}
	return strings.Join(s, ",")
}

func wantKeys(ks []types.KeySchemaElement) string {
	var s []string
	for _, k := range ks {
		s = append(s, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(s, ",")
}

func projectionOf(p *cfndynamodb.Table_Projection) string {
	if p == nil {
		return ""
	}
	s := aws.ToString(p.ProjectionType)
	if len(p.NonKeyAttributes) > 0 {
		s += fmt.Sprint(p.NonKeyAttributes)
	}
	return s
}

func checkBucket(p *problems, t *Template) {
	id := t.exportBucket(p)
	b, ok := t.Resources[id].(*s3.Bucket)
	if !ok {
		return
	}
	checkPrivate(p, t, id, b)
	expires := false
	if lc := b.LifecycleConfiguration; lc != nil {
		for i, r := range lc.Rules {
			days, _ := t.Lifted(id, fmt.Sprintf("LifecycleConfiguration.Rules[%d].ExpirationInDays", i))
			// A rule for the whole bucket, or for the exports prefix.
			if r.Status == "Enabled" && days == "!Ref ExportRetentionDays" && slices.Contains([]string{"", exportsPrefix}, aws.ToString(r.Prefix)) &&
				len(r.TagFilters) == 0 {
				expires = true
			}
		}
	}
	if !expires {
		p.addf("%s: no enabled lifecycle rule expires the exports after !Ref ExportRetentionDays days", id)
	}
}

// checkPrivate holds a bucket to what every bucket of the stack is: no
// public access, no ACLs, encrypted, TLS only.
func checkPrivate(p *problems, t *Template, id string, b *s3.Bucket) {
	if pab := b.PublicAccessBlockConfiguration; pab == nil || !aws.ToBool(pab.BlockPublicAcls) || !aws.ToBool(pab.BlockPublicPolicy) ||
		!aws.ToBool(pab.IgnorePublicAcls) || !aws.ToBool(pab.RestrictPublicBuckets) {
		p.addf("%s: PublicAccessBlockConfiguration must set all four blocks to true", id)
	}
	encrypted := b.BucketEncryption != nil && len(b.BucketEncryption.ServerSideEncryptionConfiguration) > 0
	if encrypted {
		for _, r := range b.BucketEncryption.ServerSideEncryptionConfiguration {
			d := r.ServerSideEncryptionByDefault
			encrypted = encrypted && d != nil && slices.Contains([]string{"AES256", "aws:kms", "aws:kms:dsse"}, d.SSEAlgorithm)
		}
	}
	if !encrypted {
		p.addf("%s: no default encryption (BucketEncryption with SSE-S3 or KMS)", id)
	}
	if oc := b.OwnershipControls; oc == nil || len(oc.Rules) != 1 || aws.ToString(oc.Rules[0].ObjectOwnership) != "BucketOwnerEnforced" {
		p.addf("%s: OwnershipControls must be BucketOwnerEnforced (no ACLs)", id)
	}
	if !t.deniesInsecureTransport(id) {
		p.addf("%s: no AWS::S3::BucketPolicy denies every request with aws:SecureTransport false on the bucket and its objects", id)
	}
}

// exportsPrefix is where the exports live: exports/<partnerId>/...
const exportsPrefix = "exports/"

func (t *Template) deniesInsecureTransport(bucket string) bool {
	for _, id := range t.resourcesOf("AWS::S3::BucketPolicy") {
		bp := t.Resources[id].(*s3.BucketPolicy)
		if Show(bp.Bucket) != "!Ref "+bucket {
			continue
		}
		doc, _ := bp.PolicyDocument.(map[string]any)
		list, _ := doc["Statement"].([]any)
		for _, raw := range list {
			s, _ := raw.(map[string]any)
			cond, _ := s["Condition"].(map[string]any)
			boolCond, _ := cond["Bool"].(map[string]any)
			resources := showAll(asList(s["Resource"]))
			if s["Effect"] == "Deny" && Show(s["Principal"]) == "*" && slices.Equal(showAll(asList(s["Action"])), []string{"s3:*"}) &&
				fmt.Sprint(boolCond["aws:SecureTransport"]) == "false" &&
				slices.Contains(resources, "!GetAtt "+bucket+".Arn") && slices.Contains(resources, "!Sub ${"+bucket+".Arn}/*") {
				return true
			}
		}
	}
	return false
}

func checkLogGroups(p *problems, t *Template) {
	groups := make(map[string]string)
	for _, id := range t.resourcesOf("AWS::Logs::LogGroup") {
		groups[Show(t.Resources[id].(*logs.LogGroup).LogGroupName)] = id
		if days, _ := t.Lifted(id, "RetentionInDays"); days != "!Ref LogRetentionDays" {
			p.addf("%s: RetentionInDays must be !Ref LogRetentionDays", id)
		}
	}
	fns := t.Functions()
	for _, id := range sortedKeys(fns) {
		name := Show(fns[id].FunctionName)
		want := "/aws/lambda/" + name
		if sub, ok := strings.CutPrefix(name, "!Sub "); ok {
			want = "!Sub /aws/lambda/" + sub
		}
		if _, ok := groups[want]; !ok {
			p.addf("%s: no AWS::Logs::LogGroup named %q: Lambda would make one that keeps its logs forever", id, want)
		}
	}
}

func checkOutputs(p *problems, t *Template) {
	want := map[string]string{
		"TableName":        "!Ref " + t.single(p, "AWS::DynamoDB::Table"),
		"BucketName":       "!Ref " + t.exportBucket(p),
		"IngestBucketName": "!Ref " + t.ingestBucket(p),
	}
	for _, name := range sortedKeys(want) {
		if o, ok := t.Outputs[name]; !ok || Show(o.Value) != want[name] {
			p.addf("Outputs: %s must be %s", name, want[name])
		}
	}
	api := t.single(p, "AWS::Serverless::HttpApi")
	if o, ok := t.Outputs["ApiUrl"]; !ok || !strings.Contains(Show(o.Value), "${"+api+"}.execute-api.") {
		p.addf("Outputs: ApiUrl must be the URL of %s", api)
	}
}

// single returns the logical id of the one resource of a type, adding a
// problem when there is not exactly one.
func (t *Template) single(p *problems, typ string) string {
	ids := t.resourcesOf(typ)
	if len(ids) != 1 {
		p.addf("want one %s, have %d %v", typ, len(ids), ids)
		if len(ids) == 0 {
			return "<none>"
		}
	}
	return ids[0]
}

// missing returns the members of want that got lacks.
func missing(want, got []string) []string {
	var m []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			m = append(m, w)
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func showAll[T any](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = Show(v)
	}
	return out
}

// asList returns a policy element that may be one value or a list as a list.
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}
