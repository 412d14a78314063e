package nginxconf

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// KeyPrefix is the Pulumi config namespace of every Settings field.
const KeyPrefix = "anka:edge.nginx."

// Config keys, as written in Pulumi.<stack>.yaml, one per Settings field.
const (
	KeyListenAddress                = KeyPrefix + "listenAddress"
	KeyTLSPort                      = KeyPrefix + "tlsPort"
	KeyHealthPort                   = KeyPrefix + "healthPort"
	KeyControllerHostname           = KeyPrefix + "controllerHostname"
	KeyRegistryHostname             = KeyPrefix + "registryHostname"
	KeyControllerUpstream           = KeyPrefix + "controllerUpstream"
	KeyRegistryUpstream             = KeyPrefix + "registryUpstream"
	KeyUpstreamKeepalive            = KeyPrefix + "upstreamKeepalive"
	KeyTLSCertFile                  = KeyPrefix + "tlsCertFile"
	KeyTLSKeyFile                   = KeyPrefix + "tlsKeyFile"
	KeyClientVerify                 = KeyPrefix + "clientVerify"
	KeyClientCAFile                 = KeyPrefix + "clientCAFile"
	KeyClientCRLFile                = KeyPrefix + "clientCRLFile"
	KeyClientVerifyDepth            = KeyPrefix + "clientVerifyDepth"
	KeySubjectHeader                = KeyPrefix + "subjectHeader"
	KeyClientBodyTimeoutSeconds     = KeyPrefix + "clientBodyTimeoutSeconds"
	KeySendTimeoutSeconds           = KeyPrefix + "sendTimeoutSeconds"
	KeyProxyReadTimeoutSeconds      = KeyPrefix + "proxyReadTimeoutSeconds"
	KeyProxySendTimeoutSeconds      = KeyPrefix + "proxySendTimeoutSeconds"
	KeyKeepaliveTimeoutSeconds      = KeyPrefix + "keepaliveTimeoutSeconds"
	KeyClientBodyBufferKiB          = KeyPrefix + "clientBodyBufferKiB"
	KeyWorkerProcesses              = KeyPrefix + "workerProcesses"
	KeyWorkerConnections            = KeyPrefix + "workerConnections"
	KeyWorkerShutdownTimeoutSeconds = KeyPrefix + "workerShutdownTimeoutSeconds"
	KeyPidFile                      = KeyPrefix + "pidFile"
	KeyErrorLog                     = KeyPrefix + "errorLog"
	KeyErrorLogLevel                = KeyPrefix + "errorLogLevel"
	KeyAccessLog                    = KeyPrefix + "accessLog"
	KeyClientBodyTempPath           = KeyPrefix + "clientBodyTempPath"
	KeyProxyTempPath                = KeyPrefix + "proxyTempPath"
	KeyFastCGITempPath              = KeyPrefix + "fastcgiTempPath"
	KeyUWSGITempPath                = KeyPrefix + "uwsgiTempPath"
	KeySCGITempPath                 = KeyPrefix + "scgiTempPath"
	KeyIngressAuthTLSSecret         = KeyPrefix + "ingressAuthTLSSecret"
)

// Client certificate verification modes (ssl_verify_client).
const (
	// ClientVerifyOn requires a valid client certificate on every connection.
	ClientVerifyOn = "on"
	// ClientVerifyOptional lets clients without a certificate through with
	// Ssl-Client-Verify: NONE; an invalid certificate is still refused.
	ClientVerifyOptional = "optional"
	// ClientVerifyOff turns mTLS off. It must be set explicitly.
	ClientVerifyOff = "off"
)

// MinTimeoutSeconds is the project's floor for every timeout that can cut a
// transfer in flight (client_body_timeout, send_timeout, proxy_read_timeout,
// proxy_send_timeout): NGINX's own 60 s defaults cut template pushes
// whenever the Registry or the client pauses (hashing, disk flushes), so
// nothing below 15 minutes is accepted. keepalive_timeout is not among them:
// it only runs between two requests, when nothing is in flight.
const MinTimeoutSeconds = 900

