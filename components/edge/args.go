package edge

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/drain"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Modes (config anka:edge.mode). ModeNone means "no edge": the stack does
// not create the component at all, and New refuses it.
const (
	ModeALB          = "alb"
	ModeNLBMTLS      = "nlb-mtls"
	ModeIngressNginx = "ingress-nginx"
	ModeNone         = "none"
)

// Load balancer schemes (config anka:edge.scheme).
const (
	SchemeInternal       = "internal"
	SchemeInternetFacing = "internet-facing"
)

// Limits: AWS's ranges and the project's floor.
const (
	// MinIdleTimeoutSeconds is the project's floor for every idle timeout on
	// the path of a registry push (the vendor saw the old fixed 350 s NLB
	// timeout cut pushes); it equals nginxconf.MinTimeoutSeconds.
	MinIdleTimeoutSeconds = nginxconf.MinTimeoutSeconds
	// ALBMaxIdleTimeoutSeconds is the ALB attribute
	// idle_timeout.timeout_seconds's maximum (range 1-4000).
	ALBMaxIdleTimeoutSeconds = 4000
	// NLBMaxIdleTimeoutSeconds is the NLB TCP listener attribute
	// tcp.idle_timeout.seconds's maximum (range 60-6000, default 350).
	NLBMaxIdleTimeoutSeconds = 6000
	// IngressNginxMaxIdleTimeoutSeconds bounds the ingress-nginx proxy
	// timeouts by the largest idle timeout any AWS load balancer in front of
	// the ingress-nginx controller can be given (an NLB's).
	IngressNginxMaxIdleTimeoutSeconds = NLBMaxIdleTimeoutSeconds
	// MaxDeregistrationDelaySeconds is the target group attribute
	// deregistration_delay.timeout_seconds's maximum (range 0-3600); the
	// drain chain (package drain) keeps every push window under it.
	MaxDeregistrationDelaySeconds = drain.MaxDeregistrationDelaySeconds
	// NLBListenerProtocolTCP is the only listener protocol allowed: a TLS
	// listener would terminate TLS at the NLB, which cannot verify client
	// certificates, and NGINX would never see them.
	NLBListenerProtocolTCP = "TCP"
)

// Defaults, in one place. Field comments repeat them for the reader.
const (
	DefaultMode                           = ModeALB
	DefaultScheme                         = SchemeInternal
	DefaultNamespace                      = namespace.DefaultName
	DefaultControllerService              = "anka-controller"
	DefaultControllerPort                 = 80
	DefaultRegistryService                = "anka-registry"
	DefaultRegistryPort                   = 8089
	DefaultIngressNginxIdleTimeoutSeconds = 3600
	DefaultALBSSLPolicy                   = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	DefaultALBGroupName                   = "anka-edge"
	DefaultNLBListenerProtocol            = NLBListenerProtocolTCP
	DefaultNLBPort                        = 443
	DefaultNginxImage                     = "nginx:1.28.0-alpine"
	DefaultNginxReplicas                  = 2
	DefaultNginxCPURequest                = "250m"
	DefaultNginxMemoryRequest             = "128Mi"
	DefaultNginxMemoryLimit               = "512Mi"
	DefaultIngressNginxClassName          = "nginx"
	DefaultIngressNginxNamespace          = "ingress-nginx"
)

// HealthCheckPath is what the ALB target groups probe on the Controller and
// the Registry (their readiness endpoint since 1.41.1).
const HealthCheckPath = "/readyz"

// ALBArgs is anka:edge.alb (mode alb only).
type ALBArgs struct {
	// CertificateArn is the ACM certificate the HTTPS listener presents; it
	// must cover both host names. Required in mode alb. Several ARNs may be
	// given comma-separated (the first is the default certificate).
	// Config anka:edge.alb.certificateArn.
	CertificateArn string `json:"certificateArn"`
	// SSLPolicy is the listener's security policy, default
	// ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3, with 1.2 for older
	// clients); must be an ELBSecurityPolicy-TLS13-* policy.
	// Config anka:edge.alb.sslPolicy.
	SSLPolicy string `json:"sslPolicy"`
	// AccessLogsBucket turns on ALB access logs into this S3 bucket (its
	// policy must let the region's ELB account write). Default off.
	// Config anka:edge.alb.accessLogsBucket.
	AccessLogsBucket string `json:"accessLogsBucket"`
	// AccessLogsPrefix is the key prefix of the access logs, default none.
	// Config anka:edge.alb.accessLogsPrefix.
	AccessLogsPrefix string `json:"accessLogsPrefix"`
	// WAFAclArn attaches a regional WAFv2 web ACL. Default none.
	// Config anka:edge.alb.wafAclArn.
	WAFAclArn string `json:"wafAclArn"`
	// GroupName is the IngressGroup that makes both Ingresses share one ALB,
	// default anka-edge. Config anka:edge.alb.groupName.
	GroupName string `json:"groupName"`
}

// NLBArgs is anka:edge.nlb (mode nlb-mtls only).
type NLBArgs struct {
	// ListenerProtocol must be TCP (the default): NLB TLS listeners cannot
	// pass client certificates through. Config anka:edge.nlb.listenerProtocol.
	ListenerProtocol string `json:"listenerProtocol"`
	// Port is the NLB listener port, default 443. Config anka:edge.nlb.port.
	Port int `json:"port"`
}

