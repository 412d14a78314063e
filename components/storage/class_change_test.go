package storage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassChangeErrorRefusesARename(t *testing.T) {
	err := ClassChangeError("anka-etcd", "anka-etcd-fast")
	require.Error(t, err)
	for _, want := range []string{ClassNameKey, `"anka-etcd"`, "pulumi config set --path 'anka:storage.etcd.className' anka-etcd", "Changing etcd storage"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoError(t, ClassChangeError("anka-etcd", "anka-etcd"), "same class")
	assert.NoError(t, ClassChangeError("", "anka-etcd"), "no claim template in state (the first up)")
	assert.NoError(t, ClassChangeError("anka-etcd", ""), "the configured class unknown")
}