// MaxKeepaliveTimeoutSeconds bounds keepalive_timeout: an idle connection
// holds a worker connection and, with clientVerify "optional", lets a client
// without a certificate sit on the edge; nothing needs it longer than the
// transfer floor.
const MaxKeepaliveTimeoutSeconds = MinTimeoutSeconds

// TLS12Ciphers is ssl_ciphers: the TLS 1.2 suites of Mozilla's
// "intermediate" configuration, guidelines 6.0
// (https://ssl-config.mozilla.org/guidelines/6.0.json,
// https://wiki.mozilla.org/Security/Server_Side_TLS): ECDHE key exchange
// (forward secrecy) with an AEAD cipher only, so no static-RSA key exchange
// (AES128-GCM-SHA256 and the like) and no CBC-SHA1 suite. TLS 1.3 suites are
// OpenSSL's defaults, which are the same three Mozilla lists. Not a setting:
// nothing the Build Cloud's clients run needs a weaker suite.
const TLS12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" +
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

// Defaults: the only place where default values live. WithDefaults applies
// them; field doc comments repeat them for the reader.
const (
	DefaultListenAddress            = ""
	DefaultTLSPort                  = 8443
	DefaultHealthPort               = 8080
	DefaultControllerUpstream       = "anka-controller.anka.svc.cluster.local:80"
	DefaultRegistryUpstream         = "anka-registry.anka.svc.cluster.local:8089"
	DefaultUpstreamKeepalive        = 16
	DefaultClientVerify             = ClientVerifyOn
	DefaultClientVerifyDepth        = 1
	DefaultSubjectHeader            = "X-Client-Subject"
	DefaultClientBodyTimeoutSeconds = 3600
	DefaultSendTimeoutSeconds       = 3600
	DefaultProxyReadTimeoutSeconds  = 3600
	DefaultProxySendTimeoutSeconds  = 3600
	DefaultKeepaliveTimeoutSeconds  = 75
	DefaultClientBodyBufferKiB      = 128
	DefaultWorkerProcesses          = "auto"
	DefaultWorkerConnections        = 4096
	DefaultPidFile                  = "/tmp/nginx.pid"
	DefaultErrorLog                 = "stderr"
	DefaultErrorLogLevel            = "warn"
	DefaultAccessLog                = "/dev/stdout"
	DefaultClientBodyTempPath       = "/tmp/client_temp"
	DefaultProxyTempPath            = "/tmp/proxy_temp"
	DefaultFastCGITempPath          = "/tmp/fastcgi_temp"
	DefaultUWSGITempPath            = "/tmp/uwsgi_temp"
	DefaultSCGITempPath             = "/tmp/scgi_temp"
	DefaultIngressAuthTLSSecret     = "anka/anka-edge-client-ca"
)

// Header names NGINX sets on every proxied request. The Controller and the
// Registry read the first two ("NGINX header passthrough") and trust them.
const (
	HeaderClientVerify = "Ssl-Client-Verify"
	HeaderClientCert   = "Ssl-Client-Cert"
)

// ProxyHeader is one proxy_set_header of every proxied request.
type ProxyHeader struct {
	// Name is the header name. NGINX drops a client's header of this name in
	// any letter case, however often it is sent, and sends its own instead.
	Name string
	// Value is an NGINX variable, or "" to blank the header: NGINX then
	// sends none, so no client copy gets through either.
	Value string
}