// TLSArgs is anka:edge.tls: the server certificate NGINX (nlb-mtls) or the
// ingress-nginx controller presents. Either Certificate and PrivateKey, or
// SecretName.
type TLSArgs struct {
	// Certificate is the PEM certificate chain (leaf first) covering both
	// host names. Config anka:edge.tls.certificate (set it as a secret).
	Certificate string `json:"certificate"`
	// PrivateKey is the PEM private key of the certificate. Always stored as
	// a Pulumi secret. Config anka:edge.tls.privateKey (set it as a secret:
	// pulumi config set --secret --path anka:edge.tls.privateKey ...).
	PrivateKey string `json:"privateKey"`
	// SecretName names an existing kubernetes.io/tls Secret (tls.crt,
	// tls.key) in the namespace instead, e.g. one cert-manager maintains.
	// Config anka:edge.tls.secretName.
	SecretName string `json:"secretName"`
}

// MTLSArgs is anka:edge.mtls: the CA that client certificates must chain to.
// Either CACertificate or CASecretName, unless anka:edge.nginx.clientVerify
// is "off".
type MTLSArgs struct {
	// CACertificate is the PEM CA bundle. Treated as a secret. Config
	// anka:edge.mtls.caCertificate.
	CACertificate string `json:"caCertificate"`
	// CASecretName names an existing Secret in the namespace holding the CA
	// bundle under the key ca.crt. Config anka:edge.mtls.caSecretName.
	CASecretName string `json:"caSecretName"`
	// CRL is an optional PEM certificate revocation list (nlb-mtls only).
	// NGINX then requires a CRL for every CA in a client's chain.
	// Config anka:edge.mtls.crl.
	CRL string `json:"crl"`
}

// NginxArgs is anka:edge.nginx: the NGINX Deployment (nlb-mtls) and the
// nginxconf settings (nlb-mtls and ingress-nginx). The embedded Settings are
// nginxconf's anka:edge.nginx.* keys; the edge sets the host names,
// upstreams and certificate paths itself (they must stay unset), and derives
// the four transfer timeouts from anka:edge.idleTimeoutSeconds when they are
// unset (keepalive_timeout keeps nginxconf's short default).
type NginxArgs struct {
	nginxconf.Settings
	// Image is the official NGINX image, pinned by tag or digest, default
	// nginx:1.28.0-alpine. It must run as uid 101 (the image's nginx user).
	// Config anka:edge.nginx.image.
	Image string `json:"image"`
	// Replicas of the NGINX Deployment, default 2; prod refuses fewer than
	// 2. Config anka:edge.nginx.replicas.
	Replicas int `json:"replicas"`
	// CPURequest, default 250m (no CPU limit: TLS is CPU-bound and a
	// throttled proxy stalls transfers). Config anka:edge.nginx.cpuRequest.
	CPURequest string `json:"cpuRequest"`
	// MemoryRequest, default 128Mi. Config anka:edge.nginx.memoryRequest.
	MemoryRequest string `json:"memoryRequest"`
	// MemoryLimit, default 512Mi (NGINX streams bodies, it does not buffer
	// them). Config anka:edge.nginx.memoryLimit.
	MemoryLimit string `json:"memoryLimit"`
}

// IngressNginxArgs is anka:edge.ingressNginx (mode ingress-nginx only).
type IngressNginxArgs struct {
	// ClassName is the IngressClass of the community controller, default
	// nginx. Config anka:edge.ingressNginx.className.
	ClassName string `json:"className"`
	// Namespace of the ingress-nginx controller pods, default ingress-nginx;
	// reported as PodNamespace for the Build Cloud's NetworkPolicy.
	// Config anka:edge.ingressNginx.namespace.
	Namespace string `json:"namespace"`
	// PodLabels of the ingress-nginx controller pods, default
	// app.kubernetes.io/name=ingress-nginx, app.kubernetes.io/component=controller;
	// reported as PodLabels. Config anka:edge.ingressNginx.podLabels.
	PodLabels map[string]string `json:"podLabels"`
}

