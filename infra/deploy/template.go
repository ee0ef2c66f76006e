// Package deploy holds template.yaml, the SAM template that deploys the
// portal on AWS, to the code it deploys. The checks return problems rather
// than fail a test, so that a test can also show that each of them catches
// the mistake it is there for:
//
//   - Check: one function per folder under functions/, with exactly its
//     routes of httpapi.Routes and its environment of shared/config; the
//     runtime and build; the HTTP API and its JWT authorizer; the table of
//     store.TableDefinition; the export bucket; log groups; the shape of
//     every IAM policy; the outputs.
//   - CheckGrants: a function's permissions equal what its code was seen to
//     need of DynamoDB, S3 and Lambda (see Recorder).
//   - CheckMakefile and CheckSamconfig: the build targets SAM runs and the
//     deployment settings cover every function and parameter.
//
// Values the template computes with intrinsic functions are compared as the
// template spells them in short form: "!Ref Table", "!GetAtt Table.Arn",
// "!Sub ${AWS::StackName}-orgs".
package deploy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a SAM template parsed into goformation's types, with the
// intrinsic functions kept as they are written rather than resolved.
type Template struct {
	*cloudformation.Template
	// lifted holds the intrinsic functions found where goformation types a
	// property as a number or a boolean, which cannot hold one: by logical
	// id, then property path ("LifecycleConfiguration.Rules[0].ExpirationInDays").
	lifted map[string]map[string]string
	// policyErrors says, by logical id, why a function's Policies are not
	// a list of inline policy documents.
	policyErrors map[string]string
}

// Load parses the template in the named file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a SAM template in YAML or JSON.
//
// goformation resolves intrinsic functions loosely by default (a Ref to a
// parameter becomes its default, a GetAtt nothing); its encoding handlers
// keep each one instead, as a base64 string that Show turns back into the
// short form. What goformation's types cannot take is dealt with before they
// are filled: an intrinsic function where a property is a number or a
// boolean is lifted out (see Lifted); the HTTP API's AccessLogSettings,
// which goformation spells AccessLogSetting after an old SAM specification,
// is renamed; and each function's Policies are checked to be a list of
// inline policy documents, which goformation's union type cannot tell from
// managed policies and SAM policy templates reliably.
func Parse(data []byte) (*Template, error) {
	processed, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: cloudformation.EncoderIntrinsics,
	})
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, err
	}
	lifted := make(map[string]map[string]string)
	policyErrors := make(map[string]string)
	resources, _ := doc["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		typ, _ := res["Type"].(string)
		if props == nil {
			continue
		}
		if typ == "AWS::Serverless::HttpApi" {
			if _, ok := props["AccessLogSetting"]; ok {
				return nil, fmt.Errorf("%s: SAM has no AccessLogSetting on an HttpApi: the property is AccessLogSettings", id)
			}
			if v, ok := props["AccessLogSettings"]; ok {
				props["AccessLogSetting"] = v
				delete(props, "AccessLogSettings")
			}
		}
		if typ == "AWS::Serverless::Function" {
			if err := checkPolicyShape(props["Policies"]); err != nil {
				policyErrors[id] = err.Error()
			}
		}
		if goType, ok := cloudformation.AllResources()[typ]; ok {
			lift(props, reflect.TypeOf(goType).Elem(), "", liftInto(lifted, id))
		}
	}
	if globals, ok := doc["Globals"].(map[string]any); ok {
		if fn, ok := globals["Function"].(map[string]any); ok {
			lift(fn, reflect.TypeOf(global.Function{}), "", liftInto(lifted, "Globals.Function"))
		}
	}
	normalized, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	t := &Template{Template: &cloudformation.Template{}, lifted: lifted, policyErrors: policyErrors}
	if err := json.Unmarshal(normalized, t.Template); err != nil {
		return nil, err
	}
	return t, nil
}

func liftInto(lifted map[string]map[string]string, id string) func(path, value string) {
	return func(path, value string) {
		if lifted[id] == nil {
			lifted[id] = make(map[string]string)
		}
		lifted[id][path] = value
	}
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// lift walks the JSON value v beside the Go type t that goformation decodes
// it into, and replaces every intrinsic function that stands where t has a
// number or a boolean with null (which leaves the field unset), passing it to
// found with its path. Types that decode themselves (goformation's unions of
// a string and an object, say) are left alone.
func lift(v any, t reflect.Type, path string, found func(path, value string)) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if path != "" && reflect.PointerTo(t).Implements(unmarshaler) {
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if fv, ok := m[name]; ok && name != "" && name != "-" {
				m[name] = lift(fv, f.Type, join(path, name), found)
			}
		}
	case reflect.Slice:
		if s, ok := v.([]any); ok {
			for i := range s {
				s[i] = lift(s[i], t.Elem(), fmt.Sprintf("%s[%d]", path, i), found)
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				m[k] = lift(m[k], t.Elem(), join(path, k), found)
			}
		}
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		if s, ok := v.(string); ok && isIntrinsic(s) {
			found(path, Show(s))
			return nil
		}
	}
	return v
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Lifted returns the intrinsic function, in short form, that stands at the
// property path of a resource where goformation's type has a number or a
// boolean: such a property is left unset in the typed resource.
func (t *Template) Lifted(logicalID, path string) (string, bool) {
	v, ok := t.lifted[logicalID][path]
	return v, ok
}

