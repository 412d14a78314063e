// Package edge exposes the Anka Build Cloud's Controller and Registry
// outside the cluster through the AWS Load Balancer Controller, in one of
// three modes:
//
//   - alb: two Ingresses sharing one ALB (IngressGroup) that terminates TLS
//     with an ACM certificate and targets the Controller/Registry pods.
//   - nlb-mtls: an NLB with a TCP listener in front of an NGINX Deployment
//     that terminates TLS, verifies client certificates and sets the
//     identity headers the Build Cloud trusts (nginx.conf from nginxconf).
//   - ingress-nginx: two Ingresses for a community ingress-nginx controller
//     the user runs, with nginxconf's large-transfer and mTLS annotations.
//
// Every load balancer idle timeout is set, as long as AWS allows, because
// multi-GB template pushes pause for minutes.
//
// Usage:
//
//	e, err := edge.New(ctx, "edge", edge.Args{
//		Mode:               edge.ModeALB,
//		ControllerHostname: "anka.example.com",
//		RegistryHostname:   "anka-registry.example.com",
//		ALB:                edge.ALBArgs{CertificateArn: "arn:aws:acm:..."},
//		Namespace:          "anka",
//	}, pulumi.Providers(k8sProvider), pulumi.DependsOn([]pulumi.Resource{buildCloud}))
package edge

import (
	"fmt"

	"crypto/sha256"
	"encoding/hex"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
)

// TypeToken is the component's type.
const TypeToken = "anka:edge:Edge"

// Edge is the component resource.
type Edge struct {
	pulumi.ResourceState

	// ControllerURL is https://<controllerHostname> (stack output controllerUrl).
	ControllerURL pulumi.StringOutput
	// RegistryURL is https://<registryHostname> (stack output registryUrl).
	RegistryURL pulumi.StringOutput
	// LoadBalancerHostname is the ALB's/NLB's DNS name from the Ingress or
	// Service status; point both host names at it (CNAME/alias). Empty
	// until the load balancer exists, and with awaitLoadBalancer false.
	LoadBalancerHostname pulumi.StringOutput
	// PodLabels select the pods that proxy to the Controller and Registry
	// (NGINX in nlb-mtls, the ingress-nginx controller in ingress-nginx;
	// empty in alb, where the ALB reaches the pods from the VPC). The Build
	// Cloud's NetworkPolicy admits them.
	PodLabels pulumi.StringMapOutput
	// PodNamespace is the namespace of those pods ("" in alb).
	PodNamespace pulumi.StringOutput
	// TLSCertificateNotAfter, ClientCANotAfter and ClientCRLNextUpdate
	// (component outputs tlsCertificateNotAfter, clientCaNotAfter,
	// clientCrlNextUpdate) are when the server certificate, the earliest CA
	// of the client bundle and the CRL stop working, RFC 3339 in UTC, for
	// alerting: NGINX reads them only at start, and past the CRL's
	// nextUpdate it refuses every client. "" when unknown (a Secret named in
	// config, no CRL, mode alb). See Args.Expiry.
	TLSCertificateNotAfter pulumi.StringOutput
	ClientCANotAfter       pulumi.StringOutput
	ClientCRLNextUpdate    pulumi.StringOutput

	// Mode is the validated mode.
	Mode string
	// SetsIdentityHeaders: the edge overwrites Ssl-Client-Verify and
	// Ssl-Client-Cert on every request, so the Build Cloud may enable
	// ANKA_ENABLE_INGRESS_NGINX. Never true in mode alb.
	SetsIdentityHeaders bool
	// NginxConf is the rendered nginx.conf (nlb-mtls), "" otherwise.
	NginxConf string

	// Children; nil when the mode does not create them.
	ControllerIngress *networkingv1.Ingress
	RegistryIngress   *networkingv1.Ingress
	Service           *corev1.Service
	Deployment        *appsv1.Deployment
	ConfigMap         *corev1.ConfigMap
	PDB               *policyv1.PodDisruptionBudget
	NetworkPolicy     *networkingv1.NetworkPolicy
}