// Args configures the edge. Config anka:edge; plain values, so every one is
// validated before anything is registered.
type Args struct {
	// Mode is alb (default), nlb-mtls or ingress-nginx ("none" is handled by
	// the stack, which then does not create the edge). Config anka:edge.mode.
	Mode string `json:"mode"`
	// Scheme of the AWS load balancer: internal (default) or
	// internet-facing. Config anka:edge.scheme.
	Scheme string `json:"scheme"`
	// ControllerHostname is the DNS name clients and Anka nodes use for the
	// Controller, e.g. anka.example.com. Required.
	// Config anka:edge.controllerHostname.
	ControllerHostname string `json:"controllerHostname"`
	// RegistryHostname is the DNS name for the Registry, e.g.
	// anka-registry.example.com. Required. Config anka:edge.registryHostname.
	RegistryHostname string `json:"registryHostname"`
	// SourceCIDRs is the IPv4 allow-list of client ranges (ALB inbound-cidrs,
	// NLB loadBalancerSourceRanges). Empty allows any source that can route
	// to the load balancer, which is accepted only with scheme internal.
	// Config anka:edge.sourceCidrs.
	SourceCIDRs []string `json:"sourceCidrs"`
	// IdleTimeoutSeconds is the load balancer's idle timeout: at least 900,
	// at most the mode's maximum (alb 4000, nlb-mtls 6000, ingress-nginx
	// 6000), default that maximum (ingress-nginx: 3600). NGINX's transfer
	// timeouts default to it. Config anka:edge.idleTimeoutSeconds.
	IdleTimeoutSeconds int `json:"idleTimeoutSeconds"`
	// DeregistrationDelaySeconds is how long a draining target keeps its
	// connections (a push in flight when a pod stops): default the drain
	// chain's push window, anka:buildcloud.preStopSeconds +
	// anka:registry.drainSeconds (3600 with the defaults); an explicit value
	// must be at least that window and at most 3600 (AWS's range 0-3600).
	// Config anka:edge.deregistrationDelaySeconds.
	DeregistrationDelaySeconds *int `json:"deregistrationDelaySeconds"`
	// AwaitLoadBalancer makes `pulumi up` wait until the load balancer
	// controller has provisioned the ALB/NLB (default true). Set it false on
	// clusters without the AWS Load Balancer Controller (the local control
	// plane): the Service/Ingresses then get pulumi.com/skipAwait.
	// Config anka:edge.awaitLoadBalancer.
	AwaitLoadBalancer *bool `json:"awaitLoadBalancer"`

	ALB          ALBArgs          `json:"alb"`
	NLB          NLBArgs          `json:"nlb"`
	TLS          TLSArgs          `json:"tls"`
	MTLS         MTLSArgs         `json:"mtls"`
	Nginx        NginxArgs        `json:"nginx"`
	IngressNginx IngressNginxArgs `json:"ingressNginx"`

	// Set by the stack, not from the anka:edge object:

	// Namespace of the Build Cloud (its Services) and of the edge's own
	// resources, default anka.
	Namespace string `json:"-"`
	// ControllerService and ControllerPort name the Controller's ClusterIP
	// Service, default anka-controller:80.
	ControllerService string `json:"-"`
	ControllerPort    int    `json:"-"`
	// RegistryService and RegistryPort name the Registry's ClusterIP
	// Service, default anka-registry:8089.
	RegistryService string `json:"-"`
	RegistryPort    int    `json:"-"`
	// Prod refuses fewer than 2 NGINX replicas and makes the zone spread
	// strict (DoNotSchedule).
	Prod bool `json:"-"`
	// RegistryDrainSeconds and RegistryPreStopSeconds are the Build Cloud's
	// anka:registry.drainSeconds and anka:buildcloud.preStopSeconds: the one
	// setting the drain chain derives the deregistration delay and NGINX's
	// drain from (DrainChain). 0 means the Build Cloud's default.
	RegistryDrainSeconds   int `json:"-"`
	RegistryPreStopSeconds int `json:"-"`
	// VpcCIDR is the VPC's IPv4 block (anka:network.cidr, when the stack
	// creates the VPC). In nlb-mtls the NGINX pods' NetworkPolicy admits the
	// NLB's health checks, which come from the load balancer's private
	// addresses in the VPC, on the health port from this block only; ""
	// (the default: a VPC the stack does not know) admits them from any
	// address, on that port only.
	VpcCIDR string `json:"-"`
}

// DrainChain is every hop's drain derived from the Registry's drain and
// preStop (package drain documents the invariants).
func (a Args) DrainChain() drain.Chain {
	return drain.New(a.RegistryDrainSeconds, a.RegistryPreStopSeconds)
}

// MaxIdleTimeoutSeconds is the largest idle timeout the mode's load balancer
// accepts, 0 for an unknown mode.
func MaxIdleTimeoutSeconds(mode string) int {
	switch mode {
	case ModeALB:
		return ALBMaxIdleTimeoutSeconds
	case ModeNLBMTLS:
		return NLBMaxIdleTimeoutSeconds
	case ModeIngressNginx:
		return IngressNginxMaxIdleTimeoutSeconds
	}
	return 0
}

// DefaultIdleTimeoutSeconds is the mode's default idle timeout: the maximum
// the mode's load balancer accepts (ingress-nginx: 3600, since the load
// balancer in front of that controller is not ours).
func DefaultIdleTimeoutSeconds(mode string) int {
	if mode == ModeIngressNginx {
		return DefaultIngressNginxIdleTimeoutSeconds
	}
	return MaxIdleTimeoutSeconds(mode)
}

// WithDefaults returns a copy with every unset field at its default. The
// nginxconf settings keep their own defaults (see NginxSettings).
func (a Args) WithDefaults() Args {
	a.Mode = cmp.Or(a.Mode, DefaultMode)
	a.Scheme = cmp.Or(a.Scheme, DefaultScheme)
	a.IdleTimeoutSeconds = cmp.Or(a.IdleTimeoutSeconds, DefaultIdleTimeoutSeconds(a.Mode))
	if a.DeregistrationDelaySeconds == nil {
		a.DeregistrationDelaySeconds = new(a.DrainChain().DeregistrationDelaySeconds)
	}
	if a.AwaitLoadBalancer == nil {
		a.AwaitLoadBalancer = new(true)
	}
	a.Namespace = cmp.Or(a.Namespace, DefaultNamespace)
	a.ControllerService = cmp.Or(a.ControllerService, DefaultControllerService)
	a.ControllerPort = cmp.Or(a.ControllerPort, DefaultControllerPort)
	a.RegistryService = cmp.Or(a.RegistryService, DefaultRegistryService)
	a.RegistryPort = cmp.Or(a.RegistryPort, DefaultRegistryPort)
	switch a.Mode {
	case ModeALB:
		a.ALB.SSLPolicy = cmp.Or(a.ALB.SSLPolicy, DefaultALBSSLPolicy)
		a.ALB.GroupName = cmp.Or(a.ALB.GroupName, DefaultALBGroupName)
	case ModeNLBMTLS:
		a.NLB.ListenerProtocol = cmp.Or(a.NLB.ListenerProtocol, DefaultNLBListenerProtocol)
		a.NLB.Port = cmp.Or(a.NLB.Port, DefaultNLBPort)
		a.Nginx.Image = cmp.Or(a.Nginx.Image, DefaultNginxImage)
		a.Nginx.Replicas = cmp.Or(a.Nginx.Replicas, DefaultNginxReplicas)
		a.Nginx.CPURequest = cmp.Or(a.Nginx.CPURequest, DefaultNginxCPURequest)
		a.Nginx.MemoryRequest = cmp.Or(a.Nginx.MemoryRequest, DefaultNginxMemoryRequest)
		a.Nginx.MemoryLimit = cmp.Or(a.Nginx.MemoryLimit, DefaultNginxMemoryLimit)
	case ModeIngressNginx:
		a.IngressNginx.ClassName = cmp.Or(a.IngressNginx.ClassName, DefaultIngressNginxClassName)
		a.IngressNginx.Namespace = cmp.Or(a.IngressNginx.Namespace, DefaultIngressNginxNamespace)
		if a.IngressNginx.PodLabels == nil {
			a.IngressNginx.PodLabels = map[string]string{
				"app.kubernetes.io/name":      "ingress-nginx",
				"app.kubernetes.io/component": "controller",
			}
		}
	}
	return a
}

