package nginxconf_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

func render(t *testing.T, s nginxconf.Settings) (string, *directive) {
	t.Helper()
	conf, err := nginxconf.Render(s)
	require.NoError(t, err)
	return conf, parseConf(t, conf)
}

// custom sets every field to a non-default value.
func custom() nginxconf.Settings {
	return nginxconf.Settings{
		ListenAddress:            "10.0.0.5",
		TLSPort:                  9443,
		HealthPort:               9080,
		ControllerHostname:       "ctl.example.org",
		RegistryHostname:         "reg.example.org",
		ControllerUpstream:       "ctl.svc:8080",
		RegistryUpstream:         "10.1.2.3:18089",
		UpstreamKeepalive:        7,
		TLSCertFile:              "/tls/chain.pem",
		TLSKeyFile:               "/tls/key.pem",
		ClientVerify:             nginxconf.ClientVerifyOptional,
		ClientCAFile:             "/mtls/ca.pem",
		ClientCRLFile:            "/mtls/crl.pem",
		ClientVerifyDepth:        3,
		SubjectHeader:            "X-Anka-Subject",
		ClientBodyTimeoutSeconds: 4001,
		SendTimeoutSeconds:       4002,
		ProxyReadTimeoutSeconds:  4003,
		ProxySendTimeoutSeconds:  4004,
		KeepaliveTimeoutSeconds:  605,
		ClientBodyBufferKiB:      512,
		WorkerProcesses:          "3",
		WorkerConnections:        2048,
		PidFile:                  "/run/edge/nginx.pid",
		ErrorLog:                 "/var/log/edge/error.log",
		ErrorLogLevel:            "notice",
		AccessLog:                "/var/log/edge/access.log",
		ClientBodyTempPath:       "/scratch/body",
		ProxyTempPath:            "/scratch/proxy",
		FastCGITempPath:          "/scratch/fastcgi",
		UWSGITempPath:            "/scratch/uwsgi",
		SCGITempPath:             "/scratch/scgi",
		IngressAuthTLSSecret:     "ci/client-ca",
	}
}

func TestRenderWritesEachDirectiveWithTheConfiguredValue(t *testing.T) {
	_, root := render(t, custom())
	http := root.one(t, "http")
	events := root.one(t, "events")

	cases := []struct {
		name  string
		block *directive
		dir   string
		want  string
	}{
		{"worker processes come from workerProcesses", root, "worker_processes", "3"},
		{"the pid file comes from pidFile", root, "pid", "/run/edge/nginx.pid"},
		{"the error log comes from errorLog and errorLogLevel", root, "error_log", "/var/log/edge/error.log notice"},
		{"worker connections come from workerConnections", events, "worker_connections", "2048"},
		{"server tokens are off", http, "server_tokens", "off"},
		{"header names with underscores are not accepted", http, "underscores_in_headers", "off"},
		{"invalid header names are dropped", http, "ignore_invalid_headers", "on"},
		{"the access log comes from accessLog", http, "access_log", "/var/log/edge/access.log anka_edge"},
		{"the client body temp path comes from clientBodyTempPath", http, "client_body_temp_path", "/scratch/body"},
		{"the proxy temp path comes from proxyTempPath", http, "proxy_temp_path", "/scratch/proxy"},
		{"the fastcgi temp path comes from fastcgiTempPath", http, "fastcgi_temp_path", "/scratch/fastcgi"},
		{"the uwsgi temp path comes from uwsgiTempPath", http, "uwsgi_temp_path", "/scratch/uwsgi"},
		{"the scgi temp path comes from scgiTempPath", http, "scgi_temp_path", "/scratch/scgi"},
		{"request bodies have no size limit", http, "client_max_body_size", "0"},
		{"the client body buffer comes from clientBodyBufferKiB", http, "client_body_buffer_size", "512k"},
		{"client_body_timeout comes from clientBodyTimeoutSeconds", http, "client_body_timeout", "4001s"},
		{"send_timeout comes from sendTimeoutSeconds", http, "send_timeout", "4002s"},
		{"proxy_read_timeout comes from proxyReadTimeoutSeconds", http, "proxy_read_timeout", "4003s"},
		{"proxy_send_timeout comes from proxySendTimeoutSeconds", http, "proxy_send_timeout", "4004s"},
		{"keepalive_timeout comes from keepaliveTimeoutSeconds", http, "keepalive_timeout", "605s"},
		{"upstream requests use HTTP/1.1", http, "proxy_http_version", "1.1"},
		{"request bodies stream unbuffered", http, "proxy_request_buffering", "off"},
		{"responses stream unbuffered", http, "proxy_buffering", "off"},
		{"responses never spool to a temp file", http, "proxy_max_temp_file_size", "0"},
		{"only TLS 1.2 and 1.3 are offered", http, "ssl_protocols", "TLSv1.2 TLSv1.3"},
		{"TLS 1.2 offers only Mozilla intermediate's ECDHE AEAD suites", http, "ssl_ciphers",
			"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"},
		{"the server certificate comes from tlsCertFile", http, "ssl_certificate", "/tls/chain.pem"},
		{"the server key comes from tlsKeyFile", http, "ssl_certificate_key", "/tls/key.pem"},
		{"client verification comes from clientVerify", http, "ssl_verify_client", "optional"},
		{"the client CA comes from clientCAFile", http, "ssl_client_certificate", "/mtls/ca.pem"},
		{"the CRL comes from clientCRLFile", http, "ssl_crl", "/mtls/crl.pem"},
		{"the verify depth comes from clientVerifyDepth", http, "ssl_verify_depth", "3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.block.arg(t, tc.dir))
		})
	}
}