// New validates args, then registers the component and the mode's
// children. The caller passes the Kubernetes provider
// (pulumi.Providers(k8s)) and should depend on the Build Cloud's Services:
// NGINX resolves them when it starts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Edge, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	e := &Edge{Mode: args.Mode, SetsIdentityHeaders: args.SetsIdentityHeaders()}
	if err := ctx.RegisterComponentResource(TypeToken, name, e, opts...); err != nil {
		return nil, err
	}
	var err error
	switch args.Mode {
	case ModeALB:
		err = e.newALB(ctx, name, args)
	case ModeNLBMTLS:
		err = e.newNLB(ctx, name, args)
		if err == nil {
			err = e.newNginxNetworkPolicy(ctx, name, args)
		}
	case ModeIngressNginx:
		err = e.newIngressNginx(ctx, name, args)
	}
	podLabels, podNamespace := args.ProxyPods()
	if err != nil {
		return nil, err
	}
	e.ControllerURL = pulumi.String(args.ControllerURL()).ToStringOutput()
	e.RegistryURL = pulumi.String(args.RegistryURL()).ToStringOutput()
	e.PodLabels = pulumi.ToStringMap(podLabels).ToStringMapOutput()
	e.PodNamespace = pulumi.String(podNamespace).ToStringOutput()
	expiry := args.Expiry()
	e.TLSCertificateNotAfter = pulumi.String(rfc3339(expiry.TLSCertificateNotAfter)).ToStringOutput()
	e.ClientCANotAfter = pulumi.String(rfc3339(expiry.ClientCANotAfter)).ToStringOutput()
	e.ClientCRLNextUpdate = pulumi.String(rfc3339(expiry.ClientCRLNextUpdate)).ToStringOutput()
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"controllerUrl":          e.ControllerURL,
		"registryUrl":            e.RegistryURL,
		"loadBalancerHostname":   e.LoadBalancerHostname,
		"podLabels":              e.PodLabels,
		"podNamespace":           e.PodNamespace,
		"tlsCertificateNotAfter": e.TLSCertificateNotAfter,
		"clientCaNotAfter":       e.ClientCANotAfter,
		"clientCrlNextUpdate":    e.ClientCRLNextUpdate,
	})
}

// commonLabels go on every object the edge creates.
func commonLabels() pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/part-of":   pulumi.String("anka-build-cloud"),
		"app.kubernetes.io/component": pulumi.String("edge"),
	}
}

// NginxPodLabels are the labels (and the Deployment's selector) of the NGINX
// pods in mode nlb-mtls.
func NginxPodLabels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":    NginxName,
		"app.kubernetes.io/part-of": "anka-build-cloud",
	}
}

// ingressSpec is one host rule to one Service port.
type ingressSpec struct {
	resName, k8sName, host, service string
	port                            int
	className                       string
	annotations                     map[string]string
	tlsSecret                       string // "" for no spec.tls (ALB uses certificate-arn)
}

func (e *Edge) newIngress(ctx *pulumi.Context, args Args, s ingressSpec, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, error) {
	var tls networkingv1.IngressTLSArray
	if s.tlsSecret != "" {
		tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
			Hosts:      pulumi.StringArray{pulumi.String(s.host)},
			SecretName: pulumi.String(s.tlsSecret),
		}}
	}
	return networkingv1.NewIngress(ctx, s.resName, &networkingv1.IngressArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:        pulumi.String(s.k8sName),
			Namespace:   pulumi.String(args.Namespace),
			Labels:      commonLabels(),
			Annotations: pulumi.ToStringMap(s.annotations),
		},
		Spec: networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(s.className),
			Tls:              tls,
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(s.host),
				Http: networkingv1.HTTPIngressRuleValueArgs{
					Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
						Path:     pulumi.String("/"),
						PathType: pulumi.String("Prefix"),
						Backend: networkingv1.IngressBackendArgs{
							Service: networkingv1.IngressServiceBackendArgs{
								Name: pulumi.String(s.service),
								Port: networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(s.port)},
							},
						},
					}},
				},
			}},
		},
	}, append([]pulumi.ResourceOption{pulumi.Parent(e)}, opts...)...)
}

// newIngresses creates the Controller's and the Registry's Ingress, alike
// (class, annotations, TLS secret and options from common) but for host
// name and backend, and takes the load balancer's host name from the
// Controller's.
func (e *Edge) newIngresses(ctx *pulumi.Context, name string, args Args, common ingressSpec, opts ...pulumi.ResourceOption) error {
	controller, registry := common, common
	controller.resName, controller.k8sName, controller.host = name+"-controller", ControllerIngress, args.ControllerHostname
	controller.service, controller.port = args.ControllerService, args.ControllerPort
	registry.resName, registry.k8sName, registry.host = name+"-registry", RegistryIngress, args.RegistryHostname
	registry.service, registry.port = args.RegistryService, args.RegistryPort
	var err error
	if e.ControllerIngress, err = e.newIngress(ctx, args, controller, opts...); err != nil {
		return err
	}
	if e.RegistryIngress, err = e.newIngress(ctx, args, registry, opts...); err != nil {
		return err
	}
	e.LoadBalancerHostname = ingressHostname(e.ControllerIngress)
	return nil
}

