// Package network provides the VPC the cluster runs in: private subnets for
// nodes and public subnets for load balancers in every zone, or the same
// handles read from another stack.
package network

import (
	"errors"
	"fmt"
	"slices"

	"github.com/anka-ha/anka-build-cloud-aws/internal/awstags"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:network:Network"

// Network is the component resource.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC's id ("" in none mode).
	VpcID pulumi.StringOutput
	// PrivateSubnetIDs are the node subnets, one per zone, in zone order.
	PrivateSubnetIDs pulumi.StringArrayOutput
	// PublicSubnetIDs are the load-balancer subnets, one per zone.
	PublicSubnetIDs pulumi.StringArrayOutput
	// PrivateRouteTableIDs are the private route tables (create mode only).
	PrivateRouteTableIDs pulumi.StringArrayOutput
	// S3EndpointID is the S3 gateway endpoint on the private route tables
	// ("" when this stack cannot tell: none mode, or a referenced stack that
	// does not export s3GatewayEndpointId).
	S3EndpointID pulumi.StringOutput
}

// New registers the network. Args are validated before anything is created.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if args.Mode == ModeCreate && args.Region == "" {
		// aws:region is the stack's to check (once, for every component).
		return nil, errors.New("network: Args.Region (aws:region) is required in create mode")
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	var err error
	switch args.Mode {
	case ModeCreate:
		err = n.create(ctx, name, args, parent)
	case ModeStackRef:
		err = n.fromStack(ctx, name, args, parent)
	default:
		n.VpcID = pulumi.String("").ToStringOutput()
		n.PrivateSubnetIDs = pulumi.StringArray{}.ToStringArrayOutput()
		n.PublicSubnetIDs = pulumi.StringArray{}.ToStringArrayOutput()
		n.PrivateRouteTableIDs = pulumi.StringArray{}.ToStringArrayOutput()
		n.S3EndpointID = pulumi.String("").ToStringOutput()
	}
	if err != nil {
		return nil, err
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VpcID,
		"privateSubnetIds": n.PrivateSubnetIDs,
		"publicSubnetIds":  n.PublicSubnetIDs,
	})
}

func tags(args Args, name string, extra map[string]string) pulumi.StringMap {
	return awstags.Merge(map[string]string{"Name": name}, args.Tags, extra)
}

// subnet is a subnet and its association with the route table that gives it
// its way out (the internet gateway or the zone's NAT gateway), both named
// name.
func subnet(ctx *pulumi.Context, name string, sa *ec2.SubnetArgs, rt *ec2.RouteTable, parent pulumi.ResourceOption) (*ec2.Subnet, error) {
	sn, err := ec2.NewSubnet(ctx, name, sa, parent)
	if err != nil {
		return nil, err
	}
	_, err = ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{SubnetId: sn.ID(), RouteTableId: rt.ID()}, parent)
	return sn, err
}

func (n *Network) create(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) error {
	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(args, name, nil),
	}, parent)
	if err != nil {
		return err
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(args, name+"-igw", nil),
	}, parent)
	if err != nil {
		return err
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags(args, name+"-public", nil),
	}, parent)
	if err != nil {
		return err
	}

	privateCIDRs, publicCIDRs := subnetCIDRs(args.CIDR, len(args.AvailabilityZones))
	clusterTag := map[string]string{}
	if args.ClusterName != "" {
		clusterTag["kubernetes.io/cluster/"+args.ClusterName] = "shared"
	}
	var private, public, privateRTs pulumi.StringArray
	var nats []*ec2.NatGateway
	for i, zone := range args.AvailabilityZones {
		pubName := fmt.Sprintf("%s-public-%s", name, zone)
		// Nothing launched here gets a public IP: only the load balancers
		// and NAT gateways live in the public subnets.
		pub, err := subnet(ctx, pubName, &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			CidrBlock:           pulumi.String(publicCIDRs[i]),
			AvailabilityZone:    pulumi.String(zone),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tags(args, pubName, merge(clusterTag, map[string]string{"kubernetes.io/role/elb": "1"})),
		}, publicRT, parent)
		if err != nil {
			return err
		}
		public = append(public, pub.ID())

		if args.NatGateways == NatPerAZ || i == 0 {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, zone), &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tags(args, fmt.Sprintf("%s-nat-%s", name, zone), nil),
			}, parent)
			if err != nil {
				return err
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-nat-%s", name, zone), &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tags(args, fmt.Sprintf("%s-nat-%s", name, zone), nil),
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return err
			}
			nats = append(nats, nat)
		}
		nat := nats[len(nats)-1]

		privName := fmt.Sprintf("%s-private-%s", name, zone)
		rt, err := ec2.NewRouteTable(ctx, privName, &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
			Tags:   tags(args, privName, nil),
		}, parent)
		if err != nil {
			return err
		}
		priv, err := subnet(ctx, privName, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(privateCIDRs[i]),
			AvailabilityZone: pulumi.String(zone),
			Tags:             tags(args, privName, merge(clusterTag, map[string]string{"kubernetes.io/role/internal-elb": "1"})),
		}, rt, parent)
		if err != nil {
			return err
		}
		private = append(private, priv.ID())
		privateRTs = append(privateRTs, rt.ID())
	}

	// Registry pushes to S3 and image pulls from ECR's S3 layer stay off the
	// NAT gateways: faster, and no per-GB NAT processing charge.
	endpoint, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String(fmt.Sprintf("com.amazonaws.%s.s3", args.Region)),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   privateRTs,
		Tags:            tags(args, name+"-s3", nil),
	}, parent)
	if err != nil {
		return err
	}
	n.S3EndpointID = endpoint.ID().ToStringOutput()

	n.VpcID = vpc.ID().ToStringOutput()
	n.PrivateSubnetIDs = private.ToStringArrayOutput()
	n.PublicSubnetIDs = public.ToStringArrayOutput()
	n.PrivateRouteTableIDs = privateRTs.ToStringArrayOutput()
	return nil
}