// Paths where the NGINX pod mounts its configuration and key material; the
// rendered nginx.conf names them.
const (
	ConfDir       = "/etc/nginx/anka"
	ConfFile      = ConfDir + "/nginx.conf"
	TLSDir        = "/etc/nginx/tls"
	ClientCADir   = "/etc/nginx/client-ca"
	ClientCRLDir  = "/etc/nginx/client-crl"
	ClientCAKey   = "ca.crt"
	ClientCRLKey  = "ca.crl"
	TmpDir        = "/tmp"
	tlsCertKey    = "tls.crt"
	tlsPrivateKey = "tls.key"
)

// Names of the Kubernetes objects the edge creates in the namespace (the
// ConfigMap is auto-named so that a config change rolls the pods).
const (
	TLSSecretName       = "anka-edge-tls"
	ClientCASecretName  = "anka-edge-client-ca"
	ClientCRLSecretName = "anka-edge-client-crl"
	NginxName           = "anka-edge-nginx"
	ServiceName         = "anka-edge"
	ControllerIngress   = "anka-edge-controller"
	RegistryIngress     = "anka-edge-registry"
)

// tlsSecretName is the Secret holding the server certificate.
func (a Args) tlsSecretName() string {
	if a.TLS.SecretName != "" {
		return a.TLS.SecretName
	}
	return TLSSecretName
}

// caSecretName is the Secret holding ca.crt.
func (a Args) caSecretName() string {
	if a.MTLS.CASecretName != "" {
		return a.MTLS.CASecretName
	}
	return ClientCASecretName
}

// NginxSettings returns the nginxconf settings of the (defaulted) args: the
// user's anka:edge.nginx.* settings plus what the edge derives: host names,
// upstreams (the Build Cloud's Services), certificate paths, the
// ingress-nginx auth-tls Secret, and any unset transfer timeout = the idle
// timeout. keepalive_timeout keeps nginxconf's short default: it runs only
// between requests, so it cannot cut a transfer, and an idle connection held
// for the load balancer's whole idle timeout only ties up the edge.
func (a Args) NginxSettings() nginxconf.Settings {
	a = a.WithDefaults()
	s := a.Nginx.Settings
	s.ControllerHostname = a.ControllerHostname
	s.RegistryHostname = a.RegistryHostname
	s.ControllerUpstream = fmt.Sprintf("%s.%s.svc.cluster.local:%d", a.ControllerService, a.Namespace, a.ControllerPort)
	s.RegistryUpstream = fmt.Sprintf("%s.%s.svc.cluster.local:%d", a.RegistryService, a.Namespace, a.RegistryPort)
	s.TLSCertFile = TLSDir + "/" + tlsCertKey
	s.TLSKeyFile = TLSDir + "/" + tlsPrivateKey
	for _, t := range []*int{&s.ClientBodyTimeoutSeconds, &s.SendTimeoutSeconds, &s.ProxyReadTimeoutSeconds, &s.ProxySendTimeoutSeconds} {
		if *t == 0 {
			*t = a.IdleTimeoutSeconds
		}
	}
	if s.KeepaliveTimeoutSeconds == 0 && a.IdleTimeoutSeconds < nginxconf.DefaultKeepaliveTimeoutSeconds {
		// Unset, and the load balancer drops idle connections sooner than
		// NGINX's default would: follow the load balancer.
		s.KeepaliveTimeoutSeconds = a.IdleTimeoutSeconds
	}
	s.WorkerShutdownTimeoutSeconds = a.DrainChain().ProxyShutdownTimeoutSeconds
	s = s.WithDefaults()
	if s.MTLS() {
		s.ClientCAFile = ClientCADir + "/" + ClientCAKey
		if a.MTLS.CRL != "" {
			s.ClientCRLFile = ClientCRLDir + "/" + ClientCRLKey
		}
		s.IngressAuthTLSSecret = a.Namespace + "/" + a.caSecretName()
	}
	return s
}

// SetsIdentityHeaders reports whether the edge overwrites Ssl-Client-Verify
// and Ssl-Client-Cert on every request, so the Controller and Registry may
// run with ANKA_ENABLE_INGRESS_NGINX=true. False for alb (the ALB passes a
// client's own headers through) and for ingress-nginx without mTLS.
func (a Args) SetsIdentityHeaders() bool {
	a = a.WithDefaults()
	switch a.Mode {
	case ModeNLBMTLS:
		return true
	case ModeIngressNginx:
		return a.Nginx.Settings.MTLS()
	}
	return false
}

