package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/cloudfront"
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"

	"github.com/partnerportal/licenses/infra/deploy"
	"github.com/partnerportal/licenses/shared/config"
)

// The template declares what the code needs, and the build and deployment
// settings cover every function and parameter.
func TestTemplateMatchesCode(t *testing.T) {
	tpl := loadTemplate(t)
	for name, found := range map[string][]string{
		"template.yaml":  deploy.Check(tpl, readCode(t)),
		"Makefile":       deploy.CheckMakefile(tpl, readFile(t, "Makefile")),
		"samconfig.toml": deploy.CheckSamconfig(tpl, readFile(t, "samconfig.toml")),
	} {
		for _, p := range found {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// fn returns a function resource of the template, to change it.
func fn(t *testing.T, tpl *deploy.Template, id string) *serverless.Function {
	t.Helper()
	f, ok := tpl.Resources[id].(*serverless.Function)
	if !ok {
		t.Fatalf("no function %s", id)
	}
	return f
}

// statement returns a statement of a function's policy, to change it.
func statement(t *testing.T, tpl *deploy.Template, id string, i int) map[string]any {
	t.Helper()
	docs := fn(t, tpl, id).Policies.IAMPolicyDocumentArray
	s, ok := (*docs)[0].Statement[i].(map[string]any)
	if !ok {
		t.Fatalf("%s: no statement %d", id, i)
	}
	return s
}

func globalEnv(tpl *deploy.Template) map[string]string {
	return tpl.Globals["Function"].(*global.Function).Environment.Variables
}

// orgsAccesses are what the orgs function needs, as TestPoliciesAllowWhatTheCodeCalls
// records it.
var orgsAccesses = []deploy.Access{
	{Action: "dynamodb:BatchGetItem", Resource: "table"},
	{Action: "dynamodb:GetItem", Resource: "table"},
	{Action: "dynamodb:Query", Resource: "table"},
}

// importAccesses are what the import function's exercise needs.
var importAccesses = []deploy.Access{
	{Action: "s3:ListBucket", Resource: "bucket/ingest"},
	{Action: "s3:GetObject", Resource: "object/ingest/imports/1-full.json"},
	{Action: "s3:GetObject", Resource: "object/ingest/results/1-full.json.json"},
	{Action: "s3:PutObject", Resource: "object/ingest/results/1-full.json.json"},
	{Action: "dynamodb:BatchGetItem", Resource: "table"},
	{Action: "dynamodb:BatchWriteItem", Resource: "table"},
	{Action: "dynamodb:Query", Resource: "table"},
	{Action: "dynamodb:Query", Resource: "index/GSI1"},
	{Action: "dynamodb:PutItem", Resource: "table"},
}

// grantBuckets names the variables that name the buckets of the accesses.
var grantBuckets = map[string]string{"exports": config.ExportBucket, "ingest": config.IngestBucket}

// Each check finds the mistake it is there for: the template, changed in
// memory, gets the problem, which the template as it is does not have.
func TestChecksCatchMistakes(t *testing.T) {
	tests := []struct {
		name   string
		change func(*testing.T, *deploy.Template, *deploy.Code)
		want   string
	}{
		{"a route dropped", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(fn(t, tpl, "OrgsFunction").Events, "Me")
		}, "OrgsFunction: route GET /v1/me of httpapi.Routes has no HttpApi event"},
		{"a route the code does not have", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			ev := fn(t, tpl, "PinsFunction").Events["Pins"]
			moved := *ev.Properties.HttpApiEvent
			moved.Method = ptr("POST")
			fn(t, tpl, "PinsFunction").Events["Stray"] = serverless.Function_EventSource{Type: "HttpApi",
				Properties: &serverless.Function_Properties{HttpApiEvent: &moved}}
		}, "PinsFunction: HttpApi event POST /v1/pins is not a route of pins"},
		{"a route on the wrong function", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "NotesFunction").Events["Me"] = fn(t, tpl, "OrgsFunction").Events["Me"]
		}, "NotesFunction: HttpApi event GET /v1/me is not a route of notes"},
		{"a route without the authorizer", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "OrgsFunction").Events["Me"].Properties.HttpApiEvent.Auth = &serverless.Function_HttpApiFunctionAuth{Authorizer: ptr("NONE")}
		}, "OrgsFunction: event Me sets its own Auth"},
		{"a function removed", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(tpl.Resources, "PinsFunction")
		}, "functions/pins has no AWS::Serverless::Function PinsFunction"},
		{"a function without a folder", func(t *testing.T, tpl *deploy.Template, c *deploy.Code) {
			c.Functions = slices.DeleteFunc(c.Functions, func(f string) bool { return f == "notes" })
		}, "NotesFunction is the function of no folder"},
		{"a function named apart from its folder", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "OrgsFunction").FunctionName = ptr("orgs")
		}, `OrgsFunction: FunctionName is "orgs"`},
		{"another schedule", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ScheduledReportsFunction").Events["Hourly"].Properties.ScheduleEvent.Schedule = "rate(1 day)"
		}, "ScheduledReportsFunction: event Hourly runs on rate(1 day), want rate(1 hour)"},
		{"x86", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "LicensesFunction").Architectures = []string{"x86_64"}
		}, "LicensesFunction: Architectures are [arm64 x86_64]"},
		{"another runtime", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "LicensesFunction").Runtime = ptr("provided.al2")
		}, `LicensesFunction: Runtime is "provided.al2"`},
		{"another build", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "LicensesFunction").AWSCloudFormationMetadata = nil
		}, "LicensesFunction: Metadata.BuildMethod is <nil>"},
		{"longer than API Gateway waits", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ReportsFunction").Timeout = ptr(60)
		}, "ReportsFunction: Timeout is 60 s"},
		{"a variable missing", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(globalEnv(tpl), "LOG_LEVEL")
		}, "OrgsFunction: environment has no LOG_LEVEL"},
		{"an emulator's variable", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			globalEnv(tpl)["DYNAMODB_ENDPOINT"] = "http://127.0.0.1:8000"
		}, "PinsFunction: environment sets DYNAMODB_ENDPOINT, which only runs on emulators set"},
		{"an export variable where nothing exports", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			globalEnv(tpl)["EXPORT_BUCKET"] = "b"
		}, "OrgsFunction: environment sets EXPORT_BUCKET, which the function does not read"},
		{"a memory limit above the memory", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ExportsFunction").Environment.Variables["GOMEMLIMIT"] = "2GiB"
		}, "ExportsFunction: GOMEMLIMIT=2GiB is not below its MemorySize of 2048 MB"},
		{"a memory limit apart from the measured one", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ScheduledReportsFunction").Environment.Variables["GOMEMLIMIT"] = "64MiB"
		}, "ScheduledReportsFunction: GOMEMLIMIT=64MiB, want the measured GOMEMLIMIT="},
		{"the wrong table", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			globalEnv(tpl)["TABLE_NAME"] = "licenses"
		}, `TABLE_NAME is "licenses", want "!Ref Table"`},
		{"a log level the functions refuse", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			globalEnv(tpl)["LOG_LEVEL"] = "verbose"
		}, `LOG_LEVEL="verbose"`},
		{"a parameter beyond what the code takes", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			p := tpl.Parameters["ExportUrlMinutes"]
			p.MaxValue = nil
			tpl.Parameters["ExportUrlMinutes"] = p
		}, "Parameters: ExportUrlMinutes allows 1e+09"},
		{"a default apart from the code's", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			p := tpl.Parameters["ExpiringWindowDays"]
			p.Default = 14
			tpl.Parameters["ExpiringWindowDays"] = p
		}, "Parameters: ExpiringWindowDays defaults to 14, want 30"},
		{"a named stage", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["HttpApi"].(*serverless.HttpApi).StageName = ptr("prod")
		}, `HttpApi: StageName is "prod", want $default`},
		{"no authorizer", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["HttpApi"].(*serverless.HttpApi).Auth.DefaultAuthorizer = nil
		}, "HttpApi: no DefaultAuthorizer"},
		{"any origin", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["HttpApi"].(*serverless.HttpApi).CorsConfiguration.CorsConfigurationObject.AllowOrigins = []string{"*"}
		}, "HttpApi: CORS allows the origins [*]"},
		{"no access logs", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["HttpApi"].(*serverless.HttpApi).AccessLogSetting = nil
		}, "HttpApi: no AccessLogSettings"},
		{"another key", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tbl := tpl.Resources["Table"].(*dynamodb.Table)
			tbl.KeySchema[0], tbl.KeySchema[1] = tbl.KeySchema[1], tbl.KeySchema[0]
		}, "Table: KeySchema is SK:RANGE,PK:HASH, store.TableDefinition's PK:HASH,SK:RANGE"},
		{"an index apart from the store's", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["Table"].(*dynamodb.Table).GlobalSecondaryIndexes[0].Projection.ProjectionType = ptr("KEYS_ONLY")
		}, "Table: index GSI1 is"},
		{"no time to live", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["Table"].(*dynamodb.Table).TimeToLiveSpecification = nil
		}, "Table: time to live must be enabled on expiresAt"},
		{"no point-in-time recovery", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["Table"].(*dynamodb.Table).PointInTimeRecoverySpecification = nil
		}, "Table: point-in-time recovery is not enabled"},
		{"no deletion protection", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["Table"].(*dynamodb.Table).DeletionProtectionEnabled = ptr(false)
		}, "Table: DeletionProtectionEnabled is not true"},
		{"provisioned", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["Table"].(*dynamodb.Table).BillingMode = ptr("PROVISIONED")
		}, `Table: BillingMode is "PROVISIONED"`},
		{"a public bucket", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["ExportBucket"].(*s3.Bucket).PublicAccessBlockConfiguration.RestrictPublicBuckets = ptr(false)
		}, "ExportBucket: PublicAccessBlockConfiguration must set all four blocks to true"},
		{"ACLs", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["ExportBucket"].(*s3.Bucket).OwnershipControls = nil
		}, "ExportBucket: OwnershipControls must be BucketOwnerEnforced"},
		{"exports kept", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["ExportBucket"].(*s3.Bucket).LifecycleConfiguration.Rules[0].Status = "Disabled"
		}, "ExportBucket: no enabled lifecycle rule expires the exports"},
		{"plain HTTP", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(tpl.Resources, "ExportBucketPolicy")
		}, "ExportBucket: no AWS::S3::BucketPolicy denies every request with aws:SecureTransport false"},
		{"logs kept forever", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(tpl.Resources, "PinsLogGroup")
		}, `PinsFunction: no AWS::Logs::LogGroup named "!Sub /aws/lambda/${AWS::StackName}-pins"`},
		{"a wildcard action", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "OrgsFunction", 0)["Action"] = "dynamodb:*"
		}, "OrgsFunction: action dynamodb:* is a wildcard"},
		{"every resource", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "OrgsFunction", 0)["Resource"] = "*"
		}, "OrgsFunction: a statement allows [dynamodb:GetItem dynamodb:BatchGetItem dynamodb:Query] on every resource"},
		{"another table", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "OrgsFunction", 0)["Resource"] = "arn:aws:dynamodb:eu-central-1:123456789012:table/other"
		}, "OrgsFunction: dynamodb:GetItem on arn:aws:dynamodb:eu-central-1:123456789012:table/other, which is not the table"},
		{"the whole bucket", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "ExportsFunction", 1)["Resource"] = "!Sub ${ExportBucket.Arn}/*"
		}, "ExportsFunction: s3:PutObject on !Sub ${ExportBucket.Arn}/*, want only the exports"},
		{"S3 where nothing exports", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "PinsFunction", 0)
			s["Action"] = append(s["Action"].([]any), "s3:GetObject")
		}, "PinsFunction: s3:GetObject on !GetAtt Table.Arn, but the function reads neither EXPORT_BUCKET nor INGEST_BUCKET"},
		{"another service", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "PinsFunction", 0)
			s["Action"] = append(s["Action"].([]any), "sqs:SendMessage")
		}, "PinsFunction: sqs:SendMessage is not an action the function needs"},
		{"invoking what it need not", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "ScheduledReportsFunction", 0)
			s["Action"] = append(s["Action"].([]any), "lambda:InvokeFunction")
		}, "ScheduledReportsFunction: lambda:InvokeFunction is not an action the function needs"},
		{"CORS for another origin", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["HttpApi"].(*serverless.HttpApi).CorsConfiguration.CorsConfigurationObject.AllowOrigins = []string{"https://portal.example.com"}
		}, "HttpApi: CORS allows the origins [https://portal.example.com], want only the page's, !Sub https://${WebDistribution.DomainName}"},
		{"a public page bucket", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebBucket"].(*s3.Bucket).PublicAccessBlockConfiguration.BlockPublicPolicy = ptr(false)
		}, "WebBucket: PublicAccessBlockConfiguration must set all four blocks to true"},
		{"the page over plain HTTP", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebDistribution"].(*cloudfront.Distribution).DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy = "allow-all"
		}, `WebDistribution: ViewerProtocolPolicy is "allow-all"`},
		{"no origin access control", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebDistribution"].(*cloudfront.Distribution).DistributionConfig.Origins[0].OriginAccessControlId = nil
		}, "WebDistribution: the origin has no origin access control"},
		{"unsigned origin requests", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebOriginAccessControl"].(*cloudfront.OriginAccessControl).OriginAccessControlConfig.SigningBehavior = "never"
		}, "WebOriginAccessControl: origin access control must sign every request"},
		{"a legacy origin identity", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebDistribution"].(*cloudfront.Distribution).DistributionConfig.Origins[0].S3OriginConfig.OriginAccessIdentity = ptr("origin-access-identity/cloudfront/E1")
		}, "WebDistribution: the origin must have an S3OriginConfig with an empty OriginAccessIdentity"},
		{"any distribution reads the page", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			doc := tpl.Resources["WebBucketPolicy"].(*s3.BucketPolicy).PolicyDocument.(map[string]any)
			delete(doc["Statement"].([]any)[0].(map[string]any), "Condition")
		}, "WebBucket: no AWS::S3::BucketPolicy allows exactly s3:GetObject on its objects to cloudfront.amazonaws.com"},
		{"anyone reads the page", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			doc := tpl.Resources["WebBucketPolicy"].(*s3.BucketPolicy).PolicyDocument.(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "x"})
		}, "WebBucket: no AWS::S3::BucketPolicy allows exactly s3:GetObject"},
		{"a page bucket over plain HTTP", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			doc := tpl.Resources["WebBucketPolicy"].(*s3.BucketPolicy).PolicyDocument.(map[string]any)
			doc["Statement"] = doc["Statement"].([]any)[:1]
		}, "WebBucket: no AWS::S3::BucketPolicy denies every request with aws:SecureTransport false"},
		{"caching that ignores Cache-Control", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["WebDistribution"].(*cloudfront.Distribution).DistributionConfig.DefaultCacheBehavior.CachePolicyId = ptr("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
		}, `WebDistribution: CachePolicyId is "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"`},
		{"a config.json field the page does not read", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			o := tpl.Outputs["WebConfig"]
			o.Value = "!Sub " + strings.Replace(deploy.Show(o.Value)[len("!Sub "):], `"clientId"`, `"client_id"`, 1)
			tpl.Outputs["WebConfig"] = o
		}, `Outputs: WebConfig is not a config.json of the page (web.Config): json: unknown field "client_id"`},
		{"a config.json for another issuer", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			o := tpl.Outputs["WebConfig"]
			o.Value = "!Sub " + strings.Replace(deploy.Show(o.Value)[len("!Sub "):], "${JwtIssuer}", "https://idp.example.com", 1)
			tpl.Outputs["WebConfig"] = o
		}, `Outputs: WebConfig auth.issuer is "https://idp.example.com", want "${JwtIssuer}"`},
		{"e-mail where nothing mails", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "PinsFunction", 0)
			s["Action"] = append(s["Action"].([]any), "ses:SendEmail")
		}, "PinsFunction: ses:SendEmail, but the function does not read MAIL_FROM"},
		{"e-mail as any identity", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "NotifierFunction", 2)["Resource"] = "!Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
		}, "NotifierFunction: ses:SendEmail on !Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*, want only the sender identity"},
		{"e-mail from any address", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(statement(t, tpl, "NotifierFunction", 2), "Condition")
		}, `NotifierFunction: ses:SendEmail with the condition ""`},
		{"more of SES than sending", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			statement(t, tpl, "ScheduledReportsFunction", 3)["Action"] = []any{"ses:SendEmail", "ses:SendBulkEmail"}
		}, "ScheduledReportsFunction: ses:SendBulkEmail is not the action e-mail needs"},
		{"a mail sender that may not send", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			docs := fn(t, tpl, "NotifierFunction").Policies.IAMPolicyDocumentArray
			(*docs)[0].Statement = (*docs)[0].Statement[:2]
		}, "NotifierFunction: it reads MAIL_FROM, but may not send e-mail"},
		{"no sender", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(fn(t, tpl, "ScheduledReportsFunction").Environment.Variables, "MAIL_FROM")
		}, "ScheduledReportsFunction: environment has no MAIL_FROM"},
		{"the notifier hourly", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "NotifierFunction").Events["Daily"].Properties.ScheduleEvent.Schedule = "rate(1 hour)"
		}, "NotifierFunction: event Daily runs on rate(1 hour), want cron(0 7 * * ? *)"},
		{"the notifier outliving its lease", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "NotifierFunction").Timeout = ptr(900)
		}, "NotifierFunction: Timeout is 900 s, but a later run takes its work for abandoned after 15m0s"},
		{"a portal URL apart from the parameter", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "NotifierFunction").Environment.Variables["PORTAL_URL"] = "https://elsewhere.example"
		}, `NotifierFunction: PORTAL_URL is "https://elsewhere.example", want "!Ref PortalUrl"`},
		{"imports side by side", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ImportFunction").ReservedConcurrentExecutions = nil
		}, "ImportFunction: ReservedConcurrentExecutions must be 1"},
		{"an import of results too", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ImportFunction").Events["Document"].Properties.S3Event.Filter = nil
		}, "ImportFunction: event Document filters keys by [], want [prefix=imports/]"},
		{"an import of deletions", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ImportFunction").Events["Document"].Properties.S3Event.Events = &serverless.Function_Events{String: ptr("s3:ObjectRemoved:*")}
		}, "ImportFunction: event Document is of [s3:ObjectRemoved:*], want [s3:ObjectCreated:*]"},
		{"an import cut short", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			fn(t, tpl, "ImportFunction").Timeout = ptr(300)
		}, "ImportFunction: Timeout is 300 s; the large tenant's import needs 900"},
		{"an ingest bucket of another name", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["IngestBucket"].(*s3.Bucket).BucketName = ptr("ingest")
		}, "IngestBucket: BucketName is \"ingest\", want !Sub ${AWS::StackName}-ingest-${AWS::AccountId}"},
		{"documents kept forever", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			tpl.Resources["IngestBucket"].(*s3.Bucket).LifecycleConfiguration.Rules[0].Status = "Disabled"
		}, "IngestBucket: no enabled lifecycle rule expires imports/"},
		{"an ingest bucket over plain HTTP", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(tpl.Resources, "IngestBucketPolicy")
		}, "IngestBucket: no AWS::S3::BucketPolicy denies every request with aws:SecureTransport false"},
		{"the import function without its bucket", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(fn(t, tpl, "ImportFunction").Environment.Variables, "INGEST_BUCKET")
		}, "ImportFunction: environment has no INGEST_BUCKET"},
		{"exports writing documents", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "ExportsFunction", 1)
			s["Resource"] = "!Sub arn:${AWS::Partition}:s3:::${AWS::StackName}-ingest-${AWS::AccountId}/imports/*"
		}, "ExportsFunction: s3:PutObject on the ingest bucket, but the function does not read INGEST_BUCKET"},
		{"the import writing documents", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			s := statement(t, tpl, "ImportFunction", 2)
			s["Action"] = []any{"s3:GetObject", "s3:PutObject"}
		}, "ImportFunction: s3:PutObject on !Sub arn:${AWS::Partition}:s3:::${AWS::StackName}-ingest-${AWS::AccountId}/imports/*, where the import needs only [s3:GetObject]"},
		{"no table output", func(t *testing.T, tpl *deploy.Template, _ *deploy.Code) {
			delete(tpl.Outputs, "TableName")
		}, "Outputs: TableName must be !Ref Table"},
	}
	before := deploy.Check(loadTemplate(t), readCode(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, c := loadTemplate(t), readCode(t)
			tt.change(t, tpl, &c)
			got := deploy.Check(tpl, c)
			if !hasProblem(got, tt.want) {
				t.Errorf("no problem %q among %d:\n%s", tt.want, len(got), strings.Join(got, "\n"))
			}
			if hasProblem(before, tt.want) {
				t.Errorf("the template as it is has the problem %q already", tt.want)
			}
		})
	}
}

