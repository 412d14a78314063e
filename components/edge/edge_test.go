package edge

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
	"github.com/anka-ha/anka-build-cloud-aws/internal/configobj"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

const (
	ctrlHost = "anka.example.com"
	regHost  = "anka-registry.example.com"
	certArn  = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	wafArn   = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/anka/0a1b2c3d-1111-2222-3333-444455556666"
	lbHost   = "k8s-anka-ankaedge-0123456789.elb.us-east-1.amazonaws.com"

	typeIngress    = "kubernetes:networking.k8s.io/v1:Ingress"
	typeService    = "kubernetes:core/v1:Service"
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typeConfigMap  = "kubernetes:core/v1:ConfigMap"
	typeSecret     = "kubernetes:core/v1:Secret"
	typePDB        = "kubernetes:policy/v1:PodDisruptionBudget"
)

var (
	pkiOnce sync.Once
	pkiVal  testPKI
)

// pki is one test PKI for the whole package (key generation is the slow part).
func pki(t testing.TB) testPKI {
	pkiOnce.Do(func() { pkiVal = newTestPKI(t, ctrlHost, regHost) })
	return pkiVal
}

func albArgs() Args {
	return Args{
		Mode:               ModeALB,
		ControllerHostname: ctrlHost,
		RegistryHostname:   regHost,
		ALB:                ALBArgs{CertificateArn: certArn},
	}
}

func nlbArgs(t testing.TB) Args {
	p := pki(t)
	return Args{
		Mode:               ModeNLBMTLS,
		Scheme:             SchemeInternetFacing,
		ControllerHostname: ctrlHost,
		RegistryHostname:   regHost,
		SourceCIDRs:        []string{"203.0.113.0/24", "198.51.100.0/24"},
		TLS:                TLSArgs{Certificate: p.ServerCert, PrivateKey: p.ServerKey},
		MTLS:               MTLSArgs{CACertificate: p.ClientCA, CRL: p.CRL},
		Nginx:              NginxArgs{Replicas: 3},
		Prod:               true,
	}
}

func ingressNginxArgs(t testing.TB) Args {
	p := pki(t)
	return Args{
		Mode:               ModeIngressNginx,
		ControllerHostname: ctrlHost,
		RegistryHostname:   regHost,
		TLS:                TLSArgs{Certificate: p.ServerCert, PrivateKey: p.ServerKey},
		MTLS:               MTLSArgs{CACertificate: p.ClientCA},
	}
}

// run builds the edge under the recording mock with a Kubernetes provider,
// as the stack does. The mocked Service and Ingresses report lbHost in
// their status, as the AWS Load Balancer Controller would.
func run(t *testing.T, args Args) (*harness.Recorder, *Edge) {
	t.Helper()
	rec := harness.NewRecorder()
	rec.Outputs = func(a pulumi.MockResourceArgs) resource.PropertyMap {
		if a.TypeToken == typeService || a.TypeToken == typeIngress {
			return resource.NewPropertyMapFromMap(map[string]any{
				"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": lbHost}}}},
			})
		}
		return nil
	}
	var e *Edge
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		e, err = New(ctx, "edge", args, pulumi.Providers(k8s))
		return err
	})
	require.NoError(t, err)
	return rec, e
}

// at walks a property value by object keys and array indices.
func at(t *testing.T, v resource.PropertyValue, path ...any) resource.PropertyValue {
	t.Helper()
	for _, p := range path {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch k := p.(type) {
		case string:
			require.True(t, v.IsObject(), "at %v: %v is not an object", path, v)
			v = v.ObjectValue()[resource.PropertyKey(k)]
		case int:
			require.True(t, v.IsArray(), "at %v: %v is not an array", path, v)
			require.Greater(t, len(v.ArrayValue()), k, "at %v", path)
			v = v.ArrayValue()[k]
		}
	}
	return v
}

func obj(r harness.Resource) resource.PropertyValue { return resource.NewObjectProperty(r.Inputs) }

func strMap(t *testing.T, v resource.PropertyValue) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = e.StringValue()
	}
	return out
}

func strList(v resource.PropertyValue) []string {
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}

// ---------------------------------------------------------------- defaults