// ProxyPods returns the labels and namespace of the pods that proxy to the
// Controller and Registry: NGINX (nlb-mtls), the ingress-nginx controller
// (ingress-nginx), or none (alb: the ALB reaches the pods from its ENIs in
// the VPC). Plain values, so the Build Cloud, created before the edge, can
// put them in its NetworkPolicy; Edge.PodLabels/PodNamespace carry the same.
func (a Args) ProxyPods() (labels map[string]string, namespace string) {
	a = a.WithDefaults()
	switch a.Mode {
	case ModeNLBMTLS:
		return NginxPodLabels(), a.Namespace
	case ModeIngressNginx:
		return a.IngressNginx.PodLabels, a.IngressNginx.Namespace
	}
	return map[string]string{}, ""
}

// URL is https://host, with the port when it is not 443.
func (a Args) url(host string) string {
	if a.Mode == ModeNLBMTLS && a.NLB.Port != 443 {
		return "https://" + host + ":" + strconv.Itoa(a.NLB.Port)
	}
	return "https://" + host
}

// ControllerURL and RegistryURL are the public URLs (stack-reference
// contract: controllerUrl, registryUrl).
func (a Args) ControllerURL() string { return a.WithDefaults().url(a.ControllerHostname) }

// RegistryURL is https://<registryHostname>.
func (a Args) RegistryURL() string { return a.WithDefaults().url(a.RegistryHostname) }

var (
	// A lower-case DNS name (Ingress hosts must be), no wildcard: the name
	// becomes the URL that nodes join.
	hostnameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	acmArnRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
	wafArnRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$`)
	prefixRE   = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]*$`)
	groupRE    = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)
)

// derivedKeys are nginxconf settings the edge sets itself; a value in
// anka:edge.nginx would be overwritten, so it is refused, naming the key to
// use instead.
var derivedKeys = []struct {
	key, instead string
	get          func(nginxconf.Settings) string
}{
	{nginxconf.KeyControllerHostname, "anka:edge.controllerHostname", func(s nginxconf.Settings) string { return s.ControllerHostname }},
	{nginxconf.KeyRegistryHostname, "anka:edge.registryHostname", func(s nginxconf.Settings) string { return s.RegistryHostname }},
	{nginxconf.KeyControllerUpstream, "the Build Cloud's Controller Service", func(s nginxconf.Settings) string { return s.ControllerUpstream }},
	{nginxconf.KeyRegistryUpstream, "the Build Cloud's Registry Service", func(s nginxconf.Settings) string { return s.RegistryUpstream }},
	{nginxconf.KeyTLSCertFile, "anka:edge.tls.certificate or anka:edge.tls.secretName", func(s nginxconf.Settings) string { return s.TLSCertFile }},
	{nginxconf.KeyTLSKeyFile, "anka:edge.tls.privateKey or anka:edge.tls.secretName", func(s nginxconf.Settings) string { return s.TLSKeyFile }},
	{nginxconf.KeyClientCAFile, "anka:edge.mtls.caCertificate or anka:edge.mtls.caSecretName", func(s nginxconf.Settings) string { return s.ClientCAFile }},
	{nginxconf.KeyClientCRLFile, "anka:edge.mtls.crl", func(s nginxconf.Settings) string { return s.ClientCRLFile }},
	{nginxconf.KeyIngressAuthTLSSecret, "anka:edge.mtls.caCertificate or anka:edge.mtls.caSecretName", func(s nginxconf.Settings) string { return s.IngressAuthTLSSecret }},
	{nginxconf.KeyListenAddress, "nothing (NGINX must listen on the pod IP)", func(s nginxconf.Settings) string { return s.ListenAddress }},
}