// The grants check finds an action the code does not need and one it needs
// that the policy lacks.
func TestGrantChecksCatchMistakes(t *testing.T) {
	if got := deploy.CheckGrants(loadTemplate(t), "orgs", orgsAccesses, grantBuckets); len(got) > 0 {
		t.Fatalf("the orgs function as it is: %v", got)
	}
	if got := deploy.CheckGrants(loadTemplate(t), "import", importAccesses, grantBuckets); len(got) > 0 {
		t.Fatalf("the import function as it is: %v", got)
	}
	tests := []struct {
		name     string
		change   func(*testing.T, *deploy.Template)
		accesses []deploy.Access
		want     string
	}{
		{"a stray action", func(t *testing.T, tpl *deploy.Template) {
			s := statement(t, tpl, "OrgsFunction", 0)
			s["Action"] = append(s["Action"].([]any), "dynamodb:Scan")
		}, orgsAccesses, "OrgsFunction: its policy allows dynamodb:Scan on !GetAtt Table.Arn, which the code was not seen to need"},
		{"the index it does not read", func(t *testing.T, tpl *deploy.Template) {
			s := statement(t, tpl, "OrgsFunction", 0)
			s["Resource"] = []any{s["Resource"], "!Sub ${Table.Arn}/index/GSI1"}
		}, orgsAccesses, "OrgsFunction: its policy allows dynamodb:Query on !Sub ${Table.Arn}/index/GSI1"},
		{"an action missing", nil, append(slices.Clone(orgsAccesses), deploy.Access{Action: "dynamodb:ConditionCheckItem", Resource: "table"}),
			"OrgsFunction: the code needs dynamodb:ConditionCheckItem on table, which its policy does not allow"},
		{"an object outside the exports", nil, []deploy.Access{{Action: "s3:PutObject", Resource: "object/exports/other/x.xlsx"}},
			"ScheduledReportsFunction: the code needs s3:PutObject on object/exports/other/x.xlsx"},
		{"a document written by the import", nil, append(slices.Clone(importAccesses), deploy.Access{Action: "s3:PutObject", Resource: "object/ingest/imports/x.json"}),
			"ImportFunction: the code needs s3:PutObject on object/ingest/imports/x.json, which its policy does not allow"},
		{"the import listing no more", nil, slices.DeleteFunc(slices.Clone(importAccesses), func(a deploy.Access) bool { return a.Action == "s3:ListBucket" }),
			"ImportFunction: its policy allows s3:ListBucket on !Sub arn:${AWS::Partition}:s3:::${AWS::StackName}-ingest-${AWS::AccountId}, which the code was not seen to need"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := loadTemplate(t)
			if tt.change != nil {
				tt.change(t, tpl)
			}
			folder := "orgs"
			switch {
			case strings.HasPrefix(tt.want, "ScheduledReports"):
				folder = "scheduled-reports"
			case strings.HasPrefix(tt.want, "Import"):
				folder = "import"
			}
			if got := deploy.CheckGrants(tpl, folder, tt.accesses, grantBuckets); !hasProblem(got, tt.want) {
				t.Errorf("no problem %q among:\n%s", tt.want, strings.Join(got, "\n"))
			}
		})
	}
}

