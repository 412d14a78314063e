package capacity

import (
	"fmt"
	"sort"
)

// Resources is an amount of schedulable resources.
type Resources struct {
	MilliCPU  int64
	MemoryMiB int64
	Pods      int64
}

// Add returns r + o, field by field.
func (r Resources) Add(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU + o.MilliCPU, MemoryMiB: r.MemoryMiB + o.MemoryMiB, Pods: r.Pods + o.Pods}
}

// Sub returns r - o, field by field; fields may go negative.
func (r Resources) Sub(o Resources) Resources {
	return Resources{MilliCPU: r.MilliCPU - o.MilliCPU, MemoryMiB: r.MemoryMiB - o.MemoryMiB, Pods: r.Pods - o.Pods}
}

// Fits reports whether every field of r is at most the same field of in.
func (r Resources) Fits(in Resources) bool {
	return r.MilliCPU <= in.MilliCPU && r.MemoryMiB <= in.MemoryMiB && r.Pods <= in.Pods
}

// String renders r as "1930m CPU, 6903Mi, 29 pods".
func (r Resources) String() string {
	return fmt.Sprintf("%dm CPU, %dMi, %d pods", r.MilliCPU, r.MemoryMiB, r.Pods)
}

// CPU architectures of the table's instance types, as Kubernetes labels
// them (kubernetes.io/arch).
const (
	ArchAMD64 = "amd64"
	ArchARM64 = "arm64"
)

// InstanceType is one EC2 instance type as the EKS AMI sees it.
type InstanceType struct {
	Name       string
	VCPU       int
	MemoryMiB  int64   // nominal memory, as EC2 DescribeInstanceTypes MemoryInfo.SizeInMiB
	ENIs       int     // network interfaces on the default network card
	IPv4PerENI int     // private IPv4 addresses per network interface
	HourlyUSD  float64 // us-east-1 Linux on-demand, 0 if unknown
	Arch       string  // ArchAMD64 or ArchARM64 (Graviton)
}

// Lookup returns the table's entry for an instance type name such as
// "m6i.large". Names are matched exactly (EC2 names are lower case).
func Lookup(name string) (InstanceType, bool) {
	t, ok := byName[name]
	return t, ok
}

// Known returns the sorted names of every instance type in the table.
func Known() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Capacity is what the kubelet reports as the node's capacity.
//
// MilliCPU is VCPU*1000: nodeadm and the kubelet count every logical CPU
// (nodeadm/internal/system/resources.go GetMilliNumCores).
//
// MemoryMiB is the memory the operating system sees, which is less than the
// nominal MemoryMiB because the kernel, firmware and (on Graviton) the CMA
// pool take their share before the kubelet reads /proc/meminfo. EC2 does not
// publish that gap, so it is modelled the way Karpenter models it when it
// has not measured a node yet (aws/karpenter-provider-aws
// pkg/providers/instancetype/types.go memory(), default
// VM_MEMORY_OVERHEAD_PERCENT 0.075 in pkg/operator/options/options.go):
// subtract 64 MiB on Graviton, then 7.5% of what is left, rounded up. This
// is conservative: kubelet capacity measured on EKS nodes
// (2i2c-org/infrastructure deployer/commands/generate/resource_allocation/
// instance_capacities.yaml) is higher than the model on every type listed
// there, e.g. m5.large 7.461Gi = 7640Mi measured against 7577Mi modelled,
// m5.xlarge 15.172Gi = 15536Mi against 15155Mi, r5.xlarge 30.886Gi =
// 31627Mi against 30310Mi.
//
// Pods is MaxPods.
func (t InstanceType) Capacity() Resources {
	return Resources{MilliCPU: int64(t.VCPU) * 1000, MemoryMiB: t.osMemoryMiB(), Pods: t.MaxPods()}
}

