package nginxconf_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
)

// minimal is the smallest valid Settings: only the fields without defaults.
func minimal() nginxconf.Settings {
	return nginxconf.Settings{
		ControllerHostname: "anka.example.com",
		RegistryHostname:   "anka-registry.example.com",
		TLSCertFile:        "/etc/nginx/tls/tls.crt",
		TLSKeyFile:         "/etc/nginx/tls/tls.key",
		ClientCAFile:       "/etc/nginx/client-ca/ca.crt",
	}
}

func TestSettingsWithDefaultsPinsEveryDefault(t *testing.T) {
	got := nginxconf.Settings{}.WithDefaults()
	assert.Equal(t, nginxconf.Settings{
		ListenAddress:            "",
		TLSPort:                  8443,
		HealthPort:               8080,
		ControllerUpstream:       "anka-controller.anka.svc.cluster.local:80",
		RegistryUpstream:         "anka-registry.anka.svc.cluster.local:8089",
		UpstreamKeepalive:        16,
		ClientVerify:             "on",
		ClientVerifyDepth:        1,
		SubjectHeader:            "X-Client-Subject",
		ClientBodyTimeoutSeconds: 3600,
		SendTimeoutSeconds:       3600,
		ProxyReadTimeoutSeconds:  3600,
		ProxySendTimeoutSeconds:  3600,
		KeepaliveTimeoutSeconds:  75,
		ClientBodyBufferKiB:      128,
		WorkerProcesses:          "auto",
		WorkerConnections:        4096,
		PidFile:                  "/tmp/nginx.pid",
		ErrorLog:                 "stderr",
		ErrorLogLevel:            "warn",
		AccessLog:                "/dev/stdout",
		ClientBodyTempPath:       "/tmp/client_temp",
		ProxyTempPath:            "/tmp/proxy_temp",
		FastCGITempPath:          "/tmp/fastcgi_temp",
		UWSGITempPath:            "/tmp/uwsgi_temp",
		SCGITempPath:             "/tmp/scgi_temp",
		IngressAuthTLSSecret:     "anka/anka-edge-client-ca",
	}, got)
}

func TestSettingsWithDefaultsKeepsSetFields(t *testing.T) {
	s := minimal()
	s.ProxyReadTimeoutSeconds = 7200
	s.ClientVerify = nginxconf.ClientVerifyOptional
	got := s.WithDefaults()
	assert.Equal(t, 7200, got.ProxyReadTimeoutSeconds)
	assert.Equal(t, "optional", got.ClientVerify)
	assert.Equal(t, "anka.example.com", got.ControllerHostname)
}

func TestSettingsDefaultsClearTheTimeoutFloor(t *testing.T) {
	d := nginxconf.Settings{}.WithDefaults()
	for key, v := range map[string]int{
		nginxconf.KeyClientBodyTimeoutSeconds: d.ClientBodyTimeoutSeconds,
		nginxconf.KeySendTimeoutSeconds:       d.SendTimeoutSeconds,
		nginxconf.KeyProxyReadTimeoutSeconds:  d.ProxyReadTimeoutSeconds,
		nginxconf.KeyProxySendTimeoutSeconds:  d.ProxySendTimeoutSeconds,
	} {
		assert.GreaterOrEqual(t, v, nginxconf.MinTimeoutSeconds, key)
	}
}

func TestSettingsValidateAcceptsMinimalSettings(t *testing.T) {
	require.NoError(t, minimal().Validate())
}

