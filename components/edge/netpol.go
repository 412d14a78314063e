package edge

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AnyIPv4 is the ipBlock that admits every IPv4 source.
const AnyIPv4 = "0.0.0.0/0"

// NginxIngressSources are the sources the NGINX pods' NetworkPolicy admits
// (mode nlb-mtls), on the TLS port and on the health port; nothing else
// reaches the pods but their own node (the kubelet's probes: traffic from
// the node a pod runs on is always allowed, Kubernetes documentation,
// "Network Policies", ipBlock).
//
// The TLS port: the NLB's target group preserves client IP addresses
// (preserve_client_ip.enabled=true, NLBAnnotations), so an IPv4 client's
// connection reaches the pod from the client's own address (Elastic Load
// Balancing, Network Load Balancers guide, "Edit target group attributes",
// Client IP preservation: IP targets receive the client IPv4 address), and
// the AWS Load Balancer Controller admits the same loadBalancerSourceRanges
// on the load balancer only when client IP preservation is on (its Service
// annotations guide, "Access control", load-balancer-source-ranges). So the
// pods admit exactly anka:edge.sourceCidrs; with none (allowed only with
// scheme internal) the load balancer admits any source that can route to
// it, and so do the pods, on this port only.
//
// The health port: the NLB's health checks come from the load balancer's
// own private addresses in the VPC's subnets (Elastic Load Balancing,
// "Target groups for your Network Load Balancers", target security groups:
// health checks from the VPC CIDR), never from the clients', so it admits
// the VPC's block when the stack knows it (VpcCIDR), any address otherwise.
func NginxIngressSources(a Args) (tls, health []string) {
	a = a.WithDefaults()
	tls = a.SourceCIDRs
	if len(tls) == 0 {
		tls = []string{AnyIPv4}
	}
	health = []string{AnyIPv4}
	if a.VpcCIDR != "" {
		health = []string{a.VpcCIDR}
	}
	return tls, health
}

// newNginxNetworkPolicy isolates the NGINX pods for ingress and admits what
// NginxIngressSources says, each on its one port.
func (e *Edge) newNginxNetworkPolicy(ctx *pulumi.Context, name string, args Args) error {
	settings := args.NginxSettings()
	tls, health := NginxIngressSources(args)
	rule := func(cidrs []string, port int) networkingv1.NetworkPolicyIngressRuleArgs {
		var from networkingv1.NetworkPolicyPeerArray
		for _, c := range cidrs {
			from = append(from, networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
		}
		return networkingv1.NetworkPolicyIngressRuleArgs{
			From:  from,
			Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}},
		}
	}
	labels := commonLabels()
	for k, v := range NginxPodLabels() {
		labels[k] = pulumi.String(v)
	}
	np, err := networkingv1.NewNetworkPolicy(ctx, name+"-nginx-ingress", &networkingv1.NetworkPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(NginxName + "-ingress"), Namespace: pulumi.String(args.Namespace), Labels: labels},
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(NginxPodLabels())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				rule(tls, settings.TLSPort),
				rule(health, settings.HealthPort),
			},
		},
	}, pulumi.Parent(e))
	e.NetworkPolicy = np
	return err
}
