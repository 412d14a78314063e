package testca

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var now = time.Now()

func mustCA(t *testing.T, cn string) *CA {
	t.Helper()
	ca, err := New(cn, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	return ca
}

func leafTemplate(usage x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "anka.test"},
		DNSNames:    []string{"anka.test", "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
}

func pool(cas ...*CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

// TestCA: New makes a self-signed CA that may sign certificates and CRLs,
// and whose PEM is its certificate.
func TestCA(t *testing.T) {
	ca := mustCA(t, "anka test CA")
	assert.True(t, ca.Cert.IsCA)
	assert.Equal(t, "anka test CA", ca.Cert.Subject.CommonName)
	assert.Equal(t, ca.Cert.Subject.String(), ca.Cert.Issuer.String())
	require.NoError(t, ca.Cert.CheckSignatureFrom(ca.Cert), "self-signed")
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, ca.Cert.KeyUsage)
	assert.WithinDuration(t, now.Add(-time.Hour), ca.Cert.NotBefore, time.Second)
	assert.WithinDuration(t, now.Add(time.Hour), ca.Cert.NotAfter, time.Second)

	block, _ := pem.Decode([]byte(ca.CertPEM))
	require.NotNil(t, block)
	assert.Equal(t, "CERTIFICATE", block.Type)
	assert.Equal(t, ca.Cert.Raw, block.Bytes)

	assert.NotEqual(t, ca.Cert.SerialNumber, mustCA(t, "anka test CA").Cert.SerialNumber, "serials are random")
}

// TestNewFromKeepsTheTemplate: the subject, key usages and path length a
// caller asks for are the CA's, and the template is left alone.
func TestNewFromKeepsTheTemplate(t *testing.T) {
	tmpl := &x509.Certificate{
		Subject:        pkix.Name{CommonName: "Anka Test Client CA", Organization: []string{"Anka Test"}},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.Add(time.Hour),
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	ca, err := NewFrom(tmpl)
	require.NoError(t, err)
	assert.Equal(t, "CN=Anka Test Client CA,O=Anka Test", ca.Cert.Subject.String())
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature, ca.Cert.KeyUsage)
	assert.True(t, ca.Cert.MaxPathLenZero)
	assert.Nil(t, tmpl.SerialNumber)
	assert.False(t, tmpl.IsCA)

	// The path length limit is enforced: no intermediate under it.
	mid, err := ca.Intermediate(&x509.Certificate{Subject: pkix.Name{CommonName: "mid"}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)})
	require.NoError(t, err)
	leaf, err := mid.Issue(leafTemplate(x509.ExtKeyUsageServerAuth))
	require.NoError(t, err)
	_, err = leaf.Cert.Verify(x509.VerifyOptions{Roots: pool(ca), Intermediates: pool(mid)})
	require.Error(t, err)
}

// TestIssue: a leaf carries the template's names and usages, chains to its
// CA for the usage it was issued for, and to no other CA or usage.
func TestIssue(t *testing.T) {
	ca, other := mustCA(t, "anka test CA"), mustCA(t, "other CA")
	tmpl := leafTemplate(x509.ExtKeyUsageServerAuth)
	leaf, err := ca.Issue(tmpl)
	require.NoError(t, err)
	assert.Nil(t, tmpl.SerialNumber, "the template is not modified")

	assert.Equal(t, []string{"anka.test", "localhost"}, leaf.Cert.DNSNames)
	require.Len(t, leaf.Cert.IPAddresses, 1)
	assert.True(t, leaf.Cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))
	assert.Equal(t, "CN=anka test CA", leaf.Cert.Issuer.String())
	assert.IsType(t, &ecdsa.PrivateKey{}, leaf.Key)

	verify := func(roots *x509.CertPool, name string, usage x509.ExtKeyUsage) error {
		_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	require.NoError(t, verify(pool(ca), "anka.test", x509.ExtKeyUsageServerAuth))
	require.NoError(t, verify(pool(ca), "127.0.0.1", x509.ExtKeyUsageServerAuth))
	require.Error(t, verify(pool(other), "anka.test", x509.ExtKeyUsageServerAuth), "another CA")
	require.Error(t, verify(pool(ca), "anka.test", x509.ExtKeyUsageClientAuth), "a server certificate is no client certificate")
	require.Error(t, verify(pool(ca), "other.test", x509.ExtKeyUsageServerAuth), "a name it was not issued for")

	block, _ := pem.Decode([]byte(leaf.KeyPEM))
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type)
	_, err = tls.X509KeyPair([]byte(leaf.CertPEM), []byte(leaf.KeyPEM))
	require.NoError(t, err, "the PEM key is the certificate's")

	again, err := ca.Issue(tmpl)
	require.NoError(t, err)
	assert.NotEqual(t, leaf.Cert.SerialNumber, again.Cert.SerialNumber)
}

