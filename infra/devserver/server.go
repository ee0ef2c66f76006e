package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/truora/minidyn/server"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/workbook"
	"github.com/partnerportal/licenses/web"
)

// tokenLifetime is how long a /dev/token token is good for.
const tokenLifetime = time.Hour

type options struct {
	addr           string
	dataFile       string
	today          string
	dynamoEndpoint string
	s3Endpoint     string
	table          string
	bucket         string
	expiringWindow int
	sesEndpoint    string
	mailFrom       string
	portalURL      string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to serve the API on")
	fs.StringVar(&o.dataFile, "data", "", "a data set in the import format to load instead of the demo")
	fs.StringVar(&o.today, "today", "", "the date (YYYY-MM-DD) statuses are computed on; default: the UTC date")
	fs.StringVar(&o.dynamoEndpoint, "dynamodb-endpoint", "", "use this DynamoDB instead of the embedded one (an emulator, or https://dynamodb.<region>.amazonaws.com)")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "use this S3 instead of the embedded one")
	fs.StringVar(&o.table, "table", "partner-licenses-dev", "the DynamoDB table; created if it does not exist")
	fs.StringVar(&o.bucket, "bucket", "partner-licenses-exports-dev", "the S3 bucket for exports; created if it does not exist")
	fs.IntVar(&o.expiringWindow, "expiring-window", license.DefaultExpiringWindow, "the expiring window in days")
	fs.StringVar(&o.sesEndpoint, "ses-endpoint", "", "send e-mail through this SES v2 API (an emulator, or https://email.<region>.amazonaws.com) besides keeping it in the outbox")
	fs.StringVar(&o.mailFrom, "mail-from", "notifications@portal.example", "the address e-mails are sent from")
	fs.StringVar(&o.portalURL, "portal-url", "", "the portal page e-mails link to; default: this server's own page")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.today != "" {
		if _, err := license.ParseDate(o.today); err != nil {
			return o, fmt.Errorf("-today: %w", err)
		}
	}
	if err := mail.CheckAddress(o.mailFrom); err != nil {
		return o, fmt.Errorf("-mail-from %q %w", o.mailFrom, err)
	}
	return o, nil
}

// run starts the server and serves until ctx ends. ready, when not nil,
// receives the base URL once the server accepts requests.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	today := clockFor(o.today)

	st, users, dynamoEndpoint, err := openTable(ctx, o, today, log, stderr)
	if err != nil {
		return err
	}
	files, s3Client, err := openBucket(ctx, o, base, mux)
	if err != nil {
		return err
	}
	outbox, sender, err := openMail(ctx, o)
	if err != nil {
		return err
	}
	portalURL := o.portalURL
	if portalURL == "" {
		portalURL = base
	}
	svc, err := portal.New(st, portal.Config{ExpiringWindow: o.expiringWindow, Now: time.Now, Today: today, Log: log,
		Exports: &portal.ExportConfig{Files: files, InProcess: true, Retention: config.DefaultExportRetention,
			SyncLimit: config.ExportSyncLimit},
		Mail: &portal.MailConfig{Sender: sender, Renderer: render.Templates{}, From: o.mailFrom, PortalURL: portalURL}})
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	tokens := httpapi.NewTokens(key, time.Now)
	api, err := httpapi.New(svc, httpapi.Config{Log: log, Authenticate: tokens.Authenticate})
	if err != nil {
		return err
	}
	mux.Handle("POST /dev/token", devToken(tokens))
	mux.Handle("POST /dev/scheduled-reports", devSchedule(lambdaevent.ScheduleHandler(svc, log), log))
	mux.Handle("POST /dev/notifications", devSchedule(lambdaevent.NotifyHandler(svc, log), log))
	mux.Handle("GET /dev/outbox", outbox)
	// The page at /, signing in over /dev/token; every other path answers
	// the API's JSON error, never Go's plain-text 404.
	if err := web.Mount(mux, web.Config{Auth: web.Auth{Mode: "dev", Users: users}}); err != nil {
		return err
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeDevError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}))

	srv := &http.Server{Handler: apiPaths(api.Handler(), mux), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if err := ensureBucket(ctx, s3Client, o.bucket); err != nil {
		return err
	}
	log.Info("serving", "url", base, "dynamodb", dynamoEndpoint, "today", today().String(), "ses", orOutbox(o.sesEndpoint))
	fmt.Fprintf(stderr, "\nPartner license portal on %s\n  page:   open %s/ and sign in as dist-1-admin\n  token:  curl -s -X POST %s/dev/token -d '{\"sub\":\"dist-1-admin\"}'\n\n", base, base, base)
	if ready != nil {
		ready <- base
	}
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	case err := <-errc:
		return err
	}
}

