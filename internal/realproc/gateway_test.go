package realproc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pki"
)

func etcdBundle(t *testing.T, generation int) pki.EtcdBundle {
	t.Helper()
	seed, err := pki.DecodeSeed("7f3c1a9e5b2d48c6a0e1f4b3c2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7")
	require.NoError(t, err)
	b, err := pki.NewEtcdBundle(pki.Params{Seed: seed, Scope: pki.Scope{Stack: "anka/test", Namespace: "anka"},
		Generation: generation, NotBefore: time.Now().UTC().Truncate(24 * time.Hour)})
	require.NoError(t, err)
	return b
}

// TestMTLSClientAlwaysPresentsItsCertificate: the server asks for a
// certificate and lists only generation 1's CA as acceptable; the client
// still presents its generation 2 certificate, so a refusal in the real-etcd
// tests is always the member's. Without a certificate it presents none.
func TestMTLSClientAlwaysPresentsItsCertificate(t *testing.T) {
	g1, g2 := etcdBundle(t, 1), etcdBundle(t, 2)
	serving, err := tls.X509KeyPair([]byte(g1.ServerCert), []byte(g1.ServerKey))
	require.NoError(t, err)
	acceptable := x509.NewCertPool()
	require.True(t, acceptable.AppendCertsFromPEM([]byte(g1.CACert)))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(len(r.TLS.PeerCertificates))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientAuth: tls.RequestClientCert, ClientCAs: acceptable}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	presented := func(certPEM, keyPEM string) string {
		c, err := MTLSClient(5*time.Second, g1.CACert, certPEM, keyPEM)
		require.NoError(t, err)
		resp, err := c.Get(srv.URL)
		require.NoError(t, err, "the client verifies the server against the roots, by the name localhost")
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	assert.Equal(t, "1\n", presented(g2.ClientCert, g2.ClientKey), "a certificate of a CA the server does not list is presented")
	assert.Equal(t, "0\n", presented("", ""))

	_, err = MTLSClient(time.Second, "not PEM", "", "")
	assert.Error(t, err)
}

// TestGatewayEncodesAndReportsEtcdErrors: keys and values travel base64 in
// JSON, and an etcd error reply (HTTP 500 with code and message, as the
// gateway sends a full quota) is an error holding etcd's message.
func TestGatewayEncodesAndReportsEtcdErrors(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = nil
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		if r.URL.Path == "/v3/kv/put" && got["key"] == base64.StdEncoding.EncodeToString([]byte("full")) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":"etcdserver: mvcc: database space exceeded","code":8,"message":"etcdserver: mvcc: database space exceeded"}`)
			return
		}
		_, _ = io.WriteString(w, `{"header":{"revision":"7"}}`)
	}))
	t.Cleanup(srv.Close)
	gw := Gateway{Client: srv.Client()}

	require.NoError(t, gw.Put(srv.URL, "k/1", []byte{0, 'v'}))
	assert.Equal(t, map[string]string{"key": "ay8x", "value": "AHY="}, got)
	out, err := gw.Range(srv.URL, "k/1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"key": "ay8x"}, got)
	assert.Equal(t, map[string]any{"revision": "7"}, out["header"])
	assert.ErrorContains(t, gw.Put(srv.URL, "full", []byte("x")), "HTTP 500: etcdserver: mvcc: database space exceeded")
}

// TestClientTLSVerifiesTheServerName: the server's certificate names
// localhost and 127.0.0.1. A client expecting another name refuses it, and
// an empty name means the host of the URL: the server is reached as
// https://<host> whatever the host, as kube-proxy's rules reach a Service.
func TestClientTLSVerifiesTheServerName(t *testing.T) {
	g1 := etcdBundle(t, 1)
	serving, err := tls.X509KeyPair([]byte(g1.ServerCert), []byte(g1.ServerKey))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(serverName, host string) error {
		cfg, err := ClientTLS(serverName, g1.CACert, "", "")
		require.NoError(t, err)
		d := &net.Dialer{Timeout: 5 * time.Second}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: cfg,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, srv.Listener.Addr().String())
			},
		}}
		resp, err := c.Get("https://" + host + "/")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	assert.NoError(t, get("localhost", "etcd-0.example"), "the name given is verified, not the host")
	assert.ErrorContains(t, get("etcd-0.example", "localhost"), "etcd-0.example")
	assert.NoError(t, get("", "localhost"))
	assert.ErrorContains(t, get("", "etcd-0.example"), "etcd-0.example", "no name given: the URL's host is verified")

	_, err = ClientTLS("localhost", g1.CACert, g1.ClientCert, "not a key")
	assert.ErrorContains(t, err, "client certificate")
}