// ProxyHeaders are the headers NGINX sets (or blanks) on every proxied
// request, besides the configurable subject header. Every identity-style
// header an upstream or a library in front of it might trust is here: the
// client-certificate ones ingress-nginx sets (Ssl-Client-Subject-Dn,
// Ssl-Client-Issuer-Dn) come from the TLS connection, the client address
// ones (X-Real-Ip, X-Forwarded-*) from the TCP connection, and the ones this
// edge has nothing true to put in (Forwarded, RFC 7239;
// X-Original-Forwarded-For, which ingress-nginx copies from the client) are
// blanked. proxy_set_header replaces a client header of the same name in any
// letter case (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header);
// spellings with '_' are dropped before that by underscores_in_headers off
// and ignore_invalid_headers on
// (https://nginx.org/en/docs/http/ngx_http_core_module.html#ignore_invalid_headers).
// The list is also the reserved-name list the subject header may not take.
func ProxyHeaders() []ProxyHeader {
	return []ProxyHeader{
		{"Host", "$host"},
		// HTTP/1.1 keep-alive to the upstreams.
		{"Connection", ""},
		{"X-Forwarded-For", "$remote_addr"},
		{"X-Forwarded-Proto", "$scheme"},
		{"X-Forwarded-Host", "$host"},
		{"X-Real-Ip", "$remote_addr"},
		{"Forwarded", ""},
		{"X-Original-Forwarded-For", ""},
		{HeaderClientVerify, "$ssl_client_verify"},
		{HeaderClientCert, "$ssl_client_escaped_cert"},
		{"Ssl-Client-Subject-Dn", "$ssl_client_s_dn"},
		{"Ssl-Client-Issuer-Dn", "$ssl_client_i_dn"},
	}
}