// Allocatable is what the scheduler may place on the node:
// Capacity - KubeReserved - EvictionHard. The AMI sets no systemReserved
// (nodeadm/internal/kubelet/config.go sets only the systemReserved cgroup).
func (t InstanceType) Allocatable() Resources {
	return t.Capacity().Sub(t.KubeReserved()).Sub(t.EvictionHard())
}

const (
	// gravitonCMAMiB is the contiguous memory allocator pool Graviton
	// kernels keep out of the kubelet's reach (aws/karpenter-provider-aws
	// pkg/providers/instancetype/types.go memory(): "Gravitons have an extra
	// 64 MiB of cma reserved memory").
	gravitonCMAMiB = 64
	// vmOverheadPerMille is Karpenter's default VM_MEMORY_OVERHEAD_PERCENT,
	// 0.075, in thousandths (pkg/operator/options/options.go).
	vmOverheadPerMille = 75
)

// osMemoryMiB models the memory the kubelet reports; see Capacity.
func (t InstanceType) osMemoryMiB() int64 {
	m := t.MemoryMiB
	if t.Arch == ArchARM64 {
		m -= gravitonCMAMiB
	}
	overhead := (m*vmOverheadPerMille + 999) / 1000 // ceil(m * 0.075)
	return m - overhead
}

var byName = func() map[string]InstanceType {
	m := make(map[string]InstanceType, len(instanceTypes))
	for _, t := range instanceTypes {
		if _, dup := m[t.Name]; dup {
			panic("capacity: duplicate instance type " + t.Name)
		}
		m[t.Name] = t
	}
	return m
}()