func TestSettingsValidate(t *testing.T) {
	cases := []struct {
		name     string
		modify   func(*nginxconf.Settings)
		key      string
		sentinel error
		contains string // part of the message: what to do
	}{
		{"a client body timeout below 900 s is rejected", func(s *nginxconf.Settings) { s.ClientBodyTimeoutSeconds = 60 },
			nginxconf.KeyClientBodyTimeoutSeconds, nginxconf.ErrTimeoutTooShort, "must be at least 900 seconds"},
		{"a send timeout below 900 s is rejected", func(s *nginxconf.Settings) { s.SendTimeoutSeconds = 899 },
			nginxconf.KeySendTimeoutSeconds, nginxconf.ErrTimeoutTooShort, "set it to 900 or more"},
		{"a proxy read timeout below 900 s is rejected", func(s *nginxconf.Settings) { s.ProxyReadTimeoutSeconds = 300 },
			nginxconf.KeyProxyReadTimeoutSeconds, nginxconf.ErrTimeoutTooShort, "must be at least 900 seconds"},
		{"a proxy send timeout below 900 s is rejected", func(s *nginxconf.Settings) { s.ProxySendTimeoutSeconds = 1 },
			nginxconf.KeyProxySendTimeoutSeconds, nginxconf.ErrTimeoutTooShort, "must be at least 900 seconds"},
		{"a keepalive timeout above 900 s is rejected: idle clients would hold the edge", func(s *nginxconf.Settings) { s.KeepaliveTimeoutSeconds = 3600 },
			nginxconf.KeyKeepaliveTimeoutSeconds, nginxconf.ErrInvalid, "between 1 and 900"},
		{"a negative keepalive timeout is rejected", func(s *nginxconf.Settings) { s.KeepaliveTimeoutSeconds = -1 },
			nginxconf.KeyKeepaliveTimeoutSeconds, nginxconf.ErrInvalid, "between 1 and 900"},
		{"a negative timeout is rejected", func(s *nginxconf.Settings) { s.ProxyReadTimeoutSeconds = -1 },
			nginxconf.KeyProxyReadTimeoutSeconds, nginxconf.ErrTimeoutTooShort, "900"},
		{"a missing client CA with mTLS on is rejected", func(s *nginxconf.Settings) { s.ClientCAFile = "" },
			nginxconf.KeyClientCAFile, nginxconf.ErrRequired, `anka:edge.nginx.clientVerify to "off"`},
		{"a missing client CA with optional mTLS is rejected", func(s *nginxconf.Settings) {
			s.ClientCAFile = ""
			s.ClientVerify = nginxconf.ClientVerifyOptional
		}, nginxconf.KeyClientCAFile, nginxconf.ErrRequired, "CA bundle"},
		{"a missing server certificate is rejected", func(s *nginxconf.Settings) { s.TLSCertFile = "" },
			nginxconf.KeyTLSCertFile, nginxconf.ErrRequired, "server certificate chain"},
		{"a missing server key is rejected", func(s *nginxconf.Settings) { s.TLSKeyFile = "" },
			nginxconf.KeyTLSKeyFile, nginxconf.ErrRequired, "private key"},
		{"an upstream without a port is rejected", func(s *nginxconf.Settings) { s.RegistryUpstream = "anka-registry.anka.svc" },
			nginxconf.KeyRegistryUpstream, nginxconf.ErrInvalid, "host:port"},
		{"an upstream with port 0 is rejected", func(s *nginxconf.Settings) { s.ControllerUpstream = "anka-controller:0" },
			nginxconf.KeyControllerUpstream, nginxconf.ErrInvalid, "port between 1 and 65535"},
		{"an upstream with a port above 65535 is rejected", func(s *nginxconf.Settings) { s.RegistryUpstream = "anka-registry:70000" },
			nginxconf.KeyRegistryUpstream, nginxconf.ErrInvalid, "port between 1 and 65535"},
		{"an upstream that would inject a directive is rejected", func(s *nginxconf.Settings) { s.ControllerUpstream = "evil;include /etc/passwd:80" },
			nginxconf.KeyControllerUpstream, nginxconf.ErrInvalid, "DNS host or an IP address"},
		{"an upstream without a host is rejected", func(s *nginxconf.Settings) { s.RegistryUpstream = ":8089" },
			nginxconf.KeyRegistryUpstream, nginxconf.ErrInvalid, "host:port"},
		{"a missing controller hostname is rejected", func(s *nginxconf.Settings) { s.ControllerHostname = "" },
			nginxconf.KeyControllerHostname, nginxconf.ErrRequired, "public DNS name"},
		{"a missing registry hostname is rejected", func(s *nginxconf.Settings) { s.RegistryHostname = "" },
			nginxconf.KeyRegistryHostname, nginxconf.ErrRequired, "public DNS name"},
		{"a hostname with a space is rejected", func(s *nginxconf.Settings) { s.ControllerHostname = "anka.example.com evil.com" },
			nginxconf.KeyControllerHostname, nginxconf.ErrInvalid, "DNS name"},
		{"the same hostname for both services is rejected", func(s *nginxconf.Settings) { s.RegistryHostname = "ANKA.example.com" },
			nginxconf.KeyRegistryHostname, nginxconf.ErrInvalid, "must differ from anka:edge.nginx.controllerHostname"},
		{"an unknown client verify mode is rejected", func(s *nginxconf.Settings) { s.ClientVerify = "optional_no_ca" },
			nginxconf.KeyClientVerify, nginxconf.ErrInvalid, `"on", "optional" or "off"`},
		{"a verify depth of 11 is rejected", func(s *nginxconf.Settings) { s.ClientVerifyDepth = 11 },
			nginxconf.KeyClientVerifyDepth, nginxconf.ErrInvalid, "between 1 and 10"},
		{"a subject header with an underscore is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "X_Client_Subject" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "no '_'"},
		{"a subject header that shadows Ssl-Client-Verify is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "ssl-client-verify" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a subject header that shadows Ssl-Client-Subject-Dn is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "SSL-Client-Subject-DN" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a subject header that shadows Ssl-Client-Issuer-Dn is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "ssl-client-issuer-dn" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a subject header that shadows X-Real-Ip is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "X-Real-IP" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a subject header that shadows Forwarded is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "forwarded" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a subject header that shadows X-Original-Forwarded-For is rejected", func(s *nginxconf.Settings) { s.SubjectHeader = "X-Original-Forwarded-For" },
			nginxconf.KeySubjectHeader, nginxconf.ErrInvalid, "NGINX sets itself"},
		{"a relative certificate path is rejected", func(s *nginxconf.Settings) { s.TLSCertFile = "tls/tls.crt" },
			nginxconf.KeyTLSCertFile, nginxconf.ErrInvalid, "clean absolute path"},
		{"a path with a quote is rejected", func(s *nginxconf.Settings) { s.ClientCRLFile = `/etc/crl".pem` },
			nginxconf.KeyClientCRLFile, nginxconf.ErrInvalid, "must not contain quotes"},
		{"a path with a variable is rejected", func(s *nginxconf.Settings) { s.PidFile = "/tmp/$host.pid" },
			nginxconf.KeyPidFile, nginxconf.ErrInvalid, "'$'"},
		{"the same port for TLS and health is rejected", func(s *nginxconf.Settings) { s.HealthPort = 8443 },
			nginxconf.KeyHealthPort, nginxconf.ErrInvalid, "must differ from anka:edge.nginx.tlsPort"},
		{"a port above 65535 is rejected", func(s *nginxconf.Settings) { s.TLSPort = 65536 },
			nginxconf.KeyTLSPort, nginxconf.ErrInvalid, "between 1 and 65535"},
		{"a listen address that is not an IP is rejected", func(s *nginxconf.Settings) { s.ListenAddress = "localhost" },
			nginxconf.KeyListenAddress, nginxconf.ErrInvalid, "IP address"},
		{"a worker count of zero is rejected", func(s *nginxconf.Settings) { s.WorkerProcesses = "0" },
			nginxconf.KeyWorkerProcesses, nginxconf.ErrInvalid, `"auto" or a positive number`},
		{"too few worker connections are rejected", func(s *nginxconf.Settings) { s.WorkerConnections = 10 },
			nginxconf.KeyWorkerConnections, nginxconf.ErrInvalid, "at least 64"},
		{"an unknown error log level is rejected", func(s *nginxconf.Settings) { s.ErrorLogLevel = "verbose" },
			nginxconf.KeyErrorLogLevel, nginxconf.ErrInvalid, "one of debug"},
		{"a tiny client body buffer is rejected", func(s *nginxconf.Settings) { s.ClientBodyBufferKiB = 4 },
			nginxconf.KeyClientBodyBufferKiB, nginxconf.ErrInvalid, "between 8 and 16384"},
		{"an ingress secret without a namespace is rejected", func(s *nginxconf.Settings) { s.IngressAuthTLSSecret = "client-ca" },
			nginxconf.KeyIngressAuthTLSSecret, nginxconf.ErrInvalid, "namespace/name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := minimal()
			tc.modify(&s)
			err := s.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			fe := fieldErrors(err)
			require.Len(t, fe, 1, "want exactly one failure, got: %v", err)
			assert.Equal(t, tc.key, fe[0].Key)
			assert.Contains(t, err.Error(), tc.key, "the message names the config key")
			assert.Contains(t, err.Error(), tc.contains)

			_, rerr := nginxconf.Render(s)
			assert.ErrorIs(t, rerr, tc.sentinel, "Render validates too")
		})
	}
}

