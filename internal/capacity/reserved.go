package capacity

// What the EKS AL2023 AMI (nodeadm) and EKS managed node groups take off a
// node before pods are scheduled. Sources, read 2026-11-30:
//
//   - awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go at
//     81fec2e895854f599974fe4d3d72f61c0a9aaffa: defaultKubeletSubConfig
//     (evictionHard), withDefaultReservedResources, getCPUMillicoresToReserve,
//     getResourceToReserveInRange, getMemoryMebibytesToReserve.
//   - awslabs/amazon-eks-ami nodeadm/internal/kubelet/eni_max_pods.go:
//     calculateStandardMaxPods.
//   - awsdocs/amazon-eks-user-guide latest/ug/nodes/create-managed-node-group.adoc
//     and latest/ug/networking/eks-networking-add-ons.adoc: the managed node
//     group maxPods cap.

// kubeReservedCPUBands is the AMI's kube-reserved CPU schedule: each band of
// the node's millicores reserves a share given in hundredths of a percent
// (getCPUMillicoresToReserve: ranges 0, 1000, 2000, 4000, total; shares 600,
// 100, 50, 25 out of 10000), i.e. 6% of the first core, 1% of the second,
// 0.5% of the third and fourth, 0.25% of every core above four. Each band's
// share is truncated to whole millicores before the bands are summed
// (getResourceToReserveInRange divides with integer arithmetic).
var kubeReservedCPUBands = []struct {
	fromMilli, toMilli int64 // toMilli 0 means no upper bound
	basisPoints        int64
}{
	{0, 1000, 600},
	{1000, 2000, 100},
	{2000, 4000, 50},
	{4000, 0, 25},
}

const (
	// kubeReservedMiBPerPod and kubeReservedBaseMiB: kube-reserved memory is
	// 11 MiB per pod plus 255 MiB (getMemoryMebibytesToReserve:
	// 11*maxPods + 255).
	kubeReservedMiBPerPod = 11
	kubeReservedBaseMiB   = 255

	// evictionHardMemoryMiB is the kubelet's hard eviction threshold
	// memory.available: "100Mi" (defaultKubeletSubConfig EvictionHard).
	evictionHardMemoryMiB = 100

	// Managed node groups cap maxPods: "For instances with less than 30
	// vCPUs, the maximum number is 110. For instances with greater than 30
	// vCPUs, the maximum number jumps to 250" (create-managed-node-group.adoc;
	// eks-networking-add-ons.adoc says the same). An instance with exactly
	// 30 vCPUs is treated as large. nodeadm itself applies no cap: it only
	// falls back to the kubelet default 110 when it cannot find the instance
	// type (eni_max_pods.go defaultMaxPods).
	mngMaxPodsSmall      = 110
	mngMaxPodsLarge      = 250
	mngMaxPodsLargeVCPUs = 30
)

// ENIMaxPods is the max pods figure nodeadm computes from the instance's
// network limits without prefix delegation or custom networking:
// ENIs*(IPv4PerENI-1)+2 (eni_max_pods.go calculateStandardMaxPods, "# of
// ENI on default network card * (# of IPv4 per ENI - 1) + 2"; each ENI keeps
// its primary address for itself). It is the figure the AMI used to ship as
// files/eni-max-pods.txt (last present at commit 035f7f6, 2024-02-23).
func (t InstanceType) ENIMaxPods() int64 {
	return int64(t.ENIs)*int64(t.IPv4PerENI-1) + 2
}

// MaxPods is the kubelet's maxPods on a node of an EKS managed node group
// without a custom AMI ID, as this stack runs them: ENIMaxPods, capped at 110
// below 30 vCPUs and 250 otherwise. The cap is the managed node group's (see
// the constants above); on AL2023 EKS applies it through the NodeConfig
// (kubelet maxPods) it adds to the node's user data, as reported in
// eksctl-io/eksctl issue #8037.
func (t InstanceType) MaxPods() int64 {
	limit := int64(mngMaxPodsSmall)
	if t.VCPU >= mngMaxPodsLargeVCPUs {
		limit = mngMaxPodsLarge
	}
	return min(t.ENIMaxPods(), limit)
}

// KubeReserved is the CPU and memory the AMI reserves for the kubelet and
// container runtime (kubeReserved in the kubelet config nodeadm writes).
//
// Memory is 11 MiB per pod plus 255 MiB, counted on ENIMaxPods, not on the
// capped MaxPods: withDefaultReservedResources computes kube-reserved from
// the max pods it derives from the instance type, and a maxPods set through
// the NodeConfig (as managed node groups do) lands in a kubelet drop-in file
// without changing kube-reserved (awslabs/amazon-eks-ami issue #1698 asks for
// that and the code at 81fec2e still does not). So an m6i.4xlarge runs 110
// pods but reserves 11*234+255 = 2829 MiB.
func (t InstanceType) KubeReserved() Resources {
	total := int64(t.VCPU) * 1000
	var cpu int64
	for _, b := range kubeReservedCPUBands {
		if total <= b.fromMilli {
			continue
		}
		upper := total
		if b.toMilli != 0 && upper > b.toMilli {
			upper = b.toMilli
		}
		cpu += (upper - b.fromMilli) * b.basisPoints / 10000
	}
	return Resources{
		MilliCPU:  cpu,
		MemoryMiB: kubeReservedMiBPerPod*t.ENIMaxPods() + kubeReservedBaseMiB,
	}
}

// EvictionHard is the memory.available hard eviction threshold the AMI sets,
// 100Mi, which the kubelet subtracts from allocatable. The other thresholds
// it sets (nodefs.available 10%, nodefs.inodesFree 5%) concern disk and are
// not modelled.
func (t InstanceType) EvictionHard() Resources {
	return Resources{MemoryMiB: evictionHardMemoryMiB}
}
