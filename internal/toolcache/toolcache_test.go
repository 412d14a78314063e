package toolcache

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestToolcacheDirFollowsTheScriptsPrecedence(t *testing.T) {
	t.Setenv("ANKA_CACHE", "")
	t.Setenv("ANKA_ETCD_BIN_DIR", "")
	t.Setenv("ANKA_KUBE_SCORE", "")
	t.Setenv("XDG_CACHE_HOME", "/x")
	assert.Equal(t, "/x/anka-ha", Dir())
	assert.Equal(t, filepath.Join("/x/anka-ha", "etcd-v3.6.16", "bin"), EtcdBinDir())
	assert.Equal(t, filepath.Join("/x/anka-ha", "kube-score-v1.20.0", "bin", "kube-score"), KubeScoreBin())
	t.Setenv("ANKA_CACHE", "/c")
	assert.Equal(t, "/c", Dir())
	t.Setenv("ANKA_ETCD_BIN_DIR", "/e")
	assert.Equal(t, "/e", EtcdBinDir())
	t.Setenv("ANKA_KUBE_SCORE", "/k")
	assert.Equal(t, "/k", KubeScoreBin())
}