// Settings shapes the rendered nginx.conf. The zero value of a field means
// "use the default" (see the Default* constants); fields without a default
// are required. Each field comes from the config key named in its comment.
type Settings struct {
	// ListenAddress is the IP address both listeners bind to; empty binds all
	// IPv4 addresses. Key anka:edge.nginx.listenAddress, default "" (all).
	ListenAddress string
	// TLSPort is the TLS (and mTLS) listener the NLB's TCP listener forwards
	// to. Key anka:edge.nginx.tlsPort, default 8443.
	TLSPort int
	// HealthPort is the plain-HTTP listener that answers GET /healthz for the
	// NLB and kubelet probes; it reaches no upstream. Key
	// anka:edge.nginx.healthPort, default 8080.
	HealthPort int

	// ControllerHostname is the server_name routed to the Controller, e.g.
	// "anka.example.com". Key anka:edge.nginx.controllerHostname, required.
	ControllerHostname string
	// RegistryHostname is the server_name routed to the Registry. Key
	// anka:edge.nginx.registryHostname, required.
	RegistryHostname string
	// ControllerUpstream is the Controller's host:port. Key
	// anka:edge.nginx.controllerUpstream, default
	// "anka-controller.anka.svc.cluster.local:80". NGINX resolves the name once
	// at start, which suits a ClusterIP Service.
	ControllerUpstream string
	// RegistryUpstream is the Registry's host:port. Key
	// anka:edge.nginx.registryUpstream, default
	// "anka-registry.anka.svc.cluster.local:8089".
	RegistryUpstream string
	// UpstreamKeepalive is the number of idle keepalive connections each
	// worker keeps per upstream. Key anka:edge.nginx.upstreamKeepalive,
	// default 16, at least 1.
	UpstreamKeepalive int

	// TLSCertFile is the server certificate chain (PEM) path. Key
	// anka:edge.nginx.tlsCertFile, required.
	TLSCertFile string
	// TLSKeyFile is the server private key (PEM) path. Key
	// anka:edge.nginx.tlsKeyFile, required.
	TLSKeyFile string

	// ClientVerify is ssl_verify_client: "on" (every client needs a
	// certificate from ClientCAFile), "optional" (clients without one get
	// Ssl-Client-Verify: NONE) or "off" (no mTLS; must be set explicitly).
	// Key anka:edge.nginx.clientVerify, default "on".
	ClientVerify string
	// ClientCAFile is the CA bundle (PEM) that client certificates must chain
	// to (ssl_client_certificate). Key anka:edge.nginx.clientCAFile, required
	// unless ClientVerify is "off".
	ClientCAFile string
	// ClientCRLFile is an optional CRL (PEM) of revoked client certificates
	// (ssl_crl). Key anka:edge.nginx.clientCRLFile, default "" (none).
	ClientCRLFile string
	// ClientVerifyDepth is ssl_verify_depth: how many CA certificates may
	// stand between a client certificate and its trust anchor (a
	// self-signed CA in ClientCAFile). OpenSSL counts neither the client
	// certificate nor the anchor, and counts an intermediate whether the
	// client sends it or ClientCAFile holds it: a chain may have depth + 2
	// certificates (https://docs.openssl.org/3.0/man1/openssl-verification-options/,
	// -verify_depth). 1, the default, is what a dedicated client-issuing CA
	// needs: a root that signs client certificates itself, or an issuing
	// intermediate bundled with its root; a chain with two intermediates is
	// refused. Key anka:edge.nginx.clientVerifyDepth, default 1, 1 to 10.
	ClientVerifyDepth int
	// SubjectHeader is the request header that carries the client
	// certificate's subject DN ($ssl_client_s_dn, RFC 2253) to the upstreams.
	// Key anka:edge.nginx.subjectHeader, default "X-Client-Subject"; letters,
	// digits and '-' only.
	SubjectHeader string

	// ClientBodyTimeoutSeconds is client_body_timeout: the longest pause
	// between two reads of the request body. Key
	// anka:edge.nginx.clientBodyTimeoutSeconds, default 3600, at least 900.
	ClientBodyTimeoutSeconds int
	// SendTimeoutSeconds is send_timeout: the longest pause between two
	// writes of the response to a client (template pulls). Key
	// anka:edge.nginx.sendTimeoutSeconds, default 3600, at least 900.
	SendTimeoutSeconds int
	// ProxyReadTimeoutSeconds is proxy_read_timeout: the longest pause between
	// two reads from an upstream, including the wait for its response after a
	// push. Key anka:edge.nginx.proxyReadTimeoutSeconds, default 3600, at
	// least 900.
	ProxyReadTimeoutSeconds int
	// ProxySendTimeoutSeconds is proxy_send_timeout: the longest pause
	// between two writes to an upstream; with unbuffered request bodies NGINX
	// also arms it while it waits for the client's next bytes. Key
	// anka:edge.nginx.proxySendTimeoutSeconds, default 3600, at least 900.
	ProxySendTimeoutSeconds int
	// KeepaliveTimeoutSeconds is keepalive_timeout: how long an idle client
	// connection stays open between two requests. It cannot cut a transfer,
	// so the 900 s floor does not apply; short, because an idle connection
	// holds a worker connection (and, with clientVerify "optional", lets a
	// client without a certificate sit on the edge). Key
	// anka:edge.nginx.keepaliveTimeoutSeconds, default 75 (NGINX's own
	// default), 1 to 900. Keep the NLB's tcp.idle_timeout.seconds at or above
	// the timeouts here, or the NLB cuts first.
	KeepaliveTimeoutSeconds int
	// ClientBodyBufferKiB is client_body_buffer_size in KiB: the chunk NGINX
	// reads from the client before passing it upstream (memory per active
	// upload). Key anka:edge.nginx.clientBodyBufferKiB, default 128, 8 to
	// 16384.
	ClientBodyBufferKiB int

	// WorkerProcesses is worker_processes: "auto" (one per CPU) or a count.
	// Key anka:edge.nginx.workerProcesses, default "auto".
	WorkerProcesses string
	// WorkerConnections is worker_connections per worker (each proxied
	// request uses two). Key anka:edge.nginx.workerConnections, default 4096,
	// at least 64.
	WorkerConnections int
	// WorkerShutdownTimeoutSeconds is worker_shutdown_timeout: after SIGQUIT
	// (graceful stop: listeners close, requests in flight finish) NGINX
	// closes whatever is still open this many seconds later. 0 (the
	// default) leaves it out: NGINX then waits for every request in flight
	// however long, and only a SIGKILL ends it. The edge sets it from the
	// drain chain (components/edge/drain); key
	// anka:edge.nginx.workerShutdownTimeoutSeconds.
	WorkerShutdownTimeoutSeconds int

	// PidFile is the pid file path; it must be writable by the (non-root)
	// NGINX user. Key anka:edge.nginx.pidFile, default "/tmp/nginx.pid".
	PidFile string
	// ErrorLog is error_log: "stderr" or an absolute path. Key
	// anka:edge.nginx.errorLog, default "stderr".
	ErrorLog string
	// ErrorLogLevel is error_log's level: debug, info, notice, warn, error,
	// crit, alert or emerg. Key anka:edge.nginx.errorLogLevel, default "warn".
	ErrorLogLevel string
	// AccessLog is access_log: an absolute path or "off". Key
	// anka:edge.nginx.accessLog, default "/dev/stdout".
	AccessLog string
	// ClientBodyTempPath is client_body_temp_path. With request buffering off
	// NGINX writes nothing there, but it creates the directory at start, so it
	// must be writable. Key anka:edge.nginx.clientBodyTempPath, default
	// "/tmp/client_temp"; the parent directory must exist.
	ClientBodyTempPath string
	// ProxyTempPath is proxy_temp_path (unused with proxy_max_temp_file_size
	// 0, created at start). Key anka:edge.nginx.proxyTempPath, default
	// "/tmp/proxy_temp".
	ProxyTempPath string
	// FastCGITempPath is fastcgi_temp_path (unused, created at start). Key
	// anka:edge.nginx.fastcgiTempPath, default "/tmp/fastcgi_temp".
	FastCGITempPath string
	// UWSGITempPath is uwsgi_temp_path (unused, created at start). Key
	// anka:edge.nginx.uwsgiTempPath, default "/tmp/uwsgi_temp".
	UWSGITempPath string
	// SCGITempPath is scgi_temp_path (unused, created at start). Key
	// anka:edge.nginx.scgiTempPath, default "/tmp/scgi_temp".
	SCGITempPath string

	// IngressAuthTLSSecret is "namespace/name" of the Secret holding ca.crt
	// for the community ingress-nginx controller's auth-tls-secret
	// annotation; Render does not use it. Key
	// anka:edge.nginx.ingressAuthTLSSecret, default "anka/anka-edge-client-ca".
	IngressAuthTLSSecret string
}