// Validate reports every problem with the (defaulted) args at once, each
// naming its config key; New calls it before registering anything.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems

	switch a.Mode {
	case ModeALB, ModeNLBMTLS, ModeIngressNginx:
	case ModeNone:
		p.Addf("anka:edge.mode", "is %q: the stack must not create the edge component then", ModeNone)
	default:
		p.OneOf("anka:edge.mode", a.Mode, ModeALB, ModeNLBMTLS, ModeIngressNginx, ModeNone)
	}
	p.OneOf("anka:edge.scheme", a.Scheme, SchemeInternal, SchemeInternetFacing)

	checkHost := func(key, v string) {
		switch {
		case v == "":
			p.Addf(key, "is required: the DNS name clients and Anka nodes use, e.g. anka.example.com")
		case len(v) > 253 || !hostnameRE.MatchString(v):
			p.Addf(key, "must be a lower-case DNS name (letters, digits, '-' and '.', no wildcard), got %q", v)
		}
	}
	checkHost("anka:edge.controllerHostname", a.ControllerHostname)
	checkHost("anka:edge.registryHostname", a.RegistryHostname)
	if a.ControllerHostname != "" && strings.EqualFold(a.ControllerHostname, a.RegistryHostname) {
		p.Addf("anka:edge.registryHostname", "must differ from anka:edge.controllerHostname (the edge routes by host name), got %q for both", a.RegistryHostname)
	}

	if a.VpcCIDR != "" {
		p.CIDR("anka:network.cidr", a.VpcCIDR)
	}
	for _, cidr := range a.SourceCIDRs {
		p.CIDR("anka:edge.sourceCidrs", cidr)
	}
	if a.Scheme == SchemeInternetFacing && len(a.SourceCIDRs) == 0 {
		p.Addf("anka:edge.sourceCidrs", "must list the client ranges allowed to reach an internet-facing load balancer (your CI runners', Anka nodes' and admins' egress ranges; 0.0.0.0/0 only deliberately), got none")
	}

	if limit := MaxIdleTimeoutSeconds(a.Mode); limit > 0 {
		switch {
		case a.IdleTimeoutSeconds < MinIdleTimeoutSeconds:
			p.Addf("anka:edge.idleTimeoutSeconds", "must be at least %d so multi-GB registry pushes are not cut (the vendor saw 350 s break them), got %d", MinIdleTimeoutSeconds, a.IdleTimeoutSeconds)
		case a.IdleTimeoutSeconds > limit:
			p.Addf("anka:edge.idleTimeoutSeconds", "must be at most %d in mode %s (%s), got %d", limit, a.Mode, maxReason(a.Mode), a.IdleTimeoutSeconds)
		}
	}
	p.Between("anka:edge.deregistrationDelaySeconds", *a.DeregistrationDelaySeconds, 0, MaxDeregistrationDelaySeconds, " seconds (AWS target group range)")
	if a.Mode == ModeALB || a.Mode == ModeNLBMTLS {
		a.validateDrainChain(&p)
	}

	if err := checkService("ControllerService", a.ControllerService, a.ControllerPort); err != nil {
		p.Merge(err)
	}
	if err := checkService("RegistryService", a.RegistryService, a.RegistryPort); err != nil {
		p.Merge(err)
	}

	switch a.Mode {
	case ModeALB:
		a.validateALB(&p)
	case ModeNLBMTLS:
		a.validateNLB(&p)
		a.validateTLS(&p)
		a.validateNginx(&p)
	case ModeIngressNginx:
		p.DNSLabel("anka:edge.ingressNginx.className", a.IngressNginx.ClassName, "an IngressClass")
		p.DNSLabel("anka:edge.ingressNginx.namespace", a.IngressNginx.Namespace, "a namespace")
		if len(a.IngressNginx.PodLabels) == 0 {
			p.Addf("anka:edge.ingressNginx.podLabels", "must name at least one label of the ingress-nginx controller pods (the Build Cloud's NetworkPolicy admits them), got none")
		}
		p.Labels("anka:edge.ingressNginx.podLabels", a.IngressNginx.PodLabels)
		if a.MTLS.CRL != "" {
			p.Addf("anka:edge.mtls.crl", "is supported in mode nlb-mtls only (ingress-nginx reads a CRL from the auth-tls Secret's ca.crl key); remove it")
		}
		a.validateTLS(&p)
		a.validateNginx(&p)
	}
	return p.Err()
}

// validateDrainChain checks invariant 2 of package drain: the load
// balancer's deregistration delay keeps a draining target's connections for
// the whole push window (preStop + drain), which AWS caps at 3600 s.
func (a Args) validateDrainChain(p *validation.Problems) {
	c := a.DrainChain()
	lb, target := "ALB", "Controller/Registry pod"
	if a.Mode == ModeNLBMTLS {
		lb, target = "NLB", "NGINX pod"
	}
	switch {
	case c.WindowSeconds > MaxDeregistrationDelaySeconds:
		p.Addf("anka:registry.drainSeconds", "must be at most %d with anka:buildcloud.preStopSeconds %d behind anka:edge.mode %s, got %d: a push in flight when a pod on its path stops may still run preStop + drain = %d s, and the %s keeps a draining %s's connections only for its deregistration delay (deregistration_delay.timeout_seconds, AWS range 0-%d), so it would cut the push first; lower the drain (or the preStop)",
			drain.MaxDrainSeconds(c.RegistryPreStopSeconds), c.RegistryPreStopSeconds, a.Mode, c.RegistryDrainSeconds, c.WindowSeconds, lb, target, MaxDeregistrationDelaySeconds)
	case *a.DeregistrationDelaySeconds < c.WindowSeconds:
		p.Addf("anka:edge.deregistrationDelaySeconds", "must be at least %d (anka:buildcloud.preStopSeconds %d + anka:registry.drainSeconds %d), got %d: the %s would close a draining %s's connections while a push may still run; leave it unset to follow the drain",
			c.WindowSeconds, c.RegistryPreStopSeconds, c.RegistryDrainSeconds, *a.DeregistrationDelaySeconds, lb, target)
	}
}

func maxReason(mode string) string {
	switch mode {
	case ModeALB:
		return "the ALB's idle_timeout.timeout_seconds range is 1-4000"
	case ModeNLBMTLS:
		return "the NLB TCP listener's tcp.idle_timeout.seconds range is 60-6000"
	}
	return "no AWS load balancer in front of ingress-nginx idles longer than an NLB's 6000"
}

func checkService(field, name string, port int) error {
	if !validation.IsDNSLabel(name) || port < 1 || port > 65535 {
		return fmt.Errorf("edge: %s %q:%d is not a Service name and port", field, name, port)
	}
	return nil
}