// Show returns a value as the template spells it: a string as it is, an
// intrinsic function in short form ("!Ref Table", "!GetAtt Table.Arn",
// "!Sub ..."), anything else as JSON with the intrinsic functions inside it
// shown the same way.
func Show(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if fn, arg, ok := decodeIntrinsic(v); ok {
			return showIntrinsic(fn, arg)
		}
		return v
	case *string:
		if v == nil {
			return ""
		}
		return Show(*v)
	}
	b, err := json.Marshal(reveal(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func showIntrinsic(fn string, arg any) string {
	short := "!" + strings.TrimPrefix(fn, "Fn::")
	switch a := arg.(type) {
	case string:
		return short + " " + Show(a)
	case []any:
		if fn == "Fn::GetAtt" && len(a) == 2 {
			return fmt.Sprintf("!GetAtt %v.%v", a[0], a[1])
		}
	}
	return short + " " + Show(arg)
}

// reveal returns v with every encoded intrinsic function inside it replaced
// by its short form, for showing.
func reveal(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return v
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case string:
			return Show(x)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return x
	}
	return walk(generic)
}

// decodeIntrinsic decodes what goformation's encoding handlers make of an
// intrinsic function: base64 of a JSON object with one member named after
// the function.
func decodeIntrinsic(s string) (fn string, arg any, ok bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if _, known := cloudformation.EncoderIntrinsics[k]; known {
			return k, v, true
		}
	}
	return "", nil, false
}

func isIntrinsic(s string) bool {
	_, _, ok := decodeIntrinsic(s)
	return ok
}

// LogicalID returns the logical id of the function in folder
// functions/<folder>: PascalCase and "Function", scheduled-reports →
// ScheduledReportsFunction.
func LogicalID(folder string) string {
	var b strings.Builder
	for _, part := range strings.Split(folder, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Function"
}

// Functions returns the template's functions by logical id, each with the
// Globals section's Function properties merged in as SAM merges them: a
// property of the function wins over the global one, maps are merged, and
// lists are joined, the global entries first.
func (t *Template) Functions() map[string]*serverless.Function {
	g, _ := t.Globals["Function"].(*global.Function)
	fns := make(map[string]*serverless.Function)
	for id, r := range t.Resources {
		f, ok := r.(*serverless.Function)
		if !ok {
			continue
		}
		merged := *f
		if g != nil {
			mergeGlobals(&merged, g)
		}
		fns[id] = &merged
	}
	return fns
}

// mergedGlobals are the properties of Globals.Function that mergeGlobals
// merges; unmergedGlobals reports the others.
var mergedGlobals = []string{"Architectures", "CodeUri", "Environment", "Handler", "MemorySize", "Runtime", "Tags", "Timeout", "Tracing"}

func mergeGlobals(f *serverless.Function, g *global.Function) {
	if g.Architectures != nil {
		f.Architectures = append(append([]string(nil), *g.Architectures...), f.Architectures...)
	}
	if f.CodeUri == nil {
		f.CodeUri = g.CodeUri
	}
	if g.Environment != nil {
		vars := maps.Clone(g.Environment.Variables)
		if f.Environment != nil {
			maps.Copy(vars, f.Environment.Variables)
		}
		f.Environment = &serverless.Function_FunctionEnvironment{Variables: vars}
	}
	if f.Handler == nil {
		f.Handler = g.Handler
	}
	if f.MemorySize == nil {
		f.MemorySize = g.MemorySize
	}
	if f.Runtime == nil {
		f.Runtime = g.Runtime
	}
	if g.Tags != nil {
		tags := maps.Clone(*g.Tags)
		maps.Copy(tags, f.Tags)
		f.Tags = tags
	}
	if f.Timeout == nil {
		f.Timeout = g.Timeout
	}
	if f.Tracing == nil {
		f.Tracing = g.Tracing
	}
}

// unmergedGlobals returns the properties set in Globals.Function that
// Functions does not merge, which the checks would therefore not see.
func (t *Template) unmergedGlobals() []string {
	g, ok := t.Globals["Function"].(*global.Function)
	if !ok {
		return nil
	}
	b, _ := json.Marshal(g)
	var set map[string]any
	_ = json.Unmarshal(b, &set)
	var extra []string
	for k := range set {
		if !slices.Contains(mergedGlobals, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return extra
}

// resourcesOf returns the logical ids of the resources of a type, sorted.
func (t *Template) resourcesOf(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.AWSCloudFormationType() == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
