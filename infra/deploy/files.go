package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// buildTarget matches the Makefile's targets for `sam build`:
//
//	build-OrgsFunction: ; $(call lambda,orgs,$(ARTIFACTS_DIR))
var buildTarget = regexp.MustCompile(`(?m)^build-(\w+):.*\$\(call lambda,([a-z0-9-]+),\$\(ARTIFACTS_DIR\)\)`)

// lambdaBuild matches the Makefile's lambda macro, the one build of a
// function for AWS.
var lambdaBuild = regexp.MustCompile(`(?m)^lambda = (.*)$`)

// CheckMakefile holds the Makefile to the template: SAM's makefile build
// method runs build-<LogicalId> for each function, which must build the
// function's folder for linux/arm64 as bootstrap in $(ARTIFACTS_DIR).
func CheckMakefile(t *Template, makefile []byte) []string {
	var p problems
	targets := make(map[string]string)
	for _, m := range buildTarget.FindAllSubmatch(makefile, -1) {
		targets[string(m[1])] = string(m[2])
	}
	fns := t.Functions()
	for _, id := range sortedKeys(fns) {
		if fns[id].AWSCloudFormationMetadata["BuildMethod"] != buildMethod {
			continue
		}
		folder := strings.TrimPrefix(Show(fns[id].FunctionName), "!Sub ${AWS::StackName}-")
		switch got, ok := targets[id]; {
		case !ok:
			p.addf("Makefile: no target build-%s: $(call lambda,<folder>,$(ARTIFACTS_DIR)) for sam build", id)
		case got != folder:
			p.addf("Makefile: build-%s builds functions/%s, want functions/%s", id, got, folder)
		}
	}
	m := lambdaBuild.FindSubmatch(makefile)
	if m == nil {
		p.addf("Makefile: no lambda macro (lambda = ... go build ...)")
		return p
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-o $(2)/bootstrap", "./functions/$(1)"} {
		if !bytes.Contains(m[1], []byte(want)) {
			p.addf("Makefile: the lambda macro lacks %s", want)
		}
	}
	return p
}

// CheckSamconfig holds samconfig.toml to the template: every environment
// names its stack and region, acknowledges that SAM makes IAM roles,
// resolves its artifact bucket, and overrides every parameter of the
// template; prod confirms its change sets.
func CheckSamconfig(t *Template, data []byte) []string {
	var p problems
	sections, err := parseSamconfig(data)
	if err != nil {
		p.addf("samconfig.toml: %v", err)
		return p
	}
	if v := sections[""]["version"]; v != "0.1" {
		p.addf("samconfig.toml: version is %q, want 0.1", v)
	}
	var envs []string
	for name := range sections {
		if env, _, ok := strings.Cut(name, "."); ok && !slices.Contains(envs, env) {
			envs = append(envs, env)
		}
	}
	slices.Sort(envs)
	if !slices.Contains(envs, "default") || !slices.Contains(envs, "prod") {
		p.addf("samconfig.toml: environments %v, want default and prod", envs)
	}
	params := sortedKeys(t.Parameters)
	for _, env := range envs {
		global, deploy := sections[env+".global.parameters"], sections[env+".deploy.parameters"]
		lookup := func(key string) string {
			if v, ok := deploy[key]; ok {
				return v
			}
			return global[key]
		}
		for _, key := range []string{"stack_name", "region", "s3_prefix", "tags"} {
			if lookup(key) == "" {
				p.addf("samconfig.toml: [%s] sets no %s", env, key)
			}
		}
		// The ingest bucket is named <stack>-ingest-<account>: a bucket
		// name is lowercase, at most 63 characters, with a 12-digit account.
		if name := lookup("stack_name"); name != "" && !ingestStackName.MatchString(name) {
			p.addf("samconfig.toml: [%s] stack_name %q cannot name the ingest bucket (%s): lowercase letters, digits and hyphens, at most 43", env, name, ingestBucketName)
		}
		if caps := strings.Fields(lookup("capabilities")); !slices.Contains(caps, "CAPABILITY_IAM") && !slices.Contains(caps, "CAPABILITY_NAMED_IAM") {
			p.addf("samconfig.toml: [%s] capabilities must include CAPABILITY_IAM: SAM makes a role per function", env)
		}
		if lookup("resolve_s3") != "true" {
			p.addf("samconfig.toml: [%s] resolve_s3 must be true (SAM's managed artifact bucket)", env)
		}
		if env == "prod" && lookup("confirm_changeset") != "true" {
			p.addf("samconfig.toml: [prod] confirm_changeset must be true")
		}
		var overridden []string
		for _, kv := range strings.Fields(lookup("parameter_overrides")) {
			k, _, _ := strings.Cut(kv, "=")
			overridden = append(overridden, k)
		}
		for _, k := range missing(params, overridden) {
			p.addf("samconfig.toml: [%s] parameter_overrides has no %s", env, k)
		}
		for _, k := range missing(overridden, params) {
			p.addf("samconfig.toml: [%s] parameter_overrides sets %s, which the template does not have", env, k)
		}
	}
	return p
}

// ingestStackName is a stack name that names a valid ingest bucket.
var ingestStackName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,42}$`)

// parseSamconfig reads the part of TOML that samconfig.toml uses: tables
// ([default.deploy.parameters]) of keys with a string, boolean or number
// value, and comments. The values are returned unquoted; keys before the
// first table are in the table "".
func parseSamconfig(data []byte) (map[string]map[string]string, error) {
	sections := map[string]map[string]string{"": {}}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			name, ok := strings.CutSuffix(line, "]")
			if !ok {
				return nil, errorf(n, "a table header must end with ]")
			}
			current = strings.TrimPrefix(name, "[")
			sections[current] = make(map[string]string)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errorf(n, "want key = value")
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, `"`) {
			// A basic string: the first unescaped quote ends it.
			end := 1
			for end < len(value) && (value[end] != '"' || value[end-1] == '\\') {
				end++
			}
			if end == len(value) {
				return nil, errorf(n, "unterminated string")
			}
			s, err := strconv.Unquote(value[:end+1])
			if err != nil {
				return nil, errorf(n, "bad string: %v", err)
			}
			value = s
		} else if before, _, found := strings.Cut(value, "#"); found {
			value = strings.TrimSpace(before)
		}
		sections[current][strings.TrimSpace(key)] = value
	}
	return sections, sc.Err()
}

func errorf(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}