func TestRenderRoutesEachHostnameToItsUpstream(t *testing.T) {
	_, root := render(t, custom())
	http := root.one(t, "http")

	upstreams := map[string]*directive{}
	for _, u := range http.all("upstream") {
		upstreams[u.Args[0]] = u
	}
	require.Len(t, upstreams, 2)
	assert.Equal(t, "ctl.svc:8080", upstreams["anka_controller"].arg(t, "server"))
	assert.Equal(t, "10.1.2.3:18089", upstreams["anka_registry"].arg(t, "server"))
	for name, u := range upstreams {
		assert.Equal(t, "7", u.arg(t, "keepalive"), "upstream %s keeps idle connections (upstreamKeepalive)", name)
	}

	for host, upstream := range map[string]string{"ctl.example.org": "anka_controller", "reg.example.org": "anka_registry"} {
		t.Run(host+" is proxied to "+upstream, func(t *testing.T) {
			srv := serverNamed(t, http, host)
			assert.Equal(t, "10.0.0.5:9443 ssl", srv.arg(t, "listen"))
			loc := srv.one(t, "location")
			assert.Equal(t, []string{"/"}, loc.Args)
			assert.Equal(t, "http://"+upstream, loc.arg(t, "proxy_pass"))
		})
	}
}

func TestRenderSetsIdentityHeadersOnEveryProxiedRequest(t *testing.T) {
	for _, mode := range []string{nginxconf.ClientVerifyOn, nginxconf.ClientVerifyOptional, nginxconf.ClientVerifyOff} {
		t.Run("with clientVerify "+mode, func(t *testing.T) {
			s := custom()
			s.ClientVerify = mode
			_, root := render(t, s)
			http := root.one(t, "http")
			proxied := 0
			for _, srv := range http.all("server") {
				for _, loc := range srv.all("location") {
					if len(loc.all("proxy_pass")) == 0 {
						continue
					}
					proxied++
					// Every header an upstream might take for the client's
					// identity or address is set from the connection, or
					// blanked ("" sends none), so no client copy gets through.
					assert.Equal(t, map[string]string{
						"Host":                     "$host",
						"Connection":               "",
						"X-Forwarded-For":          "$remote_addr",
						"X-Forwarded-Proto":        "$scheme",
						"X-Forwarded-Host":         "$host",
						"X-Real-Ip":                "$remote_addr",
						"Forwarded":                "",
						"X-Original-Forwarded-For": "",
						"Ssl-Client-Verify":        "$ssl_client_verify",
						"Ssl-Client-Cert":          "$ssl_client_escaped_cert",
						"Ssl-Client-Subject-Dn":    "$ssl_client_s_dn",
						"Ssl-Client-Issuer-Dn":     "$ssl_client_i_dn",
						"X-Anka-Subject":           "$ssl_client_s_dn",
					}, loc.headers(), "every proxied location sets every identity header (server %v)", srv.all("server_name")[0].Args)
				}
			}
			assert.Equal(t, 2, proxied, "the controller and registry locations")
			assert.Empty(t, http.all("proxy_set_header"), "headers live in the locations only, so none is silently dropped by inheritance")
		})
	}
}

