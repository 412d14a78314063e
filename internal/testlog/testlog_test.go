package testlog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirUsesTheRunDirectory(t *testing.T) {
	run := t.TempDir()
	t.Setenv(EnvDir, run)
	stale := filepath.Join(run, "TestX", "sub", "old.log")
	require.NoError(t, os.MkdirAll(filepath.Dir(stale), 0o755))
	require.NoError(t, os.WriteFile(stale, []byte("x"), 0o644))

	dir, err := Dir("TestX/sub")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(run, "TestX", "sub"), dir)
	assert.NoFileExists(t, stale, "a previous attempt's logs are not mixed in")
}

func TestDirWithoutRunDirectoryIsPerProcess(t *testing.T) {
	t.Setenv(EnvDir, "")
	a, err := Dir("A")
	require.NoError(t, err)
	b, err := Dir("B")
	require.NoError(t, err)
	assert.Equal(t, filepath.Dir(a), filepath.Dir(b), "one directory per test process")
	assert.NotEqual(t, os.TempDir(), filepath.Dir(a), "never a fixed path under the temp dir")
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(a)) })
}
