package nginxconf_test

// Tests against a real nginx binary (realtool.NGINX: $NGINX_BIN, PATH,
// /usr/sbin/nginx). Without one they skip, unless ANKA_REQUIRE_NGINX=1 (CI),
// where they fail. When run
// as root, NGINX runs as uid 65534 with everything it writes under a
// t.TempDir() prefix, like the non-root edge container.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf/internal/nginxtest"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
)

func startHarness(t *testing.T, opts nginxtest.Options) *nginxtest.Harness {
	t.Helper()
	opts.Bin = realtool.NGINX.Require(t)
	opts.Dir = t.TempDir()
	h, err := nginxtest.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log:\n%s", h.NGINX.ErrorLog())
		}
		assert.NoError(t, h.Close())
	})
	return h
}

func arrived(h *nginxtest.Harness) int { return h.Controller.Arrived() + h.Registry.Arrived() }

// NGINX's error pages for a refused client certificate (ssl_verify_client
// on): NGINX completes the TLS handshake, then answers 400 with one of these
// titles (ngx_http_special_response.c), and logs the reason at info level.
const (
	pageNoCert   = "<title>400 No required SSL certificate was sent</title>"
	pageBadCert  = "<title>400 The SSL certificate error</title>"
	pageBadReq   = "<title>400 Bad Request</title>"
	pageSignedBy = "<center>nginx</center>" // server_tokens off: no version
)

// requireRefused checks that r is NGINX's own 400 page with the given title
// (not a transport error, a crash or another server), that the reason is in
// NGINX's error log, and that no upstream saw a request since before.
func requireRefused(t *testing.T, h *nginxtest.Harness, r nginxtest.Result, page, logReason string, before int) {
	t.Helper()
	require.NoError(t, r.Err, "NGINX answers the refusal over HTTP, it does not drop the connection")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Contains(t, r.Body, page, "NGINX's error page")
	assert.Contains(t, r.Body, pageSignedBy, "served by NGINX itself")
	assert.NotContains(t, r.Body, `"upstream"`, "not an upstream's reply")
	assert.Eventually(t, func() bool { return strings.Contains(h.NGINX.ErrorLog(), logReason) }, 5*time.Second, 50*time.Millisecond,
		"NGINX logs the reason %q", logReason)
	assert.Equal(t, before, arrived(h), "the upstream never saw the request")
}

func TestNGINXRealRefusesClientsWithoutAValidCertificate(t *testing.T) {
	t.Parallel()
	h := startHarness(t, nginxtest.Options{})
	ctx := context.Background()
	cases := []struct {
		name      string
		cert      *tls.Certificate
		page      string
		logReason string
	}{
		{"a client without a certificate is refused", nil, pageNoCert, "client sent no required SSL certificate"},
		{"a certificate from another CA is refused", &h.PKI.OtherCA, pageBadCert, "client SSL certificate verify error: (21:unable to verify the first certificate)"},
		{"an expired certificate from the right CA is refused", &h.PKI.Expired, pageBadCert, "client SSL certificate verify error: (10:certificate has expired)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, host := range []string{nginxtest.ControllerHost, nginxtest.RegistryHost} {
				before := arrived(h)
				// A small body: NGINX answers before reading it, and a body
				// larger than the socket buffers would turn the answer into
				// a reset on the client's side.
				const size = 4 << 10
				r := nginxtest.Send(ctx, h.Client(tc.cert), http.MethodPut, h.URL(host, "/api/v1/template"),
					nginxtest.NewBody(3, size), size, "refused", nil)
				requireRefused(t, h, r, tc.page, tc.logReason, before)
			}
		})
	}
}

