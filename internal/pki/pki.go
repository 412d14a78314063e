// Package pki derives the etcd cluster's certificates from one stack secret.
//
// Pulumi runs the program on every preview; certificates generated with fresh
// randomness would differ each time, so `pulumi preview` would never be empty
// and `pulumi up` would rotate etcd's keys (restarting every member). Here all
// keys are Ed25519 keys derived from the seed with HMAC-SHA256, and Ed25519
// signatures are deterministic, so the same inputs always give byte-identical
// PEM.
//
// Every derivation is scoped: the HMAC message names the stack
// (`<project>/<stack>`), the namespace and the generation, so one seed reused
// in two stacks, or two generations of one stack, give unrelated CAs that
// refuse each other's certificates.
//
// Two CAs per generation: the client CA issues the server certificate (the
// client URLs, 2379) and the client certificate (Controller, backup, prune);
// the peer CA issues only the peer certificate, and members trust only the
// peer CA on the peer URLs (2380), so the client key, which several pods
// mount, cannot join or read the raft traffic.
package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"time"
)

// Validity. A generation's certificates are valid from a configured date (a
// date, not the clock, so the program renders the same PEM on every preview).
const (
	// Backdate: certificates are valid from a day before the configured
	// date, so a date written in any time zone (local dates lead UTC by up
	// to 14 h) is already valid when it is deployed.
	Backdate = 24 * time.Hour
	// LeafValidity is counted from the configured date: with the backdated
	// day the leaves are valid 398 days, the most the CA/Browser Forum
	// Baseline Requirements allow a TLS subscriber certificate (BR 6.3.2,
	// ballot SC31, in force since 2020-09-01: "MUST NOT have a Validity
	// Period greater than 398 days"). This PKI is private, but a security
	// review reads its lifetimes against that rule; a yearly renewal is one
	// config change (docs/operations.md, "Renewing etcd's certificates").
	LeafValidity = 397 * 24 * time.Hour
	// CAValidity: the CAs outlive their leaves by 30 days, so the expiry
	// that warnings and alerts watch first is always a leaf's, and a leaf is
	// never checked against an expired issuer.
	CAValidity = LeafValidity + 30*24*time.Hour
)

// MinSeedBytes is the least entropy a seed carries: 32 bytes, written as 64
// hex characters by `openssl rand -hex 32`.
const MinSeedBytes = 32

// ErrSeed is returned for a seed that is not at least MinSeedBytes of hex.
var ErrSeed = errors.New("invalid seed")