// TestIssueWithKey: an RSA key gives an RSA certificate, in PKCS#8.
func TestIssueWithKey(t *testing.T) {
	ca := mustCA(t, "anka test CA")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	leaf, err := ca.IssueWithKey(leafTemplate(x509.ExtKeyUsageServerAuth), key)
	require.NoError(t, err)
	assert.Equal(t, x509.RSA, leaf.Cert.PublicKeyAlgorithm)
	assert.True(t, key.PublicKey.Equal(leaf.Cert.PublicKey))
	pair, err := tls.X509KeyPair([]byte(leaf.CertPEM), []byte(leaf.KeyPEM))
	require.NoError(t, err)
	assert.IsType(t, &rsa.PrivateKey{}, pair.PrivateKey)
	_, err = leaf.Cert.Verify(x509.VerifyOptions{Roots: pool(ca), DNSName: "localhost"})
	require.NoError(t, err)
}

// TestIntermediate: a leaf under n intermediates verifies against the root
// only with the intermediates.
func TestIntermediate(t *testing.T) {
	root := mustCA(t, "root")
	mid, err := root.Intermediate(&x509.Certificate{Subject: pkix.Name{CommonName: "mid"}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)})
	require.NoError(t, err)
	assert.True(t, mid.Cert.IsCA)
	assert.Equal(t, "CN=root", mid.Cert.Issuer.String())
	require.NoError(t, mid.Cert.CheckSignatureFrom(root.Cert))

	leaf, err := mid.Issue(leafTemplate(x509.ExtKeyUsageClientAuth))
	require.NoError(t, err)
	opts := x509.VerifyOptions{Roots: pool(root), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	_, err = leaf.Cert.Verify(opts)
	require.Error(t, err, "no path without the intermediate")
	opts.Intermediates = pool(mid)
	_, err = leaf.Cert.Verify(opts)
	require.NoError(t, err)
}

// TestCRL: the CRL parses, is signed by its CA (and not another), and lists
// the revoked serials with the dates and number asked for.
func TestCRL(t *testing.T) {
	ca, other := mustCA(t, "anka test CA"), mustCA(t, "other CA")
	this, next := now.Add(-time.Hour).Truncate(time.Second), now.Add(24*time.Hour).Truncate(time.Second)
	crl, err := ca.CRL(big.NewInt(7), this, next, big.NewInt(99))
	require.NoError(t, err)

	block, _ := pem.Decode([]byte(crl.PEM))
	require.NotNil(t, block)
	assert.Equal(t, "X509 CRL", block.Type)
	assert.Equal(t, crl.DER, block.Bytes)
	list, err := x509.ParseRevocationList(crl.DER)
	require.NoError(t, err)
	require.NoError(t, list.CheckSignatureFrom(ca.Cert))
	require.Error(t, list.CheckSignatureFrom(other.Cert))
	assert.Equal(t, 0, list.Number.Cmp(big.NewInt(7)))
	assert.True(t, list.ThisUpdate.Equal(this))
	assert.True(t, list.NextUpdate.Equal(next))
	require.Len(t, list.RevokedCertificateEntries, 1)
	entry := list.RevokedCertificateEntries[0]
	assert.Equal(t, 0, entry.SerialNumber.Cmp(big.NewInt(99)))
	assert.True(t, entry.RevocationTime.Before(time.Now()), "revoked already")

	a, err := ca.CRL(nil, this, next)
	require.NoError(t, err)
	b, err := ca.CRL(nil, this, next)
	require.NoError(t, err)
	la, err := x509.ParseRevocationList(a.DER)
	require.NoError(t, err)
	lb, err := x509.ParseRevocationList(b.DER)
	require.NoError(t, err)
	assert.Empty(t, la.RevokedCertificateEntries)
	assert.NotEqual(t, 0, la.Number.Cmp(lb.Number), "random CRL numbers differ")
}

// TestTLS: the pairs' tls.Certificates complete a mutual TLS handshake,
// each side trusting the CA.
func TestTLS(t *testing.T) {
	ca := mustCA(t, "anka test CA")
	server, err := ca.Issue(leafTemplate(x509.ExtKeyUsageServerAuth))
	require.NoError(t, err)
	client, err := ca.Issue(leafTemplate(x509.ExtKeyUsageClientAuth))
	require.NoError(t, err)

	assert.Same(t, client.Cert, client.TLS().Leaf, "the parsed leaf rides along (nginxtest's ValidLeaf is it)")

	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	// A side that refuses the other's certificate returns while the other
	// still waits for its next message.
	require.NoError(t, sc.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, cc.SetDeadline(time.Now().Add(10*time.Second)))
	srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{server.TLS()}, ClientCAs: pool(ca),
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	cli := tls.Client(cc, &tls.Config{Certificates: []tls.Certificate{client.TLS()}, RootCAs: pool(ca),
		ServerName: "anka.test", MinVersion: tls.VersionTLS13})
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-done)
	assert.Equal(t, client.Cert.Raw, srv.ConnectionState().PeerCertificates[0].Raw)
}
