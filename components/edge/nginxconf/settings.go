package nginxconf

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// MinTimeoutSeconds is the project's floor for every timeout: NGINX's own
// 60 s defaults cut template pushes whenever the Registry or the client
// pauses (hashing, disk flushes), so nothing below 15 minutes is accepted.
const MinTimeoutSeconds = 900

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
	DefaultClientVerifyDepth        = 2
	DefaultSubjectHeader            = "X-Client-Subject"
	DefaultClientBodyTimeoutSeconds = 3600
	DefaultSendTimeoutSeconds       = 3600
	DefaultProxyReadTimeoutSeconds  = 3600
	DefaultProxySendTimeoutSeconds  = 3600
	DefaultKeepaliveTimeoutSeconds  = 3600
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
	// ClientVerifyDepth is ssl_verify_depth, the longest client chain
	// accepted. Key anka:edge.nginx.clientVerifyDepth, default 2, 1 to 10.
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
	// connection stays open. Key anka:edge.nginx.keepaliveTimeoutSeconds,
	// default 3600, at least 900. Keep the NLB's tcp.idle_timeout.seconds at
	// or above the timeouts here, or the NLB cuts first.
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
	str := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	num := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	str(&s.ListenAddress, DefaultListenAddress)
	num(&s.TLSPort, DefaultTLSPort)
	num(&s.HealthPort, DefaultHealthPort)
	str(&s.ControllerUpstream, DefaultControllerUpstream)
	str(&s.RegistryUpstream, DefaultRegistryUpstream)
	num(&s.UpstreamKeepalive, DefaultUpstreamKeepalive)
	str(&s.ClientVerify, DefaultClientVerify)
	num(&s.ClientVerifyDepth, DefaultClientVerifyDepth)
	str(&s.SubjectHeader, DefaultSubjectHeader)
	num(&s.ClientBodyTimeoutSeconds, DefaultClientBodyTimeoutSeconds)
	num(&s.SendTimeoutSeconds, DefaultSendTimeoutSeconds)
	num(&s.ProxyReadTimeoutSeconds, DefaultProxyReadTimeoutSeconds)
	num(&s.ProxySendTimeoutSeconds, DefaultProxySendTimeoutSeconds)
	num(&s.KeepaliveTimeoutSeconds, DefaultKeepaliveTimeoutSeconds)
	num(&s.ClientBodyBufferKiB, DefaultClientBodyBufferKiB)
	str(&s.WorkerProcesses, DefaultWorkerProcesses)
	num(&s.WorkerConnections, DefaultWorkerConnections)
	str(&s.PidFile, DefaultPidFile)
	str(&s.ErrorLog, DefaultErrorLog)
	str(&s.ErrorLogLevel, DefaultErrorLogLevel)
	str(&s.AccessLog, DefaultAccessLog)
	str(&s.ClientBodyTempPath, DefaultClientBodyTempPath)
	str(&s.ProxyTempPath, DefaultProxyTempPath)
	str(&s.FastCGITempPath, DefaultFastCGITempPath)
	str(&s.UWSGITempPath, DefaultUWSGITempPath)
	str(&s.SCGITempPath, DefaultSCGITempPath)
	str(&s.IngressAuthTLSSecret, DefaultIngressAuthTLSSecret)
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
	dns1123RE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	subdomRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
	logLevels  = []string{"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}
	// Headers NGINX sets itself; the subject header must not shadow them.
	reservedHeaders = []string{HeaderClientVerify, HeaderClientCert, "Host", "Connection",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"}
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
	for _, r := range reservedHeaders {
		if strings.EqualFold(s.SubjectHeader, r) {
			add(KeySubjectHeader, s.SubjectHeader, ErrInvalid, "must not be %s, which NGINX sets itself", r)
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
		{KeyKeepaliveTimeoutSeconds, s.KeepaliveTimeoutSeconds},
	} {
		if t.v < timeoutFloor {
			add(t.key, t.v, ErrTimeoutTooShort,
				"must be at least %d seconds so multi-GB template pushes and pulls are not cut; set it to %d or more (default 3600) or leave it unset",
				timeoutFloor, timeoutFloor)
		}
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

	if ns, name, ok := strings.Cut(s.IngressAuthTLSSecret, "/"); !ok || !dns1123RE.MatchString(ns) || !subdomRE.MatchString(name) {
		add(KeyIngressAuthTLSSecret, s.IngressAuthTLSSecret, ErrInvalid, "must be namespace/name of a Secret holding ca.crt")
	}
	return errors.Join(errs...)
}