// WithDefaults returns a copy of s with every unset field set to its default.
func (s Settings) WithDefaults() Settings {
	s.ListenAddress = cmp.Or(s.ListenAddress, DefaultListenAddress)
	s.TLSPort = cmp.Or(s.TLSPort, DefaultTLSPort)
	s.HealthPort = cmp.Or(s.HealthPort, DefaultHealthPort)
	s.ControllerUpstream = cmp.Or(s.ControllerUpstream, DefaultControllerUpstream)
	s.RegistryUpstream = cmp.Or(s.RegistryUpstream, DefaultRegistryUpstream)
	s.UpstreamKeepalive = cmp.Or(s.UpstreamKeepalive, DefaultUpstreamKeepalive)
	s.ClientVerify = cmp.Or(s.ClientVerify, DefaultClientVerify)
	s.ClientVerifyDepth = cmp.Or(s.ClientVerifyDepth, DefaultClientVerifyDepth)
	s.SubjectHeader = cmp.Or(s.SubjectHeader, DefaultSubjectHeader)
	s.ClientBodyTimeoutSeconds = cmp.Or(s.ClientBodyTimeoutSeconds, DefaultClientBodyTimeoutSeconds)
	s.SendTimeoutSeconds = cmp.Or(s.SendTimeoutSeconds, DefaultSendTimeoutSeconds)
	s.ProxyReadTimeoutSeconds = cmp.Or(s.ProxyReadTimeoutSeconds, DefaultProxyReadTimeoutSeconds)
	s.ProxySendTimeoutSeconds = cmp.Or(s.ProxySendTimeoutSeconds, DefaultProxySendTimeoutSeconds)
	s.KeepaliveTimeoutSeconds = cmp.Or(s.KeepaliveTimeoutSeconds, DefaultKeepaliveTimeoutSeconds)
	s.ClientBodyBufferKiB = cmp.Or(s.ClientBodyBufferKiB, DefaultClientBodyBufferKiB)
	s.WorkerProcesses = cmp.Or(s.WorkerProcesses, DefaultWorkerProcesses)
	s.WorkerConnections = cmp.Or(s.WorkerConnections, DefaultWorkerConnections)
	s.PidFile = cmp.Or(s.PidFile, DefaultPidFile)
	s.ErrorLog = cmp.Or(s.ErrorLog, DefaultErrorLog)
	s.ErrorLogLevel = cmp.Or(s.ErrorLogLevel, DefaultErrorLogLevel)
	s.AccessLog = cmp.Or(s.AccessLog, DefaultAccessLog)
	s.ClientBodyTempPath = cmp.Or(s.ClientBodyTempPath, DefaultClientBodyTempPath)
	s.ProxyTempPath = cmp.Or(s.ProxyTempPath, DefaultProxyTempPath)
	s.FastCGITempPath = cmp.Or(s.FastCGITempPath, DefaultFastCGITempPath)
	s.UWSGITempPath = cmp.Or(s.UWSGITempPath, DefaultUWSGITempPath)
	s.SCGITempPath = cmp.Or(s.SCGITempPath, DefaultSCGITempPath)
	s.IngressAuthTLSSecret = cmp.Or(s.IngressAuthTLSSecret, DefaultIngressAuthTLSSecret)
	return s
}