// instanceTypes is the table, read 2026-11-30. Columns and their sources:
//
//   - VCPU, MemoryMiB (nominal) and Arch: EC2 DescribeInstanceTypes as
//     published in aws/karpenter-provider-aws
//     website/content/en/docs/reference/instance-types.md (labels
//     karpenter.k8s.aws/instance-cpu, karpenter.k8s.aws/instance-memory,
//     kubernetes.io/arch), commit 1d927085dd81a9df9301e613f371dac5b4d16bfe,
//     which its hack/docs/instancetypes_gen generates from EC2
//     DescribeInstanceTypes (VCpuInfo.DefaultVCpus, MemoryInfo.SizeInMiB) in
//     us-east-1, us-east-2 and us-west-2. The EC2 instance type pages were
//     not read directly.
//   - ENIs and IPv4PerENI: awslabs/amazon-eks-ami
//     nodeadm/internal/kubelet/instance-info.jsonl (defaultMaxENIs,
//     ipv4AddressesPerInterface), commit 81fec2e895854f599974fe4d3d72f61c0a9aaffa,
//     which nodeadm embeds and reads for max pods; nodeadm/tools/instance-info
//     generates it from EC2 DescribeInstanceTypes (MaximumNetworkInterfaces of
//     the default network card, Ipv4AddressesPerInterface), the data behind
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html.
//     Cross-checked against aws/karpenter-provider-aws
//     pkg/providers/instancetype/zz_generated.vpclimits.go (generated
//     2026-08-06): the two agree on all 74 rows.
//   - HourlyUSD: AWS EC2 On-Demand pricing, us-east-1, Linux, read
//     2026-11-30 from the AWS Price List API snapshot generated
//     2026-07-20T13:44:30Z in aws/karpenter-provider-aws
//     pkg/providers/pricing/zz_generated.pricing_aws.go.
//
// Columns: Name, VCPU, MemoryMiB, ENIs, IPv4PerENI, HourlyUSD, Arch.
var instanceTypes = []InstanceType{
	// m5: Intel Xeon, general purpose.
	{"m5.large", 2, 8192, 3, 10, 0.096, ArchAMD64},
	{"m5.xlarge", 4, 16384, 4, 15, 0.192, ArchAMD64},
	{"m5.2xlarge", 8, 32768, 4, 15, 0.384, ArchAMD64},
	{"m5.4xlarge", 16, 65536, 8, 30, 0.768, ArchAMD64},
	{"m5.8xlarge", 32, 131072, 8, 30, 1.536, ArchAMD64},
	// m6i: Intel Xeon, general purpose.
	{"m6i.large", 2, 8192, 3, 10, 0.096, ArchAMD64},
	{"m6i.xlarge", 4, 16384, 4, 15, 0.192, ArchAMD64},
	{"m6i.2xlarge", 8, 32768, 4, 15, 0.384, ArchAMD64},
	{"m6i.4xlarge", 16, 65536, 8, 30, 0.768, ArchAMD64},
	{"m6i.8xlarge", 32, 131072, 8, 30, 1.536, ArchAMD64},
	// m7i: Intel Xeon, general purpose.
	{"m7i.large", 2, 8192, 3, 10, 0.1008, ArchAMD64},
	{"m7i.xlarge", 4, 16384, 4, 15, 0.2016, ArchAMD64},
	{"m7i.2xlarge", 8, 32768, 4, 15, 0.4032, ArchAMD64},
	{"m7i.4xlarge", 16, 65536, 8, 30, 0.8064, ArchAMD64},
	{"m7i.8xlarge", 32, 131072, 8, 30, 1.6128, ArchAMD64},
	// m7i-flex: Intel Xeon, general purpose, Flex.
	{"m7i-flex.large", 2, 8192, 3, 10, 0.09576, ArchAMD64},
	{"m7i-flex.xlarge", 4, 16384, 4, 15, 0.19152, ArchAMD64},
	{"m7i-flex.2xlarge", 8, 32768, 4, 15, 0.38304, ArchAMD64},
	{"m7i-flex.4xlarge", 16, 65536, 8, 30, 0.76608, ArchAMD64},
	{"m7i-flex.8xlarge", 32, 131072, 8, 30, 1.53216, ArchAMD64},
	// m6a: AMD EPYC, general purpose.
	{"m6a.large", 2, 8192, 3, 10, 0.0864, ArchAMD64},
	{"m6a.xlarge", 4, 16384, 4, 15, 0.1728, ArchAMD64},
	{"m6a.2xlarge", 8, 32768, 4, 15, 0.3456, ArchAMD64},
	{"m6a.4xlarge", 16, 65536, 8, 30, 0.6912, ArchAMD64},
	{"m6a.8xlarge", 32, 131072, 8, 30, 1.3824, ArchAMD64},
	// m7a: AMD EPYC, general purpose.
	{"m7a.large", 2, 8192, 3, 10, 0.11592, ArchAMD64},
	{"m7a.xlarge", 4, 16384, 4, 15, 0.23184, ArchAMD64},
	{"m7a.2xlarge", 8, 32768, 4, 15, 0.46368, ArchAMD64},
	{"m7a.4xlarge", 16, 65536, 8, 30, 0.92736, ArchAMD64},
	{"m7a.8xlarge", 32, 131072, 8, 30, 1.85472, ArchAMD64},
	// c6i: Intel Xeon, compute optimized.
	{"c6i.large", 2, 4096, 3, 10, 0.085, ArchAMD64},
	{"c6i.xlarge", 4, 8192, 4, 15, 0.17, ArchAMD64},
	{"c6i.2xlarge", 8, 16384, 4, 15, 0.34, ArchAMD64},
	{"c6i.4xlarge", 16, 32768, 8, 30, 0.68, ArchAMD64},
	{"c6i.8xlarge", 32, 65536, 8, 30, 1.36, ArchAMD64},
	// c7i: Intel Xeon, compute optimized.
	{"c7i.large", 2, 4096, 3, 10, 0.08925, ArchAMD64},
	{"c7i.xlarge", 4, 8192, 4, 15, 0.1785, ArchAMD64},
	{"c7i.2xlarge", 8, 16384, 4, 15, 0.357, ArchAMD64},
	{"c7i.4xlarge", 16, 32768, 8, 30, 0.714, ArchAMD64},
	{"c7i.8xlarge", 32, 65536, 8, 30, 1.428, ArchAMD64},
	// r6i: Intel Xeon, memory optimized.
	{"r6i.large", 2, 16384, 3, 10, 0.126, ArchAMD64},
	{"r6i.xlarge", 4, 32768, 4, 15, 0.252, ArchAMD64},
	{"r6i.2xlarge", 8, 65536, 4, 15, 0.504, ArchAMD64},
	{"r6i.4xlarge", 16, 131072, 8, 30, 1.008, ArchAMD64},
	{"r6i.8xlarge", 32, 262144, 8, 30, 2.016, ArchAMD64},
	// r7i: Intel Xeon, memory optimized.
	{"r7i.large", 2, 16384, 3, 10, 0.1323, ArchAMD64},
	{"r7i.xlarge", 4, 32768, 4, 15, 0.2646, ArchAMD64},
	{"r7i.2xlarge", 8, 65536, 4, 15, 0.5292, ArchAMD64},
	{"r7i.4xlarge", 16, 131072, 8, 30, 1.0584, ArchAMD64},
	{"r7i.8xlarge", 32, 262144, 8, 30, 2.1168, ArchAMD64},
	// t3: Intel Xeon, burstable.
	{"t3.medium", 2, 4096, 3, 6, 0.0416, ArchAMD64},
	{"t3.large", 2, 8192, 3, 12, 0.0832, ArchAMD64},
	{"t3.xlarge", 4, 16384, 4, 15, 0.1664, ArchAMD64},
	{"t3.2xlarge", 8, 32768, 4, 15, 0.3328, ArchAMD64},
	// m6g: Graviton2, general purpose.
	{"m6g.large", 2, 8192, 3, 10, 0.077, ArchARM64},
	{"m6g.xlarge", 4, 16384, 4, 15, 0.154, ArchARM64},
	{"m6g.2xlarge", 8, 32768, 4, 15, 0.308, ArchARM64},
	{"m6g.4xlarge", 16, 65536, 8, 30, 0.616, ArchARM64},
	{"m6g.8xlarge", 32, 131072, 8, 30, 1.232, ArchARM64},
	// m7g: Graviton3, general purpose.
	{"m7g.large", 2, 8192, 3, 10, 0.0816, ArchARM64},
	{"m7g.xlarge", 4, 16384, 4, 15, 0.1632, ArchARM64},
	{"m7g.2xlarge", 8, 32768, 4, 15, 0.3264, ArchARM64},
	{"m7g.4xlarge", 16, 65536, 8, 30, 0.6528, ArchARM64},
	{"m7g.8xlarge", 32, 131072, 8, 30, 1.3056, ArchARM64},
	// c7g: Graviton3, compute optimized.
	{"c7g.large", 2, 4096, 3, 10, 0.0725, ArchARM64},
	{"c7g.xlarge", 4, 8192, 4, 15, 0.145, ArchARM64},
	{"c7g.2xlarge", 8, 16384, 4, 15, 0.29, ArchARM64},
	{"c7g.4xlarge", 16, 32768, 8, 30, 0.58, ArchARM64},
	{"c7g.8xlarge", 32, 65536, 8, 30, 1.16, ArchARM64},
	// r7g: Graviton3, memory optimized.
	{"r7g.large", 2, 16384, 3, 10, 0.1071, ArchARM64},
	{"r7g.xlarge", 4, 32768, 4, 15, 0.2142, ArchARM64},
	{"r7g.2xlarge", 8, 65536, 4, 15, 0.4284, ArchARM64},
	{"r7g.4xlarge", 16, 131072, 8, 30, 0.8568, ArchARM64},
	{"r7g.8xlarge", 32, 262144, 8, 30, 1.7136, ArchARM64},
}