func TestNGINXRealRefusesAClientChainDeeperThanTheVerifyDepth(t *testing.T) {
	t.Parallel()
	// The default depth (1) is what a dedicated client-issuing CA needs;
	// OpenSSL counts the CA certificates between the client certificate
	// and the trust anchor, the client-supplied ones included.
	h := startHarness(t, nginxtest.Options{})
	require.Contains(t, h.Conf, "ssl_verify_depth 1;")
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		intermediates int
		refused       bool
	}{
		{"a certificate the trusted CA issued itself is accepted", 0, false},
		{"a certificate with one client-supplied intermediate under the trusted CA is accepted", 1, false},
		{"a certificate with two client-supplied intermediates under the trusted CA is refused", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := h.PKI.Chain(tc.intermediates)
			require.NoError(t, err)
			require.Len(t, cert.Certificate, 1+tc.intermediates, "the client sends its intermediates")
			before := arrived(h)
			id := fmt.Sprintf("chain-%d", tc.intermediates)
			r := nginxtest.Send(ctx, h.Client(&cert), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, id, nil)
			if tc.refused {
				// OpenSSL stops building the chain at the depth limit, so it
				// never reaches the trust anchor.
				requireRefused(t, h, r, pageBadCert, "client SSL certificate verify error: (20:unable to get local issuer certificate)", before)
				return
			}
			require.NoError(t, r.Err)
			require.Equal(t, http.StatusOK, r.Status, r.Body)
			seen, err := h.Controller.Wait(id, 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, []string{"SUCCESS"}, seen.Header.Values("Ssl-Client-Verify"))
			assert.Equal(t, []string{"CN=anka-node-chained,OU=builders,O=Anka Test"}, seen.Header.Values("Ssl-Client-Subject-Dn"))
		})
	}
	t.Run("the same two-intermediate chain passes at depth 2, so the depth is what refuses it", func(t *testing.T) {
		h2 := startHarness(t, nginxtest.Options{Modify: func(s *nginxconf.Settings) { s.ClientVerifyDepth = 2 }})
		cert, err := h2.PKI.Chain(2)
		require.NoError(t, err)
		r := nginxtest.Send(ctx, h2.Client(&cert), http.MethodGet, h2.URL(nginxtest.ControllerHost, "/"), nil, 0, "chain-2-depth-2", nil)
		require.NoError(t, r.Err)
		assert.Equal(t, http.StatusOK, r.Status, r.Body)
	})
}

func TestNGINXRealTLS12OffersOnlyECDHEWithAEAD(t *testing.T) {
	t.Parallel()
	// An RSA server certificate, so that a static-RSA key exchange is
	// possible at all and its refusal is the cipher list's doing.
	h := startHarness(t, nginxtest.Options{ServerKey: nginxtest.ServerKeyRSA})
	handshake := func(version uint16, suite uint16) (tls.ConnectionState, error) {
		conf := h.TLSConfig(&h.PKI.Valid)
		conf.ServerName = nginxtest.ControllerHost
		conf.MinVersion, conf.MaxVersion = version, version
		if suite != 0 {
			conf.CipherSuites = []uint16{suite}
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", h.TLSAddr, conf)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer conn.Close()
		return conn.ConnectionState(), nil
	}
	for _, tc := range []struct {
		suite   uint16
		refused bool
	}{
		{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, true},    // AES128-GCM-SHA256: no forward secrecy
		{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, true},    // AES256-GCM-SHA384
		{tls.TLS_RSA_WITH_AES_128_CBC_SHA, true},       // AES128-SHA
		{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, true}, // ECDHE-RSA-AES128-SHA: CBC with SHA-1
		{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, true}, // ECDHE-RSA-AES256-SHA
		{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, false},
		{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, false},
		{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, false},
	} {
		name := tls.CipherSuiteName(tc.suite)
		t.Run(name, func(t *testing.T) {
			state, err := handshake(tls.VersionTLS12, tc.suite)
			if !tc.refused {
				require.NoError(t, err, "Mozilla intermediate's suite %s is offered", name)
				assert.Equal(t, tc.suite, state.CipherSuite)
				return
			}
			// NGINX's OpenSSL finds no shared cipher and sends a
			// handshake_failure alert (RFC 8446 section 6.2).
			require.Error(t, err, "TLS 1.2 with only %s must fail", name)
			assert.Equal(t, "remote error: tls: handshake failure", err.Error(), "the server's alert, not a transport error")
			assert.Eventually(t, func() bool { return strings.Contains(h.NGINX.ErrorLog(), "no shared cipher") }, 5*time.Second, 50*time.Millisecond)
		})
	}
	t.Run("the refused suite is one this client can negotiate", func(t *testing.T) {
		// Control: a Go TLS server with the same RSA key and only the
		// static-RSA suite completes the handshake, so the refusal above is
		// NGINX's cipher list, not the client.
		pair, err := tls.LoadX509KeyPair(h.PKI.ServerCertFile, h.PKI.ServerKeyFile)
		require.NoError(t, err)
		// The weak suite on purpose: the control proves the client can
		// negotiate what NGINX refuses.
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
			Certificates: []tls.Certificate{pair},
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}, //nolint:gosec // G402, deliberately
			MaxVersion:   tls.VersionTLS12,
		})
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		conf := h.TLSConfig(nil)
		conf.ServerName = nginxtest.ControllerHost
		conf.MaxVersion, conf.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		conn, err := tls.Dial("tcp", ln.Addr().String(), conf)
		require.NoError(t, err)
		assert.Equal(t, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, conn.ConnectionState().CipherSuite)
		conn.Close()
	})
	t.Run("TLS 1.3 is offered", func(t *testing.T) {
		state, err := handshake(tls.VersionTLS13, 0)
		require.NoError(t, err)
		assert.Equal(t, uint16(tls.VersionTLS13), state.Version)
	})
	t.Run("TLS 1.1 is refused with a protocol_version alert", func(t *testing.T) {
		_, err := handshake(tls.VersionTLS11, 0)
		require.Error(t, err)
		assert.Equal(t, "remote error: tls: protocol version not supported", err.Error())
	})
}