// DecodeSeed hex-decodes a seed of at least MinSeedBytes bytes (64 hex
// characters). A passphrase or any shorter string is refused, not stretched.
func DecodeSeed(s string) ([]byte, error) {
	if len(s) < 2*MinSeedBytes {
		return nil, fmt.Errorf("%w: need at least %d hex characters (%d bytes), got %d characters", ErrSeed, 2*MinSeedBytes, MinSeedBytes, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex: %w", ErrSeed, err)
	}
	return b, nil
}

// Scope names what a derivation belongs to.
type Scope struct {
	// Stack is "<project>/<stack>".
	Stack string
	// Namespace the members run in.
	Namespace string
}

// Params are the inputs of one bundle.
type Params struct {
	// Seed is the decoded stack secret (DecodeSeed).
	Seed  []byte
	Scope Scope
	// Generation issues the leaves; at least 1.
	Generation int
	// RotateFrom, when not 0, makes the CA bundles trust generations
	// RotateFrom and RotateFrom+1 (a rotation in progress); it must be
	// Generation or Generation-1.
	RotateFrom int
	// NotBefore is the configured date (midnight UTC).
	NotBefore time.Time
	// DNSNames go on the server and peer certificates (wildcards for the
	// headless Service are fine); 127.0.0.1 and localhost are always added
	// so in-pod tools can reach the local member.
	DNSNames []string
}

// Trusted returns the generations the CA bundles hold, oldest first.
func (p Params) Trusted() []int {
	if p.RotateFrom == 0 {
		return []int{p.Generation}
	}
	return []int{p.RotateFrom, p.RotateFrom + 1}
}

// Validate reports what makes the params underivable.
func (p Params) Validate() error {
	var errs []error
	if len(p.Seed) < MinSeedBytes {
		errs = append(errs, fmt.Errorf("%w: need at least %d bytes, got %d", ErrSeed, MinSeedBytes, len(p.Seed)))
	}
	if p.Scope.Stack == "" || p.Scope.Namespace == "" {
		errs = append(errs, errors.New("pki: Scope.Stack and Scope.Namespace are required"))
	}
	if p.Generation < 1 {
		errs = append(errs, fmt.Errorf("pki: Generation must be at least 1, got %d", p.Generation))
	}
	if p.RotateFrom != 0 && p.RotateFrom != p.Generation && p.RotateFrom != p.Generation-1 {
		errs = append(errs, fmt.Errorf("pki: RotateFrom must be 0, Generation (%d) or Generation-1, got %d", p.Generation, p.RotateFrom))
	}
	if p.NotBefore.IsZero() {
		errs = append(errs, errors.New("pki: NotBefore is required"))
	}
	return errors.Join(errs...)
}

// LeafNotAfter is when the leaves of a bundle with these params expire: the
// earliest expiry of any certificate in it.
func (p Params) LeafNotAfter() time.Time { return p.NotBefore.Add(LeafValidity) }

// EtcdBundle is the PEM material of one etcd cluster.
type EtcdBundle struct {
	// CACert verifies the server certificate (for clients) and client
	// certificates (for members, --trusted-ca-file): the client CA of each
	// trusted generation.
	CACert string
	// PeerCACert verifies peers (--peer-trusted-ca-file): the peer CA of
	// each trusted generation.
	PeerCACert string
	// ServerCert serves the client URLs (serverAuth only: it cannot act as
	// a client).
	ServerCert string
	ServerKey  string
	// PeerCert serves and dials the peer URLs (serverAuth and clientAuth:
	// a peer is both).
	PeerCert string
	PeerKey  string
	// ClientCert is what etcdctl, backups and the Build Cloud Controller
	// present (clientAuth only).
	ClientCert string
	ClientKey  string
	// NotAfter is the earliest expiry of any certificate in the bundle.
	NotAfter time.Time
}

// Files maps the bundle to the file names the etcd pods mount (the keys of
// the Kubernetes Secret etcd-tls).
func (b EtcdBundle) Files() map[string]string {
	return map[string]string{
		"ca.crt": b.CACert, "peer-ca.crt": b.PeerCACert, "server.crt": b.ServerCert, "server.key": b.ServerKey,
		"peer.crt": b.PeerCert, "peer.key": b.PeerKey, "client.crt": b.ClientCert, "client.key": b.ClientKey,
	}
}

// ClientFiles is the subset a client (the Controller) needs.
func (b EtcdBundle) ClientFiles() map[string]string {
	return map[string]string{"ca.crt": b.CACert, "client.crt": b.ClientCert, "client.key": b.ClientKey}
}

// derivation is one generation of one scope.
type derivation struct {
	seed       []byte
	scope      Scope
	generation int
	notBefore  time.Time
}

// message is an unambiguous encoding of the derivation's inputs and a label:
// each part length-prefixed, so no two (stack, namespace, generation, label)
// tuples give the same HMAC input.
func (d derivation) message(purpose, label string, withDate bool) []byte {
	var buf bytes.Buffer
	parts := []string{"anka-etcd-pki/v2", purpose, d.scope.Stack, d.scope.Namespace, strconv.Itoa(d.generation), label}
	if withDate {
		parts = append(parts, d.notBefore.UTC().Format(time.RFC3339))
	}
	for _, p := range parts {
		var n [binary.MaxVarintLen64]byte
		buf.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		buf.WriteString(p)
	}
	return buf.Bytes()
}

func (d derivation) mac(msg []byte) []byte {
	mac := hmac.New(sha256.New, d.seed)
	mac.Write(msg)
	return mac.Sum(nil)
}

// key does not depend on the date: renewing a generation (a new notBefore)
// re-issues certificates for the same keys, so old and new CA certificates
// verify each other's leaves while members restart one at a time.
func (d derivation) key(label string) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(d.mac(d.message("key", label, false)))
}

