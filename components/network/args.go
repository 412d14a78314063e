package network

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Modes of the network component (config anka:network.mode).
const (
	// ModeCreate builds a new VPC across the configured zones.
	ModeCreate = "create"
	// ModeStackRef reads vpcId, privateSubnetIds and publicSubnetIds from
	// another stack's outputs.
	ModeStackRef = "stackRef"
	// ModeNone creates nothing: the cluster already exists and the workload
	// needs no VPC handles (local control plane, existing clusters).
	ModeNone = "none"
)

// NAT gateway layouts (config anka:network.natGateways).
const (
	NatSingle = "single"
	NatPerAZ  = "perAz"
)

// Defaults, in one place.
const (
	DefaultMode        = ModeCreate
	DefaultCIDR        = "10.40.0.0/16"
	DefaultNatGateways = NatSingle
	// MaxZones is how many zone-sized blocks the CIDR is carved into for
	// private subnets (8 blocks: up to 6 zones, the last block for public).
	MaxZones = 6
)

// Args configures the network: anka:network, decoded strictly from the
// stack file (json tags), and the plain facts the stack sets. Validated
// before anything is registered.
type Args struct {
	// Mode is "create" (default), "stackRef" or "none". Config anka:network.mode.
	Mode string `json:"mode"`
	// CIDR of the new VPC, /16 to /20. Default 10.40.0.0/16. Config anka:network.cidr.
	CIDR string `json:"cidr"`
	// AvailabilityZones to spread subnets over, e.g. [us-east-1a, us-east-1b,
	// us-east-1c]; required in create mode. Config anka:network.availabilityZones.
	AvailabilityZones []string `json:"availabilityZones"`
	// NatGateways is "single" (default, one NAT in the first zone: cheap, dev)
	// or "perAz" (one per zone: a zone loss keeps egress, prod).
	// Config anka:network.natGateways.
	NatGateways string `json:"natGateways"`
	// StackRef names the stack whose outputs vpcId, privateSubnetIds and
	// publicSubnetIds are used in stackRef mode, e.g. "acme/network/prod".
	// Config anka:network.stackRef.
	StackRef string `json:"stackRef"`

	// Set by the stack, not by config:

	// Region is the AWS region (config aws:region), used for the S3 gateway
	// endpoint's service name.
	Region string `json:"-"`
	// ClusterName tags subnets kubernetes.io/cluster/<name>=shared so the AWS
	// Load Balancer Controller can discover them.
	ClusterName string `json:"-"`
	// Tags are added to every taggable resource.
	Tags map[string]string `json:"-"`
}

// WithDefaults returns a copy with every unset field at its default.
func (a Args) WithDefaults() Args {
	a.Mode = cmp.Or(a.Mode, DefaultMode)
	a.CIDR = cmp.Or(a.CIDR, DefaultCIDR)
	a.NatGateways = cmp.Or(a.NatGateways, DefaultNatGateways)
	return a
}

// Validate reports every problem with the (defaulted) args, naming config keys.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems
	if !p.OneOf("anka:network.mode", a.Mode, ModeCreate, ModeStackRef, ModeNone) {
		return p.Err()
	}
	switch a.Mode {
	case ModeCreate:
		if prefix, ok := p.CIDR("anka:network.cidr", a.CIDR); ok && (prefix.Bits() < 16 || prefix.Bits() > 20) {
			p.Addf("anka:network.cidr", "must be between /16 and /20 so each zone gets a large private subnet, got %s", a.CIDR)
		}
		if len(a.AvailabilityZones) == 0 {
			p.Addf("anka:network.availabilityZones", "must list the zones to use, e.g. [us-east-1a, us-east-1b, us-east-1c], got none")
		}
		if len(a.AvailabilityZones) > MaxZones {
			p.Addf("anka:network.availabilityZones", "may list at most %d zones, got %d", MaxZones, len(a.AvailabilityZones))
		}
		seen := map[string]bool{}
		for _, z := range a.AvailabilityZones {
			if seen[z] {
				p.Addf("anka:network.availabilityZones", "lists %q twice; each zone once", z)
			}
			seen[z] = true
		}
		p.OneOf("anka:network.natGateways", a.NatGateways, NatSingle, NatPerAZ)
	case ModeStackRef:
		if a.StackRef == "" {
			p.Addf("anka:network.stackRef", "must name the network stack (org/project/stack) when anka:network.mode is %q", ModeStackRef)
		}
	}
	return p.Err()
}

// subnetCIDRs carves the VPC block into one private subnet per zone (1/8 of
// the VPC each, room for pod IPs under the VPC CNI) and one public subnet per
// zone (1/64 each, load balancers only) from the last eighth.
func subnetCIDRs(vpc string, zones int) (private, public []string) {
	prefix := netip.MustParsePrefix(vpc)
	for i := range zones {
		private = append(private, carve(prefix, 3, i).String())
		public = append(public, carve(prefix, 6, 7*8+i).String())
	}
	return private, public
}

// carve returns the index-th subnet of prefix with newBits more prefix bits.
func carve(prefix netip.Prefix, newBits, index int) netip.Prefix {
	bits := prefix.Bits() + newBits
	if newBits < 0 || bits > 32 || index < 0 || index >= 1<<newBits {
		panic(fmt.Sprintf("carve(%s, %d, %d): out of range", prefix, newBits, index)) // a programming error: Validate bounds the inputs
	}
	base := prefix.Addr().As4()
	n := binary.BigEndian.Uint32(base[:]) + uint32(index)<<(32-bits) //nolint:gosec // index < 2^newBits, checked above
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], n)
	return netip.PrefixFrom(netip.AddrFrom4(out), bits)
}
