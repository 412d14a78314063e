package nginxconf_test

// Tests against a real nginx binary ($NGINX_BIN or /usr/sbin/nginx). Without
// one they skip, unless ANKA_REQUIRE_NGINX=1 (CI), where they fail. When run
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
)

const envRequireNGINX = "ANKA_REQUIRE_NGINX"

func nginxBinary(t *testing.T) string {
	t.Helper()
	bin, err := nginxtest.FindBinary()
	if err != nil {
		if os.Getenv(envRequireNGINX) == "1" {
			t.Fatalf("%s=1 but %v", envRequireNGINX, err)
		}
		t.Skipf("skipping real-NGINX test: %v", err)
	}
	return bin
}

func startHarness(t *testing.T, opts nginxtest.Options) *nginxtest.Harness {
	t.Helper()
	opts.Bin = nginxBinary(t)
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

func TestNGINXRealRefusesClientsWithoutAValidCertificate(t *testing.T) {
	t.Parallel()
	h := startHarness(t, nginxtest.Options{})
	ctx := context.Background()
	cases := []struct {
		name     string
		cert     *tls.Certificate
		wantBody string
	}{
		{"a client without a certificate is refused", nil, "No required SSL certificate was sent"},
		{"a certificate from another CA is refused", &h.PKI.OtherCA, "The SSL certificate error"},
		{"an expired certificate from the right CA is refused", &h.PKI.Expired, "The SSL certificate error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, host := range []string{nginxtest.ControllerHost, nginxtest.RegistryHost} {
				before := arrived(h)
				size := int64(1 << 20)
				r := nginxtest.Send(ctx, h.Client(tc.cert), http.MethodPut, h.URL(host, "/api/v1/template"),
					nginxtest.NewBody(3, size), size, "refused", nil)
				if r.Err == nil {
					assert.Equal(t, http.StatusBadRequest, r.Status, host)
					assert.Contains(t, r.Body, tc.wantBody, host)
					t.Logf("%s: HTTP %d %q", host, r.Status, firstLine(r.Body, tc.wantBody))
				} else {
					t.Logf("%s: refused at the TLS layer: %v", host, r.Err)
				}
				assert.Equal(t, before, arrived(h), "%s: the upstream never saw the request", host)
			}
		})
	}
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

	// Raw requests, for spellings net/http will not produce. Each must either
	// be refused by NGINX (400, upstream untouched) or reach the upstream
	// carrying only NGINX's values.
	forgeries := []struct {
		name  string
		lines string
	}{
		{"canonical names", "Ssl-Client-Verify: SUCCESS\r\nSsl-Client-Cert: FORGED\r\nX-Client-Subject: CN=FORGED\r\nX-Forwarded-For: FORGED\r\n"},
		{"upper case names", "SSL-CLIENT-VERIFY: FORGED\r\nSSL-CLIENT-CERT: FORGED\r\nX-CLIENT-SUBJECT: CN=FORGED\r\n"},
		{"underscored names", "ssl_client_verify: FORGED\r\nssl_client_cert: FORGED\r\nX_Client_Subject: CN=FORGED\r\n"},
		{"mixed underscores and dashes", "Ssl_Client-Verify: FORGED\r\nSsl-Client_Cert: FORGED\r\n"},
		{"a duplicate after a genuine-looking value", "Ssl-Client-Verify: SUCCESS\r\nSsl-Client-Verify: FORGED\r\n"},
		{"a space before the colon", "Ssl-Client-Verify : FORGED\r\n"},
		{"a tab before the colon", "Ssl-Client-Verify\t: FORGED\r\n"},
		{"an obs-fold continuation line", "X-Note: a\r\n Ssl-Client-Verify: FORGED\r\n"},
		{"a dot instead of a dash", "Ssl.Client.Verify: FORGED\r\n"},
	}
	for _, f := range forgeries {
		t.Run("forged headers with "+f.name+" are dropped or refused", func(t *testing.T) {
			id := "raw-" + strings.ReplaceAll(f.name, " ", "-")
			before := arrived(h)
			raw := "GET /api/v1/status HTTP/1.1\r\nHost: " + nginxtest.ControllerHost + "\r\n" + f.lines +
				nginxtest.HeaderRequestID + ": " + id + "\r\nConnection: close\r\n\r\n"
			resp, body, err := h.RawRequest(valid, nginxtest.ControllerHost, raw)
			require.NoError(t, err)
			switch resp.StatusCode {
			case http.StatusOK:
				seen, err := h.Controller.Wait(id, 5*time.Second)
				require.NoError(t, err)
				assertNGINXIdentity(t, h, seen, nginxtest.ControllerHost)
				t.Logf("NGINX passed the request and replaced the forged headers")
			case http.StatusBadRequest:
				assert.Equal(t, before, arrived(h), "a refused request never reaches the upstream")
				t.Logf("NGINX refused the request: HTTP 400 %s", firstLine(body, "400"))
			default:
				t.Fatalf("unexpected HTTP %d: %s", resp.StatusCode, body)
			}
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

// assertNGINXIdentity checks that the upstream saw exactly NGINX's identity
// headers for the valid client certificate, under any spelling of the name,
// and no forged value anywhere.
func assertNGINXIdentity(t *testing.T, h *nginxtest.Harness, seen nginxtest.Seen, host string) {
	t.Helper()
	got := map[string][]string{}
	for k, vs := range seen.Header {
		n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(k))
		got[n] = append(got[n], vs...)
		for _, v := range vs {
			assert.NotContains(t, v, "FORGED", "header %s", k)
		}
	}
	assert.Equal(t, []string{"SUCCESS"}, got["ssl-client-verify"])
	assert.Equal(t, []string{nginxtest.ValidSubject}, got["x-client-subject"])
	assert.Equal(t, []string{"127.0.0.1"}, got["x-forwarded-for"])
	assert.Equal(t, []string{"https"}, got["x-forwarded-proto"])
	assert.Equal(t, []string{host}, got["x-forwarded-host"])
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

	before := arrived(h)
	r = nginxtest.Send(ctx, h.Client(&h.PKI.OtherCA), http.MethodGet, h.URL(nginxtest.ControllerHost, "/"), nil, 0, "optional-other-ca", nil)
	if r.Err == nil {
		assert.Equal(t, http.StatusBadRequest, r.Status, "optional still refuses a certificate it cannot verify")
	}
	assert.Equal(t, before, arrived(h))
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

	t.Run("production defaults are far above NGINX's 60 s and at least the 900 s floor", func(t *testing.T) {
		conf, err := nginxconf.Render(minimal())
		require.NoError(t, err)
		http := parseConf(t, conf).one(t, "http")
		for _, d := range []string{"client_body_timeout", "send_timeout", "keepalive_timeout", "proxy_read_timeout", "proxy_send_timeout"} {
			secs, err := strconv.Atoi(strings.TrimSuffix(http.arg(t, d), "s"))
			require.NoError(t, err)
			assert.GreaterOrEqual(t, secs, nginxconf.MinTimeoutSeconds, d)
			assert.GreaterOrEqual(t, secs, 15*60, d)
		}
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

func firstLine(body, containing string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, containing) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
