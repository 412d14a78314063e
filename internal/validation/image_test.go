package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProblemsImageNamesTheKeyAndTheFix(t *testing.T) {
	var p Problems
	digest := "sha256:" + strings.Repeat("ab", 32)
	assert.True(t, p.Image("anka:etcd.image", "quay.io/coreos/etcd:v3.6.16", "quay.io/coreos/etcd:v3.6.16"))
	assert.True(t, p.Image("anka:etcd.image", "quay.io/coreos/etcd@"+digest, "quay.io/coreos/etcd:v3.6.16"))
	require.NoError(t, p.Err())

	assert.False(t, p.Image("anka:etcd.image", "quay.io/coreos/etcd@sha256:ABC", "quay.io/coreos/etcd:v3.6.16"))
	assert.False(t, p.Image("anka:etcd.busyboxImage", "busybox", "busybox:1.36.1-musl"))
	err := p.Err()
	require.Error(t, err)
	assert.Equal(t, []string{"anka:etcd.image", "anka:etcd.busyboxImage"}, Keys(err))
	assert.Contains(t, err.Error(), "anka:etcd.image has a digest with upper-case hex digits")
	assert.Contains(t, err.Error(), `got "quay.io/coreos/etcd@sha256:ABC"`)
	assert.Contains(t, err.Error(), "quay.io/coreos/etcd@sha256:<64 lower-case hex digits>", "the fix names the digest form of the default")
	assert.Contains(t, err.Error(), `anka:etcd.busyboxImage names neither a tag nor a digest`)
}
