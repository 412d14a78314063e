// Package nginxtest holds what the real-NGINX test and the nginx benchmark
// share: a throwaway PKI, a recording upstream, an NGINX runner that samples
// memory and temp dirs, streamed upload bodies, and a Harness tying them to a
// rendered nginxconf.Settings. Everything returns errors rather than taking a
// *testing.T, so the benchmark program can use it too.
package nginxtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/testca"
)

// PKI is a test CA with a server certificate and three client certificates:
// one valid, one from another CA, one expired (from the right CA).
type PKI struct {
	CAFile         string // PEM of the trusted client CA (also signs the server cert)
	ServerCertFile string
	ServerKeyFile  string
	CAPool         *x509.CertPool // for clients to trust the server

	Valid   tls.Certificate // signed by the CA, currently valid
	OtherCA tls.Certificate // signed by an unrelated CA
	Expired tls.Certificate // signed by the CA, expired yesterday

	ValidLeaf *x509.Certificate

	ca *testca.CA // the trusted client CA, for Chain and WriteCRL
}

// ServerKeyECDSA and ServerKeyRSA are the server key types NewPKI makes.
const (
	ServerKeyECDSA = "ecdsa"
	ServerKeyRSA   = "rsa"
)

// ValidSubject is the subject of PKI.Valid, as NGINX renders it
// ($ssl_client_s_dn, RFC 2253).
const ValidSubject = "CN=anka-node-1,OU=builders,O=Anka Test"

// NewPKI writes the CA and server files into dir. serverNames become DNS
// SANs of the server certificate, next to 127.0.0.1 and localhost. The
// server key is ECDSA P-256 unless serverKey is ServerKeyRSA: only an RSA
// server certificate makes a static-RSA key exchange possible at all, so a
// test that such suites are refused needs one.
func NewPKI(dir string, serverNames []string, serverKey string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	now := time.Now()
	newCA := func(cn string) (*testca.CA, error) {
		return testca.NewFrom(&x509.Certificate{
			Subject:   pkix.Name{CommonName: cn, Organization: []string{"Anka Test"}},
			NotBefore: now.Add(-72 * time.Hour),
			NotAfter:  now.Add(72 * time.Hour),
		})
	}
	ca, err := newCA("Anka Test Client CA")
	if err != nil {
		return nil, err
	}
	other, err := newCA("Some Other CA")
	if err != nil {
		return nil, err
	}

	var key crypto.Signer
	switch serverKey {
	case "", ServerKeyECDSA:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ServerKeyRSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		err = fmt.Errorf("unknown server key type %q", serverKey)
	}
	if err != nil {
		return nil, err
	}
	server, err := ca.IssueWithKey(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "anka-edge"},
		DNSNames:    append([]string{"localhost"}, serverNames...),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, key)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		CAFile:         filepath.Join(dir, "client-ca.crt"),
		ServerCertFile: filepath.Join(dir, "server.crt"),
		ServerKeyFile:  filepath.Join(dir, "server.key"),
		CAPool:         x509.NewCertPool(),
		ca:             ca,
	}
	p.CAPool.AddCert(ca.Cert)

	if p.Valid, err = clientCert(ca, "anka-node-1", now.Add(-time.Hour), now.Add(24*time.Hour)); err != nil {
		return nil, err
	}
	p.ValidLeaf = p.Valid.Leaf
	if p.OtherCA, err = clientCert(other, "anka-node-1", now.Add(-time.Hour), now.Add(24*time.Hour)); err != nil {
		return nil, err
	}
	if p.Expired, err = clientCert(ca, "anka-node-1", now.Add(-48*time.Hour), now.Add(-24*time.Hour)); err != nil {
		return nil, err
	}

	for _, f := range []struct {
		path, pem string
		mode      os.FileMode
	}{
		{p.CAFile, ca.CertPEM, 0o644},
		{p.ServerCertFile, server.CertPEM, 0o644},
		{p.ServerKeyFile, server.KeyPEM, 0o600},
	} {
		if err := os.WriteFile(f.path, []byte(f.pem), f.mode); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Chain returns a valid client certificate issued through n intermediate
// CAs under the trusted CA, with the intermediates in the chain the client
// sends (leaf first), as a client whose CA hierarchy is deeper than the
// edge's would present it. n = 0 is a certificate like Valid.
func (p *PKI) Chain(n int) (tls.Certificate, error) {
	now := time.Now()
	issuer := p.ca
	var intermediates [][]byte
	for i := range n {
		next, err := issuer.Intermediate(&x509.Certificate{
			Subject:   pkix.Name{CommonName: fmt.Sprintf("Anka Test Intermediate %d", i+1), Organization: []string{"Anka Test"}},
			NotBefore: now.Add(-time.Hour),
			NotAfter:  now.Add(24 * time.Hour),
		})
		if err != nil {
			return tls.Certificate{}, err
		}
		intermediates = append([][]byte{next.Cert.Raw}, intermediates...)
		issuer = next
	}
	c, err := clientCert(issuer, "anka-node-chained", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return tls.Certificate{}, err
	}
	c.Certificate = append(c.Certificate, intermediates...)
	return c, nil
}

// WriteCRL writes a PEM CRL of the trusted CA to path, issued two hours ago
// and valid until nextUpdate, revoking the given certificates.
func (p *PKI) WriteCRL(path string, nextUpdate time.Time, revoked ...*x509.Certificate) error {
	var serials []*big.Int
	for _, c := range revoked {
		serials = append(serials, c.SerialNumber)
	}
	crl, err := p.ca.CRL(nil, time.Now().Add(-2*time.Hour), nextUpdate, serials...)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(crl.PEM), 0o644)
}

// clientCert is a client certificate for cn in the builders' OU, the shape
// of subject ValidSubject names.
func clientCert(ca *testca.CA, cn string, notBefore, notAfter time.Time) (tls.Certificate, error) {
	leaf, err := ca.Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, OrganizationalUnit: []string{"builders"}, Organization: []string{"Anka Test"}},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return tls.Certificate{}, err
	}
	return leaf.TLS(), nil
}
