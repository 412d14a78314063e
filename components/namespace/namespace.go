// Package namespace provides the Kubernetes namespace the Build Cloud runs
// in. It is retained on delete: deleting a namespace deletes every
// PersistentVolumeClaim in it, and etcd's claims must survive `pulumi destroy`.
package namespace

import (
	"cmp"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:namespace:Namespace"

// DefaultName is the namespace's default name (config anka:namespace); the
// other components default to it too.
const DefaultName = "anka"

// Namespace is the component resource.
type Namespace struct {
	pulumi.ResourceState

	// Name of the namespace.
	Name pulumi.StringOutput
	// Resource is the namespace, for DependsOn.
	Resource *corev1.Namespace
}

// PodReadinessGateLabel on a namespace makes the AWS Load Balancer
// Controller's mutating webhook inject a readiness gate into every pod
// created in it that is a target of one of its target groups: the pod
// becomes Ready only once its target is healthy in the ALB/NLB target group,
// so a rolling update cannot stop the old pods while the new ones are still
// "initial" and leave the target group with no healthy target. It works only
// for target type ip (pod IPs are the targets). AWS Load Balancer Controller
// documentation, "Pod readiness gate":
// https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/
const (
	PodReadinessGateLabel = "elbv2.k8s.aws/pod-readiness-gate-inject"
	PodReadinessGateValue = "enabled"
)

// Args configures the namespace.
type Args struct {
	// Name of the namespace; "" is DefaultName. Config anka:namespace.
	Name string
	// PodReadinessGateInject labels the namespace with PodReadinessGateLabel.
	// Set it whenever a load balancer of the AWS Load Balancer Controller
	// targets pod IPs in this namespace (target type ip). The gate is
	// injected when a pod is created: pods that existed before the label
	// get it at their next restart. Pod creation in a labelled namespace
	// then goes through the controller's webhook (mpod.elbv2.k8s.aws), whose
	// published manifests use failurePolicy Fail: while the controller is
	// down, new pods here may be refused.
	PodReadinessGateInject bool
}

// Pod Security Admission levels of the namespace (Kubernetes docs, "Pod
// Security Admission" and "Enforce Pod Security Standards with namespace
// labels": labels pod-security.kubernetes.io/<mode> and <mode>-version).
//
// Every pod of the stack meets "restricted" except the Controller and the
// Registry: the vendor's images run as root (the vendor documents no
// image user or writable paths, components/buildcloud README, Security),
// and restricted requires runAsNonRoot. So the namespace enforces
// "baseline" (no privileged pods, host namespaces, hostPath, added
// capabilities beyond the default set, ...) and warns and audits at
// "restricted", which names the two exceptions at every rollout.
//
// The versions are "latest": the running API server's own definitions.
// This component does not know the cluster's version (an existing cluster
// may run any), and a pinned minor version would go stale silently at the
// first upgrade; with latest a new check applies as soon as the cluster
// knows it, and tests/realpods proves the stack's pods are admitted by the
// API server version the stack files name.
const (
	PodSecurityEnforce = "baseline"
	PodSecurityWarn    = "restricted"
	PodSecurityAudit   = "restricted"
	PodSecurityVersion = "latest"
)

// Labels are the namespace's labels for args.
func (a Args) Labels() map[string]string {
	labels := map[string]string{
		"app.kubernetes.io/part-of":                  "anka-build-cloud",
		"pod-security.kubernetes.io/enforce":         PodSecurityEnforce,
		"pod-security.kubernetes.io/enforce-version": PodSecurityVersion,
		"pod-security.kubernetes.io/warn":            PodSecurityWarn,
		"pod-security.kubernetes.io/warn-version":    PodSecurityVersion,
		"pod-security.kubernetes.io/audit":           PodSecurityAudit,
		"pod-security.kubernetes.io/audit-version":   PodSecurityVersion,
	}
	if a.PodReadinessGateInject {
		labels[PodReadinessGateLabel] = PodReadinessGateValue
	}
	return labels
}

// Validate refuses a name the API server would refuse, under the key the
// user wrote (anka:namespace). The components the stack hands the name to
// (etcd, the edge, the Build Cloud) take it as checked here, once.
func (a Args) Validate() error {
	var p validation.Problems
	p.DNSLabel("anka:namespace", cmp.Or(a.Name, DefaultName), "a namespace")
	return p.Err()
}

// New registers the namespace, with the Pod Security labels of Labels.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Namespace, error) {
	if err := args.Validate(); err != nil {
		return nil, err
	}
	namespace := cmp.Or(args.Name, DefaultName)
	n := &Namespace{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:   pulumi.String(namespace),
			Labels: pulumi.ToStringMap(args.Labels()),
		},
	}, pulumi.Parent(n), pulumi.RetainOnDelete(true),
		// Registered under the component's own name until it was named by
		// role: without the alias an existing stack would replace the
		// namespace, and deleting a namespace deletes its claims.
		pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(name)}}))
	if err != nil {
		return nil, err
	}
	n.Resource = ns
	n.Name = ns.Metadata.Name().Elem()
	if _, err := denyInstanceMetadata(ctx, name, n.Name, pulumi.Parent(n)); err != nil {
		return nil, err
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"name": n.Name})
}

// Instance metadata addresses (EC2 user guide, "Access instance metadata":
// IPv4 169.254.169.254, IPv6 fd00:ec2::254 on Nitro instances).
const (
	InstanceMetadataIPv4 = "169.254.169.254/32"
	InstanceMetadataIPv6 = "fd00:ec2::254/128"
)

// DenyMetadataPolicyName is the NetworkPolicy that keeps every pod of the
// namespace from instance metadata.
const DenyMetadataPolicyName = "deny-instance-metadata"

// denyInstanceMetadata selects every pod of the namespace and allows all
// egress except to the instance metadata addresses. NetworkPolicies are
// additive and the components' other policies restrict ingress only, so
// this one changes nothing but the metadata address: DNS, etcd, S3 and the
// AWS APIs stay reachable. No pod here needs IMDS: what needs AWS uses IRSA
// (the pod identity webhook sets AWS_REGION). It backs up the nodes' IMDSv2
// hop limit of 1 (components/cluster), which already stops the token
// response, and also covers IMDSv1 on nodes this stack does not launch
// (existing mode). Host-network pods are not subject to NetworkPolicies.
func denyInstanceMetadata(ctx *pulumi.Context, name string, namespace pulumi.StringOutput, parent pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	return networkingv1.NewNetworkPolicy(ctx, name+"-deny-instance-metadata", &networkingv1.NetworkPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:      pulumi.String(DenyMetadataPolicyName),
			Namespace: namespace,
			Labels:    pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("anka-build-cloud")},
		},
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{
					networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{
						Cidr: pulumi.String("0.0.0.0/0"), Except: pulumi.StringArray{pulumi.String(InstanceMetadataIPv4)},
					}},
					networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{
						Cidr: pulumi.String("::/0"), Except: pulumi.StringArray{pulumi.String(InstanceMetadataIPv6)},
					}},
				},
			}},
		},
	}, parent)
}
