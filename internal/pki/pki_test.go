package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var seed = []byte("0123456789abcdef0123456789abcdef-test-seed")

func TestEtcdBundleIsDeterministic(t *testing.T) {
	a, err := NewEtcdBundle(seed, "anka", []string{"*.etcd-headless.anka.svc.cluster.local"})
	require.NoError(t, err)
	b, err := NewEtcdBundle(seed, "anka", []string{"*.etcd-headless.anka.svc.cluster.local"})
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same seed must give byte-identical PEM, or every preview shows a diff")
	c, err := NewEtcdBundle(append([]byte("x"), seed...), "anka", []string{"*.etcd-headless.anka.svc.cluster.local"})
	require.NoError(t, err)
	assert.NotEqual(t, a.CACert, c.CACert)
	assert.NotEqual(t, a.ServerKey, c.ServerKey)
}

func TestEtcdBundleRefusesShortSeeds(t *testing.T) {
	_, err := NewEtcdBundle([]byte("short"), "anka", nil)
	assert.True(t, errors.Is(err, ErrShortSeed))
}

// TestEtcdBundleMutualTLSHandshake proves the certificates work for what
// etcd does with them: a server verifying a client certificate, over a real
// TLS connection, with the DNS name of a member.
func TestEtcdBundleMutualTLSHandshake(t *testing.T) {
	b, err := NewEtcdBundle(seed, "anka", []string{"*.etcd-headless.anka.svc.cluster.local"})
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(b.CACert)))
	serverCert, err := tls.X509KeyPair([]byte(b.ServerCert), []byte(b.ServerKey))
	require.NoError(t, err)
	clientCert, err := tls.X509KeyPair([]byte(b.ClientCert), []byte(b.ClientKey))
	require.NoError(t, err)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
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
		RootCAs: pool, Certificates: []tls.Certificate{clientCert}, ServerName: "etcd-1.etcd-headless.anka.svc.cluster.local",
	})
	require.NoError(t, err)
	got, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))

	block, _ := pem.Decode([]byte(b.ServerCert))
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Contains(t, cert.IPAddresses[0].String(), net.ParseIP("127.0.0.1").String())
	assert.NoError(t, cert.VerifyHostname("localhost"))
}
