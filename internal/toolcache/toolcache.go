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