func TestNGINXRealRefusesEveryClientOnceTheCRLIsPastNextUpdate(t *testing.T) {
	t.Parallel()
	// Why the CRL's nextUpdate is an alert: NGINX reads ssl_crl at start
	// only, and once the CRL it holds is past nextUpdate OpenSSL fails every
	// verification with "CRL has expired", for valid certificates too.
	ctx := context.Background()
	t.Run("a current CRL lets a valid certificate through", func(t *testing.T) {
		h := startHarness(t, nginxtest.Options{CRLNextUpdate: time.Now().Add(24 * time.Hour)})
		require.Contains(t, h.Conf, "ssl_crl ")
		r := nginxtest.Send(ctx, h.Client(&h.PKI.Valid), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, "crl-current", nil)
		require.NoError(t, r.Err)
		assert.Equal(t, http.StatusOK, r.Status, r.Body)
	})
	t.Run("a CRL past its nextUpdate refuses a valid certificate", func(t *testing.T) {
		h := startHarness(t, nginxtest.Options{CRLNextUpdate: time.Now().Add(-time.Minute)})
		before := arrived(h)
		r := nginxtest.Send(ctx, h.Client(&h.PKI.Valid), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, "crl-expired", nil)
		requireRefused(t, h, r, pageBadCert, "client SSL certificate verify error: (12:CRL has expired)", before)
	})
}