// serial depends on the date: an issuer must never reuse a serial number
// for a different certificate (RFC 5280, 4.1.2.2).
func (d derivation) serial(label string) *big.Int {
	return new(big.Int).SetBytes(d.mac(d.message("serial", label, true))[:16])
}

type issuer struct {
	cert *x509.Certificate
	key  ed25519.PrivateKey
	pem  string
}

func (d derivation) ca(label, cn string) (issuer, error) {
	key := d.key(label)
	tmpl := &x509.Certificate{
		SerialNumber: d.serial(label),
		Subject: pkix.Name{
			CommonName:         fmt.Sprintf("%s g%d", cn, d.generation),
			Organization:       []string{"anka-build-cloud"},
			OrganizationalUnit: []string{d.scope.Stack + " " + d.scope.Namespace},
		},
		NotBefore:             d.notBefore.Add(-Backdate),
		NotAfter:              d.notBefore.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return issuer{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return issuer{}, err
	}
	return issuer{cert: cert, key: key, pem: encode("CERTIFICATE", der)}, nil
}

func (d derivation) leaf(ca issuer, label, cn string, usages []x509.ExtKeyUsage, names []string, ips []net.IP) (string, string, error) {
	key := d.key(label)
	tmpl := &x509.Certificate{
		SerialNumber: d.serial(label),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"anka-build-cloud"}, OrganizationalUnit: []string{d.scope.Stack + " " + d.scope.Namespace}},
		NotBefore:    d.notBefore.Add(-Backdate),
		NotAfter:     d.notBefore.Add(LeafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usages,
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(nil, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return encode("CERTIFICATE", der), encode("PRIVATE KEY", keyDER), nil
}

// NewEtcdBundle derives the bundle: leaves of p.Generation, CA bundles of
// p.Trusted().
func NewEtcdBundle(p Params) (EtcdBundle, error) {
	if err := p.Validate(); err != nil {
		return EtcdBundle{}, err
	}
	at := func(g int) derivation {
		return derivation{seed: p.Seed, scope: p.Scope, generation: g, notBefore: p.NotBefore.UTC()}
	}
	var b EtcdBundle
	for _, g := range p.Trusted() {
		clientCA, err := at(g).ca("client-ca", "anka etcd CA")
		if err != nil {
			return EtcdBundle{}, err
		}
		peerCA, err := at(g).ca("peer-ca", "anka etcd peer CA")
		if err != nil {
			return EtcdBundle{}, err
		}
		b.CACert += clientCA.pem
		b.PeerCACert += peerCA.pem
	}
	d := at(p.Generation)
	clientCA, err := d.ca("client-ca", "anka etcd CA")
	if err != nil {
		return EtcdBundle{}, err
	}
	peerCA, err := d.ca("peer-ca", "anka etcd peer CA")
	if err != nil {
		return EtcdBundle{}, err
	}
	names := append([]string{"localhost"}, p.DNSNames...)
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	serverAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if b.ServerCert, b.ServerKey, err = d.leaf(clientCA, "server", "anka etcd server", serverAuth, names, ips); err != nil {
		return EtcdBundle{}, err
	}
	if b.PeerCert, b.PeerKey, err = d.leaf(peerCA, "peer", "anka etcd peer", both, names, ips); err != nil {
		return EtcdBundle{}, err
	}
	if b.ClientCert, b.ClientKey, err = d.leaf(clientCA, "client", "anka-etcd-client", clientAuth, nil, nil); err != nil {
		return EtcdBundle{}, err
	}
	b.NotAfter = p.LeafNotAfter()
	return b, nil
}

func encode(kind string, der []byte) string {
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: kind, Bytes: der})
	return buf.String()
}
