package etcd

import (
	"crypto/x509"
	"encoding/pem"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testNotBefore is anka:etcd.tls.notBefore in these tests, and testNow the
// clock validation reads: a month into the certificates' validity.
const testNotBefore = "2026-11-01"

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func init() { Now = func() time.Time { return testNow } }

// at runs f with the validation clock at now.
func at(t *testing.T, now time.Time) {
	old := Now
	Now = func() time.Time { return now }
	t.Cleanup(func() { Now = old })
}

func TestEtcdTLSValidation(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Args)
		key  string
		want []string
	}{
		{"a 32-character seed is refused", func(a *Args) { a.TLSSeed = seed[:32] }, "anka:etcdTlsSeed", []string{"at least 64 hex characters", `openssl rand -hex 32`}},
		{"a non-hex seed is refused", func(a *Args) { a.TLSSeed = "test-seed-0123456789abcdef0123456789abcdef0123456789abcdef0123456" }, "anka:etcdTlsSeed", []string{"is not hex", `pulumi config set --secret anka:etcdTlsSeed "$(openssl rand -hex 32)"`}},
		{"a missing notBefore is refused", func(a *Args) { a.TLS.NotBefore = "" }, "anka:etcd.tls.notBefore", []string{"must be set while etcd TLS is on", `pulumi config set --path anka:etcd.tls.notBefore "$(date -u +%F)"`}},
		{"a malformed notBefore is refused", func(a *Args) { a.TLS.NotBefore = "30/11/2026" }, "anka:etcd.tls.notBefore", []string{"YYYY-MM-DD"}},
		{"a notBefore two days ahead is refused", func(a *Args) { a.TLS.NotBefore = "2026-12-02" }, "anka:etcd.tls.notBefore", []string{"more than a day in the future"}},
		{"expired certificates are refused", func(a *Args) { a.TLS.NotBefore = "2025-10-01" }, "anka:etcd.tls.notBefore", []string{"expired on 2026-11-02T00:00:00Z", `"Renewing etcd's certificates"`}},
		{"a negative generation is refused", func(a *Args) { a.TLS.Generation = -1 }, "anka:etcd.tls.generation", []string{"at least 1"}},
		{"rotateFrom two generations back is refused", func(a *Args) { a.TLS.Generation, a.TLS.RotateFrom = 3, 1 }, "anka:etcd.tls.rotateFrom", []string{"one step at a time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := refusedProd(t, tc.mod)
			harness.AssertKeys(t, err, tc.key)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	for name, mod := range map[string]func(*Args){
		"today":                       func(a *Args) { a.TLS.NotBefore = "2026-11-30" },
		"tomorrow (a zone ahead)":     func(a *Args) { a.TLS.NotBefore = "2026-12-01" },
		"rotation step 1":             func(a *Args) { a.TLS.RotateFrom = 1 },
		"rotation step 2":             func(a *Args) { a.TLS.Generation, a.TLS.RotateFrom = 2, 1 },
		"TLS off needs no seed (dev)": func(a *Args) { off := false; a.Prod, a.TLS.Enabled, a.TLSSeed, a.TLS.NotBefore = false, &off, "", "" },
	} {
		a := prodArgs()
		mod(&a)
		assert.NoError(t, a.Validate(), name)
	}
}

// TestEtcdTLSWarnsBeforeExpiry: fewer than 30 days left warns, naming the
// key and the runbook; more does not.
func TestEtcdTLSWarnsBeforeExpiry(t *testing.T) {
	a := prodArgs().WithDefaults()
	assert.Equal(t, time.Date(2027, 12, 3, 0, 0, 0, 0, time.UTC), a.TLSNotAfter())
	assert.Empty(t, a.Warnings())
	at(t, time.Date(2027, 11, 20, 0, 0, 0, 0, time.UTC))
	w := a.Warnings()
	require.Len(t, w, 1)
	for _, s := range []string{"expire on 2027-12-03T00:00:00Z", "in 13 days", "anka:etcd.tls.notBefore", `"Renewing etcd's certificates"`} {
		assert.Contains(t, w[0], s)
	}
	off := false
	a.TLS.Enabled = &off
	assert.Empty(t, a.Warnings())
}

// secretData is a Secret's stringData as the program registered it.
func secretData(t *testing.T, args Args, name string) map[string]string {
	t.Helper()
	rec, err := run(t, args)
	require.NoError(t, err)
	v := obj(resource.NewObjectProperty(rec.Get(t, "kubernetes:core/v1:Secret", name).Inputs), "stringData")
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = e.StringValue()
	}
	return out
}

func trustAnnotation(t *testing.T, args Args) string {
	t.Helper()
	rec, err := run(t, args)
	require.NoError(t, err)
	sts := rec.Get(t, "kubernetes:apps/v1:StatefulSet", "etcd-members")
	return obj(resource.NewObjectProperty(sts.Inputs), "spec", "template", "metadata", "annotations", TLSTrustAnnotation).StringValue()
}

func issuerCN(t *testing.T, pemText string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c.Issuer.CommonName
}

// TestEtcdTLSSecretsCarryThePeerCA: etcd-tls has the peer CA beside the
// client CA, and the Controller's Secret keeps exactly its three keys.
func TestEtcdTLSSecretsCarryThePeerCA(t *testing.T) {
	all := secretData(t, prodArgs(), "etcd-tls")
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"ca.crt", "client.crt", "client.key", "peer-ca.crt", "peer.crt", "peer.key", "server.crt", "server.key"}, keys)
	assert.Equal(t, "anka etcd peer CA g1", issuerCN(t, all["peer.crt"]))
	assert.Equal(t, "anka etcd CA g1", issuerCN(t, all["client.crt"]))
	client := secretData(t, prodArgs(), "etcd-client-tls")
	assert.Len(t, client, 3)
	assert.Equal(t, all["client.crt"], client["client.crt"])
	assert.Equal(t, all["ca.crt"], client["ca.crt"])

	other := prodArgs()
	other.StackIdentity = "anka/dev"
	assert.NotEqual(t, all["ca.crt"], secretData(t, other, "etcd-tls")["ca.crt"], "the stack's identity scopes the derivation")
}

