package buildcloud

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// services registers the two ClusterIP Services, <name>-controller (port
// "http" 80 to the Controller's ControllerListenPort) and <name>-registry
// (port "http" 8089), plus a "metrics" port each when metrics are on.
func (bc *BuildCloud) services(ctx *pulumi.Context) error {
	a := bc.args
	for _, s := range []struct {
		name     string
		selector map[string]string
		port     int
		target   int
		metrics  int
		role     string
	}{
		{bc.controllerServiceName(), bc.ControllerSelector, ControllerPort, ControllerListenPort, ControllerMetricsPort, roleController},
		{bc.registryServiceName(), bc.RegistrySelector, RegistryPort, RegistryPort, RegistryMetricsPort, roleRegistry},
	} {
		labels := commonLabels(bc.name)
		labels[LabelComponent] = s.role
		ports := corev1.ServicePortArray{corev1.ServicePortArgs{
			Name: pulumi.String("http"), Port: pulumi.Int(s.port), TargetPort: pulumi.Int(s.target), Protocol: pulumi.String("TCP"),
		}}
		if *a.EnableMetrics {
			ports = append(ports, corev1.ServicePortArgs{
				Name: pulumi.String("metrics"), Port: pulumi.Int(s.metrics), TargetPort: pulumi.Int(s.metrics), Protocol: pulumi.String("TCP"),
			})
		}
		svc, err := corev1.NewService(ctx, s.name, &corev1.ServiceArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(s.name),
				Namespace: pulumi.String(a.Namespace),
				Labels:    pulumi.ToStringMap(labels),
			},
			Spec: corev1.ServiceSpecArgs{
				Type:     pulumi.String("ClusterIP"),
				Selector: pulumi.ToStringMap(s.selector),
				Ports:    ports,
			},
		}, pulumi.Parent(bc))
		if err != nil {
			return err
		}
		bc.Services = append(bc.Services, svc)
	}
	return nil
}

func tcpPorts(ports ...int) networkingv1.NetworkPolicyPortArray {
	out := networkingv1.NetworkPolicyPortArray{}
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
	}
	return out
}

// networkPolicy admits, to the Build Cloud pods (ports as the pods listen:
// a policy sees the destination after the Service's translation, so the
// Controller's is ControllerListenPort, not the Service's 80):
//   - ports 8080/8089 from the edge pods (EdgePodLabels, in EdgeNamespace or
//     the namespace; every pod of the namespace when no labels are given);
//   - ports 8080/8089 from IngressCIDRs (never when the edge passes
//     client-certificate headers: the Controller and Registry trust them
//     unchecked, so nothing but NGINX may reach them);
//   - port 8089 from the Controller pods (Controller -> Registry);
//   - the metrics ports from the pods of MetricsNamespace only; with no
//     MetricsNamespace, from nowhere (no rule: an empty namespaceSelector
//     would select every namespace).
//
// Everything else is denied.
func (bc *BuildCloud) networkPolicy(ctx *pulumi.Context) error {
	a := bc.args
	edgePeer := networkingv1.NetworkPolicyPeerArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(a.EdgePodLabels)},
	}
	if a.EdgeNamespace != "" && a.EdgeNamespace != a.Namespace {
		edgePeer.NamespaceSelector = metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
			"kubernetes.io/metadata.name": pulumi.String(a.EdgeNamespace),
		}}
	}
	rules := networkingv1.NetworkPolicyIngressRuleArray{
		networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{edgePeer},
			Ports: tcpPorts(ControllerListenPort, RegistryPort),
		},
		networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(bc.ControllerSelector)},
			}},
			Ports: tcpPorts(RegistryPort),
		},
	}
	if len(a.IngressCIDRs) > 0 {
		var peers networkingv1.NetworkPolicyPeerArray
		for _, cidr := range a.IngressCIDRs {
			peers = append(peers, networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(cidr)}})
		}
		rules = append(rules, networkingv1.NetworkPolicyIngressRuleArgs{From: peers, Ports: tcpPorts(ControllerListenPort, RegistryPort)})
	}
	if *a.EnableMetrics && a.MetricsNamespace != "" {
		// kubernetes.io/metadata.name is set by the API server on every
		// namespace to its name (Kubernetes >= 1.22, "Well-Known Labels,
		// Annotations and Taints"), so this selects exactly that namespace.
		ns := metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(a.MetricsNamespace)}}
		rules = append(rules, networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: ns}},
			Ports: tcpPorts(ControllerMetricsPort, RegistryMetricsPort),
		})
	}
	_, err := networkingv1.NewNetworkPolicy(ctx, bc.name+"-ingress", &networkingv1.NetworkPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:      pulumi.String(bc.name + "-ingress"),
			Namespace: pulumi.String(a.Namespace),
			Labels:    pulumi.ToStringMap(commonLabels(bc.name)),
		},
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
				LabelInstance: pulumi.String(bc.name),
				LabelName:     pulumi.String(AppName),
			}},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress:     rules,
		},
	}, pulumi.Parent(bc))
	return err
}