func TestNGINXRealPassesOnlyItsOwnIdentityHeaders(t *testing.T) {
	t.Parallel()
	h := startHarness(t, nginxtest.Options{})
	ctx := context.Background()
	valid := &h.PKI.Valid

	t.Run("a valid certificate reaches the upstream with NGINX's identity headers", func(t *testing.T) {
		for _, tc := range []struct {
			host     string
			upstream *nginxtest.Upstream
			other    *nginxtest.Upstream
		}{
			{nginxtest.ControllerHost, h.Controller, h.Registry},
			{nginxtest.RegistryHost, h.Registry, h.Controller},
		} {
			id := "valid-" + tc.host
			otherBefore := tc.other.Arrived()
			size := int64(64 << 10)
			body := nginxtest.NewBody(4, size)
			r := nginxtest.Send(ctx, h.Client(valid), http.MethodPost, h.URL(tc.host, "/api/v1/node"), body, size, id, nil)
			require.NoError(t, r.Err)
			require.Equal(t, http.StatusOK, r.Status, r.Body)
			assert.Equal(t, tc.upstream.Name, r.Reply.Upstream, "%s is routed to its upstream", tc.host)
			assert.Equal(t, body.SHA256(), r.Reply.SHA256)
			assert.Equal(t, otherBefore, tc.other.Arrived(), "the other upstream saw nothing")
			seen, err := tc.upstream.Wait(id, 5*time.Second)
			require.NoError(t, err)
			assertNGINXIdentity(t, h, seen, tc.host)
		}
	})

	t.Run("forged identity headers sent through net/http never reach the upstream", func(t *testing.T) {
		hdr := http.Header{}
		for _, k := range []string{"Ssl-Client-Verify", "SSL-CLIENT-VERIFY", "ssl-client-verify", "ssl_client_verify", "Ssl_Client_Verify"} {
			hdr[k] = []string{"FORGED"}
		}
		for _, k := range []string{"Ssl-Client-Cert", "ssl_client_cert", "X-Client-Subject", "x_client_subject",
			"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
			hdr[k] = []string{"FORGED", "FORGED-AGAIN"}
		}
		r := nginxtest.Send(ctx, h.Client(valid), http.MethodGet, h.URL(nginxtest.ControllerHost, "/api/v1/status"), nil, 0, "forged-net-http", hdr)
		require.NoError(t, r.Err)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		seen, err := h.Controller.Wait("forged-net-http", 5*time.Second)
		require.NoError(t, err)
		assertNGINXIdentity(t, h, seen, nginxtest.ControllerHost)
	})

	// Raw requests, for spellings net/http will not produce: the forged-
	// header matrix. Every identity-style header NGINX sets or blanks, in
	// its canonical spelling, upper case, lower case, sent twice, and with
	// '_' for '-': each request reaches the upstream carrying only NGINX's
	// values. Underscored names are dropped before proxy_set_header looks
	// at them (underscores_in_headers off + ignore_invalid_headers on, so
	// NGINX neither passes nor maps them); NGINX logs each at info level.
	raw := func(t *testing.T, id, lines string) (*http.Response, string, int) {
		t.Helper()
		before := arrived(h)
		req := "GET /api/v1/status HTTP/1.1\r\nHost: " + nginxtest.ControllerHost + "\r\n" + lines +
			nginxtest.HeaderRequestID + ": " + id + "\r\nConnection: close\r\n\r\n"
		resp, body, err := h.RawRequest(valid, nginxtest.ControllerHost, req)
		require.NoError(t, err)
		return resp, body, before
	}
	forgedNames := []string{
		"Ssl-Client-Verify", "Ssl-Client-Cert", "Ssl-Client-Subject-Dn", "Ssl-Client-Issuer-Dn", "X-Client-Subject",
		"X-Real-Ip", "Forwarded", "X-Original-Forwarded-For", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
	}
	for _, name := range forgedNames {
		underscored := strings.ReplaceAll(name, "-", "_")
		variants := []struct {
			spelling string
			lines    string
		}{
			{"canonical", name + ": FORGED\r\n"},
			{"upper case", strings.ToUpper(name) + ": FORGED\r\n"},
			{"lower case", strings.ToLower(name) + ": FORGED\r\n"},
			{"sent twice", name + ": FORGED\r\n" + strings.ToLower(name) + ": FORGED-AGAIN\r\n"},
			{"after a genuine-looking value", name + ": SUCCESS\r\n" + name + ": FORGED\r\n"},
		}
		if underscored != name {
			variants = append(variants, []struct {
				spelling string
				lines    string
			}{
				{"with underscores", underscored + ": FORGED\r\n"},
				{"with underscores in lower case", strings.ToLower(underscored) + ": FORGED\r\n"},
			}...)
		}
		for _, v := range variants {
			t.Run("a forged "+name+" "+v.spelling+" never reaches the upstream", func(t *testing.T) {
				id := "forged-" + name + "-" + strings.ReplaceAll(v.spelling, " ", "-")
				resp, body, _ := raw(t, id, v.lines)
				require.Equal(t, http.StatusOK, resp.StatusCode, "NGINX passes the request with its own headers: %s", body)
				seen, err := h.Controller.Wait(id, 5*time.Second)
				require.NoError(t, err)
				assertNGINXIdentity(t, h, seen, nginxtest.ControllerHost)
				if strings.Contains(v.spelling, "underscores") {
					assert.Eventually(t, func() bool {
						return strings.Contains(strings.ToLower(h.NGINX.ErrorLog()), "client sent invalid header line: \""+strings.ToLower(underscored)+": forged")
					}, 5*time.Second, 50*time.Millisecond, "NGINX dropped %s as an invalid header", underscored)
				}
			})
		}
	}

	// Spellings NGINX refuses outright: HTTP 400 with its own error page,
	// and nothing reaches an upstream.
	for _, f := range []struct {
		name  string
		lines string
	}{
		{"a space before the colon", "Ssl-Client-Verify : FORGED\r\n"},
		{"a tab before the colon", "Ssl-Client-Verify\t: FORGED\r\n"},
		{"an obs-fold continuation line", "X-Note: a\r\n Ssl-Client-Verify: FORGED\r\n"},
	} {
		t.Run("a forged header with "+f.name+" is refused with 400", func(t *testing.T) {
			resp, body, before := raw(t, "refused-"+strings.ReplaceAll(f.name, " ", "-"), f.lines)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, body, pageBadReq, "NGINX's error page")
			assert.Contains(t, body, pageSignedBy)
			assert.Equal(t, before, arrived(h), "a refused request never reaches the upstream")
		})
	}

	// Spellings NGINX drops as invalid names: the request passes with
	// NGINX's headers only.
	for _, f := range []struct {
		name  string
		lines string
	}{
		{"mixed underscores and dashes", "Ssl_Client-Verify: FORGED\r\nSsl-Client_Cert: FORGED\r\nX-Real_Ip: FORGED\r\n"},
		{"a dot instead of a dash", "Ssl.Client.Verify: FORGED\r\nSsl.Client.Subject.Dn: FORGED\r\n"},
	} {
		t.Run("a forged header with "+f.name+" is dropped", func(t *testing.T) {
			id := "dropped-" + strings.ReplaceAll(f.name, " ", "-")
			resp, body, _ := raw(t, id, f.lines)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			seen, err := h.Controller.Wait(id, 5*time.Second)
			require.NoError(t, err)
			assertNGINXIdentity(t, h, seen, nginxtest.ControllerHost)
		})
	}

	t.Run("an unknown host name gets 421 and never reaches an upstream", func(t *testing.T) {
		before := arrived(h)
		resp, _, err := h.RawRequest(valid, "other.anka.test",
			"GET / HTTP/1.1\r\nHost: other.anka.test\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "the default server refuses it")
		assert.Equal(t, before, arrived(h))
	})

	t.Run("a Host header that differs from the TLS server name gets 421", func(t *testing.T) {
		// NGINX itself refuses this when it verifies client certificates, so
		// a certificate presented to one virtual host cannot be replayed to
		// another over the same connection.
		before := arrived(h)
		resp, _, err := h.RawRequest(valid, nginxtest.ControllerHost,
			"GET / HTTP/1.1\r\nHost: "+nginxtest.RegistryHost+"\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
		assert.Equal(t, before, arrived(h))
	})

	t.Run("a client that sends no server name is routed by its Host header", func(t *testing.T) {
		resp, _, err := h.RawRequest(valid, "",
			"GET / HTTP/1.1\r\nHost: "+nginxtest.RegistryHost+"\r\n"+nginxtest.HeaderRequestID+": no-sni\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		_, err = h.Registry.Wait("no-sni", 5*time.Second)
		assert.NoError(t, err)
	})

	t.Run("the health port answers /healthz itself and proxies nothing", func(t *testing.T) {
		before := arrived(h)
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + h.HealthAddr + "/healthz")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok\n", string(b))
		for _, path := range []string{"/readyz", "/livez", "/api/v1/status", "/"} {
			resp, err := c.Get("http://" + h.HealthAddr + path)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		}
		assert.Equal(t, before, arrived(h))
	})
}

// validIssuer is the issuer DN of PKI.Valid as NGINX renders it
// ($ssl_client_i_dn, RFC 2253).
const validIssuer = "CN=Anka Test Client CA,O=Anka Test"

// assertNGINXIdentity checks that the upstream saw exactly NGINX's identity
// headers for the valid client certificate, under any spelling of the name,
// no header a client could have named with '_' or '.', the blanked headers
// not at all, and no forged value anywhere.
func assertNGINXIdentity(t *testing.T, h *nginxtest.Harness, seen nginxtest.Seen, host string) {
	t.Helper()
	got := map[string][]string{}
	for k, vs := range seen.Header {
		assert.NotContains(t, k, "_", "no underscored header reaches the upstream")
		assert.NotContains(t, k, ".", "no dotted header reaches the upstream")
		n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(k))
		got[n] = append(got[n], vs...)
		for _, v := range vs {
			assert.NotContains(t, v, "FORGED", "header %s", k)
			if k != "Ssl-Client-Verify" {
				assert.NotEqual(t, "SUCCESS", v, "header %s: only NGINX's Ssl-Client-Verify says SUCCESS", k)
			}
		}
	}
	assert.Equal(t, []string{"SUCCESS"}, seen.Header["Ssl-Client-Verify"], "Ssl-Client-Verify is NGINX's, exactly once")
	delete(got, "ssl-client-verify")
	assert.Equal(t, []string{nginxtest.ValidSubject}, got["x-client-subject"])
	assert.Equal(t, []string{nginxtest.ValidSubject}, got["ssl-client-subject-dn"])
	assert.Equal(t, []string{validIssuer}, got["ssl-client-issuer-dn"])
	assert.Equal(t, []string{"127.0.0.1"}, got["x-real-ip"])
	assert.Equal(t, []string{"127.0.0.1"}, got["x-forwarded-for"])
	assert.Equal(t, []string{"https"}, got["x-forwarded-proto"])
	assert.Equal(t, []string{host}, got["x-forwarded-host"])
	assert.NotContains(t, got, "forwarded", "NGINX blanks Forwarded")
	assert.NotContains(t, got, "x-original-forwarded-for", "NGINX blanks X-Original-Forwarded-For")
	require.Len(t, got["ssl-client-cert"], 1)
	escaped := got["ssl-client-cert"][0]
	assert.NotContains(t, escaped, "\n", "the PEM is URL-encoded")
	assert.True(t, strings.HasPrefix(escaped, "-----BEGIN%20CERTIFICATE-----%0A"), "URL-encoded PEM, got %.40s", escaped)
	pemText, err := url.PathUnescape(escaped)
	require.NoError(t, err)
	block, rest := pem.Decode([]byte(pemText))
	require.NotNil(t, block, "Ssl-Client-Cert decodes to PEM")
	assert.Empty(t, strings.TrimSpace(string(rest)))
	assert.Equal(t, h.PKI.ValidLeaf.Raw, block.Bytes, "Ssl-Client-Cert is the client's own certificate")
}

