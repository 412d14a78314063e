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
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
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

	ca *signer // the trusted client CA, for Chain and WriteCRL
}

// ServerKeyECDSA and ServerKeyRSA are the server key types NewPKI makes.
const (
	ServerKeyECDSA = "ecdsa"
	ServerKeyRSA   = "rsa"
)

// ValidSubject is the subject of PKI.Valid, as NGINX renders it
// ($ssl_client_s_dn, RFC 2253).
const ValidSubject = "CN=anka-node-1,OU=builders,O=Anka Test"

type signer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

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
	ca, err := newCA("Anka Test Client CA", now)
	if err != nil {
		return nil, err
	}
	other, err := newCA("Some Other CA", now)
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
	server, err := issueWithKey(ca, key, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "anka-edge"},
		DNSNames:    append([]string{"localhost"}, serverNames...),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	clientTemplate := func(cn string, notBefore, notAfter time.Time) *x509.Certificate {
		return &x509.Certificate{
			Subject:     pkix.Name{CommonName: cn, OrganizationalUnit: []string{"builders"}, Organization: []string{"Anka Test"}},
			NotBefore:   notBefore,
			NotAfter:    notAfter,
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
	}
	p := &PKI{
		CAFile:         filepath.Join(dir, "client-ca.crt"),
		ServerCertFile: filepath.Join(dir, "server.crt"),
		ServerKeyFile:  filepath.Join(dir, "server.key"),
		CAPool:         x509.NewCertPool(),
		ca:             ca,
	}
	p.CAPool.AddCert(ca.cert)

	if p.Valid, p.ValidLeaf, err = clientCert(ca, clientTemplate("anka-node-1", now.Add(-time.Hour), now.Add(24*time.Hour))); err != nil {
		return nil, err
	}
	if p.OtherCA, _, err = clientCert(other, clientTemplate("anka-node-1", now.Add(-time.Hour), now.Add(24*time.Hour))); err != nil {
		return nil, err
	}
	if p.Expired, _, err = clientCert(ca, clientTemplate("anka-node-1", now.Add(-48*time.Hour), now.Add(-24*time.Hour))); err != nil {
		return nil, err
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path, typ string
		der       []byte
		mode      os.FileMode
	}{
		{p.CAFile, "CERTIFICATE", ca.cert.Raw, 0o644},
		{p.ServerCertFile, "CERTIFICATE", server.Raw, 0o644},
		{p.ServerKeyFile, "PRIVATE KEY", keyDER, 0o600},
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(f.path, data, f.mode); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newCA(cn string, now time.Time) (*signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Anka Test"}},
		NotBefore:             now.Add(-72 * time.Hour),
		NotAfter:              now.Add(72 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &signer{cert: cert, key: key}, nil
}

func issue(ca *signer, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	cert, err := issueWithKey(ca, key, tmpl)
	return cert, key, err
}

func issueWithKey(ca *signer, key crypto.Signer, tmpl *x509.Certificate) (*x509.Certificate, error) {
	tmpl.SerialNumber = serial()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
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
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		cert, err := issueWithKey(issuer, key, &x509.Certificate{
			Subject:               pkix.Name{CommonName: fmt.Sprintf("Anka Test Intermediate %d", i+1), Organization: []string{"Anka Test"}},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		})
		if err != nil {
			return tls.Certificate{}, err
		}
		intermediates = append([][]byte{cert.Raw}, intermediates...)
		issuer = &signer{cert: cert, key: key}
	}
	leaf, key, err := issue(issuer, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "anka-node-chained", OrganizationalUnit: []string{"builders"}, Organization: []string{"Anka Test"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: append([][]byte{leaf.Raw}, intermediates...), PrivateKey: key, Leaf: leaf}, nil
}

// WriteCRL writes a PEM CRL of the trusted CA to path, issued an hour ago
// and valid until nextUpdate, revoking the given certificates.
func (p *PKI) WriteCRL(path string, nextUpdate time.Time, revoked ...*x509.Certificate) error {
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    serial(),
		ThisUpdate:                time.Now().Add(-2 * time.Hour),
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: entries,
	}, p.ca.cert, p.ca.key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

func clientCert(ca *signer, tmpl *x509.Certificate) (tls.Certificate, *x509.Certificate, error) {
	cert, key, err := issue(ca, tmpl)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, cert, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}
