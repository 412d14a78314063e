package capacity

// SystemPod is a pod EKS or the stack's add-ons run, with its requests.
type SystemPod struct {
	Name string
	// Requests is the pod's effective request: the sum of its containers'
	// requests, or its largest init container's if that is larger, as the
	// scheduler counts it. Pods is 1. A container without a request counts 0.
	Requests Resources
	// PerNode is true for a DaemonSet: one pod on every node.
	PerNode bool
	// Replicas is the Deployment's replica count; 0 for a DaemonSet.
	Replicas int
	// Source cites where the requests and replicas were read.
	Source string
}

// Requests of the system pods, read 2026-11-30. Each figure is the sum of the
// pod's containers; the sources follow each block.

// aws-node: the VPC CNI DaemonSet, add-on vpc-cni. The stack enables network
// policy (components/cluster: configurationValues enableNetworkPolicy), and
// the aws-eks-nodeagent container runs in the pod in any case.
//
//	aws-node            cpu 25m
//	aws-eks-nodeagent   cpu 25m
//	(init aws-vpc-cni-init cpu 25m, below the 50m sum)
//	no memory requests
//
// aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml at v1.23.1 (commit
// b52188387f2e2f10bf289ace929d6a63b176a4fa) and charts/aws-vpc-cni
// (values.yaml resources.requests.cpu 25m, which templates/daemonset.yaml
// also applies to nodeAgent and init when theirs are empty).
var awsNode = SystemPod{
	Name:     "aws-node",
	Requests: Resources{MilliCPU: 25 + 25, Pods: 1},
	PerNode:  true,
	Source:   "aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml v1.23.1: aws-node cpu 25m + aws-eks-nodeagent cpu 25m",
}

// kube-proxy: EKS's kube-proxy DaemonSet requests cpu 100m and no memory, as
// dumped from an EKS cluster in eksctl-io/eksctl
// pkg/addons/default/testdata/sample-1.25.json
// (kube-proxy:v1.25.6-minimal-eksbuild.1). The manifest EKS installs for
// Kubernetes 1.35 could not be read; the figure is carried forward.
var kubeProxy = SystemPod{
	Name:     "kube-proxy",
	Requests: Resources{MilliCPU: 100, Pods: 1},
	PerNode:  true,
	Source:   "EKS kube-proxy DaemonSet (eksctl-io/eksctl pkg/addons/default/testdata/sample-1.25.json): cpu 100m",
}

// ebs-csi-node: the EBS CSI driver's node DaemonSet, add-on
// aws-ebs-csi-driver.
//
//	ebs-plugin              cpu 10m  memory 40Mi  (node.resources)
//	node-driver-registrar   cpu 10m  memory 32Mi  (template default)
//	liveness-probe          cpu 10m  memory 32Mi  (template default)
//
// kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver 2.64.0
// (values.yaml, templates/_node.tpl) and deploy/kubernetes/base/node.yaml at
// commit 429e202e589798e55c0f8ddcc81b2850b7f000d0.
var ebsCSINode = SystemPod{
	Name:     "ebs-csi-node",
	Requests: Resources{MilliCPU: 10 + 10 + 10, MemoryMiB: 40 + 32 + 32, Pods: 1},
	PerNode:  true,
	Source:   "kubernetes-sigs/aws-ebs-csi-driver chart 2.64.0 / deploy/kubernetes/base/node.yaml: ebs-plugin 10m/40Mi, node-driver-registrar 10m/32Mi, liveness-probe 10m/32Mi",
}

// coredns: two replicas of cpu 100m, memory 70Mi. EKS deploys "two replicas
// of the CoreDNS image ... by default, regardless of the number of nodes"
// (awsdocs/amazon-eks-user-guide latest/ug/networking/eks-networking-add-ons.adoc);
// requests from the EKS CoreDNS manifest for Kubernetes 1.35
// (eksctl-io/eksctl pkg/addons/default/assets/coredns-1.35.json,
// coredns:v1.14.2-eksbuild.4: replicas 2, requests cpu 100m memory 70Mi).
var coreDNS = SystemPod{
	Name:     "coredns",
	Requests: Resources{MilliCPU: 100, MemoryMiB: 70, Pods: 1},
	Replicas: 2,
	Source:   "EKS CoreDNS (eksctl-io/eksctl pkg/addons/default/assets/coredns-1.35.json; EKS user guide: two replicas by default): cpu 100m, memory 70Mi",
}

// ebs-csi-controller: the EBS CSI driver's controller Deployment, replicas 2
// (controller.replicaCount).
//
//	ebs-plugin        cpu 10m  memory 40Mi  (controller.resources)
//	csi-provisioner   cpu 10m  memory 40Mi  (sidecar empty: controller.resources)
//	csi-attacher      cpu 10m  memory 40Mi  (likewise)
//	csi-snapshotter   cpu 10m  memory 40Mi  (likewise; rendered when the
//	                                         snapshot API is installed, counted
//	                                         here to stay conservative)
//	csi-resizer       cpu 10m  memory 40Mi  (likewise)
//	liveness-probe    cpu 10m  memory 32Mi  (template default)
//	(volumemodifier and metadata-labeler are off by default)
//
// kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver 2.64.0
// (values.yaml, templates/controller.yaml) and
// deploy/kubernetes/base/controller.yaml at commit
// 429e202e589798e55c0f8ddcc81b2850b7f000d0.
var ebsCSIController = SystemPod{
	Name:     "ebs-csi-controller",
	Requests: Resources{MilliCPU: 6 * 10, MemoryMiB: 5*40 + 32, Pods: 1},
	Replicas: 2,
	Source:   "kubernetes-sigs/aws-ebs-csi-driver chart 2.64.0 / deploy/kubernetes/base/controller.yaml: replicas 2; ebs-plugin, csi-provisioner, csi-attacher, csi-snapshotter, csi-resizer 10m/40Mi each, liveness-probe 10m/32Mi",
}

// aws-load-balancer-controller: the eks-charts chart 3.5.0 sets
// replicaCount 2 (the stack also sets replicaCount 2 in
// components/cluster) and resources {} for its only container: the pods
// request nothing but a pod slot. aws/eks-charts
// stable/aws-load-balancer-controller/values.yaml at commit
// 5239609242f3430be50fb0b714a24d3ef2b47983.
var loadBalancerControllerPod = SystemPod{
	Name:     "aws-load-balancer-controller",
	Requests: Resources{Pods: 1},
	Replicas: 2,
	Source:   "aws/eks-charts stable/aws-load-balancer-controller 3.5.0 values.yaml: replicaCount 2, resources {} (no requests)",
}

// EKSSystemPods are the pods an EKS cluster built by this stack runs besides
// the workload: aws-node (vpc-cni, with network policy agent), kube-proxy,
// ebs-csi-node (DaemonSets); coredns, ebs-csi-controller,
// aws-load-balancer-controller (Deployments, with replicas). The last is
// included only when loadBalancerController is true. The slice is new on
// every call; callers may modify it.
func EKSSystemPods(loadBalancerController bool) []SystemPod {
	pods := []SystemPod{awsNode, kubeProxy, ebsCSINode, coreDNS, ebsCSIController}
	if loadBalancerController {
		pods = append(pods, loadBalancerControllerPod)
	}
	return pods
}