func TestSettingsValidateAcceptsExplicitChoices(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*nginxconf.Settings)
	}{
		{"mTLS turned off explicitly needs no client CA", func(s *nginxconf.Settings) {
			s.ClientVerify = nginxconf.ClientVerifyOff
			s.ClientCAFile = ""
		}},
		{"timeouts exactly at the floor are accepted", func(s *nginxconf.Settings) {
			s.ClientBodyTimeoutSeconds, s.SendTimeoutSeconds, s.KeepaliveTimeoutSeconds = 900, 900, 900
			s.ProxyReadTimeoutSeconds, s.ProxySendTimeoutSeconds = 900, 900
		}},
		{"IP upstreams, an IPv6 one included, are accepted", func(s *nginxconf.Settings) {
			s.ControllerUpstream = "10.100.0.10:80"
			s.RegistryUpstream = "[fd00::10]:8089"
		}},
		{"a wildcard hostname is accepted", func(s *nginxconf.Settings) { s.RegistryHostname = "*.registry.example.com" }},
		{"access log off is accepted", func(s *nginxconf.Settings) { s.AccessLog = "off" }},
		{"a numeric worker count is accepted", func(s *nginxconf.Settings) { s.WorkerProcesses = "4" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := minimal()
			tc.modify(&s)
			assert.NoError(t, s.Validate())
		})
	}
}

func TestSettingsValidateReportsEveryFailureAtOnce(t *testing.T) {
	s := nginxconf.Settings{ProxyReadTimeoutSeconds: 60, ClientBodyTimeoutSeconds: 60, RegistryUpstream: "nope"}
	err := s.Validate()
	require.Error(t, err)
	var keys []string
	for _, fe := range fieldErrors(err) {
		keys = append(keys, fe.Key)
	}
	assert.ElementsMatch(t, []string{
		nginxconf.KeyControllerHostname, nginxconf.KeyRegistryHostname,
		nginxconf.KeyRegistryUpstream,
		nginxconf.KeyTLSCertFile, nginxconf.KeyTLSKeyFile, nginxconf.KeyClientCAFile,
		nginxconf.KeyClientBodyTimeoutSeconds, nginxconf.KeyProxyReadTimeoutSeconds,
	}, keys)
}

// fieldErrors unpacks the *FieldError values joined in err.
func fieldErrors(err error) []*nginxconf.FieldError {
	var out []*nginxconf.FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fieldErrors(e)...)
		}
		return out
	}
	var fe *nginxconf.FieldError
	if errors.As(err, &fe) {
		out = append(out, fe)
	}
	return out
}
