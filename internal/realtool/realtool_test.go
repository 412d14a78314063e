package realtool

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingTB records how Missing ends a test instead of ending this one.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recordingTB) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }
func executable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
	return p
}

func TestRealtoolLooksAtEnvThenPATHThenKnownPaths(t *testing.T) {
	onPath, known := t.TempDir(), t.TempDir()
	tool := Tool{Name: "anka-fake-tool", Env: "ANKA_FAKE_TOOL", Known: []string{filepath.Join(known, "anka-fake-tool")}, Suite: "FAKE"}
	t.Setenv("PATH", onPath)
	t.Setenv("ANKA_FAKE_TOOL", "")

	_, err := tool.Find()
	assert.ErrorIs(t, err, ErrNotFound)

	k := executable(t, known, "anka-fake-tool")
	got, err := tool.Find()
	require.NoError(t, err)
	assert.Equal(t, k, got, "a known path when PATH has none")

	p := executable(t, onPath, "anka-fake-tool")
	got, err = tool.Find()
	require.NoError(t, err)
	assert.Equal(t, p, got, "PATH first")
	assert.Equal(t, []string{p, k}, tool.Candidates())

	t.Setenv("ANKA_FAKE_TOOL", filepath.Join(known, "anka-fake-tool"))
	got, err = tool.Find()
	require.NoError(t, err)
	assert.Equal(t, k, got, "the variable wins, and is the only place looked at")
	t.Setenv("ANKA_FAKE_TOOL", filepath.Join(known, "missing"))
	_, err = tool.Find()
	assert.ErrorContains(t, err, "ANKA_FAKE_TOOL=")
}

func TestRealtoolMissingSkipsUnlessRequired(t *testing.T) {
	t.Setenv("ANKA_REQUIRE_FAKE", "")
	r := &recordingTB{TB: t}
	Missing(r, "FAKE", "no tool")
	assert.Contains(t, r.skip, "ANKA_REQUIRE_FAKE=1")
	assert.Empty(t, r.fatal)

	t.Setenv("ANKA_REQUIRE_FAKE", "1")
	r = &recordingTB{TB: t}
	Missing(r, "FAKE", "no tool")
	assert.Contains(t, r.fatal, "ANKA_REQUIRE_FAKE=1")
	assert.Empty(t, r.skip)
}