func TestNGINXRealOptionalMTLSStillOverwritesIdentityHeaders(t *testing.T) {
	t.Parallel()
	h := startHarness(t, nginxtest.Options{Modify: func(s *nginxconf.Settings) { s.ClientVerify = nginxconf.ClientVerifyOptional }})
	ctx := context.Background()
	hdr := http.Header{
		"Ssl-Client-Verify": {"SUCCESS"}, "Ssl-Client-Cert": {"FORGED"},
		"X-Client-Subject": {"CN=FORGED"}, "ssl_client_verify": {"SUCCESS"},
		"Ssl-Client-Subject-Dn": {"CN=FORGED"}, "Ssl-Client-Issuer-Dn": {"CN=FORGED"},
		"X-Real-Ip": {"192.0.2.1"}, "Forwarded": {"for=192.0.2.1"}, "X-Original-Forwarded-For": {"192.0.2.1"},
	}
	r := nginxtest.Send(ctx, h.Client(nil), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, "optional-no-cert", hdr)
	require.NoError(t, r.Err)
	require.Equal(t, http.StatusOK, r.Status, "optional lets a client without a certificate through")
	seen, err := h.Controller.Wait("optional-no-cert", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []string{"NONE"}, seen.Header.Values("Ssl-Client-Verify"), "NGINX's NONE, not the client's SUCCESS")
	assert.Empty(t, seen.Header.Values("Ssl-Client-Cert"), "an empty value drops the header, and the client's copy with it")
	assert.Empty(t, seen.Header.Values("X-Client-Subject"))
	assert.Empty(t, seen.Header.Values("Ssl_client_verify"))
	assert.Empty(t, seen.Header.Values("Ssl-Client-Subject-Dn"), "no certificate, no subject: the client's is dropped too")
	assert.Empty(t, seen.Header.Values("Ssl-Client-Issuer-Dn"))
	assert.Equal(t, []string{"127.0.0.1"}, seen.Header.Values("X-Real-Ip"))
	assert.Empty(t, seen.Header.Values("Forwarded"))
	assert.Empty(t, seen.Header.Values("X-Original-Forwarded-For"))

	before := arrived(h)
	r = nginxtest.Send(ctx, h.Client(&h.PKI.OtherCA), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, "optional-other-ca", nil)
	// optional still refuses a certificate it cannot verify.
	requireRefused(t, h, r, pageBadCert, "client SSL certificate verify error: (21:unable to verify the first certificate)", before)
}