// MTLS reports whether client certificates are verified (ClientVerify is not
// "off"), after defaults.
func (s Settings) MTLS() bool {
	return s.WithDefaults().ClientVerify != ClientVerifyOff
}

// Sentinel errors, for errors.Is on what Validate returns.
var (
	// ErrRequired: a required field is empty.
	ErrRequired = errors.New("required")
	// ErrInvalid: a field's value is malformed or out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrTimeoutTooShort: a timeout is below MinTimeoutSeconds.
	ErrTimeoutTooShort = errors.New("timeout below the floor")
)

// FieldError is one failed check: the config key, the offending value and a
// message that says what to do.
type FieldError struct {
	Key   string
	Value any
	Msg   string
	Err   error // ErrRequired, ErrInvalid or ErrTimeoutTooShort
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %s, got %q", e.Key, e.Msg, fmt.Sprint(e.Value))
}

func (e *FieldError) Unwrap() error { return e.Err }

// Validate checks s after defaults and returns every failure at once (joined
// with errors.Join; each is a *FieldError naming its config key), or nil.
func (s Settings) Validate() error {
	return s.WithDefaults().validate(MinTimeoutSeconds)
}

var (
	// One DNS label, lower or upper case; a server_name may start with "*.".
	hostnameRE = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	headerRE   = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)
	logLevels  = []string{"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}
)