func TestEdgeDefaultsArePinned(t *testing.T) {
	d := Args{}.WithDefaults()
	assert.Equal(t, ModeALB, d.Mode)
	assert.Equal(t, SchemeInternal, d.Scheme)
	assert.Equal(t, 4000, d.IdleTimeoutSeconds, "alb: the ALB maximum")
	assert.Equal(t, 3600, *d.DeregistrationDelaySeconds, "the drain chain's push window: preStop 30 + drain 3570")
	assert.True(t, *d.AwaitLoadBalancer)
	assert.Equal(t, ALBArgs{SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", GroupName: "anka-edge"}, d.ALB)
	assert.Equal(t, []any{"anka", "anka-controller", 80, "anka-registry", 8089},
		[]any{d.Namespace, d.ControllerService, d.ControllerPort, d.RegistryService, d.RegistryPort})

	n := Args{Mode: ModeNLBMTLS}.WithDefaults()
	assert.Equal(t, 6000, n.IdleTimeoutSeconds, "nlb-mtls: the NLB TCP listener maximum")
	assert.Equal(t, NLBArgs{ListenerProtocol: "TCP", Port: 443}, n.NLB)
	assert.Equal(t, NginxArgs{Image: "nginx:1.28.0-alpine", Replicas: 2, CPURequest: "250m", MemoryRequest: "128Mi", MemoryLimit: "512Mi"}, n.Nginx)

	i := Args{Mode: ModeIngressNginx}.WithDefaults()
	assert.Equal(t, 3600, i.IdleTimeoutSeconds)
	assert.Equal(t, "nginx", i.IngressNginx.ClassName)
}

func TestEdgeDecodeRefusesUnknownKeys(t *testing.T) {
	var a Args
	err := configobj.Decode("anka:edge", []byte(`{"mode":"nlb-mtls","controllerHostname":"a.example.com","nlb":{"listenerProtocol":"TCP"},
		"nginx":{"replicas":3,"image":"nginx:1.28.0-alpine","proxyReadTimeoutSeconds":1800,"clientVerify":"optional"},
		"mtls":{"caSecretName":"client-ca"}}`), &a)
	require.NoError(t, err)
	assert.Equal(t, 3, a.Nginx.Replicas)
	assert.Equal(t, 1800, a.Nginx.ProxyReadTimeoutSeconds, "nginxconf keys sit under anka:edge.nginx")
	assert.Equal(t, "optional", a.Nginx.ClientVerify)
	assert.Equal(t, "client-ca", a.MTLS.CASecretName)

	err = configobj.Decode("anka:edge", []byte(`{"mode":"alb","idleTimeout":4000}`), &Args{})
	require.Error(t, err)
	harness.AssertKeys(t, err, "anka:edge")
	assert.Contains(t, err.Error(), "idleTimeout")
}

// ---------------------------------------------------------------- alb

func TestEdgeALBIngressesShareOneALBWithExactAnnotations(t *testing.T) {
	rec, e := run(t, albArgs())
	want := map[string]string{
		"alb.ingress.kubernetes.io/scheme":                   "internal",
		"alb.ingress.kubernetes.io/target-type":              "ip",
		"alb.ingress.kubernetes.io/certificate-arn":          certArn,
		"alb.ingress.kubernetes.io/listen-ports":             `[{"HTTP":80},{"HTTPS":443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect":             "443",
		"alb.ingress.kubernetes.io/ssl-policy":               "ELBSecurityPolicy-TLS13-1-2-2021-06",
		"alb.ingress.kubernetes.io/load-balancer-attributes": "idle_timeout.timeout_seconds=4000,routing.http.drop_invalid_header_fields.enabled=true",
		"alb.ingress.kubernetes.io/target-group-attributes":  "deregistration_delay.timeout_seconds=3600",
		"alb.ingress.kubernetes.io/backend-protocol":         "HTTP",
		"alb.ingress.kubernetes.io/healthcheck-path":         "/readyz",
		"alb.ingress.kubernetes.io/success-codes":            "200",
		"alb.ingress.kubernetes.io/group.name":               "anka-edge",
	}
	backends := map[string][]any{"edge-controller": {ctrlHost, "anka-controller", 80.0}, "edge-registry": {regHost, "anka-registry", 8089.0}}
	require.Len(t, rec.ByType(typeIngress), 2)
	for name, b := range backends {
		ing := rec.Get(t, typeIngress, name)
		v := obj(ing)
		assert.Equal(t, want, strMap(t, at(t, v, "metadata", "annotations")), name)
		assert.Equal(t, "anka", at(t, v, "metadata", "namespace").StringValue())
		assert.Equal(t, "alb", at(t, v, "spec", "ingressClassName").StringValue())
		rule := at(t, v, "spec", "rules", 0)
		assert.Equal(t, b[0], at(t, rule, "host").StringValue())
		path := at(t, rule, "http", "paths", 0)
		assert.Equal(t, "/", at(t, path, "path").StringValue())
		assert.Equal(t, "Prefix", at(t, path, "pathType").StringValue())
		assert.Equal(t, b[1], at(t, path, "backend", "service", "name").StringValue())
		assert.Equal(t, b[2], at(t, path, "backend", "service", "port", "number").NumberValue())
		_, hasTLS := ing.Inputs["spec"].ObjectValue()["tls"]
		assert.False(t, hasTLS, "the ALB presents the ACM certificate; no Kubernetes TLS secret")
	}
	assert.Empty(t, rec.ByType(typeDeployment), "no NGINX in mode alb")
	assert.Empty(t, rec.ByType(typeSecret))
	assert.False(t, e.SetsIdentityHeaders, "the ALB passes clients' own Ssl-Client-* headers through")

	url, _ := harness.MustAwait(t, e.ControllerURL)
	assert.Equal(t, "https://"+ctrlHost, url)
	url, _ = harness.MustAwait(t, e.RegistryURL)
	assert.Equal(t, "https://"+regHost, url)
	host, _ := harness.MustAwait(t, e.LoadBalancerHostname)
	assert.Equal(t, lbHost, host)
	labels, _ := harness.MustAwait(t, e.PodLabels)
	assert.Empty(t, labels)
	plain, ns := albArgs().ProxyPods()
	assert.Empty(t, plain, "alb: admit the VPC CIDR instead")
	assert.Empty(t, ns)
}

func TestEdgeALBOptionalAttributesCIDRsAndWAF(t *testing.T) {
	a := albArgs()
	a.Scheme = SchemeInternetFacing
	a.SourceCIDRs = []string{"203.0.113.0/24", "198.51.100.0/24"}
	a.IdleTimeoutSeconds = 3600
	a.DeregistrationDelaySeconds = new(3600)
	a.ALB.AccessLogsBucket = "anka-alb-logs"
	a.ALB.AccessLogsPrefix = "prod"
	a.ALB.WAFAclArn = wafArn
	ann := ALBAnnotations(a)
	assert.Equal(t, "internet-facing", ann["alb.ingress.kubernetes.io/scheme"])
	assert.Equal(t, "203.0.113.0/24,198.51.100.0/24", ann["alb.ingress.kubernetes.io/inbound-cidrs"])
	assert.Equal(t, wafArn, ann["alb.ingress.kubernetes.io/wafv2-acl-arn"])
	assert.Equal(t, "idle_timeout.timeout_seconds=3600,routing.http.drop_invalid_header_fields.enabled=true,"+
		"access_logs.s3.enabled=true,access_logs.s3.bucket=anka-alb-logs,access_logs.s3.prefix=prod",
		ann["alb.ingress.kubernetes.io/load-balancer-attributes"])
	assert.Equal(t, "deregistration_delay.timeout_seconds=3600", ann["alb.ingress.kubernetes.io/target-group-attributes"])
	assert.NotContains(t, ann, SkipAwaitAnnotation)
	require.NoError(t, a.Validate())
}

// ---------------------------------------------------------------- nlb-mtls

func TestEdgeNLBServiceIsTCPWithIdleTimeoutAttribute(t *testing.T) {
	rec, e := run(t, nlbArgs(t))
	svc := rec.Get(t, typeService, "edge-nlb")
	v := obj(svc)
	assert.Equal(t, map[string]string{
		"service.beta.kubernetes.io/aws-load-balancer-type":                            "external",
		"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type":                 "ip",
		"service.beta.kubernetes.io/aws-load-balancer-scheme":                          "internet-facing",
		"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":         "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=3600",
		"service.beta.kubernetes.io/aws-load-balancer-attributes":                      "load_balancing.cross_zone.enabled=true",
		"service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443":     "tcp.idle_timeout.seconds=6000",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol":            "http",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-port":                "8080",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-path":                "/healthz",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval":            "10",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold":   "2",
		"service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold": "2",
	}, strMap(t, at(t, v, "metadata", "annotations")))
	assert.Equal(t, "LoadBalancer", at(t, v, "spec", "type").StringValue())
	require.Len(t, at(t, v, "spec", "ports").ArrayValue(), 1, "one listener")
	port := at(t, v, "spec", "ports", 0)
	assert.Equal(t, "TCP", at(t, port, "protocol").StringValue(), "never a TLS listener: NLB cannot do mTLS")
	assert.Equal(t, 443.0, at(t, port, "port").NumberValue())
	assert.Equal(t, "https", at(t, port, "targetPort").StringValue(), "to NGINX's TLS port (8443)")
	assert.Equal(t, []string{"203.0.113.0/24", "198.51.100.0/24"}, strList(at(t, v, "spec", "loadBalancerSourceRanges")))
	assert.False(t, at(t, v, "spec", "allocateLoadBalancerNodePorts").BoolValue())
	assert.Equal(t, NginxPodLabels(), strMap(t, at(t, v, "spec", "selector")))
	require.Len(t, svc.DependsOn, 1)
	assert.True(t, strings.HasSuffix(svc.DependsOn[0], "::edge-nginx"), "the NLB comes after the NGINX pods it targets: %v", svc.DependsOn)

	host, _ := harness.MustAwait(t, e.LoadBalancerHostname)
	assert.Equal(t, lbHost, host, "from the Service's status.loadBalancer.ingress[0].hostname")
	labels, _ := harness.MustAwait(t, e.PodLabels)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "anka-edge-nginx", "app.kubernetes.io/part-of": "anka-build-cloud"}, labels)
	ns, _ := harness.MustAwait(t, e.PodNamespace)
	assert.Equal(t, "anka", ns)
	plain, plainNS := nlbArgs(t).ProxyPods()
	assert.Equal(t, labels, plain, "the plain values the Build Cloud gets before the edge exists")
	assert.Equal(t, ns, plainNS)
	assert.True(t, e.SetsIdentityHeaders)
}

func TestEdgeNLBListenerPortAndIdleTimeoutFollowConfig(t *testing.T) {
	a := nlbArgs(t)
	a.NLB.Port = 8443
	a.IdleTimeoutSeconds = 1200
	ann := NLBAnnotations(a)
	assert.Equal(t, "tcp.idle_timeout.seconds=1200", ann["service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-8443"])
	assert.NotContains(t, ann, "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443")
	assert.Equal(t, "https://"+ctrlHost+":8443", a.ControllerURL())
}

func TestEdgeNginxConfigMapIsRenderedFromSettings(t *testing.T) {
	rec, e := run(t, nlbArgs(t))
	want, err := nginxconf.Render(nginxconf.Settings{
		ControllerHostname:       ctrlHost,
		RegistryHostname:         regHost,
		ControllerUpstream:       "anka-controller.anka.svc.cluster.local:80",
		RegistryUpstream:         "anka-registry.anka.svc.cluster.local:8089",
		TLSCertFile:              "/etc/nginx/tls/tls.crt",
		TLSKeyFile:               "/etc/nginx/tls/tls.key",
		ClientCAFile:             "/etc/nginx/client-ca/ca.crt",
		ClientCRLFile:            "/etc/nginx/client-crl/ca.crl",
		ClientBodyTimeoutSeconds: 6000,
		SendTimeoutSeconds:       6000,
		ProxyReadTimeoutSeconds:  6000,
		ProxySendTimeoutSeconds:  6000,
		// The drain chain: NGINX's preStop 30 + 3570 = preStop 30 + drain 3570.
		WorkerShutdownTimeoutSeconds: 3570,
	})
	require.NoError(t, err)
	cm := rec.Get(t, typeConfigMap, "edge-nginx-conf")
	conf := at(t, obj(cm), "data", "nginx.conf").StringValue()
	assert.Equal(t, want, conf)
	assert.Equal(t, want, e.NginxConf)
	for _, line := range []string{
		"client_max_body_size 0;", "proxy_request_buffering off;", "proxy_buffering off;",
		"ssl_verify_client on;", `ssl_client_certificate "/etc/nginx/client-ca/ca.crt";`, `ssl_crl "/etc/nginx/client-crl/ca.crl";`,
		"proxy_read_timeout 6000s;", "client_body_timeout 6000s;", "keepalive_timeout 75s;",
		"listen 8443 ssl;", "listen 8080;", `pid "/tmp/nginx.pid";`,
	} {
		assert.Contains(t, conf, line)
	}
	_, named := at(t, obj(cm), "metadata").ObjectValue()["name"]
	assert.False(t, named, "auto-named, so a changed nginx.conf is a new ConfigMap and the pods roll")

	dep := obj(rec.Get(t, typeDeployment, "edge-nginx"))
	ann := strMap(t, at(t, dep, "spec", "template", "metadata", "annotations"))
	assert.Equal(t, sha256Hex(want), ann[ConfChecksumAnnotation])
	assert.Len(t, ann[TLSChecksumAnnotation], 64)
}

func TestEdgeNginxTimeoutsFollowTheIdleTimeoutUnlessSet(t *testing.T) {
	a := nlbArgs(t)
	a.IdleTimeoutSeconds = 3000
	a.Nginx.KeepaliveTimeoutSeconds = 900
	s := a.NginxSettings()
	assert.Equal(t, []int{3000, 3000, 3000, 3000, 900},
		[]int{s.ClientBodyTimeoutSeconds, s.SendTimeoutSeconds, s.ProxyReadTimeoutSeconds, s.ProxySendTimeoutSeconds, s.KeepaliveTimeoutSeconds})
	require.NoError(t, a.Validate())
}

func TestEdgeNginxDeploymentIsHAAndNonRoot(t *testing.T) {
	rec, _ := run(t, nlbArgs(t))
	dep := obj(rec.Get(t, typeDeployment, "edge-nginx"))
	assert.Equal(t, 3.0, at(t, dep, "spec", "replicas").NumberValue())
	assert.Equal(t, NginxPodLabels(), strMap(t, at(t, dep, "spec", "selector", "matchLabels")))
	assert.Equal(t, 0.0, at(t, dep, "spec", "strategy", "rollingUpdate", "maxSurge").NumberValue())
	assert.Equal(t, 1.0, at(t, dep, "spec", "strategy", "rollingUpdate", "maxUnavailable").NumberValue())
	pod := at(t, dep, "spec", "template", "spec")
	for k, v := range NginxPodLabels() {
		assert.Equal(t, v, at(t, dep, "spec", "template", "metadata", "labels", k).StringValue())
	}

	spread := at(t, pod, "topologySpreadConstraints", 0)
	assert.Equal(t, "topology.kubernetes.io/zone", at(t, spread, "topologyKey").StringValue())
	assert.Equal(t, 1.0, at(t, spread, "maxSkew").NumberValue())
	assert.Equal(t, "DoNotSchedule", at(t, spread, "whenUnsatisfiable").StringValue(), "prod: strict zone spread")
	assert.Equal(t, NginxPodLabels(), strMap(t, at(t, spread, "labelSelector", "matchLabels")))
	anti := at(t, pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", 0)
	assert.Equal(t, "kubernetes.io/hostname", at(t, anti, "topologyKey").StringValue())
	assert.Equal(t, NginxPodLabels(), strMap(t, at(t, anti, "labelSelector", "matchLabels")))

	assert.Equal(t, 3610.0, at(t, pod, "terminationGracePeriodSeconds").NumberValue(), "preStop 30 + worker_shutdown_timeout 3570 + 10 s to exit")
	assert.False(t, at(t, pod, "automountServiceAccountToken").BoolValue())
	psc := at(t, pod, "securityContext")
	assert.True(t, at(t, psc, "runAsNonRoot").BoolValue())
	assert.Equal(t, 101.0, at(t, psc, "runAsUser").NumberValue())
	assert.Equal(t, 101.0, at(t, psc, "fsGroup").NumberValue())
	assert.Equal(t, "RuntimeDefault", at(t, psc, "seccompProfile", "type").StringValue())

	c := at(t, pod, "containers", 0)
	assert.Equal(t, "nginx:1.28.0-alpine", at(t, c, "image").StringValue())
	assert.Equal(t, []string{"nginx"}, strList(at(t, c, "command")))
	assert.Equal(t, []string{"-c", "/etc/nginx/anka/nginx.conf", "-e", "stderr", "-g", "daemon off;"}, strList(at(t, c, "args")))
	csc := at(t, c, "securityContext")
	assert.True(t, at(t, csc, "readOnlyRootFilesystem").BoolValue())
	assert.False(t, at(t, csc, "allowPrivilegeEscalation").BoolValue())
	assert.Equal(t, []string{"ALL"}, strList(at(t, csc, "capabilities", "drop")))
	assert.Equal(t, 8443.0, at(t, c, "ports", 0, "containerPort").NumberValue())
	assert.Equal(t, 8080.0, at(t, c, "ports", 1, "containerPort").NumberValue())
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		assert.Equal(t, "/healthz", at(t, c, probe, "httpGet", "path").StringValue())
		assert.Equal(t, "health", at(t, c, probe, "httpGet", "port").StringValue())
	}
	assert.Equal(t, 30.0, at(t, c, "lifecycle", "preStop", "sleep", "seconds").NumberValue())
	assert.Equal(t, 30.0, at(t, dep, "spec", "minReadySeconds").NumberValue())
	assert.Equal(t, "512Mi", at(t, c, "resources", "limits", "memory").StringValue())
	_, cpuLimit := at(t, c, "resources", "limits").ObjectValue()["cpu"]
	assert.False(t, cpuLimit, "no CPU limit: a throttled TLS proxy stalls transfers")

	mounts := map[string]string{}
	for _, m := range at(t, c, "volumeMounts").ArrayValue() {
		mounts[at(t, m, "name").StringValue()] = at(t, m, "mountPath").StringValue()
	}
	assert.Equal(t, map[string]string{"conf": "/etc/nginx/anka", "tls": "/etc/nginx/tls", "tmp": "/tmp",
		"client-ca": "/etc/nginx/client-ca", "client-crl": "/etc/nginx/client-crl"}, mounts)
	volumes := map[string]resource.PropertyValue{}
	for _, vol := range at(t, pod, "volumes").ArrayValue() {
		volumes[at(t, vol, "name").StringValue()] = vol
	}
	assert.True(t, at(t, volumes["tmp"], "emptyDir").IsObject())
	assert.Equal(t, "anka-edge-tls", at(t, volumes["tls"], "secret", "secretName").StringValue())
	assert.Equal(t, "anka-edge-client-ca", at(t, volumes["client-ca"], "secret", "secretName").StringValue())
	assert.Equal(t, "anka-edge-client-crl", at(t, volumes["client-crl"], "secret", "secretName").StringValue())

	pdb := obj(rec.Get(t, typePDB, "edge-nginx-pdb"))
	assert.Equal(t, 1.0, at(t, pdb, "spec", "maxUnavailable").NumberValue())
	assert.Equal(t, NginxPodLabels(), strMap(t, at(t, pdb, "spec", "selector", "matchLabels")))
}

func TestEdgeNginxSpreadIsSoftOutsideProd(t *testing.T) {
	a := nlbArgs(t)
	a.Prod = false
	a.Nginx.Replicas = 1
	rec, _ := run(t, a)
	dep := obj(rec.Get(t, typeDeployment, "edge-nginx"))
	assert.Equal(t, 1.0, at(t, dep, "spec", "replicas").NumberValue(), "dev may run one NGINX")
	assert.Equal(t, "ScheduleAnyway", at(t, dep, "spec", "template", "spec", "topologySpreadConstraints", 0, "whenUnsatisfiable").StringValue())
}

func TestEdgeTLSMaterialArrivesAsSecrets(t *testing.T) {
	p := pki(t)
	rec, _ := run(t, nlbArgs(t))
	require.Len(t, rec.ByType(typeSecret), 3)

	tls := rec.Get(t, typeSecret, "edge-tls")
	assert.Equal(t, "kubernetes.io/tls", tls.Inputs["type"].StringValue())
	assert.Equal(t, "anka-edge-tls", at(t, obj(tls), "metadata", "name").StringValue())
	data := tls.Inputs["stringData"]
	for key, want := range map[string]string{"tls.key": p.ServerKey, "tls.crt": p.ServerCert} {
		v := data
		if !v.IsSecret() {
			v = v.ObjectValue()[resource.PropertyKey(key)]
		}
		assert.True(t, v.IsSecret(), "%s must reach the engine as a secret", key)
		assert.Equal(t, want, at(t, data, key).StringValue())
	}
	ca := rec.Get(t, typeSecret, "edge-client-ca")
	caData := ca.Inputs["stringData"]
	assert.True(t, caData.IsSecret() || caData.ObjectValue()["ca.crt"].IsSecret(), "the client CA is treated as a secret")
	assert.Equal(t, p.ClientCA, at(t, caData, "ca.crt").StringValue())
	crl := rec.Get(t, typeSecret, "edge-client-crl")
	assert.Equal(t, p.CRL, at(t, obj(crl), "stringData", "ca.crl").StringValue())

	// Nothing secret leaks into the ConfigMap or the Deployment.
	for _, typ := range []string{typeConfigMap, typeDeployment} {
		for _, r := range rec.ByType(typ) {
			dump := fmt.Sprint(r.Inputs)
			assert.NotContains(t, dump, "PRIVATE KEY", "%s %s", typ, r.Name)
		}
	}
}

func TestEdgeExistingSecretsAreMountedNotCreated(t *testing.T) {
	a := nlbArgs(t)
	a.TLS = TLSArgs{SecretName: "anka-wildcard-tls"}
	a.MTLS = MTLSArgs{CASecretName: "corp-client-ca"}
	rec, _ := run(t, a)
	assert.Empty(t, rec.ByType(typeSecret))
	pod := at(t, obj(rec.Get(t, typeDeployment, "edge-nginx")), "spec", "template", "spec")
	names := map[string]string{}
	for _, vol := range at(t, pod, "volumes").ArrayValue() {
		if s, ok := vol.ObjectValue()["secret"]; ok {
			names[at(t, vol, "name").StringValue()] = at(t, s, "secretName").StringValue()
		}
	}
	assert.Equal(t, map[string]string{"tls": "anka-wildcard-tls", "client-ca": "corp-client-ca"}, names)
	_, hashed := at(t, obj(rec.Get(t, typeDeployment, "edge-nginx")), "spec", "template", "metadata", "annotations").ObjectValue()[TLSChecksumAnnotation]
	assert.False(t, hashed, "secrets named in config are not seen, so not hashed")
}

func TestEdgeSkipsAwaitWithoutLoadBalancerController(t *testing.T) {
	a := nlbArgs(t)
	a.AwaitLoadBalancer = new(false)
	assert.Equal(t, "true", NLBAnnotations(a)[SkipAwaitAnnotation])
	b := albArgs()
	b.AwaitLoadBalancer = new(false)
	assert.Equal(t, "true", ALBAnnotations(b)[SkipAwaitAnnotation])
	assert.NotContains(t, NLBAnnotations(nlbArgs(t)), SkipAwaitAnnotation)
}

// ---------------------------------------------------------------- ingress-nginx

func TestEdgeIngressNginxUsesNginxconfAnnotations(t *testing.T) {
	a := ingressNginxArgs(t)
	rec, e := run(t, a)
	settings := a.WithDefaults().NginxSettings()
	want := nginxconf.IngressNginxAnnotations(settings)
	assert.Equal(t, "anka/anka-edge-client-ca", want["nginx.ingress.kubernetes.io/auth-tls-secret"])
	assert.Equal(t, "3600", want["nginx.ingress.kubernetes.io/proxy-read-timeout"], "follows anka:edge.idleTimeoutSeconds")
	assert.Equal(t, "0", want["nginx.ingress.kubernetes.io/proxy-body-size"])
	assert.Equal(t, "off", want["nginx.ingress.kubernetes.io/proxy-request-buffering"])
	assert.Equal(t, "on", want["nginx.ingress.kubernetes.io/auth-tls-verify-client"])
	for _, name := range []string{"edge-controller", "edge-registry"} {
		v := obj(rec.Get(t, typeIngress, name))
		assert.Equal(t, want, strMap(t, at(t, v, "metadata", "annotations")))
		assert.Equal(t, "nginx", at(t, v, "spec", "ingressClassName").StringValue())
		assert.Equal(t, "anka-edge-tls", at(t, v, "spec", "tls", 0, "secretName").StringValue())
		assert.Equal(t, at(t, v, "spec", "rules", 0, "host").StringValue(), at(t, v, "spec", "tls", 0, "hosts", 0).StringValue())
	}
	assert.Len(t, rec.ByType(typeSecret), 2, "server certificate and client CA")
	assert.Empty(t, rec.ByType(typeDeployment))
	assert.True(t, e.SetsIdentityHeaders)
	labels, _ := harness.MustAwait(t, e.PodLabels)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, labels)
	ns, _ := harness.MustAwait(t, e.PodNamespace)
	assert.Equal(t, "ingress-nginx", ns)
}

func TestEdgeIngressNginxWithoutMTLSDoesNotClaimIdentityHeaders(t *testing.T) {
	a := ingressNginxArgs(t)
	a.MTLS = MTLSArgs{}
	a.Nginx.ClientVerify = nginxconf.ClientVerifyOff
	rec, e := run(t, a)
	assert.False(t, e.SetsIdentityHeaders)
	ann := strMap(t, at(t, obj(rec.Get(t, typeIngress, "edge-controller")), "metadata", "annotations"))
	assert.NotContains(t, ann, "nginx.ingress.kubernetes.io/auth-tls-secret")
	assert.Len(t, rec.ByType(typeSecret), 1)
}

// ---------------------------------------------------------------- all modes

func TestEdgeEveryChildIsParentedAndUsesTheProvider(t *testing.T) {
	for mode, args := range map[string]Args{ModeALB: albArgs(), ModeNLBMTLS: nlbArgs(t), ModeIngressNginx: ingressNginxArgs(t)} {
		t.Run(mode, func(t *testing.T) {
			rec, _ := run(t, args)
			comps := rec.ByType(TypeToken)
			require.Len(t, comps, 1)
			children := 0
			for _, r := range rec.Resources() {
				if r.Type == TypeToken || r.Type == "pulumi:providers:kubernetes" {
					continue
				}
				children++
				assert.Equal(t, "edge", r.ParentName(), "%s %s must be parented to the component", r.Type, r.Name)
				assert.Equal(t, "k8s", harness.ProviderName(r.Provider), "%s %s must use the caller's provider", r.Type, r.Name)
				assert.True(t, strings.HasPrefix(r.Name, "edge-"), "%s is named after the instance", r.Name)
			}
			assert.NotZero(t, children)
		})
	}
}

func TestEdgeValidation(t *testing.T) {
	p := pki(t)
	with := func(base Args, f func(*Args)) Args { f(&base); return base }
	cases := []struct {
		name string
		args Args
		keys []string
	}{
		{"an idle timeout below 900 s is refused", with(albArgs(), func(a *Args) { a.IdleTimeoutSeconds = 350 }),
			[]string{"anka:edge.idleTimeoutSeconds"}},
		{"an idle timeout below 900 s in nlb-mtls names only the idle timeout", with(nlbArgs(t), func(a *Args) { a.IdleTimeoutSeconds = 350 }),
			[]string{"anka:edge.idleTimeoutSeconds"}},
		{"an idle timeout above the ALB maximum is refused", with(albArgs(), func(a *Args) { a.IdleTimeoutSeconds = 4001 }),
			[]string{"anka:edge.idleTimeoutSeconds"}},
		{"an idle timeout above the NLB maximum is refused", with(nlbArgs(t), func(a *Args) { a.IdleTimeoutSeconds = 6001 }),
			[]string{"anka:edge.idleTimeoutSeconds"}},
		{"a TLS listener in nlb-mtls is refused", with(nlbArgs(t), func(a *Args) { a.NLB.ListenerProtocol = "TLS" }),
			[]string{"anka:edge.nlb.listenerProtocol"}},
		{"nlb-mtls without a client CA is refused", with(nlbArgs(t), func(a *Args) { a.MTLS = MTLSArgs{} }),
			[]string{"anka:edge.mtls.caCertificate"}},
		{"alb without a certificate ARN is refused", with(albArgs(), func(a *Args) { a.ALB.CertificateArn = "" }),
			[]string{"anka:edge.alb.certificateArn"}},
		{"an ARN that is not ACM's is refused", with(albArgs(), func(a *Args) { a.ALB.CertificateArn = "arn:aws:iam::123456789012:server-certificate/anka" }),
			[]string{"anka:edge.alb.certificateArn"}},
		{"a malformed source CIDR is refused", with(albArgs(), func(a *Args) { a.SourceCIDRs = []string{"10.0.0.0/8", "10.1.2.3/16"} }),
			[]string{"anka:edge.sourceCidrs"}},
		{"missing host names are refused", with(albArgs(), func(a *Args) { a.ControllerHostname, a.RegistryHostname = "", "" }),
			[]string{"anka:edge.controllerHostname", "anka:edge.registryHostname"}},
		{"an unknown mode is refused", with(albArgs(), func(a *Args) { a.Mode = "elb" }),
			[]string{"anka:edge.mode"}},
		{"mode none is the stack's business", with(albArgs(), func(a *Args) { a.Mode = ModeNone }),
			[]string{"anka:edge.mode"}},
		{"one NGINX replica in prod is refused", with(nlbArgs(t), func(a *Args) { a.Nginx.Replicas = 1 }),
			[]string{"anka:edge.nginx.replicas"}},
		{"internet-facing without an allow-list is refused", with(albArgs(), func(a *Args) { a.Scheme = SchemeInternetFacing }),
			[]string{"anka:edge.sourceCidrs"}},
		{"an NGINX timeout above the idle timeout is refused", with(nlbArgs(t), func(a *Args) { a.IdleTimeoutSeconds = 3600; a.Nginx.ProxyReadTimeoutSeconds = 4000 }),
			[]string{"anka:edge.nginx.proxyReadTimeoutSeconds"}},
		{"an NGINX timeout below 900 s is refused", with(nlbArgs(t), func(a *Args) { a.Nginx.SendTimeoutSeconds = 60 }),
			[]string{"anka:edge.nginx.sendTimeoutSeconds"}},
		{"host names under anka:edge.nginx are refused", with(nlbArgs(t), func(a *Args) { a.Nginx.ControllerHostname = ctrlHost }),
			[]string{"anka:edge.nginx.controllerHostname"}},
		{"a key that does not match the certificate is refused", with(nlbArgs(t), func(a *Args) { a.TLS.PrivateKey = newTestPKI(t, ctrlHost, regHost).ServerKey }),
			[]string{"anka:edge.tls.privateKey"}},
		{"a certificate that does not cover the registry host is refused", with(nlbArgs(t), func(a *Args) { a.RegistryHostname = "registry.other.example" }),
			[]string{"anka:edge.tls.certificate"}},
		{"a private key pasted as the certificate is refused", with(nlbArgs(t), func(a *Args) { a.TLS.Certificate = p.ServerKey }),
			[]string{"anka:edge.tls.certificate"}},
		{"a server certificate given as the client CA is refused", with(nlbArgs(t), func(a *Args) { a.MTLS.CACertificate, a.MTLS.CRL = p.ServerCert, "" }),
			[]string{"anka:edge.mtls.caCertificate"}},
		{"a CRL from another CA is refused", with(nlbArgs(t), func(a *Args) { a.MTLS.CACertificate = p.OtherCA }),
			[]string{"anka:edge.mtls.crl"}},
		{"both a TLS secret name and a PEM pair are refused", with(nlbArgs(t), func(a *Args) { a.TLS.SecretName = "other" }),
			[]string{"anka:edge.tls.secretName"}},
		{"TLS material in mode alb is refused", with(albArgs(), func(a *Args) { a.TLS.SecretName = "anka-tls" }),
			[]string{"anka:edge.tls.secretName"}},
		{"a deregistration delay above 3600 s is refused", with(albArgs(), func(a *Args) { a.DeregistrationDelaySeconds = new(3601) }),
			[]string{"anka:edge.deregistrationDelaySeconds"}},
		{"an unpinned NGINX image is refused", with(nlbArgs(t), func(a *Args) { a.Nginx.Image = "nginx:latest" }),
			[]string{"anka:edge.nginx.image"}},
		{"ingress-nginx without a server certificate is refused", with(ingressNginxArgs(t), func(a *Args) { a.TLS = TLSArgs{} }),
			[]string{"anka:edge.tls.certificate"}},
		{"a non-TLS 1.3 ALB policy is refused", with(albArgs(), func(a *Args) { a.ALB.SSLPolicy = "ELBSecurityPolicy-2016-08" }),
			[]string{"anka:edge.alb.sslPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := requireRefused(t, tc.args, tc.keys)
			assert.NotContains(t, err.Error(), "-----BEGIN", "error messages never quote PEM material")
		})
	}
}

func TestEdgeValidArgsPass(t *testing.T) {
	for name, a := range map[string]Args{
		"alb":                            albArgs(),
		"nlb-mtls":                       nlbArgs(t),
		"ingress-nginx":                  ingressNginxArgs(t),
		"nlb-mtls with existing secrets": with2(nlbArgs(t), func(a *Args) { a.TLS = TLSArgs{SecretName: "x-tls"}; a.MTLS = MTLSArgs{CASecretName: "x-ca"} }),
		"nlb-mtls with optional client certificates": with2(nlbArgs(t), func(a *Args) { a.Nginx.ClientVerify = nginxconf.ClientVerifyOptional }),
	} {
		assert.NoError(t, a.Validate(), name)
	}
}

// requireRefused requires New to refuse args on exactly keys before it
// registers anything, and returns the error for the caller's checks.
func requireRefused(t *testing.T, args Args, keys []string) error {
	t.Helper()
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "edge", args)
		return err
	})
	require.Error(t, err)
	harness.AssertKeys(t, err, keys...)
	assert.Zero(t, rec.Len(), "nothing is registered for invalid args")
	return err
}

func with2(base Args, f func(*Args)) Args { f(&base); return base }
