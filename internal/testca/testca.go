// Package testca is the throwaway certificate authority of the tests: a CA,
// the certificates it issues, and its CRLs, made with fresh randomness and
// ECDSA P-256 keys (fast to generate; a caller that needs another key type
// brings its own key).
//
// Unlike internal/pki, nothing here is deterministic: these certificates
// live only as long as a test run (or, for the local stack, in its saved
// state), so no preview ever has to render them twice.
//
// It is test support that harness programs link too (tests/integration with
// its cmd/localup, the edge's nginxtest with its nginxbench, fakeaws): it
// does not import package testing and returns errors instead.
package testca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// KeyPair is a certificate with its private key, parsed and PEM-encoded.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM string
	// KeyPEM is PKCS#8 ("PRIVATE KEY"): the one encoding that holds any key
	// type, and the one the local stack's saved state already has.
	KeyPEM string
}

// TLS is the pair as a TLS server or client presents it.
func (p *KeyPair) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
}

// CA is a key pair that issues certificates and CRLs.
type CA struct{ KeyPair }

// New makes a self-signed CA whose subject is only commonName.
func New(commonName string, notBefore, notAfter time.Time) (*CA, error) {
	return NewFrom(&x509.Certificate{Subject: pkix.Name{CommonName: commonName}, NotBefore: notBefore, NotAfter: notAfter})
}

// NewFrom makes a self-signed CA from tmpl, for a subject with more than a
// name, a path length limit or other key usages. tmpl is not modified.
func NewFrom(tmpl *x509.Certificate) (*CA, error) {
	return newCA(tmpl, nil)
}

// Intermediate issues a CA from tmpl under ca, for a chain deeper than one
// CA. tmpl is not modified.
func (ca *CA) Intermediate(tmpl *x509.Certificate) (*CA, error) {
	return newCA(tmpl, &ca.KeyPair)
}

// newCA issues tmpl as a CA with a fresh key, under parent or (nil)
// self-signed. Without key usages it may sign certificates and CRLs, which
// is all a test CA does.
func newCA(tmpl *x509.Certificate, parent *KeyPair) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	t := *tmpl
	t.IsCA, t.BasicConstraintsValid = true, true
	if t.KeyUsage == 0 {
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	p, err := issue(&t, key, parent)
	if err != nil {
		return nil, err
	}
	return &CA{*p}, nil
}

// Issue issues tmpl with a fresh ECDSA P-256 key and a random serial.
// tmpl is not modified.
func (ca *CA) Issue(tmpl *x509.Certificate) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return issue(tmpl, key, &ca.KeyPair)
}

// IssueWithKey issues tmpl for key (e.g. an RSA key, where a test needs a
// key exchange only RSA certificates allow) with a random serial. tmpl is
// not modified.
func (ca *CA) IssueWithKey(tmpl *x509.Certificate, key crypto.Signer) (*KeyPair, error) {
	return issue(tmpl, key, &ca.KeyPair)
}

// issue signs tmpl, with a random serial, for key: by parent, or (nil) by
// key itself.
func issue(tmpl *x509.Certificate, key crypto.Signer, parent *KeyPair) (*KeyPair, error) {
	t := *tmpl
	var err error
	if t.SerialNumber, err = serial(); err != nil {
		return nil, err
	}
	parentCert, parentKey := &t, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parentCert, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", t.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key, CertPEM: pemOf("CERTIFICATE", der), KeyPEM: pemOf("PRIVATE KEY", keyDER)}, nil
}

// CRL is a signed certificate revocation list.
type CRL struct {
	DER []byte
	PEM string
}

// CRL signs a CRL revoking the given serials, each revoked a minute ago
// (so the revocation is already in effect for a client checked now).
// number nil takes a random CRL number, so that successive CRLs of one CA
// differ.
func (ca *CA) CRL(number *big.Int, thisUpdate, nextUpdate time.Time, revoked ...*big.Int) (*CRL, error) {
	if number == nil {
		var err error
		if number, err = serial(); err != nil {
			return nil, err
		}
	}
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                thisUpdate,
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, err
	}
	return &CRL{DER: der, PEM: pemOf("X509 CRL", der)}, nil
}

// serial is a random 120-bit serial: unique across every CA a test makes
// without keeping count, and within the 20 octets RFC 5280 allows.
func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