// openTable opens the table on the embedded DynamoDB or on -dynamodb-endpoint
// and returns the store and the endpoint. A table the server made gets the
// demo (or -data); a table that was there already, on another emulator or
// on AWS, is used as it is unless -data names a file to load into it.
func openTable(ctx context.Context, o options, today func() license.Date, log *slog.Logger, progress io.Writer) (*store.Store, []web.DevUser, string, error) {
	endpoint := o.dynamoEndpoint
	if endpoint == "" {
		embedded, err := serveInternal(ctx, server.NewServer())
		if err != nil {
			return nil, nil, "", err
		}
		endpoint = embedded
	}
	cfg, err := configFor(ctx, endpoint)
	if err != nil {
		return nil, nil, "", err
	}
	db := awsconf.DynamoDB(cfg, endpoint)
	created, err := ensureTable(ctx, db, o.table)
	if err != nil {
		return nil, nil, "", err
	}
	st := store.New(db, o.table)
	var users []web.DevUser
	if created || o.dataFile != "" {
		ds, err := load(ctx, st, o.dataFile, today, log, progress)
		if err != nil {
			return nil, nil, "", err
		}
		users = devUsers(ds)
	} else {
		log.Info("using the data already in the table", "table", o.table)
	}
	return st, users, endpoint, nil
}

// openBucket returns the export workbooks in the bucket of the embedded
// object store or of -s3-endpoint. The embedded store answers under /s3/ of
// mux, on the server's own address (base), so the presigned links it hands
// out work from the browser as they are.
func openBucket(ctx context.Context, o options, base string, mux *http.ServeMux) (*workbook.Files, *s3.Client, error) {
	endpoint := o.s3Endpoint
	if endpoint == "" {
		fake := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true))
		mux.Handle("/s3/", http.StripPrefix("/s3", fake.Server()))
		endpoint = base + "/s3"
	}
	cfg, err := configFor(ctx, endpoint)
	if err != nil {
		return nil, nil, err
	}
	client := awsconf.S3(cfg, endpoint)
	files, err := workbook.NewFiles(client, s3.NewPresignClient(client), o.bucket, config.DefaultExportURLLifetime, time.Now)
	return files, client, err
}

// serveInternal serves h on a free loopback port until ctx ends and returns
// its URL.
func serveInternal(ctx context.Context, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// ensureTable makes the table unless it exists, and says whether it made it.
func ensureTable(ctx context.Context, db store.TableCreator, table string) (created bool, err error) {
	err = store.CreateTable(ctx, db, table)
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return false, nil
	}
	return err == nil, err
}

// configFor returns the SDK configuration for an endpoint: AWS's own
// credentials and region from the environment for an amazonaws.com
// endpoint, the dummy ones emulators accept for any other.
func configFor(ctx context.Context, endpoint string) (aws.Config, error) {
	if u, err := url.Parse(endpoint); err == nil && strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		return awsconf.Load(ctx)
	}
	return awsconf.Local, nil
}

// clockFor returns the date statuses are computed on: a fixed one, or the
// UTC date of now.
func clockFor(today string) func() license.Date {
	if today == "" {
		return license.TodayOf(time.Now)
	}
	d, _ := license.ParseDate(today) // checked by parseFlags
	return func() license.Date { return d }
}