func (a Args) validateALB(p *validation.Problems) {
	if a.ALB.CertificateArn == "" {
		p.Addf("anka:edge.alb.certificateArn", "is required in mode alb: the ACM certificate (arn:aws:acm:<region>:<account>:certificate/<id>) covering %s and %s", a.ControllerHostname, a.RegistryHostname)
	}
	for _, arn := range strings.Split(a.ALB.CertificateArn, ",") {
		if a.ALB.CertificateArn != "" && !acmArnRE.MatchString(strings.TrimSpace(arn)) {
			p.Addf("anka:edge.alb.certificateArn", "must be an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-..., got %q", arn)
		}
	}
	if !strings.HasPrefix(a.ALB.SSLPolicy, "ELBSecurityPolicy-TLS13-") {
		p.Addf("anka:edge.alb.sslPolicy", "must be a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*), e.g. %s, got %q", DefaultALBSSLPolicy, a.ALB.SSLPolicy)
	}
	if a.ALB.AccessLogsBucket != "" {
		p.S3Bucket("anka:edge.alb.accessLogsBucket", a.ALB.AccessLogsBucket)
	}
	if a.ALB.AccessLogsPrefix != "" {
		if a.ALB.AccessLogsBucket == "" {
			p.Addf("anka:edge.alb.accessLogsPrefix", "needs anka:edge.alb.accessLogsBucket, got prefix %q without a bucket", a.ALB.AccessLogsPrefix)
		}
		if !prefixRE.MatchString(a.ALB.AccessLogsPrefix) || strings.Contains(strings.ToLower(a.ALB.AccessLogsPrefix), "awslogs") {
			p.Addf("anka:edge.alb.accessLogsPrefix", "must be an S3 key prefix without ',' '=' or \"AWSLogs\", got %q", a.ALB.AccessLogsPrefix)
		}
	}
	if a.ALB.WAFAclArn != "" && !wafArnRE.MatchString(a.ALB.WAFAclArn) {
		p.Addf("anka:edge.alb.wafAclArn", "must be a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>), got %q", a.ALB.WAFAclArn)
	}
	if !groupRE.MatchString(a.ALB.GroupName) {
		p.Addf("anka:edge.alb.groupName", "must be at most 63 lower-case letters, digits, '-' and '.', got %q", a.ALB.GroupName)
	}
	// The ALB terminates TLS with the ACM certificate and cannot hand client
	// certificates to the Build Cloud the way it reads them: refuse settings
	// that would suggest otherwise.
	for _, f := range []struct{ key, v string }{
		{"anka:edge.tls.certificate", a.TLS.Certificate},
		{"anka:edge.tls.privateKey", a.TLS.PrivateKey},
		{"anka:edge.tls.secretName", a.TLS.SecretName},
		{"anka:edge.mtls.caCertificate", a.MTLS.CACertificate},
		{"anka:edge.mtls.caSecretName", a.MTLS.CASecretName},
		{"anka:edge.mtls.crl", a.MTLS.CRL},
	} {
		if f.v != "" {
			p.Addf(f.key, "is not used in mode alb (the ALB presents anka:edge.alb.certificateArn and does no client-certificate auth the Build Cloud understands); remove it or use mode nlb-mtls")
		}
	}
}

func (a Args) validateNLB(p *validation.Problems) {
	switch strings.ToUpper(a.NLB.ListenerProtocol) {
	case NLBListenerProtocolTCP:
		if a.NLB.ListenerProtocol != NLBListenerProtocolTCP {
			p.Addf("anka:edge.nlb.listenerProtocol", "must be written %q, got %q", NLBListenerProtocolTCP, a.NLB.ListenerProtocol)
		}
	case "TLS":
		p.Addf("anka:edge.nlb.listenerProtocol", "must be TCP, got %q: an NLB TLS listener terminates TLS itself and cannot pass client certificates, so NGINX could not verify them (mTLS); the TCP listener passes the TLS stream to NGINX untouched", a.NLB.ListenerProtocol)
	default:
		p.Addf("anka:edge.nlb.listenerProtocol", "must be TCP (NGINX terminates TLS and verifies client certificates), got %q", a.NLB.ListenerProtocol)
	}
	p.Between("anka:edge.nlb.port", a.NLB.Port, 1, 65535, "")
}

// validateTLS checks the server certificate and client CA sources and, for
// inline PEM, their contents.
func (a Args) validateTLS(p *validation.Problems) {
	t := a.TLS
	switch {
	case t.SecretName != "" && (t.Certificate != "" || t.PrivateKey != ""):
		p.Addf("anka:edge.tls.secretName", "must not be set together with anka:edge.tls.certificate/privateKey: give either the PEM pair or the name of an existing kubernetes.io/tls Secret")
	case t.SecretName != "":
		p.DNSSubdomain("anka:edge.tls.secretName", t.SecretName, "a Secret")
	case t.Certificate == "" && t.PrivateKey == "":
		p.Addf("anka:edge.tls.certificate", "is required in mode %s: the PEM server certificate covering %s and %s (with anka:edge.tls.privateKey, both set as secrets), or set anka:edge.tls.secretName to an existing kubernetes.io/tls Secret", a.Mode, a.ControllerHostname, a.RegistryHostname)
	case t.Certificate == "":
		p.Addf("anka:edge.tls.certificate", "is required with anka:edge.tls.privateKey: the PEM certificate chain, leaf first")
	case t.PrivateKey == "":
		p.Addf("anka:edge.tls.privateKey", "is required with anka:edge.tls.certificate: set it as a secret, pulumi config set --secret --path anka:edge.tls.privateKey < tls.key")
	default:
		checkServerPair(p, t.Certificate, t.PrivateKey, a.ControllerHostname, a.RegistryHostname)
	}

	mtls := a.NginxSettings().MTLS()
	m := a.MTLS
	switch {
	case !mtls:
		if m.CACertificate != "" || m.CASecretName != "" || m.CRL != "" {
			p.Addf("anka:edge.mtls.caCertificate", "is set but %s is \"off\": remove the CA or turn client verification on", nginxconf.KeyClientVerify)
		}
		return
	case m.CACertificate != "" && m.CASecretName != "":
		p.Addf("anka:edge.mtls.caSecretName", "must not be set together with anka:edge.mtls.caCertificate: give either the PEM CA bundle or the name of a Secret holding ca.crt")
	case m.CASecretName != "":
		p.DNSSubdomain("anka:edge.mtls.caSecretName", m.CASecretName, "a Secret")
	case m.CACertificate == "":
		p.Addf("anka:edge.mtls.caCertificate", "is required in mode %s: the PEM CA bundle client certificates must chain to (set it as a secret: pulumi config set --secret --path anka:edge.mtls.caCertificate < client-ca.pem), or anka:edge.mtls.caSecretName naming a Secret with ca.crt, or set %s to \"off\"", a.Mode, nginxconf.KeyClientVerify)
	}
	cas := checkCABundle(p, m.CACertificate)
	if m.CRL != "" {
		checkCRL(p, m.CRL, cas)
	}
}