func TestNGINXRealStreamsA4GiBUploadWithoutTempFilesOrMemoryGrowth(t *testing.T) {
	t.Parallel()
	size := 4 * nginxtest.GiB
	if testing.Short() {
		size = 256 << 20
	}
	h := startHarness(t, nginxtest.Options{Modify: func(s *nginxconf.Settings) { s.AccessLog = "off" }})
	tempDirs := h.TempDirs()
	for _, d := range tempDirs {
		fi, err := os.Stat(d)
		require.NoError(t, err, "NGINX created its temp dir %s", d)
		require.True(t, fi.IsDir())
	}

	body := nginxtest.NewBody(42, size)
	sampler := h.NGINX.Sample(50*time.Millisecond, tempDirs)
	r := nginxtest.Send(context.Background(), h.Client(&h.PKI.Valid), http.MethodPut,
		h.URL(nginxtest.RegistryHost, "/registry/v2/template"), body, size, "upload-4gib", nil)
	mem := sampler.Stop()

	require.NoError(t, r.Err)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.Equal(t, size, body.Sent())
	assert.Equal(t, size, r.Reply.Bytes, "the upstream received every byte")
	assert.Equal(t, body.SHA256(), r.Reply.SHA256, "and the same bytes")

	require.NoError(t, mem.Err)
	assert.Empty(t, mem.TempFiles, "no temp file during the upload")
	after, err := nginxtest.Files(tempDirs...)
	require.NoError(t, err)
	assert.Empty(t, after, "no temp file after the upload")
	assert.NotContains(t, h.NGINX.ErrorLog(), "temporary file", "NGINX never buffered to disk")

	const limit = 64 << 20
	assert.Greater(t, mem.Samples, 10, "memory was sampled throughout")
	assert.Less(t, mem.Peak.Total(), int64(limit), "NGINX's total RSS (master + workers) stays under 64 MiB")
	assert.Less(t, mem.Peak.Total()-mem.Baseline.Total(), int64(16<<20), "and grows by less than 16 MiB while %d MiB stream through", size>>20)
	t.Logf("uploaded %d MiB through NGINX (TLS + client cert) in %.1f s: %.1f MiB/s", size>>20, r.Elapsed.Seconds(), nginxtest.MiBps(size, r.Elapsed))
	t.Logf("NGINX RSS: baseline %.1f MiB, peak %.1f MiB (master + %d workers; largest worker %.1f MiB), %d samples; temp files: %d",
		mib(mem.Baseline.Total()), mib(mem.Peak.Total()), mem.Peak.Workers, mib(mem.PeakWorker), mem.Samples, len(mem.TempFiles))
}