// load imports the -data file, with its progress (items/s and the time
// left) written to progress, or the demo data set dated around today, and
// returns what it loaded.
func load(ctx context.Context, st *store.Store, file string, today func() license.Date, log *slog.Logger, progress io.Writer) (*dataset.Dataset, error) {
	var (
		ds  *dataset.Dataset
		err error
	)
	if file == "" {
		doc := demo.Document(today())
		ds, err = dataset.Check(&doc)
	} else {
		f, openErr := os.Open(file)
		if openErr != nil {
			return nil, openErr
		}
		defer f.Close()
		ds, err = dataset.Parse(f)
	}
	if err != nil {
		return nil, fmt.Errorf("data set %s: %w", orDemo(file), err)
	}
	opts := store.ImportOptions{}
	if file != "" {
		log.Info("loading", "source", file, "licenses", len(ds.Licenses), "organizations", len(ds.Organizations))
		opts.Progress = progress
	}
	res, err := st.Import(ctx, ds, opts)
	if err != nil {
		return nil, err
	}
	log.Info("data loaded", "source", orDemo(file), "licenses", len(ds.Licenses), "organizations", len(ds.Organizations),
		"users", len(ds.Users), "written", res.Written, "unchanged", res.Unchanged)
	return ds, nil
}

// devUsers lists the users of a data set for the page's sign-in picker,
// with their organization and the level their roles grant.
func devUsers(ds *dataset.Dataset) []web.DevUser {
	orgs := make(map[string]access.Organization, len(ds.Organizations))
	for _, o := range ds.Organizations {
		orgs[o.ID] = o
	}
	roles := make(map[string]access.Role, len(ds.Roles))
	for _, r := range ds.Roles {
		roles[r.ID] = r
	}
	users := make([]web.DevUser, 0, len(ds.Users))
	for _, u := range ds.Users {
		var own []access.Role
		for _, id := range u.RoleIDs {
			own = append(own, roles[id])
		}
		org := orgs[u.OrganizationID]
		users = append(users, web.DevUser{ID: u.ID, Name: u.Name, Organization: org.Name, OrganizationType: string(org.Type),
			Access: access.LevelOf(own, access.CustomerOrganizations).String()})
	}
	return users
}

func orDemo(file string) string {
	if file == "" {
		return "demo"
	}
	return file
}

func ensureBucket(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// devSchedule answers POST /dev/scheduled-reports and POST
// /dev/notifications {"at": RFC 3339}: it runs the scheduled-report function
// or the expiration notifier as EventBridge would at that time (now when at
// is absent) and answers the ids of the exports it created or of the
// digests it sent.
func devSchedule(run func(context.Context, events.EventBridgeEvent) (map[string][]string, error), log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			At *time.Time `json:"at"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeDevError(w, http.StatusBadRequest, "invalid_request", `send {"at":"<RFC 3339 time>"}`)
			return
		}
		at := time.Now().UTC()
		if req.At != nil {
			at = req.At.UTC()
		}
		ev := events.EventBridgeEvent{Version: "0", ID: "dev-" + at.Format(time.RFC3339), DetailType: "Scheduled Event",
			Source: "aws.events", Time: at, Region: "local", Detail: json.RawMessage("{}")}
		out, err := run(r.Context(), ev)
		if err != nil {
			log.Error("scheduled run failed", "at", at, "error", err)
			writeDevError(w, http.StatusInternalServerError, "internal", "the scheduled run failed; the server log says why")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

func writeDevError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// devToken answers POST /dev/token {"sub": "<user id>"} with a token for
// that subject, as an identity provider would after sign-in.
func devToken(tokens *httpapi.Tokens) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Sub string `json:"sub"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || strings.TrimSpace(req.Sub) == "" {
			writeDevError(w, http.StatusBadRequest, "invalid_request", `send {"sub":"<user id>"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token": tokens.Issue(req.Sub, tokenLifetime), "expiresIn": int(tokenLifetime.Seconds()),
		})
	})
}