// The build and deployment settings checks find a function that sam build
// cannot build, and a parameter that an environment leaves out.
func TestFileChecksCatchMistakes(t *testing.T) {
	tpl := loadTemplate(t)
	makefile := strings.Replace(string(readFile(t, "Makefile")), "build-PinsFunction:", "build-PinFunction:", 1)
	if got, want := deploy.CheckMakefile(tpl, []byte(makefile)), "Makefile: no target build-PinsFunction"; !hasProblem(got, want) {
		t.Errorf("no problem %q among %v", want, got)
	}
	makefile = strings.Replace(string(readFile(t, "Makefile")), "GOARCH=arm64", "GOARCH=amd64", 1)
	if got, want := deploy.CheckMakefile(tpl, []byte(makefile)), "Makefile: the lambda macro lacks GOARCH=arm64"; !hasProblem(got, want) {
		t.Errorf("no problem %q among %v", want, got)
	}
	samconfig := strings.Replace(string(readFile(t, "samconfig.toml")), "LogRetentionDays=365", "", 1)
	if got, want := deploy.CheckSamconfig(tpl, []byte(samconfig)), "samconfig.toml: [prod] parameter_overrides has no LogRetentionDays"; !hasProblem(got, want) {
		t.Errorf("no problem %q among %v", want, got)
	}
	samconfig = strings.Replace(string(readFile(t, "samconfig.toml")), `stack_name = "partner-licenses-dev"`, `stack_name = "PartnerLicenses"`, 1)
	if got, want := deploy.CheckSamconfig(tpl, []byte(samconfig)), `samconfig.toml: [default] stack_name "PartnerLicenses" cannot name the ingest bucket`; !hasProblem(got, want) {
		t.Errorf("no problem %q among %v", want, got)
	}
}