func TestNGINXRealAppliesTheConfiguredTimeouts(t *testing.T) {
	t.Parallel()
	// NGINX's defaults are 60 s; waiting that out would make this test slow,
	// so it renders T = 3 s through the test-only floor bypass and shows that
	// a pause of T/2 passes while a pause past T is cut: NGINX applies the
	// configured value, not its default. Production values are checked below.
	const T = 3
	short, long := T*time.Second/2, T*time.Second+2*time.Second
	h := startHarness(t, nginxtest.Options{
		Render: nginxconf.RenderBypassingTimeoutFloorForTest,
		Modify: func(s *nginxconf.Settings) {
			s.ClientBodyTimeoutSeconds, s.SendTimeoutSeconds, s.KeepaliveTimeoutSeconds = T, T, T
			s.ProxyReadTimeoutSeconds, s.ProxySendTimeoutSeconds = T, T
		},
	})
	for _, d := range []string{"client_body_timeout", "send_timeout", "keepalive_timeout", "proxy_read_timeout", "proxy_send_timeout"} {
		require.Contains(t, h.Conf, fmt.Sprintf("%s %ds;", d, T))
	}
	ctx := context.Background()
	client := h.Client(&h.PKI.Valid)
	const size = 2 << 20

	upload := func(id string, pause time.Duration) outcome {
		body := nginxtest.NewBody(5, size).PauseAfter(size/2, pause)
		r := nginxtest.Send(ctx, client, http.MethodPut, h.URL(nginxtest.RegistryHost, "/push"), body, size, id, nil)
		return outcome{res: r, sum: body.SHA256(), err: r.Err}
	}
	slow := func(delay time.Duration) outcome {
		r := nginxtest.Send(ctx, client, http.MethodPost, h.URL(nginxtest.RegistryHost, "/slow?delay="+delay.String()),
			nginxtest.NewBody(6, 1024), 1024, "", nil)
		return outcome{res: r, err: r.Err}
	}
	const downloadSize = 64 << 20
	download := func(pause time.Duration) outcome {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL(nginxtest.RegistryHost, "/pull?respond="+strconv.Itoa(downloadSize)), nil)
		if err != nil {
			return outcome{setupErr: err}
		}
		resp, err := client.Do(req)
		if err != nil {
			return outcome{setupErr: err}
		}
		defer resp.Body.Close()
		got, err := io.CopyN(io.Discard, resp.Body, 1<<20)
		if err != nil {
			return outcome{setupErr: err}
		}
		time.Sleep(pause)
		rest, err := io.Copy(io.Discard, resp.Body)
		if err == nil && got+rest != downloadSize {
			err = io.ErrUnexpectedEOF
		}
		return outcome{n: got + rest, err: err}
	}
	keepalive := func(idle time.Duration) outcome {
		conf := h.TLSConfig(&h.PKI.Valid)
		conf.ServerName = nginxtest.ControllerHost
		conn, err := tls.Dial("tcp", h.TLSAddr, conf)
		if err != nil {
			return outcome{setupErr: err}
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(idle + 10*time.Second))
		br := bufio.NewReader(conn)
		get := func() error {
			if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+nginxtest.ControllerHost+"\r\n\r\n"); err != nil {
				return err
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		}
		if err := get(); err != nil {
			return outcome{setupErr: fmt.Errorf("first request: %w", err)}
		}
		time.Sleep(idle)
		return outcome{err: get()}
	}

	cases := []struct {
		name  string
		act   func() outcome
		check func(t *testing.T, o outcome)
	}{
		{"an upload pausing mid-body for T/2 arrives whole", func() outcome { return upload("pause-short", short) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.err)
				require.Equal(t, http.StatusOK, o.res.Status, o.res.Body)
				assert.Equal(t, int64(size), o.res.Reply.Bytes)
				assert.Equal(t, o.sum, o.res.Reply.SHA256)
			}},
		{"an upload pausing mid-body past T is cut", func() outcome { return upload("pause-long", long) },
			func(t *testing.T, o outcome) {
				assert.True(t, o.err != nil || o.res.Status != http.StatusOK, "the client sees a failure, got HTTP %d", o.res.Status)
				seen, err := h.Registry.Wait("pause-long", 10*time.Second)
				require.NoError(t, err)
				assert.NotEmpty(t, seen.BodyErr, "the upstream saw the body cut off")
				assert.Less(t, seen.Bytes, int64(size))
				t.Logf("client saw: err=%v status=%d; upstream got %d of %d bytes (%s)", o.err, o.res.Status, seen.Bytes, size, seen.BodyErr)
			}},
		{"a response the upstream delays for T/2 arrives", func() outcome { return slow(short) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.err)
				assert.Equal(t, http.StatusOK, o.res.Status, o.res.Body)
			}},
		{"a response the upstream delays past T is a 504", func() outcome { return slow(long) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.err)
				assert.Equal(t, http.StatusGatewayTimeout, o.res.Status)
				assert.InDelta(t, T, o.res.Elapsed.Seconds(), 1.5, "cut after about T seconds")
			}},
		{"a download the client stops reading for T/2 completes", func() outcome { return download(short) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.setupErr)
				assert.NoError(t, o.err)
				assert.Equal(t, int64(downloadSize), o.n)
			}},
		{"a download the client stops reading past T is cut", func() outcome { return download(long) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.setupErr)
				assert.Error(t, o.err)
				assert.Less(t, o.n, int64(downloadSize))
				t.Logf("download cut after %d of %d bytes: %v", o.n, downloadSize, o.err)
			}},
		{"an idle client connection is reused within T", func() outcome { return keepalive(short) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.setupErr)
				assert.NoError(t, o.err)
			}},
		{"an idle client connection is closed after T", func() outcome { return keepalive(long) },
			func(t *testing.T, o outcome) {
				require.NoError(t, o.setupErr)
				require.Error(t, o.err)
				var netErr net.Error
				assert.NotErrorAs(t, o.err, &netErr, "closed by NGINX, not by our deadline")
				t.Logf("second request after %s idle: %v", long, o.err)
			}},
	}
	// Run every case at once (goroutines, not t.Parallel, which go test caps
	// at GOMAXPROCS), so the whole takes about `long`, then check each.
	outcomes := make([]outcome, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = c.act()
		}()
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, outcomes[i]) })
	}

	t.Run("the access log shows which timeout cut each request", func(t *testing.T) {
		b, err := os.ReadFile(h.Settings.AccessLog)
		require.NoError(t, err)
		var got []string
		for _, line := range strings.Split(string(b), "\n") {
			for _, want := range []string{`"PUT /push HTTP/1.1" 408 `, `"POST /slow?delay=` + long.String() + ` HTTP/1.1" 504 `} {
				if strings.Contains(line, want) {
					got = append(got, want)
					t.Logf("access log: %s", line)
				}
			}
		}
		assert.ElementsMatch(t, []string{`"PUT /push HTTP/1.1" 408 `, `"POST /slow?delay=` + long.String() + ` HTTP/1.1" 504 `}, got,
			"client_body_timeout answers 408 (NGINX logs no error line for it); proxy_read_timeout answers 504")
	})

	t.Run("production transfer timeouts are far above NGINX's 60 s and at least the 900 s floor; keep-alive is short", func(t *testing.T) {
		conf, err := nginxconf.Render(minimal())
		require.NoError(t, err)
		http := parseConf(t, conf).one(t, "http")
		for _, d := range []string{"client_body_timeout", "send_timeout", "proxy_read_timeout", "proxy_send_timeout"} {
			secs, err := strconv.Atoi(strings.TrimSuffix(http.arg(t, d), "s"))
			require.NoError(t, err)
			assert.GreaterOrEqual(t, secs, nginxconf.MinTimeoutSeconds, d)
			assert.GreaterOrEqual(t, secs, 15*60, d)
		}
		// keepalive_timeout runs only between requests (the case above shows
		// NGINX closes an idle connection after it): it cannot cut a
		// transfer, so it keeps NGINX's own 75 s.
		assert.Equal(t, "75s", http.arg(t, "keepalive_timeout"))
		s := minimal()
		s.ProxyReadTimeoutSeconds = T
		_, err = nginxconf.Render(s)
		assert.ErrorIs(t, err, nginxconf.ErrTimeoutTooShort, "only the test-only bypass renders T")
	})
	t.Cleanup(func() {
		for _, line := range strings.Split(h.NGINX.ErrorLog(), "\n") {
			if strings.Contains(line, "timed out") {
				t.Logf("nginx error log: %s", line)
			}
		}
	})
}

// outcome is what one timeout case observed.
type outcome struct {
	res      nginxtest.Result
	sum      string // sha256 the client sent
	n        int64  // bytes downloaded
	err      error  // the error the case is about
	setupErr error  // anything that went wrong before the pause
}

func TestNGINXRealAcceptsMaximumLengthHostnames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	require.Len(t, long, 253)
	h := startHarness(t, nginxtest.Options{Modify: func(s *nginxconf.Settings) {
		s.ControllerHostname = long
	}})
	resp, _, err := h.RawRequest(&h.PKI.Valid, long,
		"GET / HTTP/1.1\r\nHost: "+long+"\r\n"+nginxtest.HeaderRequestID+": long\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = h.Controller.Wait("long", 5*time.Second)
	assert.NoError(t, err, "a 253-character server_name routes to the controller")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
