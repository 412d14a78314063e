package imageref

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A sha256 digest in the form registries print (64 lower-case hex digits).
const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseAcceptsTheReferenceForms(t *testing.T) {
	cases := []struct {
		ref  string
		want Ref
	}{
		{"busybox:1.36.1-musl", Ref{Path: "busybox", Tag: "1.36.1-musl"}},
		{"quay.io/coreos/etcd:v3.6.16", Ref{Domain: "quay.io", Path: "coreos/etcd", Tag: "v3.6.16"}},
		{"veertu/anka-build-cloud-controller@" + dgst, Ref{Path: "veertu/anka-build-cloud-controller", Digest: dgst}},
		{"nginx:1.28.0-alpine@" + dgst, Ref{Path: "nginx", Tag: "1.28.0-alpine", Digest: dgst}},
		{"localhost:5000/anka/etcd:v3.6.16", Ref{Domain: "localhost:5000", Path: "anka/etcd", Tag: "v3.6.16"}},
		{"localhost/etcd:1", Ref{Domain: "localhost", Path: "etcd", Tag: "1"}},
		{"[::1]:5000/etcd:1", Ref{Domain: "[::1]:5000", Path: "etcd", Tag: "1"}},
		{"10.0.0.1:5000/etcd@" + dgst, Ref{Domain: "10.0.0.1:5000", Path: "etcd", Digest: dgst}},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/veertu/anka-build-cloud-registry:v1.50.1",
			Ref{Domain: "123456789012.dkr.ecr.us-east-1.amazonaws.com", Path: "docker-hub/veertu/anka-build-cloud-registry", Tag: "v1.50.1"}},
		{"Registry.Example.com/a__b/c-d.e_f:Tag_1", Ref{Domain: "Registry.Example.com", Path: "a__b/c-d.e_f", Tag: "Tag_1"}},
		{"a---b/c:" + strings.Repeat("t", 128), Ref{Path: "a---b/c", Tag: strings.Repeat("t", 128)}},
		{"amazon/aws-cli", Ref{Path: "amazon/aws-cli"}},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := Parse(tc.ref)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r)
			assert.Equal(t, tc.ref, r.String(), "the reference is kept as written")
		})
	}
}

func TestParseRefusesMalformedReferences(t *testing.T) {
	cases := []struct {
		name, ref, says string
	}{
		{"empty", "", "is empty"},
		{"a space", "busybox :1.36", "white space"},
		{"a trailing newline", "busybox:1.36\n", "white space"},
		{"a tab inside", "quay.io/coreos/\tetcd:v3.6.16", "white space"},
		{"a URL scheme", "https://quay.io/coreos/etcd:v3.6.16", "URL scheme"},
		{"an upper-case repository", "Veertu/anka-build-cloud-controller:v1.50.1", "upper-case"},
		{"an upper-case repository under a registry", "quay.io/CoreOS/etcd:v3.6.16", "upper-case"},
		{"a digest one digit short", "busybox@" + dgst[:len(dgst)-1], "not 64 hex digits"},
		{"a digest one digit long", "busybox@" + dgst + "0", "not 64 hex digits"},
		{"a digest with upper-case hex", "busybox@sha256:" + strings.ToUpper(dgst[len("sha256:"):]), "upper-case hex"},
		{"a digest with a non-hex digit", "busybox@sha256:" + strings.Repeat("g", 64), "not 64 hex digits"},
		{"a sha512 digest", "busybox@sha512:" + strings.Repeat("ab", 64), "only sha256"},
		{"a digest without algorithm", "busybox@" + strings.Repeat("a", 64), "without an algorithm"},
		{"an empty tag", "busybox:", "not a valid tag"},
		{"a tag starting with a dot", "busybox:.1", "not a valid tag"},
		{"a tag of 129 characters", "busybox:" + strings.Repeat("t", 129), "not a valid tag"},
		{"a double slash", "quay.io//etcd:1", "not a valid name"},
		{"a trailing slash", "quay.io/etcd/:1", "not a valid name"},
		{"a leading separator", "-etcd:1", "not a valid name"},
		{"three underscores", "a___b:1", "not a valid name"},
		{"a host with a bad port", "quay.io:port/etcd:1", "registry host"},
		{"a 64-digit identifier as name", strings.Repeat("a", 64), "identifier"},
		{"a name over 255 characters", strings.Repeat("a", 256) + ":1", "longer than 255"},
		{"two digests", "busybox@" + dgst + "@" + dgst, "not 64 hex digits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.ref)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

func TestPinNeedsAVersionTagOrADigest(t *testing.T) {
	for _, ok := range []string{"busybox:1.36.1-musl", "busybox@" + dgst, "busybox:latest@" + dgst} {
		_, err := Pin(ok)
		assert.NoError(t, err, ok)
	}
	for ref, says := range map[string]string{
		"busybox":               "neither a tag nor a digest",
		"localhost:5000/etcd":   "neither a tag nor a digest",
		"busybox:latest":        "\"latest\"",
		"quay.io/coreos/etcd:l": "", // a tag that is not latest is a pin
	} {
		_, err := Pin(ref)
		if says == "" {
			assert.NoError(t, err, ref)
			continue
		}
		require.Error(t, err, ref)
		assert.Contains(t, err.Error(), says, ref)
	}
}

func TestCheckPrefixIsARegistryHostWithAnOptionalPath(t *testing.T) {
	for _, ok := range []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub", "localhost:5000", "registry.example.com", "mirror"} {
		assert.NoError(t, CheckPrefix(ok), ok)
	}
	for bad, says := range map[string]string{
		"":                             "is empty",
		"ecr.example.com/docker-hub/":  "start or end",
		"https://ecr.example.com":      "URL scheme",
		"ecr.example.com/hub@" + dgst:  "digest",
		"ecr.example.com/Hub":          "upper-case",
		"ecr example.com":              "white space",
		"ecr.example.com:5000/hub:tag": "not a valid name",
	} {
		err := CheckPrefix(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), says, bad)
	}
}