// validate runs every check with the given timeout floor. Production code
// always passes MinTimeoutSeconds; only tests lower it (see export_test.go).
func (s Settings) validate(timeoutFloor int) error {
	var errs []error
	add := func(key string, value any, sentinel error, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Value: value, Msg: fmt.Sprintf(format, args...), Err: sentinel})
	}

	if s.ListenAddress != "" && net.ParseIP(s.ListenAddress) == nil {
		add(KeyListenAddress, s.ListenAddress, ErrInvalid, "must be an IP address or empty (all IPv4 addresses)")
	}
	for _, p := range []struct {
		key string
		v   int
	}{{KeyTLSPort, s.TLSPort}, {KeyHealthPort, s.HealthPort}} {
		if p.v < 1 || p.v > 65535 {
			add(p.key, p.v, ErrInvalid, "must be a port between 1 and 65535")
		}
	}
	if s.TLSPort == s.HealthPort {
		add(KeyHealthPort, s.HealthPort, ErrInvalid, "must differ from %s", KeyTLSPort)
	}

	checkHost := func(key, v string) {
		switch {
		case v == "":
			add(key, v, ErrRequired, "is required: the public DNS name clients use, e.g. anka.example.com")
		case len(v) > 253 || !hostnameRE.MatchString(v):
			add(key, v, ErrInvalid, "must be a DNS name (letters, digits, '-', '.'; optional leading '*.')")
		}
	}
	checkHost(KeyControllerHostname, s.ControllerHostname)
	checkHost(KeyRegistryHostname, s.RegistryHostname)
	if s.ControllerHostname != "" && strings.EqualFold(s.ControllerHostname, s.RegistryHostname) {
		add(KeyRegistryHostname, s.RegistryHostname, ErrInvalid, "must differ from %s: NGINX routes by host name", KeyControllerHostname)
	}

	checkUpstream := func(key, v string) {
		host, port, err := net.SplitHostPort(v)
		if err != nil || host == "" {
			add(key, v, ErrInvalid, "must be host:port, e.g. anka-registry.anka.svc.cluster.local:8089")
			return
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			add(key, v, ErrInvalid, "must end in a port between 1 and 65535")
		}
		if net.ParseIP(host) == nil && (len(host) > 253 || !hostnameRE.MatchString(host) || strings.HasPrefix(host, "*")) {
			add(key, v, ErrInvalid, "must name a DNS host or an IP address")
		}
	}
	checkUpstream(KeyControllerUpstream, s.ControllerUpstream)
	checkUpstream(KeyRegistryUpstream, s.RegistryUpstream)
	if s.UpstreamKeepalive < 1 || s.UpstreamKeepalive > 1024 {
		add(KeyUpstreamKeepalive, s.UpstreamKeepalive, ErrInvalid, "must be between 1 and 1024")
	}

	checkPath := func(key, v string, required bool, why string) {
		switch {
		case v == "" && required:
			add(key, v, ErrRequired, "is required: %s", why)
		case v == "":
		case !path.IsAbs(v) || path.Clean(v) != v:
			add(key, v, ErrInvalid, "must be a clean absolute path")
		case strings.ContainsAny(v, "\"'\\$;{}# \t\r\n"):
			add(key, v, ErrInvalid, "must not contain quotes, backslashes, '$', ';', '{', '}', '#' or white space")
		}
	}
	checkPath(KeyTLSCertFile, s.TLSCertFile, true, "the server certificate chain (PEM) NGINX presents")
	checkPath(KeyTLSKeyFile, s.TLSKeyFile, true, "the server certificate's private key (PEM)")

	switch s.ClientVerify {
	case ClientVerifyOn, ClientVerifyOptional, ClientVerifyOff:
	default:
		add(KeyClientVerify, s.ClientVerify, ErrInvalid, "must be %q, %q or %q", ClientVerifyOn, ClientVerifyOptional, ClientVerifyOff)
	}
	checkPath(KeyClientCAFile, s.ClientCAFile, s.ClientVerify != ClientVerifyOff,
		fmt.Sprintf("the CA bundle client certificates must chain to (or set %s to %q to turn mTLS off)", KeyClientVerify, ClientVerifyOff))
	checkPath(KeyClientCRLFile, s.ClientCRLFile, false, "")
	if s.ClientVerifyDepth < 1 || s.ClientVerifyDepth > 10 {
		add(KeyClientVerifyDepth, s.ClientVerifyDepth, ErrInvalid, "must be between 1 and 10")
	}
	if !headerRE.MatchString(s.SubjectHeader) {
		add(KeySubjectHeader, s.SubjectHeader, ErrInvalid, "must be a header name of letters, digits and single '-' (no '_': NGINX drops such headers)")
	}
	// The subject header must not shadow a header NGINX sets itself.
	for _, r := range ProxyHeaders() {
		if strings.EqualFold(s.SubjectHeader, r.Name) {
			add(KeySubjectHeader, s.SubjectHeader, ErrInvalid, "must not be %s, which NGINX sets itself", r.Name)
		}
	}

	for _, t := range []struct {
		key string
		v   int
	}{
		{KeyClientBodyTimeoutSeconds, s.ClientBodyTimeoutSeconds},
		{KeySendTimeoutSeconds, s.SendTimeoutSeconds},
		{KeyProxyReadTimeoutSeconds, s.ProxyReadTimeoutSeconds},
		{KeyProxySendTimeoutSeconds, s.ProxySendTimeoutSeconds},
	} {
		if t.v < timeoutFloor {
			add(t.key, t.v, ErrTimeoutTooShort,
				"must be at least %d seconds so multi-GB template pushes and pulls are not cut; set it to %d or more (default 3600) or leave it unset",
				timeoutFloor, timeoutFloor)
		}
	}
	if s.KeepaliveTimeoutSeconds < 1 || s.KeepaliveTimeoutSeconds > MaxKeepaliveTimeoutSeconds {
		add(KeyKeepaliveTimeoutSeconds, s.KeepaliveTimeoutSeconds, ErrInvalid,
			"must be between 1 and %d seconds: it only keeps an idle connection open between two requests (default %d, NGINX's own), and a long one lets idle clients hold the edge's connections",
			MaxKeepaliveTimeoutSeconds, DefaultKeepaliveTimeoutSeconds)
	}
	if s.ClientBodyBufferKiB < 8 || s.ClientBodyBufferKiB > 16384 {
		add(KeyClientBodyBufferKiB, s.ClientBodyBufferKiB, ErrInvalid, "must be between 8 and 16384 (KiB)")
	}

	if s.WorkerProcesses != "auto" {
		if n, err := strconv.Atoi(s.WorkerProcesses); err != nil || n < 1 {
			add(KeyWorkerProcesses, s.WorkerProcesses, ErrInvalid, "must be \"auto\" or a positive number")
		}
	}
	if s.WorkerConnections < 64 {
		add(KeyWorkerConnections, s.WorkerConnections, ErrInvalid, "must be at least 64")
	}
	if s.WorkerShutdownTimeoutSeconds < 0 {
		add(KeyWorkerShutdownTimeoutSeconds, s.WorkerShutdownTimeoutSeconds, ErrInvalid, "must be 0 (wait for every request in flight) or a number of seconds")
	}

	checkPath(KeyPidFile, s.PidFile, true, "")
	if s.ErrorLog != "stderr" {
		checkPath(KeyErrorLog, s.ErrorLog, true, "")
	}
	if !slices.Contains(logLevels, s.ErrorLogLevel) {
		add(KeyErrorLogLevel, s.ErrorLogLevel, ErrInvalid, "must be one of %s", strings.Join(logLevels, ", "))
	}
	if s.AccessLog != "off" {
		checkPath(KeyAccessLog, s.AccessLog, true, "")
	}
	checkPath(KeyClientBodyTempPath, s.ClientBodyTempPath, true, "")
	checkPath(KeyProxyTempPath, s.ProxyTempPath, true, "")
	checkPath(KeyFastCGITempPath, s.FastCGITempPath, true, "")
	checkPath(KeyUWSGITempPath, s.UWSGITempPath, true, "")
	checkPath(KeySCGITempPath, s.SCGITempPath, true, "")

	if ns, name, ok := strings.Cut(s.IngressAuthTLSSecret, "/"); !ok || !validation.IsDNSLabel(ns) || !validation.IsDNSSubdomain(name) {
		add(KeyIngressAuthTLSSecret, s.IngressAuthTLSSecret, ErrInvalid, "must be namespace/name of a Secret holding ca.crt")
	}
	return errors.Join(errs...)
}