// A policy that is not a list of inline documents is refused: goformation
// cannot be trusted to tell them apart, and managed policies and SAM policy
// templates grant more than the code calls.
func TestManagedPoliciesAreRefused(t *testing.T) {
	text := strings.Replace(string(readFile(t, "template.yaml")), `      Policies:
        - Statement:`, `      Policies:
        - AmazonDynamoDBFullAccess
        - Statement:`, 1)
	tpl, err := deploy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := "the Policies property's item 0 is AmazonDynamoDBFullAccess, not an inline policy document"
	if got := deploy.Check(tpl, readCode(t)); !hasProblem(got, want) {
		t.Errorf("no problem %q among:\n%s", want, strings.Join(got, "\n"))
	}
}

// SAM refuses an HttpApi's AccessLogSetting (it is AccessLogSettings), which
// goformation's type would take.
func TestAccessLogSettingIsRefused(t *testing.T) {
	text := strings.Replace(string(readFile(t, "template.yaml")), "AccessLogSettings:", "AccessLogSetting:", 1)
	if _, err := deploy.Parse([]byte(text)); err == nil || !strings.Contains(err.Error(), "AccessLogSettings") {
		t.Errorf("Parse = %v, want an error about AccessLogSettings", err)
	}
}

// Intrinsic functions stay as the template spells them, also where
// goformation's type is a number.
func TestIntrinsicsAreKept(t *testing.T) {
	tpl := loadTemplate(t)
	if got, want := deploy.Show(fn(t, tpl, "ExportsFunction").FunctionName), "!Sub ${AWS::StackName}-exports"; got != want {
		t.Errorf("FunctionName = %q, want %q", got, want)
	}
	if got, want := deploy.Show(tpl.Outputs["TableName"].Value), "!Ref Table"; got != want {
		t.Errorf("TableName output = %q, want %q", got, want)
	}
	if got, _ := tpl.Lifted("OrgsLogGroup", "RetentionInDays"); got != "!Ref LogRetentionDays" {
		t.Errorf("OrgsLogGroup's RetentionInDays = %q, want !Ref LogRetentionDays", got)
	}
	if got := deploy.LogicalID("scheduled-reports"); got != "ScheduledReportsFunction" {
		t.Errorf("LogicalID(scheduled-reports) = %q", got)
	}
}

func hasProblem(problems []string, want string) bool {
	return slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) })
}

func ptr[T any](v T) *T { return &v }
