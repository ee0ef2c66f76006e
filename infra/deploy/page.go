package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/awslabs/goformation/v7/cloudformation/cloudfront"
	"github.com/awslabs/goformation/v7/cloudformation/s3"

	"github.com/partnerportal/licenses/web"
)

// webBucket returns the bucket the page's distribution reads, or "".
func (t *Template) webBucket() string {
	for _, id := range t.resourcesOf("AWS::CloudFront::Distribution") {
		d := t.Resources[id].(*cloudfront.Distribution)
		if d.DistributionConfig == nil {
			continue
		}
		for _, o := range d.DistributionConfig.Origins {
			if b, ok := strings.CutSuffix(strings.TrimPrefix(Show(o.DomainName), "!GetAtt "), ".RegionalDomainName"); ok {
				return b
			}
		}
	}
	return ""
}

// exportBucket returns the logical id of the export bucket: the one bucket
// that is not the page's.
func (t *Template) exportBucket(p *problems) string {
	web := t.webBucket()
	var ignored problems
	ingest := t.ingestBucket(&ignored)
	ids := slices.DeleteFunc(t.resourcesOf("AWS::S3::Bucket"), func(id string) bool { return id == web || id == ingest })
	if len(ids) != 1 {
		p.addf("want one AWS::S3::Bucket for the exports besides the page's and the ingest bucket, have %d %v", len(ids), ids)
		if len(ids) == 0 {
			return "<none>"
		}
	}
	return ids[0]
}

// Managed CloudFront policies the page's distribution uses (README, Deploy).
const (
	cachingOptimized      = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	securityHeadersPolicy = "67f7725c-6f97-4210-82d7-5512b31e9d03"
)

// checkPage holds the page's hosting to what the README says: a private
// bucket that only the stack's distribution reads, through origin access
// control; HTTPS; the managed caching and security-header policies; and a
// WebConfig output that is a config.json the page (web.Config) reads.
func checkPage(p *problems, t *Template) {
	id := t.single(p, "AWS::CloudFront::Distribution")
	d, ok := t.Resources[id].(*cloudfront.Distribution)
	if !ok {
		return
	}
	cfg := d.DistributionConfig
	if cfg == nil || !cfg.Enabled {
		p.addf("%s: the distribution is not enabled", id)
		return
	}
	if got := aws.ToString(cfg.DefaultRootObject); got != "index.html" {
		p.addf("%s: DefaultRootObject is %q, want index.html", id, got)
	}
	bucket := t.webBucket()
	if bucket == "" || len(cfg.Origins) != 1 {
		p.addf("%s: want one origin, the RegionalDomainName of a bucket of the template", id)
		return
	}
	if b, ok := t.Resources[bucket].(*s3.Bucket); ok {
		checkPrivate(p, t, bucket, b)
	} else {
		p.addf("%s: the origin %s is not an AWS::S3::Bucket of the template", id, bucket)
	}
	origin := cfg.Origins[0]
	oac := strings.TrimSuffix(strings.TrimPrefix(Show(origin.OriginAccessControlId), "!GetAtt "), ".Id")
	if c, ok := t.Resources[oac].(*cloudfront.OriginAccessControl); !ok {
		p.addf("%s: the origin has no origin access control (!GetAtt <an AWS::CloudFront::OriginAccessControl>.Id)", id)
	} else if oc := c.OriginAccessControlConfig; oc == nil || oc.OriginAccessControlOriginType != "s3" || oc.SigningBehavior != "always" || oc.SigningProtocol != "sigv4" {
		p.addf("%s: origin access control must sign every request to s3 with sigv4", oac)
	}
	if origin.S3OriginConfig == nil || aws.ToString(origin.S3OriginConfig.OriginAccessIdentity) != "" {
		p.addf("%s: the origin must have an S3OriginConfig with an empty OriginAccessIdentity (origin access control instead)", id)
	}
	if b := cfg.DefaultCacheBehavior; b == nil {
		p.addf("%s: no DefaultCacheBehavior", id)
	} else {
		if b.TargetOriginId != origin.Id {
			p.addf("%s: the default behavior targets %q, not the origin %q", id, b.TargetOriginId, origin.Id)
		}
		if !slices.Contains([]string{"redirect-to-https", "https-only"}, b.ViewerProtocolPolicy) {
			p.addf("%s: ViewerProtocolPolicy is %q: the page (and its tokens) must be HTTPS only", id, b.ViewerProtocolPolicy)
		}
		if got := b.AllowedMethods; len(got) > 0 && !slices.Equal(got, []string{"GET", "HEAD"}) {
			p.addf("%s: the page is static: AllowedMethods are %v, want [GET HEAD]", id, got)
		}
		if got := aws.ToString(b.CachePolicyId); got != cachingOptimized {
			p.addf("%s: CachePolicyId is %q, want the managed CachingOptimized %s, which keeps the objects' Cache-Control", id, got, cachingOptimized)
		}
		if got := aws.ToString(b.ResponseHeadersPolicyId); got != securityHeadersPolicy {
			p.addf("%s: ResponseHeadersPolicyId is %q, want the managed SecurityHeadersPolicy %s", id, got, securityHeadersPolicy)
		}
	}
	if !t.onlyDistributionReads(bucket, id) {
		p.addf("%s: no AWS::S3::BucketPolicy allows exactly s3:GetObject on its objects to cloudfront.amazonaws.com with AWS:SourceArn of %s, and nothing else", bucket, id)
	}
	checkWebConfig(p, t, id)
	for name, want := range map[string]string{
		"WebBucketName":     "!Ref " + bucket,
		"WebDistributionId": "!Ref " + id,
		"WebUrl":            "!Sub https://${" + id + ".DomainName}/",
	} {
		if o, ok := t.Outputs[name]; !ok || Show(o.Value) != want {
			p.addf("Outputs: %s must be %s (make deploy-web reads it)", name, want)
		}
	}
}

