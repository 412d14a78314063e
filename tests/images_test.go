package tests

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// containerImages are the images of every container and init container the
// run registered (any object with a name and an image, inside a pod spec).
func containerImages(rec *harness.Recorder) []string {
	seen := map[string]bool{}
	var walk func(v any, inContainers bool)
	walk = func(v any, inContainers bool) {
		switch x := v.(type) {
		case map[string]any:
			if img, ok := x["image"].(string); ok && inContainers {
				seen[img] = true
			}
			for k, e := range x {
				walk(e, k == "containers" || k == "initContainers")
			}
		case []any:
			for _, e := range x {
				walk(e, inContainers)
			}
		}
	}
	for _, r := range rec.Resources() {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			walk(harness.Plain(resource.NewObjectProperty(r.Inputs)), false)
		}
	}
	out := make([]string, 0, len(seen))
	for img := range seen {
		out = append(out, img)
	}
	sort.Strings(out)
	return out
}

// TestStackDigestPinnedImagesReachThePodSpecsUnchanged: every image setting
// of prod, pinned by digest (with and without a tag), is what the rendered
// pods run, character for character, and nothing else is.
func TestStackDigestPinnedImagesReachThePodSpecsUnchanged(t *testing.T) {
	d := "@sha256:" + strings.Repeat("5e", 32)
	want := map[string]string{
		"anka:etcd.image":           "quay.io/coreos/etcd:v3.6.16" + d,
		"anka:etcd.busyboxImage":    "busybox" + d,
		"anka:etcd.awsCliImage":     "amazon/aws-cli:2.27.50" + d,
		"anka:etcd.diskCheck.image": "ghcr.io/kastenhq/kubestr:v0.4.49" + d,
		"anka:controller.image":     "veertu/anka-build-cloud-controller" + d,
		"anka:registry.image":       "veertu/anka-build-cloud-registry:v1.50.1" + d,
		"anka:edge.nginx.image":     "nginx:1.28.0-alpine" + d,
	}
	run, err := runStackFile(t, "prod", merge(
		patchObject(t, "prod", "anka:etcd", map[string]any{
			"image": want["anka:etcd.image"], "busyboxImage": want["anka:etcd.busyboxImage"], "awsCliImage": want["anka:etcd.awsCliImage"],
			"diskCheck": map[string]any{"image": want["anka:etcd.diskCheck.image"]},
		}),
		patchObject(t, "prod", "anka:controller", map[string]any{"image": want["anka:controller.image"]}),
		patchObject(t, "prod", "anka:registry", map[string]any{"image": want["anka:registry.image"]}),
		patchObject(t, "prod", "anka:edge", map[string]any{"nginx": map[string]any{"replicas": 3, "image": want["anka:edge.nginx.image"]}}),
	))
	require.NoError(t, err)
	got := containerImages(run.rec)
	for key, ref := range want {
		assert.Contains(t, got, ref, "%s reaches a pod unchanged", key)
	}
	configured := slices.Collect(maps.Values(want))
	for _, img := range got {
		assert.Contains(t, configured, img, "every rendered image is one of the configured ones")
	}
}

// TestStackRefusesMalformedImagesNamingTheKey: preview stops before any
// resource, naming the image key.
func TestStackRefusesMalformedImagesNamingTheKey(t *testing.T) {
	cases := []refusal{
		{"an etcd digest in upper case", "dev", patchObject(t, "dev", "anka:etcd", map[string]any{"image": "quay.io/coreos/etcd@sha256:" + strings.Repeat("AB", 32)}), []string{"anka:etcd.image"}},
		{"a busybox without tag or digest", "dev", patchObject(t, "dev", "anka:etcd", map[string]any{"busyboxImage": "busybox"}), []string{"anka:etcd.busyboxImage"}},
		{"an AWS CLI digest one digit short", "dev", patchObject(t, "dev", "anka:etcd", map[string]any{"awsCliImage": "amazon/aws-cli@sha256:" + strings.Repeat("a", 63)}), []string{"anka:etcd.awsCliImage"}},
		{"a disk-check image without tag or digest", "dev", patchObject(t, "dev", "anka:etcd", map[string]any{"diskCheck": map[string]any{"image": "ghcr.io/kastenhq/kubestr"}}), []string{"anka:etcd.diskCheck.image"}},
		{"an upper-case Controller repository", "dev", patchObject(t, "dev", "anka:controller", map[string]any{"image": "Veertu/anka-build-cloud-controller:v1.50.1"}), []string{"anka:controller.image"}},
		{"a space in the Registry image", "dev", patchObject(t, "dev", "anka:registry", map[string]any{"image": "veertu/anka-build-cloud-registry :v1.50.1"}), []string{"anka:registry.image"}},
		{"an NGINX sha512 digest", "prod", patchObject(t, "prod", "anka:edge", map[string]any{"nginx": map[string]any{"replicas": 3, "image": "nginx@sha512:" + strings.Repeat("ab", 64)}}), []string{"anka:edge.nginx.image"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertRefused(t, tc.stack, tc.overrides, tc.keys...)
		})
	}
}
