package tests

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

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
	section := markdownSection(t, "README.md", "## Outputs contract")
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

// TestOutputEtcdTLSNotAfterIsTheEarliestExpiry: etcdTlsNotAfter is the
// earliest NotAfter of every certificate in the etcd-tls Secret the stack
// deploys (RFC 3339), and "" without TLS.
func TestOutputEtcdTLSNotAfterIsTheEarliestExpiry(t *testing.T) {
	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	got, err := time.Parse(time.RFC3339, run.outputs[stacks.OutputEtcdTLSNotAfter].(string))
	require.NoError(t, err)
	data := run.rec.Get(t, "kubernetes:core/v1:Secret", "etcd-tls").Inputs["stringData"]
	if data.IsSecret() {
		data = data.SecretValue().Element
	}
	var earliest time.Time
	n := 0
	for name, v := range data.ObjectValue() {
		if !strings.HasSuffix(string(name), ".crt") {
			continue
		}
		rest := []byte(v.StringValue())
		for {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			if n == 0 || c.NotAfter.Before(earliest) {
				earliest = c.NotAfter
			}
			n++
		}
	}
	require.GreaterOrEqual(t, n, 5, "CAs and leaves in etcd-tls")
	assert.Equal(t, earliest, got)

	cfg, secretKeys := stackConfig(t, "dev", map[string]string{"anka:etcd": `{"tls":{"enabled":false}}`})
	off, err := runConfig(t, "dev", cfg, secretKeys)
	require.NoError(t, err)
	assert.Equal(t, "", off.outputs[stacks.OutputEtcdTLSNotAfter])
}
