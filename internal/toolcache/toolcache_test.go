package toolcache

import (
	"os"
	"path/filepath"
	"regexp"
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

// TestPromtoolBinFollowsTheScriptsLayout: the path scripts/toolchain.sh
// builds promtool into (promtool-<version>/bin), or $ANKA_PROMTOOL.
func TestPromtoolBinFollowsTheScriptsLayout(t *testing.T) {
	t.Setenv("ANKA_CACHE", "/c")
	t.Setenv("ANKA_PROMTOOL", "")
	assert.Equal(t, filepath.Join("/c", "promtool-v0.316.0", "bin", "promtool"), PromtoolBin())
	t.Setenv("ANKA_PROMTOOL", "/p")
	assert.Equal(t, "/p", PromtoolBin())
}

// TestPromtoolVersionMatchesTheToolchain: the tests look for the promtool
// scripts/toolchain.sh builds, so the two pins must agree.
func TestPromtoolVersionMatchesTheToolchain(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "toolchain.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^PROMTOOL_VERSION=(\S+)`).FindSubmatch(script)
	if assert.NotNil(t, m, "scripts/toolchain.sh pins PROMTOOL_VERSION") {
		assert.Equal(t, PromtoolVersion, string(m[1]))
	}
}
