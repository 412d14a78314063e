// Package testlog is where tests keep the logs of a failed run (etcd
// members', the control plane's, the engine's): one directory per run, so
// concurrent runs never overwrite each other's logs.
//
// scripts/test.sh (make test, .ci/run, the GitHub test job) creates that
// directory with mktemp and passes it as $ANKA_TEST_LOGS; it removes it
// when the run passes and prints it when the run fails. A bare `go test`
// gets a directory of its own per test process, which the test names in
// its log and nothing removes (it holds the logs of a failure).
package testlog

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// EnvDir names the per-run log directory scripts/test.sh creates.
const EnvDir = "ANKA_TEST_LOGS"

var (
	once    sync.Once
	procDir string
	procErr error
)

// Dir returns a fresh directory for one test's kept logs: <run dir>/<name>,
// emptied first when a previous attempt of the same run left one there.
func Dir(name string) (string, error) {
	root := os.Getenv(EnvDir)
	if root == "" {
		once.Do(func() { procDir, procErr = os.MkdirTemp("", "anka-test-logs-") })
		if procErr != nil {
			return "", procErr
		}
		root = procDir
	}
	name = filepath.FromSlash(name)
	if !filepath.IsLocal(name) { // a test name never climbs out of the run directory
		return "", fmt.Errorf("testlog: %q is not a path below the log directory", name)
	}
	dst := filepath.Join(root, name)
	if err := os.RemoveAll(dst); err != nil {
		return "", err
	}
	return dst, os.MkdirAll(dst, 0o750)
}