func (n *Network) fromStack(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) error {
	ref, err := pulumi.NewStackReference(ctx, name+"-ref", &pulumi.StackReferenceArgs{Name: pulumi.String(args.StackRef)}, parent)
	if err != nil {
		return err
	}
	n.VpcID = ref.GetStringOutput(pulumi.String("vpcId"))
	// The subnets are taken by index, one per zone of
	// anka:network.availabilityZones (node groups, etcd's zones): check the
	// referenced stack's lists against them. Stack outputs are known at
	// preview (the engine reads the referenced stack then), so an error here
	// fails preview, before any node group is planned in the wrong zone.
	checked := pulumi.All(
		ref.GetOutput(pulumi.String("privateSubnetIds")),
		ref.GetOutput(pulumi.String("publicSubnetIds")),
		ref.GetOutput(pulumi.String("availabilityZones")),
	).ApplyT(func(v []any) (map[string][]string, error) {
		s, err := checkStackSubnets(args, v[0], v[1], v[2])
		return map[string][]string{"private": s.Private, "public": s.Public}, err
	}).(pulumi.StringArrayMapOutput)
	n.PrivateSubnetIDs = checked.MapIndex(pulumi.String("private"))
	n.PublicSubnetIDs = checked.MapIndex(pulumi.String("public"))
	n.PrivateRouteTableIDs = pulumi.StringArray{}.ToStringArrayOutput()
	// Registry pushes to S3 and ECR layer pulls should not cross the NAT
	// gateways; this stack cannot see the other stack's route tables, so it
	// relies on that stack saying it has a gateway endpoint.
	n.S3EndpointID = ref.GetOutput(pulumi.String("s3GatewayEndpointId")).ApplyT(func(v any) string {
		id, _ := v.(string)
		if id == "" {
			_ = ctx.Log.Warn(fmt.Sprintf("anka:network.stackRef %s does not export s3GatewayEndpointId: make sure its private route tables have an S3 gateway endpoint, or Registry and image traffic to S3 goes through the NAT gateways (slower, billed per GB)", args.StackRef), &pulumi.LogArgs{Resource: n})
		}
		return id
	}).(pulumi.StringOutput)
	return nil
}

// stackSubnets are the subnet lists read from the referenced stack.
type stackSubnets struct{ Private, Public []string }

// checkStackSubnets checks the referenced stack's outputs against
// anka:network.availabilityZones: as many private and public subnets as
// zones, and, when that stack exports availabilityZones, the same zones in
// the same order. Every problem names the key to fix.
func checkStackSubnets(args Args, private, public, zones any) (stackSubnets, error) {
	var p validation.Problems
	var out stackSubnets
	var err error
	if out.Private, err = toStrings(private); err != nil {
		p.Addf("anka:network.stackRef", "%s: output privateSubnetIds: %v", args.StackRef, err)
	}
	if out.Public, err = toStrings(public); err != nil {
		p.Addf("anka:network.stackRef", "%s: output publicSubnetIds: %v", args.StackRef, err)
	}
	if err := p.Err(); err != nil {
		return out, err
	}
	want := len(args.AvailabilityZones)
	for _, list := range []struct {
		name string
		ids  []string
	}{{"privateSubnetIds", out.Private}, {"publicSubnetIds", out.Public}} {
		if len(list.ids) != want {
			p.Addf("anka:network.availabilityZones", "lists %d zones %v but anka:network.stackRef %s exports %d %s: subnets are taken by index, one per zone in this order; list the referenced stack's zones in its subnet order", want, args.AvailabilityZones, args.StackRef, len(list.ids), list.name)
		}
	}
	if zones != nil {
		exported, err := toStrings(zones)
		switch {
		case err != nil:
			p.Addf("anka:network.stackRef", "%s: output availabilityZones: %v", args.StackRef, err)
		case !slices.Equal(exported, args.AvailabilityZones):
			p.Addf("anka:network.availabilityZones", "must be the zones of anka:network.stackRef %s in its subnet order %v, got %v: subnets are taken by index, so another order puts node groups and etcd members in the wrong zone", args.StackRef, exported, args.AvailabilityZones)
		}
	}
	return out, p.Err()
}

func toStrings(v any) ([]string, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("stack reference output is %T, want a list of subnet ids", v)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("stack reference output holds %T, want subnet id strings", it)
		}
		out = append(out, s)
	}
	return out, nil
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
