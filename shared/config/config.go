// Package config reads the settings of the Lambda functions from their
// environment. It is called from main functions only, with os.Getenv; the
// template test holds template.yaml's environment to Variables.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail"
	"github.com/partnerportal/licenses/shared/portal"
)

// The environment variables the functions read.
const (
	// TableName is the DynamoDB table. Required.
	TableName = "TABLE_NAME"
	// ExpiringWindowDays is the deployment's expiring window; default 30.
	ExpiringWindowDays = "EXPIRING_WINDOW_DAYS"
	// LogLevel is debug, info, warn or error; default info.
	LogLevel = "LOG_LEVEL"
	// ExportBucket is the S3 bucket of the Excel exports.
	ExportBucket = "EXPORT_BUCKET"
	// ExportURLMinutes is the lifetime of presigned export links: default
	// 15, at most 720 (12 hours).
	ExportURLMinutes = "EXPORT_URL_MINUTES"
	// ExportRetentionDays is how long exports are listed: the bucket's
	// lifecycle rule removes their objects after as many days. Default 7.
	ExportRetentionDays = "EXPORT_RETENTION_DAYS"
	// ExportFunctionName is the function that finishes large exports
	// asynchronously; empty means exports finish in the request.
	ExportFunctionName = "EXPORT_FUNCTION_NAME"
	// IngestBucket is the bucket the licensing system drops import
	// documents into, under imports/; the import function writes their
	// outcome under results/ of the same bucket.
	IngestBucket = "INGEST_BUCKET"
	// MailFrom is the address the functions that send e-mail send from,
	// one the mail service (Amazon SES) lets them send from.
	MailFrom = "MAIL_FROM"
	// PortalURL is the portal page that e-mails link to, such as
	// https://portal.example.com.
	PortalURL = "PORTAL_URL"
	// DynamoDBEndpoint, S3Endpoint and SESEndpoint point the functions at
	// emulators (the Lambda runtime smoke test); empty on AWS.
	DynamoDBEndpoint = "DYNAMODB_ENDPOINT"
	S3Endpoint       = "S3_ENDPOINT"
	SESEndpoint      = "SES_ENDPOINT"
)

// The variables by who sets them, for template.yaml and its test: every
// function reads Common; the functions that write exports also read Export,
// those that send e-mail Mail, the import function Import; Local is set only when running against
// emulators, never by the template.
var (
	Common = []string{TableName, ExpiringWindowDays, LogLevel}
	Export = []string{ExportBucket, ExportURLMinutes, ExportRetentionDays, ExportFunctionName}
	Mail   = []string{MailFrom, PortalURL}
	Import = []string{IngestBucket}
	Local  = []string{DynamoDBEndpoint, S3Endpoint, SESEndpoint}
)

// The defaults, and the limits of the export link lifetime. Defaults live
// here and in the local server's flags only: the constructors below take
// values as given.
const (
	DefaultExportURLLifetime = 15 * time.Minute
	MaxExportURLLifetime     = 12 * time.Hour
	DefaultExportRetention   = 7 * 24 * time.Hour
	// ExportSyncLimit is the most licenses an export may have to be
	// finished in its request; larger ones answer 202 and finish
	// asynchronously, well clear of API Gateway's 29 seconds.
	ExportSyncLimit = 10_000
	// ExportMemoryLimit is the GOMEMLIMIT of the functions that write
	// exports (template.yaml sets it; infra/deploy holds the two equal):
	// above the live heap of the large tenant's export, measured by make
	// bench (README, Performance), so that the garbage collector does not
	// run without end near it, and well below the functions' memory.
	ExportMemoryLimit = "GOMEMLIMIT=1536MiB"
)

// Config is the functions' configuration.
type Config struct {
	Table             string
	ExpiringWindow    int
	LogLevel          slog.Level
	ExportBucket      string
	ExportURLLifetime time.Duration
	ExportRetention   time.Duration
	ExportFunction    string
	MailFrom          string
	PortalURL         string
	IngestBucket      string
	DynamoDBEndpoint  string
	S3Endpoint        string
	SESEndpoint       string
}

// FromEnv reads the configuration with getenv (os.Getenv in main). Every
// problem is reported at once, so a misconfigured function fails its first
// start with the whole list.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table:             getenv(TableName),
		ExpiringWindow:    license.DefaultExpiringWindow,
		ExportBucket:      getenv(ExportBucket),
		ExportURLLifetime: DefaultExportURLLifetime,
		ExportRetention:   DefaultExportRetention,
		ExportFunction:    getenv(ExportFunctionName),
		MailFrom:          getenv(MailFrom),
		PortalURL:         getenv(PortalURL),
		IngestBucket:      getenv(IngestBucket),
		DynamoDBEndpoint:  getenv(DynamoDBEndpoint),
		S3Endpoint:        getenv(S3Endpoint),
		SESEndpoint:       getenv(SESEndpoint),
	}
	var errs []error
	if c.Table == "" {
		errs = append(errs, fmt.Errorf("%s is required", TableName))
	}
	if v := getenv(ExpiringWindowDays); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > portal.MaxExpiringWindow {
			errs = append(errs, fmt.Errorf("%s=%q: want a number of days from 0 to %d", ExpiringWindowDays, v, portal.MaxExpiringWindow))
		}
		c.ExpiringWindow = n
	}
	if v := getenv(ExportURLMinutes); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || time.Duration(n)*time.Minute > MaxExportURLLifetime {
			errs = append(errs, fmt.Errorf("%s=%q: want minutes from 1 to %d", ExportURLMinutes, v, int(MaxExportURLLifetime.Minutes())))
		}
		c.ExportURLLifetime = time.Duration(n) * time.Minute
	}
	if v := getenv(ExportRetentionDays); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			errs = append(errs, fmt.Errorf("%s=%q: want days from 1 to 3650", ExportRetentionDays, v))
		}
		c.ExportRetention = time.Duration(n) * 24 * time.Hour
	}
	if c.MailFrom != "" {
		if err := mail.CheckAddress(c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q %w", MailFrom, c.MailFrom, err))
		}
	}
	if c.PortalURL != "" {
		if u, err := url.Parse(c.PortalURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s=%q: want an http(s) URL with no query or fragment", PortalURL, c.PortalURL))
		}
	}
	if v := getenv(LogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want debug, info, warn or error", LogLevel, v))
		}
	}
	return c, errors.Join(errs...)
}