// TestEtcdTLSTrustChangesRollMembers: the pod template names what the CA
// bundles trust, so rotation steps 1 and 3 and a renewal (CA changes) roll
// the members, and step 2 (leaves only) and a new seed do not.
func TestEtcdTLSTrustChangesRollMembers(t *testing.T) {
	step := func(generation, rotateFrom int, notBefore string) Args {
		a := prodArgs()
		a.TLS.Generation, a.TLS.RotateFrom, a.TLS.NotBefore = generation, rotateFrom, notBefore
		return a
	}
	g1 := trustAnnotation(t, step(1, 0, testNotBefore))
	assert.Equal(t, "generations 1 from 2026-11-01", g1)
	newSeed := step(1, 0, testNotBefore)
	newSeed.TLSSeed = strings.Repeat("ab", 32)
	assert.Equal(t, g1, trustAnnotation(t, newSeed), "a new seed must not roll members one at a time into a PKI the others refuse")
	assert.NotEqual(t, secretData(t, step(1, 0, testNotBefore), "etcd-tls")["ca.crt"], secretData(t, newSeed, "etcd-tls")["ca.crt"])
	s1 := trustAnnotation(t, step(1, 1, testNotBefore))
	s2 := trustAnnotation(t, step(2, 1, testNotBefore))
	s3 := trustAnnotation(t, step(2, 0, testNotBefore))
	renewed := trustAnnotation(t, step(1, 0, "2026-11-30"))
	assert.Equal(t, "generations 1,2 from 2026-11-01", s1)
	assert.NotEqual(t, g1, s1, "step 1 changes the CA bundles: members restart")
	assert.Equal(t, s1, s2, "step 2 changes only leaves: no restart")
	assert.NotEqual(t, s2, s3, "step 3 changes the CA bundles: members restart")
	assert.NotEqual(t, g1, renewed, "a renewal re-issues the CA certificates: members restart")

	leaves1 := secretData(t, step(1, 1, testNotBefore), "etcd-tls")
	leaves2 := secretData(t, step(2, 1, testNotBefore), "etcd-tls")
	assert.NotEqual(t, leaves1["peer.crt"], leaves2["peer.crt"])
	assert.Equal(t, "anka etcd peer CA g2", issuerCN(t, leaves2["peer.crt"]))
	assert.Equal(t, 2, strings.Count(leaves2["peer-ca.crt"], "BEGIN CERTIFICATE"))

	off := false
	a := prodArgs()
	a.Prod, a.TLS.Enabled = false, &off
	rec, err := run(t, a)
	require.NoError(t, err)
	ann := obj(resource.NewObjectProperty(rec.Get(t, "kubernetes:apps/v1:StatefulSet", "etcd-members").Inputs), "spec", "template", "metadata", "annotations").ObjectValue()
	_, has := ann[TLSTrustAnnotation]
	assert.False(t, has, "no TLS, no trust annotation")
}