// ingressHostname reads status.loadBalancer.ingress[0].hostname.
func ingressHostname(ing *networkingv1.Ingress) pulumi.StringOutput {
	return firstHostname(ing.Status.LoadBalancer().Ingress(),
		func(i networkingv1.IngressLoadBalancerIngress) *string { return i.Hostname })
}

// serviceHostname reads status.loadBalancer.ingress[0].hostname.
func serviceHostname(svc *corev1.Service) pulumi.StringOutput {
	return firstHostname(svc.Status.LoadBalancer().Ingress(),
		func(i corev1.LoadBalancerIngress) *string { return i.Hostname })
}

// firstHostname is the hostname of the first of a load balancer status's
// ingress points: "" while there is none, or it has no hostname.
func firstHostname[I any](ingress pulumi.Output, hostname func(I) *string) pulumi.StringOutput {
	return ingress.ApplyT(func(points []I) string {
		if len(points) == 0 || hostname(points[0]) == nil {
			return ""
		}
		return *hostname(points[0])
	}).(pulumi.StringOutput)
}

// newALB: one Ingress per host name, same annotations, one ALB (group.name).
// Separate Ingresses keep the health check and the backend per service.
func (e *Edge) newALB(ctx *pulumi.Context, name string, args Args) error {
	ann := ALBAnnotations(args)
	hook, err := e.schemeChangeHook(ctx, name, ALBAnnotationPrefix+"scheme", "ALB",
		fmt.Sprintf("ingress -n %s %s", args.Namespace, ControllerIngress))
	if err != nil {
		return err
	}
	return e.newIngresses(ctx, name, args, ingressSpec{className: "alb", annotations: ann}, beforeUpdate(hook))
}

// newIngressNginx: one Ingress per host name for the community controller,
// with nginxconf's annotations (large transfers, timeouts, auth-tls).
func (e *Edge) newIngressNginx(ctx *pulumi.Context, name string, args Args) error {
	settings := args.NginxSettings()
	secrets, err := e.newSecrets(ctx, name, args, settings.MTLS())
	if err != nil {
		return err
	}
	ann := nginxconf.IngressNginxAnnotations(settings)
	if !*args.AwaitLoadBalancer {
		ann[SkipAwaitAnnotation] = "true"
	}
	return e.newIngresses(ctx, name, args, ingressSpec{
		className: args.IngressNginx.ClassName, annotations: ann, tlsSecret: args.tlsSecretName(),
	}, pulumi.DependsOn(secrets))
}

// secret wraps a value the engine must keep encrypted.
func secret(v string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}

// newSecrets creates the Secrets for inline PEM material: the server
// certificate (kubernetes.io/tls), the client CA (ca.crt) and the CRL. Keys
// and CAs are Pulumi secrets. Existing Secrets named in config are used as
// they are.
func (e *Edge) newSecrets(ctx *pulumi.Context, name string, args Args, mtls bool) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	meta := func(k8sName string) metav1.ObjectMetaArgs {
		return metav1.ObjectMetaArgs{Name: pulumi.String(k8sName), Namespace: pulumi.String(args.Namespace), Labels: commonLabels()}
	}
	if args.TLS.SecretName == "" {
		s, err := corev1.NewSecret(ctx, name+"-tls", &corev1.SecretArgs{
			Metadata: meta(TLSSecretName),
			Type:     pulumi.String("kubernetes.io/tls"),
			StringData: pulumi.StringMap{
				tlsCertKey:    secret(args.TLS.Certificate),
				tlsPrivateKey: secret(args.TLS.PrivateKey),
			},
		}, pulumi.Parent(e))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if mtls && args.MTLS.CASecretName == "" {
		s, err := corev1.NewSecret(ctx, name+"-client-ca", &corev1.SecretArgs{
			Metadata:   meta(ClientCASecretName),
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{ClientCAKey: secret(args.MTLS.CACertificate)},
		}, pulumi.Parent(e))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if mtls && args.MTLS.CRL != "" {
		s, err := corev1.NewSecret(ctx, name+"-client-crl", &corev1.SecretArgs{
			Metadata:   meta(ClientCRLSecretName),
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{ClientCRLKey: pulumi.String(args.MTLS.CRL)},
		}, pulumi.Parent(e))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sha256Hex of the parts, NUL-separated.
func sha256Hex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