// onlyDistributionReads reports whether the bucket's policy allows only
// CloudFront, for this distribution, to read the objects, besides denying
// plain HTTP.
func (t *Template) onlyDistributionReads(bucket, distribution string) bool {
	wantArn := "!Sub arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${" + distribution + "}"
	allows := 0
	for _, id := range t.resourcesOf("AWS::S3::BucketPolicy") {
		bp := t.Resources[id].(*s3.BucketPolicy)
		if Show(bp.Bucket) != "!Ref "+bucket {
			continue
		}
		doc, _ := bp.PolicyDocument.(map[string]any)
		list, _ := doc["Statement"].([]any)
		for _, raw := range list {
			s, _ := raw.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			principal, _ := s["Principal"].(map[string]any)
			cond, _ := s["Condition"].(map[string]any)
			equals, _ := cond["StringEquals"].(map[string]any)
			if len(principal) != 1 || Show(principal["Service"]) != "cloudfront.amazonaws.com" ||
				!slices.Equal(showAll(asList(s["Action"])), []string{"s3:GetObject"}) ||
				!slices.Equal(showAll(asList(s["Resource"])), []string{"!Sub ${" + bucket + ".Arn}/*"}) ||
				len(cond) != 1 || len(equals) != 1 || Show(equals["AWS:SourceArn"]) != wantArn {
				return false // any other grant is one too many
			}
			allows++
		}
	}
	return allows == 1
}

var subVar = regexp.MustCompile(`\$\{[^}]+\}`)

// checkWebConfig holds the WebConfig output to web.Config: every field the
// page reads, no other, for OpenID Connect against the authorizer's issuer
// and audience, with the API's URL and the distribution as redirect.
func checkWebConfig(p *problems, t *Template, distribution string) {
	o, ok := t.Outputs["WebConfig"]
	if !ok {
		p.addf("Outputs: no WebConfig (the page's config.json)")
		return
	}
	text, ok := strings.CutPrefix(Show(o.Value), "!Sub ")
	if !ok {
		p.addf("Outputs: WebConfig must be a !Sub of the page's config.json")
		return
	}
	// Each ${...} stands for a value: decode the JSON around them by name.
	filled := subVar.ReplaceAllStringFunc(text, func(v string) string { return "<" + v[2:len(v)-1] + ">" })
	dec := json.NewDecoder(bytes.NewReader([]byte(filled)))
	dec.DisallowUnknownFields()
	var cfg web.Config
	if err := dec.Decode(&cfg); err != nil {
		p.addf("Outputs: WebConfig is not a config.json of the page (web.Config): %v", err)
		return
	}
	api := t.single(p, "AWS::Serverless::HttpApi")
	want := map[string][2]string{
		"apiUrl":           {cfg.APIURL, "https://<" + api + ">.execute-api.<AWS::Region>.<AWS::URLSuffix>"},
		"auth.mode":        {cfg.Auth.Mode, "oidc"},
		"auth.issuer":      {cfg.Auth.Issuer, "<JwtIssuer>"},
		"auth.clientId":    {cfg.Auth.ClientID, "<JwtAudience>"},
		"auth.redirectUri": {cfg.Auth.RedirectURI, "https://<" + distribution + ".DomainName>/"},
	}
	for _, field := range sortedKeys(want) {
		if got := want[field]; got[0] != got[1] {
			p.addf("Outputs: WebConfig %s is %s, want %s", field, show(got[0]), show(got[1]))
		}
	}
	if !strings.Contains(" "+cfg.Auth.Scope+" ", " openid ") {
		p.addf("Outputs: WebConfig auth.scope %q lacks openid", cfg.Auth.Scope)
	}
}

// show spells a WebConfig value as the template does.
func show(s string) string {
	return fmt.Sprintf("%q", strings.NewReplacer("<", "${", ">", "}").Replace(s))
}
