package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// outcomes are the words a row of the change table may start its outcome
// with.
var outcomes = []string{"in place", "rolling", "replaced", "class replaced", "refused at preview"}

// TestOperationsChangeTableNamesRealTests: every row of docs/operations.md's
// "What each change does" has a known outcome and names at least one test,
// and every test it names exists: a Test function in a _test.go file, or a
// subtest the real-engine run (tests/integration) starts with t.Run.
func TestOperationsChangeTableNamesRealTests(t *testing.T) {
	doc := section(t, "## What each change does")
	root := repoRoot(t)
	var src strings.Builder
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	}))
	tests := src.String()
	name := regexp.MustCompile("`([A-Za-z0-9]+)`")
	rows := 0
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| change |") {
			continue
		}
		rows++
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		require.Len(t, cells, 4, "row %q: want change | outcome | what happens | tests", line)
		known := false
		for _, o := range outcomes {
			known = known || strings.HasPrefix(strings.TrimSpace(cells[1]), o)
		}
		require.True(t, known, "row %q: outcome %q is none of %v", cells[0], cells[1], outcomes)
		names := name.FindAllStringSubmatch(cells[3], -1)
		require.NotEmpty(t, names, "row %q names no test", cells[0])
		for _, m := range names {
			n := m[1]
			if strings.HasPrefix(n, "Test") {
				require.True(t, strings.Contains(tests, "func "+n+"(t *testing.T)"), "row %q names %s, which no _test.go defines", cells[0], n)
			} else {
				require.True(t, strings.Contains(tests, `t.Run("`+n+`"`), "row %q names subtest %s, which tests/integration does not run", cells[0], n)
			}
		}
	}
	require.GreaterOrEqual(t, rows, 10, "the change table lost its rows")
}
