package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedHex is a test seed as `openssl rand -hex 32` prints one.
const seedHex = "7f3c1a9e5b2d48c6a0e1f4b3c2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"

var (
	seed, _   = DecodeSeed(seedHex)
	testDate  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	testScope = Scope{Stack: "anka/prod", Namespace: "anka"}
	testNames = []string{"*.etcd-headless.anka.svc.cluster.local"}
)

func params(tweak func(*Params)) Params {
	p := Params{Seed: seed, Scope: testScope, Generation: 1, NotBefore: testDate, DNSNames: testNames}
	if tweak != nil {
		tweak(&p)
	}
	return p
}

func bundle(t *testing.T, tweak func(*Params)) EtcdBundle {
	t.Helper()
	b, err := NewEtcdBundle(params(tweak))
	require.NoError(t, err)
	return b
}

func parse(t *testing.T, pemText string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

func pool(t *testing.T, pemText string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM([]byte(pemText)))
	return p
}

// verify checks a leaf against a CA bundle for one usage, at a time inside
// the test date's validity.
func verify(t *testing.T, leaf, roots string, usage x509.ExtKeyUsage) error {
	t.Helper()
	_, err := parse(t, leaf).Verify(x509.VerifyOptions{Roots: pool(t, roots), KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: testDate.Add(time.Hour)})
	return err
}

func TestEtcdBundleIsDeterministic(t *testing.T) {
	a, b := bundle(t, nil), bundle(t, nil)
	assert.Equal(t, a, b, "the same inputs must give byte-identical PEM, or every preview shows a diff")
	c := bundle(t, func(p *Params) { p.Seed = append([]byte{1}, seed...) })
	assert.NotEqual(t, a.CACert, c.CACert)
	assert.NotEqual(t, a.ServerKey, c.ServerKey)
}

// TestDecodeSeedNeeds64Hex: a seed is 32+ bytes as hex; a passphrase or a
// 32-character string (16 bytes of entropy at best) is refused.
func TestDecodeSeedNeeds64Hex(t *testing.T) {
	b, err := DecodeSeed(seedHex)
	require.NoError(t, err)
	assert.Len(t, b, 32)
	for name, s := range map[string]string{
		"32 characters":       "0123456789abcdef0123456789abcdef",
		"64 non-hex":          "test-seed-0123456789abcdef0123456789abcdef0123456789abcdef012345",
		"odd hex length":      seedHex + "0",
		"a passphrase":        "correct horse battery staple correct horse battery staple 1234567",
		"63 hex characters":   seedHex[:63],
		"empty":               "",
		"hex with whitespace": seedHex[:32] + " " + seedHex[32:],
	} {
		_, err := DecodeSeed(s)
		assert.True(t, errors.Is(err, ErrSeed), "%s: %v", name, err)
	}
	_, err = NewEtcdBundle(params(func(p *Params) { p.Seed = []byte("0123456789abcdef0123456789abcde") }))
	assert.True(t, errors.Is(err, ErrSeed), "31 bytes: %v", err)
}

// TestEtcdBundleIsScopedToStackNamespaceAndGeneration: the same seed in
// another stack, namespace or generation derives other CAs, and neither
// accepts the other's certificates.
func TestEtcdBundleIsScopedToStackNamespaceAndGeneration(t *testing.T) {
	base := bundle(t, nil)
	for name, tweak := range map[string]func(*Params){
		"other stack":      func(p *Params) { p.Scope.Stack = "anka/dev" },
		"other project":    func(p *Params) { p.Scope.Stack = "other/prod" },
		"other namespace":  func(p *Params) { p.Scope.Namespace = "anka2" },
		"other generation": func(p *Params) { p.Generation = 2 },
	} {
		other := bundle(t, tweak)
		assert.NotEqual(t, base.CACert, other.CACert, name)
		assert.NotEqual(t, base.PeerCACert, other.PeerCACert, name)
		// Other keys, not only other names: a CA key shared across stacks
		// would let whoever holds one stack's sign for the other.
		assert.NotEqual(t, parse(t, base.CACert).PublicKey, parse(t, other.CACert).PublicKey, "%s: CA key", name)
		assert.NotEqual(t, parse(t, base.PeerCACert).PublicKey, parse(t, other.PeerCACert).PublicKey, "%s: peer CA key", name)
		assert.NotEqual(t, base.ClientKey, other.ClientKey, "%s: client key", name)
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, verify(t, other.ClientCert, base.CACert, x509.ExtKeyUsageClientAuth), &unknown, "%s: client certificate", name)
		assert.ErrorAs(t, verify(t, other.PeerCert, base.PeerCACert, x509.ExtKeyUsageClientAuth), &unknown, "%s: peer certificate", name)
		assert.ErrorAs(t, verify(t, base.ServerCert, other.CACert, x509.ExtKeyUsageServerAuth), &unknown, "%s: server certificate", name)
	}
	// The parts are length-prefixed: moving a character across the
	// boundary between stack and namespace changes the derivation.
	a := bundle(t, func(p *Params) { p.Scope = Scope{Stack: "p/s", Namespace: "ab"} })
	b := bundle(t, func(p *Params) { p.Scope = Scope{Stack: "p/sa", Namespace: "b"} })
	assert.NotEqual(t, a.CACert, b.CACert)
}

