// Package toolcache locates the tools scripts/toolchain.sh builds from the
// Go module proxy and caches by version outside the clone, so tests that
// run real programs find the same binaries the scripts built.
package toolcache

import (
	"os"
	"path/filepath"
)

// EtcdVersion is the etcd the project pins: the production image
// (quay.io/coreos/etcd:v3.6.16) and the binaries tests run.
const EtcdVersion = "v3.6.16"

// Dir is $ANKA_CACHE, else $XDG_CACHE_HOME/anka-ha, else ~/.cache/anka-ha.
func Dir() string {
	if dir := os.Getenv("ANKA_CACHE"); dir != "" {
		return dir
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.Getenv("HOME")
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "anka-ha")
}

// EtcdBinDir holds etcd, etcdctl and etcdutl: $ANKA_ETCD_BIN_DIR, else
// Dir()/etcd-<EtcdVersion>/bin.
func EtcdBinDir() string {
	if dir := os.Getenv("ANKA_ETCD_BIN_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(Dir(), "etcd-"+EtcdVersion, "bin")
}

// KubeScoreVersion is the manifest linter the project pins
// (github.com/zegl/kube-score; scripts/toolchain.sh builds it).
const KubeScoreVersion = "v1.20.0"

// KubeScoreBin is the kube-score binary: $ANKA_KUBE_SCORE, else
// Dir()/kube-score-<KubeScoreVersion>/bin/kube-score. Never PATH: another
// version there would find other things, and the exception list
// (tests/kubescore_exceptions_test.go) is written for this one.
func KubeScoreBin() string {
	if p := os.Getenv("ANKA_KUBE_SCORE"); p != "" {
		return p
	}
	return filepath.Join(Dir(), "kube-score-"+KubeScoreVersion, "bin", "kube-score")
}

// PromtoolVersion is the github.com/prometheus/prometheus module version
// scripts/toolchain.sh builds promtool from (v0.3XX.Y is Prometheus 3.XX.Y).
const PromtoolVersion = "v0.316.0"

// PromtoolBin is promtool: $ANKA_PROMTOOL, else
// Dir()/promtool-<PromtoolVersion>/bin/promtool (never PATH, whose promtool
// may be Debian's 2.x).
func PromtoolBin() string {
	if p := os.Getenv("ANKA_PROMTOOL"); p != "" {
		return p
	}
	return filepath.Join(Dir(), "promtool-"+PromtoolVersion, "bin", "promtool")
}
