package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractRow is one line of the README's outputs table.
type contractRow struct{ name, typ, secret string }

var contractLine = regexp.MustCompile("^\\| `([A-Za-z]+)` \\| ([^|]+) \\| (yes|no) \\|")

// readmeContract reads the table under "## Outputs contract" in README.md.
func readmeContract(t *testing.T) map[string]contractRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "## Outputs contract")
	require.GreaterOrEqual(t, start, 0, "README.md must have a section \"## Outputs contract\"")
	section := text[start+3:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	rows := map[string]contractRow{}
	for _, line := range strings.Split(section, "\n") {
		if m := contractLine.FindStringSubmatch(line); m != nil {
			rows[m[1]] = contractRow{name: m[1], typ: strings.TrimSpace(m[2]), secret: m[3]}
		}
	}
	return rows
}

// TestOutputsContractMatchesREADME fails when an output is renamed, added
// or removed without the README's contract table changing with it, or when
// the table's "secret" column does not match what the stack exports.
func TestOutputsContractMatchesREADME(t *testing.T) {
	rows := readmeContract(t)
	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	var exported, documented []string
	for name := range run.stack.Outputs.Map() {
		exported = append(exported, name)
	}
	for name := range rows {
		documented = append(documented, name)
	}
	sort.Strings(exported)
	sort.Strings(documented)
	assert.Equal(t, documented, exported, "stack outputs and the README's \"Outputs contract\" table must list the same names")
	for name, row := range rows {
		want := "no"
		if run.secret[name] {
			want = "yes"
		}
		assert.Equal(t, want, row.secret, "README says output %s secret=%s", name, row.secret)
	}
	assert.Equal(t, "yes", rows[stacks.OutputKubeconfig].secret)
}