// TestEtcdBundleSeparatesPeerAndClientTrust: the peer CA issues only the
// peer certificate; the server certificate cannot act as a client.
func TestEtcdBundleSeparatesPeerAndClientTrust(t *testing.T) {
	b := bundle(t, nil)
	require.NoError(t, verify(t, b.ClientCert, b.CACert, x509.ExtKeyUsageClientAuth))
	require.NoError(t, verify(t, b.ServerCert, b.CACert, x509.ExtKeyUsageServerAuth))
	require.NoError(t, verify(t, b.PeerCert, b.PeerCACert, x509.ExtKeyUsageClientAuth))
	require.NoError(t, verify(t, b.PeerCert, b.PeerCACert, x509.ExtKeyUsageServerAuth))

	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, verify(t, b.ClientCert, b.PeerCACert, x509.ExtKeyUsageClientAuth), &unknown, "the client certificate must not be a peer")
	assert.ErrorAs(t, verify(t, b.ServerCert, b.PeerCACert, x509.ExtKeyUsageClientAuth), &unknown, "the server certificate must not be a peer")
	assert.ErrorAs(t, verify(t, b.PeerCert, b.CACert, x509.ExtKeyUsageClientAuth), &unknown, "the peer certificate must not be a client")

	var invalid x509.CertificateInvalidError
	require.ErrorAs(t, verify(t, b.ServerCert, b.CACert, x509.ExtKeyUsageClientAuth), &invalid, "the server certificate must not be a client")
	assert.Equal(t, x509.IncompatibleUsage, invalid.Reason)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, parse(t, b.ServerCert).ExtKeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, parse(t, b.ClientCert).ExtKeyUsage)
	assert.Equal(t, []string{"ca.crt", "client.crt", "client.key"}, sortedKeys(b.ClientFiles()), "another component mounts exactly these keys")
	assert.Equal(t, b.PeerCACert, b.Files()["peer-ca.crt"])
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for _, k := range []string{"ca.crt", "client.crt", "client.key", "peer-ca.crt", "peer.crt", "peer.key", "server.crt", "server.key"} {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// TestEtcdBundleValidityFollowsTheConfiguredDate: leaves 398 days counting
// the backdated day (CA/B Forum BR 6.3.2), the CAs 30 days longer, the
// bundle's NotAfter the earliest of them.
func TestEtcdBundleValidityFollowsTheConfiguredDate(t *testing.T) {
	b := bundle(t, nil)
	for _, leaf := range []string{b.ServerCert, b.PeerCert, b.ClientCert} {
		c := parse(t, leaf)
		assert.Equal(t, testDate.Add(-24*time.Hour), c.NotBefore)
		assert.Equal(t, testDate.Add(397*24*time.Hour), c.NotAfter)
		assert.Equal(t, 398*24*time.Hour, c.NotAfter.Sub(c.NotBefore))
	}
	for _, ca := range []string{b.CACert, b.PeerCACert} {
		c := parse(t, ca)
		assert.Equal(t, testDate.Add(-24*time.Hour), c.NotBefore)
		assert.Equal(t, testDate.Add((397+30)*24*time.Hour), c.NotAfter)
	}
	assert.Equal(t, time.Date(2027, 12, 3, 0, 0, 0, 0, time.UTC), b.NotAfter)
	later := bundle(t, func(p *Params) { p.NotBefore = testDate.AddDate(1, 0, 0) })
	assert.Equal(t, testDate.AddDate(1, 0, 0).Add(397*24*time.Hour), later.NotAfter)
	assert.NotEqual(t, parse(t, b.ClientCert).SerialNumber, parse(t, later.ClientCert).SerialNumber, "a re-issued certificate gets its own serial (RFC 5280 4.1.2.2)")
}

// TestEtcdBundleRotationTrustsBothGenerations: the three runbook states.
// While rotating, either generation's leaves verify against the bundles;
// at the end only the new one does.
func TestEtcdBundleRotationTrustsBothGenerations(t *testing.T) {
	g1 := bundle(t, nil)
	trust := bundle(t, func(p *Params) { p.RotateFrom = 1 })
	issue := bundle(t, func(p *Params) { p.RotateFrom, p.Generation = 1, 2 })
	g2 := bundle(t, func(p *Params) { p.Generation = 2 })

	assert.Equal(t, g1.ClientCert, trust.ClientCert, "step 1 keeps the leaves")
	assert.NotEqual(t, g1.CACert, trust.CACert, "step 1 changes the CA bundles")
	assert.Equal(t, trust.CACert, issue.CACert, "step 2 keeps the CA bundles")
	assert.Equal(t, trust.PeerCACert, issue.PeerCACert, "step 2 keeps the CA bundles")
	assert.Equal(t, g2.ClientCert, issue.ClientCert, "step 2 issues generation 2's leaves")
	assert.Equal(t, 2, strings.Count(issue.CACert, "BEGIN CERTIFICATE"))
	for _, b := range []EtcdBundle{g1, issue} {
		assert.NoError(t, verify(t, b.ClientCert, trust.CACert, x509.ExtKeyUsageClientAuth))
		assert.NoError(t, verify(t, b.PeerCert, trust.PeerCACert, x509.ExtKeyUsageClientAuth))
		assert.NoError(t, verify(t, b.ServerCert, trust.CACert, x509.ExtKeyUsageServerAuth))
	}
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, verify(t, g1.ClientCert, g2.CACert, x509.ExtKeyUsageClientAuth), &unknown)
	assert.ErrorAs(t, verify(t, g1.PeerCert, g2.PeerCACert, x509.ExtKeyUsageClientAuth), &unknown)

	_, err := NewEtcdBundle(params(func(p *Params) { p.Generation, p.RotateFrom = 3, 1 }))
	assert.ErrorContains(t, err, "RotateFrom")
	_, err = NewEtcdBundle(params(func(p *Params) { p.Generation = 0 }))
	assert.ErrorContains(t, err, "Generation")
}

