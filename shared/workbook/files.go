package workbook

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/report"
)

// S3 is the part of the S3 API that Files uses.
type S3 interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Presigner makes presigned GET requests (s3.PresignClient).
type Presigner interface {
	PresignGetObject(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// MaxURLLifetime is the longest a presigned link may work: S3 refuses
// SigV4 links signed for longer than 7 days, and a link presigned with a
// Lambda function's temporary credentials dies with them anyway.
const MaxURLLifetime = 7 * 24 * time.Hour

// Files keeps export workbooks in the export bucket: it writes them and
// presigns their download links.
type Files struct {
	s3          S3
	presign     Presigner
	bucket      string
	urlLifetime time.Duration
	now         func() time.Time
}

var _ portal.Files = (*Files)(nil)

// NewFiles returns the workbooks of a bucket, with links that work for
// urlLifetime (more than 0, at most MaxURLLifetime).
func NewFiles(client S3, presign Presigner, bucket string, urlLifetime time.Duration, now func() time.Time) (*Files, error) {
	switch {
	case client == nil || presign == nil:
		return nil, fmt.Errorf("workbook files: an S3 client and a presigner are required")
	case bucket == "":
		return nil, fmt.Errorf("workbook files: a bucket is required")
	case urlLifetime <= 0 || urlLifetime > MaxURLLifetime:
		return nil, fmt.Errorf("workbook files: link lifetime %s: want more than 0 and at most %s", urlLifetime, MaxURLLifetime)
	case now == nil:
		return nil, fmt.Errorf("workbook files: a clock is required")
	}
	return &Files{s3: client, presign: presign, bucket: bucket, urlLifetime: urlLifetime, now: now}, nil
}

// Write writes the workbook of the rows into a temporary file (Lambda's
// /tmp), so that it is never held in memory whole, and uploads it as a new
// object under exports/<partner>/ with an unguessable name.
func (f *Files) Write(ctx context.Context, e *export.Export, rows portal.Rows) (string, export.Counts, error) {
	wb, err := NewWorkbook()
	if err != nil {
		return "", export.Counts{}, err
	}
	defer wb.Close()
	err = rows.Each(func(r *report.Row, deployments []license.Deployment) error {
		if err := wb.AddRow(r); err != nil {
			return err
		}
		for _, d := range deployments {
			if err := wb.AddDeployment(&ActiveDeployment{OrganizationName: r.OrganizationName, ProductName: r.ProductName,
				LicenseKey: r.LicenseKey, DeploymentID: d.DeploymentID, Name: d.Name, ActivatedAt: d.ActivatedAt,
				LastSeenAt: d.LastSeenAt}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", export.Counts{}, err
	}

	tmp, err := os.CreateTemp("", "export-*.xlsx")
	if err != nil {
		return "", export.Counts{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := wb.WriteTo(tmp)
	if err != nil {
		return "", export.Counts{}, fmt.Errorf("write workbook: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", export.Counts{}, err
	}
	key := fmt.Sprintf("exports/%s/%s-%s.xlsx", e.PartnerID, e.ID, id.New())
	name := fmt.Sprintf("Active Deployment Report %s.xlsx", e.CreatedAt.Format(time.DateOnly))
	_, err = f.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &f.bucket, Key: &key, Body: tmp, ContentLength: &size,
		ContentType:        ptr("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
		ContentDisposition: ptr(`attachment; filename="` + name + `"`),
	})
	if err != nil {
		return "", export.Counts{}, fmt.Errorf("upload %s: %w", key, err)
	}
	return key, wb.Counts(), nil
}

// URL returns a fresh presigned download link of an object and when it
// stops working.
func (f *Files) URL(ctx context.Context, objectKey string) (string, time.Time, error) {
	req, err := f.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &f.bucket, Key: &objectKey},
		s3.WithPresignExpires(f.urlLifetime))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign %s: %w", objectKey, err)
	}
	return req.URL, f.now().UTC().Add(f.urlLifetime).Truncate(time.Second), nil
}

func ptr[T any](v T) *T { return &v }