// validateNginx checks the nginxconf settings the edge renders, and the
// Deployment's own fields in mode nlb-mtls.
func (a Args) validateNginx(p *validation.Problems) {
	for _, d := range derivedKeys {
		if v := d.get(a.Nginx.Settings); v != "" {
			p.Addf(d.key, "is set by the edge from %s; remove it, got %q", d.instead, v)
		}
	}
	if v := a.Nginx.Settings.WorkerShutdownTimeoutSeconds; v != 0 {
		p.Addf(nginxconf.KeyWorkerShutdownTimeoutSeconds, "is set by the edge from anka:registry.drainSeconds (the drain chain: NGINX's preStop + worker_shutdown_timeout = anka:buildcloud.preStopSeconds + anka:registry.drainSeconds); remove it, got %d", v)
	}
	s := a.NginxSettings()
	for _, t := range []struct {
		key string
		v   int
	}{
		{nginxconf.KeyClientBodyTimeoutSeconds, s.ClientBodyTimeoutSeconds},
		{nginxconf.KeySendTimeoutSeconds, s.SendTimeoutSeconds},
		{nginxconf.KeyProxyReadTimeoutSeconds, s.ProxyReadTimeoutSeconds},
		{nginxconf.KeyProxySendTimeoutSeconds, s.ProxySendTimeoutSeconds},
		{nginxconf.KeyKeepaliveTimeoutSeconds, s.KeepaliveTimeoutSeconds},
	} {
		if t.v > a.IdleTimeoutSeconds {
			p.Addf(t.key, "must not exceed anka:edge.idleTimeoutSeconds (%d), got %d: the load balancer would drop the idle connection silently while NGINX still holds it; leave it unset to follow the idle timeout", a.IdleTimeoutSeconds, t.v)
		}
	}
	if a.Mode == ModeNLBMTLS && s.ClientVerify == nginxconf.ClientVerifyOff && a.Prod {
		p.Addf(nginxconf.KeyClientVerify, "must be %q or %q in prod mode nlb-mtls, got %q", nginxconf.ClientVerifyOn, nginxconf.ClientVerifyOptional, s.ClientVerify)
	}
	// nginxconf's own checks, except on the derived fields (their sources
	// were checked above under their own keys): the derived values and the
	// timeouts left to follow anka:edge.idleTimeoutSeconds.
	derived := map[string]bool{}
	for _, d := range derivedKeys {
		derived[d.key] = true
	}
	u := a.Nginx.Settings
	for key, v := range map[string]int{
		nginxconf.KeyClientBodyTimeoutSeconds: u.ClientBodyTimeoutSeconds,
		nginxconf.KeySendTimeoutSeconds:       u.SendTimeoutSeconds,
		nginxconf.KeyProxyReadTimeoutSeconds:  u.ProxyReadTimeoutSeconds,
		nginxconf.KeyProxySendTimeoutSeconds:  u.ProxySendTimeoutSeconds,
	} {
		derived[key] = v == 0
	}
	for _, err := range unjoin(s.Validate()) {
		var fe *nginxconf.FieldError
		if errors.As(err, &fe) {
			if !derived[fe.Key] {
				p.Addf(fe.Key, "%s, got %q", fe.Msg, fmt.Sprint(fe.Value))
			}
			continue
		}
		p.Merge(err)
	}

	if a.Mode != ModeNLBMTLS {
		return
	}
	if a.Nginx.Replicas < 1 || a.Nginx.Replicas > 20 {
		p.Addf("anka:edge.nginx.replicas", "must be between 1 and 20, got %d", a.Nginx.Replicas)
	} else if a.Prod && a.Nginx.Replicas < 2 {
		p.Addf("anka:edge.nginx.replicas", "must be at least 2 in prod so a node or zone loss (or a rollout) keeps the edge up, got %d", a.Nginx.Replicas)
	}
	p.Image("anka:edge.nginx.image", a.Nginx.Image, DefaultNginxImage)
	for _, q := range []struct{ key, v string }{
		{"anka:edge.nginx.cpuRequest", a.Nginx.CPURequest},
		{"anka:edge.nginx.memoryRequest", a.Nginx.MemoryRequest},
		{"anka:edge.nginx.memoryLimit", a.Nginx.MemoryLimit},
	} {
		p.Quantity(q.key, q.v, "250m or 128Mi")
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