// TestEtcdBundleRenewalKeepsKeys: a new date re-issues the same keys, so a
// member still holding the old CA certificate verifies renewed leaves (and
// the reverse) while members restart one at a time.
func TestEtcdBundleRenewalKeepsKeys(t *testing.T) {
	old := bundle(t, nil)
	renewed := bundle(t, func(p *Params) { p.NotBefore = testDate.AddDate(0, 11, 0) })
	assert.NotEqual(t, old.CACert, renewed.CACert)
	assert.Equal(t, old.ClientKey, renewed.ClientKey)
	at := testDate.AddDate(0, 11, 1)
	for _, c := range []struct{ leaf, roots string }{
		{renewed.ClientCert, old.CACert}, {old.ClientCert, renewed.CACert}, {renewed.PeerCert, old.PeerCACert}, {old.PeerCert, renewed.PeerCACert},
	} {
		_, err := parse(t, c.leaf).Verify(x509.VerifyOptions{Roots: pool(t, c.roots), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: at})
		assert.NoError(t, err)
	}
}

// TestEtcdBundleMutualTLSHandshake proves the certificates work for what
// etcd does with them: a server verifying a client certificate, over a real
// TLS connection, with the DNS name of a member.
func TestEtcdBundleMutualTLSHandshake(t *testing.T) {
	b := bundle(t, func(p *Params) { p.NotBefore = time.Now().UTC().Truncate(24 * time.Hour) })
	roots := pool(t, b.CACert)
	serverCert, err := tls.X509KeyPair([]byte(b.ServerCert), []byte(b.ServerKey))
	require.NoError(t, err)
	clientCert, err := tls.X509KeyPair([]byte(b.ClientCert), []byte(b.ClientKey))
	require.NoError(t, err)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientCAs: roots, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.WriteString(conn, "ok")
		_ = conn.Close()
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs: roots, Certificates: []tls.Certificate{clientCert}, ServerName: "etcd-1.etcd-headless.anka.svc.cluster.local",
	})
	require.NoError(t, err)
	got, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))

	cert := parse(t, b.ServerCert)
	assert.Contains(t, cert.IPAddresses[0].String(), net.ParseIP("127.0.0.1").String())
	assert.NoError(t, cert.VerifyHostname("localhost"))
}
