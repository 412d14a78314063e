// Package capacity holds the AWS and EKS facts a preview-time capacity plan
// needs: what an EC2 instance type offers to pods once the EKS AMI has
// reserved its share, and what EKS and this stack's add-ons request before
// any workload is scheduled.
//
// Every figure carries its source in a comment next to it. The sources were
// read on 2026-11-30 from these snapshots:
//
//   - awslabs/amazon-eks-ami at 81fec2e895854f599974fe4d3d72f61c0a9aaffa
//     (2026-07-23): nodeadm/internal/kubelet/config.go (kube-reserved CPU and
//     memory, evictionHard), nodeadm/internal/kubelet/eni_max_pods.go (max
//     pods formula) and nodeadm/internal/kubelet/instance-info.jsonl (ENIs
//     and IPv4 addresses per ENI, generated from EC2 DescribeInstanceTypes by
//     nodeadm/tools/instance-info).
//   - awsdocs/amazon-eks-user-guide at 4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7:
//     latest/ug/nodes/create-managed-node-group.adoc (managed node groups cap
//     maxPods at 110 below 30 vCPUs, 250 otherwise) and
//     latest/ug/networking/eks-networking-add-ons.adoc (two CoreDNS replicas).
//   - aws/karpenter-provider-aws at 1d927085dd81a9df9301e613f371dac5b4d16bfe:
//     pkg/providers/instancetype/types.go and pkg/operator/options/options.go
//     (the 7.5% VM memory overhead and the 64 MiB Graviton CMA reservation
//     used to model kubelet-reported memory),
//     website/content/en/docs/reference/instance-types.md (vCPU and memory
//     per instance type, and allocatable figures the tests compare against),
//     pkg/providers/instancetype/zz_generated.vpclimits.go (ENI limits,
//     cross-checked against instance-info.jsonl: no differences) and
//     pkg/providers/pricing/zz_generated.pricing_aws.go (us-east-1 on-demand
//     prices from the AWS Price List API, generated 2026-07-20T13:44:30Z).
//   - aws/amazon-vpc-cni-k8s at b52188387f2e2f10bf289ace929d6a63b176a4fa
//     (v1.23.1): config/master/aws-k8s-cni.yaml and charts/aws-vpc-cni.
//   - kubernetes-sigs/aws-ebs-csi-driver at 429e202e589798e55c0f8ddcc81b2850b7f000d0
//     (chart 2.64.0): charts/aws-ebs-csi-driver and deploy/kubernetes/base.
//   - aws/eks-charts at 5239609242f3430be50fb0b714a24d3ef2b47983:
//     stable/aws-load-balancer-controller (chart 3.5.0).
//   - eksctl-io/eksctl: pkg/addons/default/assets/coredns-1.35.json and
//     pkg/addons/default/testdata/sample-1.25.json (kube-proxy as EKS runs it).
//   - 2i2c-org/infrastructure: deployer/commands/generate/resource_allocation/
//     instance_capacities.yaml (kubelet-reported capacity measured on EKS
//     nodes, used to check that the memory model is conservative).
//
// The model assumes what this stack deploys (components/cluster): EKS
// managed node groups on AL2023 (nodeadm) without a custom AMI ID, the VPC
// CNI without prefix delegation or custom networking, IPv4.
package capacity
