package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testlog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endingT is a TB whose cleanups run when the test says, failed or not.
type endingT struct {
	name     string
	failed   bool
	cleanups []func()
	logs     []string
}

func (f *endingT) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *endingT) Failed() bool                 { return f.failed }
func (f *endingT) Logf(format string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }
func (f *endingT) Name() string                 { return f.name }
func (f *endingT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestEngineLogKeepsAFailedTestsLogsInTheRunsDirectory: a failed test's
// logs go to its directory under $ANKA_TEST_LOGS (what keep copies), a
// passing test keeps nothing.
func TestEngineLogKeepsAFailedTestsLogsInTheRunsDirectory(t *testing.T) {
	run := t.TempDir()
	t.Setenv(testlog.EnvDir, run)
	for _, failed := range []bool{false, true} {
		ft := &endingT{name: fmt.Sprintf("TestX/failed=%t", failed), failed: failed}
		dir := t.TempDir()
		f, err := EngineLog(ft, dir, func(dst string) error { return os.CopyFS(dst, os.DirFS(dir)) })
		require.NoError(t, err)
		_, err = f.WriteString("engine output\n")
		require.NoError(t, err)
		ft.end()
		kept := filepath.Join(run, "TestX", fmt.Sprintf("failed=%t", failed), "engine.log")
		b, err := os.ReadFile(kept)
		if !failed {
			assert.ErrorIs(t, err, os.ErrNotExist, "a passing test keeps no log")
			assert.Empty(t, ft.logs)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "engine output\n", string(b), "written and closed before it is kept")
		assert.Equal(t, []string{"logs kept in " + filepath.Dir(kept)}, ft.logs)
	}
}
