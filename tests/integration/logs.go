package integration

import (
	"os"
	"path/filepath"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testlog"
)

// TB is the part of testing.TB EngineLog uses (an interface of its own, so
// that cmd/localup, which builds on this package, does not link package
// testing).
type TB interface {
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Name() string
}

// EngineLog creates dir/engine.log for the engine's and the control plane's
// output, closed when the test ends. Then, if the test failed, keep copies
// what the test keeps (its logs under dir) into dst, the test's directory in
// the run's log directory (testlog.Dir: scripts/test.sh's per-run
// $ANKA_TEST_LOGS, never a fixed path that a concurrent run would
// overwrite).
func EngineLog(t TB, dir string, keep func(dst string) error) (*os.File, error) {
	f, err := os.Create(filepath.Join(dir, "engine.log"))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		_ = f.Close()
		if !t.Failed() {
			return
		}
		dst, err := testlog.Dir(t.Name())
		if err == nil {
			err = keep(dst)
		}
		if err != nil {
			t.Logf("keeping logs: %v", err)
			return
		}
		t.Logf("logs kept in %s", dst)
	})
	return f, nil
}
