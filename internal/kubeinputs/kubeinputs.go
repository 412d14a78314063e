// Package kubeinputs reads fields of a Kubernetes resource's inputs as a
// resource hook receives them (resource.PropertyMap), for the hooks that
// compare a deployed object with the planned one at preview.
package kubeinputs

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

// Annotation is metadata.annotations[key], "" when absent or not a known
// string (an unknown value at preview).
func Annotation(in resource.PropertyMap, key string) string {
	md, ok := in["metadata"]
	if !ok || !md.IsObject() {
		return ""
	}
	ann, ok := md.ObjectValue()["annotations"]
	if !ok || !ann.IsObject() {
		return ""
	}
	v, ok := ann.ObjectValue()[resource.PropertyKey(key)]
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}
