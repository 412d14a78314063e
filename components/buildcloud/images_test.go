package buildcloud

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
)

const testDigest = "sha256:4c2a1b0e9f8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3928170f6e5d4"

func TestBuildCloudImageReferencesAreValidated(t *testing.T) {
	for _, ok := range []string{
		"veertu/anka-build-cloud-controller@" + testDigest,
		"veertu/anka-build-cloud-controller:v1.50.1@" + testDigest,
		"registry.example.com:5000/veertu/anka-build-cloud-controller:v1.50.1",
	} {
		a := wired(EnvDev)
		a.Controller.Image, a.Registry.Image = ok, strings.Replace(ok, "controller", "registry", 1)
		assert.NoError(t, a.Validate(), ok)
	}
	cases := []struct {
		name string
		edit func(*Args)
		key  string
	}{
		{"a digest in upper case", func(a *Args) {
			a.Controller.Image = "veertu/anka-build-cloud-controller@sha256:" + strings.ToUpper(strings.TrimPrefix(testDigest, "sha256:"))
		}, "anka:controller.image"},
		{"a digest one digit short", func(a *Args) { a.Registry.Image = "veertu/anka-build-cloud-registry@" + testDigest[:len(testDigest)-1] }, "anka:registry.image"},
		{"a sha512 digest", func(a *Args) {
			a.Registry.Image = "veertu/anka-build-cloud-registry@sha512:" + strings.Repeat("0a", 64)
		}, "anka:registry.image"},
		{"no tag and no digest", func(a *Args) { a.Controller.Image = "veertu/anka-build-cloud-controller" }, "anka:controller.image"},
		{"a space in the reference", func(a *Args) { a.Controller.Image = "veertu/anka-build-cloud-controller: v1.50.1" }, "anka:controller.image"},
		{"an upper-case repository", func(a *Args) { a.Registry.Image = "Veertu/anka-build-cloud-registry:v1.50.1" }, "anka:registry.image"},
		{"a registry prefix with a scheme", func(a *Args) { a.ImageRegistry = "https://123456789012.dkr.ecr.us-east-1.amazonaws.com" }, "anka:buildcloud.imageRegistry"},
		{"a registry prefix with a trailing slash", func(a *Args) { a.ImageRegistry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/" }, "anka:buildcloud.imageRegistry"},
		{"a registry prefix with an upper-case path", func(a *Args) { a.ImageRegistry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/Docker-Hub" }, "anka:buildcloud.imageRegistry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := wired(EnvDev)
			tc.edit(&a)
			err := a.Validate()
			harness.AssertKeys(t, err, tc.key)
		})
	}
}

func TestBuildCloudDigestPinnedImagesReachThePodSpecUnchanged(t *testing.T) {
	for _, mirror := range []string{"", "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub"} {
		a := wired(EnvDev)
		a.Topology = TopologySplit
		a.ImageRegistry = mirror
		a.Controller.Image = "veertu/anka-build-cloud-controller:v1.50.1@" + testDigest
		a.Registry.Image = "veertu/anka-build-cloud-registry@" + testDigest
		rec, _ := deploy(t, a)
		prefix := ""
		if mirror != "" {
			prefix = mirror + "/"
		}
		assert.Equal(t, prefix+a.Controller.Image, container(t, podSpec(t, rec, "bc-controller"), "controller")["image"].StringValue())
		assert.Equal(t, prefix+a.Registry.Image, container(t, podSpec(t, rec, "bc-registry"), "registry")["image"].StringValue())
	}
}