func TestRenderKeepsMTLSOnUnlessTurnedOffExplicitly(t *testing.T) {
	_, root := render(t, minimal())
	http := root.one(t, "http")
	assert.Equal(t, "on", http.arg(t, "ssl_verify_client"), "mTLS is on by default")
	assert.Equal(t, "/etc/nginx/client-ca/ca.crt", http.arg(t, "ssl_client_certificate"))
	assert.Equal(t, "1", http.arg(t, "ssl_verify_depth"), "one CA between a client certificate and its anchor, NGINX's own default")
	assert.Empty(t, http.all("ssl_crl"), "no CRL unless clientCRLFile is set")

	s := minimal()
	s.ClientVerify = nginxconf.ClientVerifyOff
	s.ClientCAFile = ""
	_, root = render(t, s)
	http = root.one(t, "http")
	assert.Equal(t, "off", http.arg(t, "ssl_verify_client"))
	assert.Empty(t, http.all("ssl_client_certificate"))
	assert.Empty(t, http.all("ssl_verify_depth"))
}

func TestRenderServesHealthOnAPlainPortWithoutUpstreams(t *testing.T) {
	_, root := render(t, custom())
	http := root.one(t, "http")
	health := http.last("server", func(s *directive) bool { return s.arg(t, "listen") == "10.0.0.5:9080" })
	require.NotNil(t, health, "a server listens on healthPort")
	assert.False(t, health.has("proxy_pass"), "the health port reaches no upstream")
	assert.False(t, health.has("ssl_verify_client"))
	healthz := health.last("location", func(l *directive) bool { return strings.Join(l.Args, " ") == "= /healthz" })
	require.NotNil(t, healthz, "location = /healthz")
	assert.Equal(t, `200 ok\n`, healthz.arg(t, "return"))
}

func TestRenderRefusesUnknownHostnames(t *testing.T) {
	_, root := render(t, custom())
	http := root.one(t, "http")
	def := http.last("server", func(s *directive) bool { return s.arg(t, "listen") == "10.0.0.5:9443 ssl default_server" })
	require.NotNil(t, def, "a default server on the TLS port")
	assert.Equal(t, "421", def.arg(t, "return"))
	assert.False(t, def.has("proxy_pass"))
}

func TestRenderListensOnAllAddressesByDefault(t *testing.T) {
	_, root := render(t, minimal())
	http := root.one(t, "http")
	assert.Equal(t, "8443 ssl", serverNamed(t, http, "anka.example.com").arg(t, "listen"))
	assert.Equal(t, "stderr warn", root.arg(t, "error_log"))
	assert.Equal(t, "/dev/stdout anka_edge", http.arg(t, "access_log"))

	s := minimal()
	s.ListenAddress = "::1"
	s.AccessLog = "off"
	_, root = render(t, s)
	http = root.one(t, "http")
	assert.Equal(t, "[::1]:8443 ssl", serverNamed(t, http, "anka.example.com").arg(t, "listen"))
	assert.Equal(t, "off", http.arg(t, "access_log"))
}

func TestRenderProductionTimeoutsFarExceedNGINXDefaults(t *testing.T) {
	_, root := render(t, minimal())
	http := root.one(t, "http")
	for _, dir := range []string{"client_body_timeout", "send_timeout", "proxy_read_timeout", "proxy_send_timeout"} {
		v := http.arg(t, dir)
		secs, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
		require.NoError(t, err, "%s %s", dir, v)
		assert.GreaterOrEqual(t, secs, nginxconf.MinTimeoutSeconds, dir)
		assert.Greater(t, secs, 10*60, "%s far above NGINX's 60 s default", dir)
	}
}

func TestRenderKeepaliveHasItsOwnShortDefault(t *testing.T) {
	// keepalive_timeout only runs between requests, so it cannot cut a
	// transfer; the transfer floor would let an idle client hold a
	// connection (in optional mode without a certificate) for an hour.
	_, root := render(t, minimal())
	assert.Equal(t, "75s", root.one(t, "http").arg(t, "keepalive_timeout"))
}

func TestRenderIsDeterministic(t *testing.T) {
	a, _ := render(t, custom())
	b, _ := render(t, custom())
	assert.Equal(t, a, b)
}

// TestRenderMatchesGolden pins the whole file for review: run `make golden`
// after a change and review the diff of testdata/ like code.
func TestRenderMatchesGolden(t *testing.T) {
	for name, s := range map[string]nginxconf.Settings{"defaults": minimal(), "custom": custom()} {
		t.Run(name, func(t *testing.T) {
			conf, _ := render(t, s)
			harness.CompareGoldenText(t, filepath.Join("testdata", name+".nginx.conf"), conf)
		})
	}
}
