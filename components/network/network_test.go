package network

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var zones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

func TestNetworkDefaultsArePinned(t *testing.T) {
	assert.Equal(t, Args{Mode: "create", CIDR: "10.40.0.0/16", NatGateways: "single"}, Args{}.WithDefaults())
}

func TestNetworkSubnetCIDRsDoNotOverlap(t *testing.T) {
	private, public := subnetCIDRs("10.40.0.0/16", 6)
	assert.Equal(t, []string{"10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19", "10.40.96.0/19", "10.40.128.0/19", "10.40.160.0/19"}, private)
	assert.Equal(t, []string{"10.40.224.0/22", "10.40.228.0/22", "10.40.232.0/22", "10.40.236.0/22", "10.40.240.0/22", "10.40.244.0/22"}, public)
	private, public = subnetCIDRs("10.8.16.0/20", 3)
	assert.Equal(t, []string{"10.8.16.0/23", "10.8.18.0/23", "10.8.20.0/23"}, private)
	assert.Equal(t, []string{"10.8.30.0/26", "10.8.30.64/26", "10.8.30.128/26"}, public)
}

func TestNetworkNATPerZoneOrSingle(t *testing.T) {
	for layout, want := range map[string]int{NatSingle: 1, NatPerAZ: 3} {
		rec := harness.NewRecorder()
		err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
			_, err := New(ctx, "net", Args{AvailabilityZones: zones, NatGateways: layout, Region: "us-east-1", ClusterName: "c"})
			return err
		})
		require.NoError(t, err)
		assert.Len(t, rec.ByType("aws:ec2/natGateway:NatGateway"), want, layout)
		assert.Len(t, rec.ByType("aws:ec2/subnet:Subnet"), 6)
		for _, r := range rec.Resources() {
			if r.Type != TypeToken {
				assert.Equal(t, "net", r.ParentName(), "%s %s must be parented to the component", r.Type, r.Name)
			}
		}
		ep := rec.Get(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3")
		assert.Equal(t, "com.amazonaws.us-east-1.s3", ep.Inputs["serviceName"].StringValue())
	}
}

func TestNetworkFromStackReference(t *testing.T) {
	rec := harness.NewRecorder()
	rec.StackOutputs["acme/network/prod"] = map[string]any{
		"vpcId": "vpc-123", "privateSubnetIds": []any{"subnet-a", "subnet-b", "subnet-c"}, "publicSubnetIds": []any{"subnet-d", "subnet-e", "subnet-f"},
	}
	var n *Network
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) (err error) {
		n, err = New(ctx, "net", Args{Mode: ModeStackRef, StackRef: "acme/network/prod", AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}})
		return err
	})
	require.NoError(t, err)
	got, _ := harness.MustAwait(t, n.PrivateSubnetIDs)
	assert.Equal(t, []string{"subnet-a", "subnet-b", "subnet-c"}, got)
	assert.Empty(t, rec.ByType("aws:ec2/vpc:Vpc"), "no VPC is created in stackRef mode")
	endpoint, _ := harness.MustAwait(t, n.S3EndpointID)
	assert.Equal(t, "", endpoint, "the referenced stack exports no gateway endpoint: preview warns (logged), the output is empty")
}

func TestNetworkValidation(t *testing.T) {
	err := Args{AvailabilityZones: []string{"a", "b", "c", "d", "e", "f", "g"}, CIDR: "10.0.0.0/8", NatGateways: "x"}.Validate()
	harness.AssertKeys(t, err, "anka:network.cidr", "anka:network.availabilityZones", "anka:network.natGateways")
}

// TestNetworkCreateNeedsTheRegion: aws:region is the stack's to report (once,
// tests/validate_test.go); a caller that passes none gets an error before
// anything is registered.
func TestNetworkCreateNeedsTheRegion(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "network", Args{AvailabilityZones: []string{"us-east-1a"}})
		return err
	})
	assert.ErrorContains(t, err, "Args.Region (aws:region) is required")
	assert.Zero(t, rec.Len(), "nothing registered")
}

// TestNetworkStackRefSubnetsMatchZones: the referenced stack's subnets are
// taken by index, one per zone: preview fails, naming the key, when their
// count differs from anka:network.availabilityZones or the referenced stack
// exports its zones in another order.
func TestNetworkStackRefSubnetsMatchZones(t *testing.T) {
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	three := []any{"subnet-a", "subnet-b", "subnet-c"}
	cases := []struct {
		name    string
		outputs map[string]any
		key     string
		msg     string
	}{
		{"matching, zones exported", map[string]any{"privateSubnetIds": three, "publicSubnetIds": three, "availabilityZones": []any{"us-east-1a", "us-east-1b", "us-east-1c"}}, "", ""},
		{"matching, no zones exported", map[string]any{"privateSubnetIds": three, "publicSubnetIds": three}, "", ""},
		{"two private subnets", map[string]any{"privateSubnetIds": three[:2], "publicSubnetIds": three}, "anka:network.availabilityZones", "exports 2 privateSubnetIds"},
		{"four public subnets", map[string]any{"privateSubnetIds": three, "publicSubnetIds": append([]any{"subnet-d"}, three...)}, "anka:network.availabilityZones", "exports 4 publicSubnetIds"},
		{"zones in another order", map[string]any{"privateSubnetIds": three, "publicSubnetIds": three, "availabilityZones": []any{"us-east-1b", "us-east-1a", "us-east-1c"}}, "anka:network.availabilityZones", "in its subnet order [us-east-1b us-east-1a us-east-1c]"},
		{"subnets not a list", map[string]any{"privateSubnetIds": "subnet-a", "publicSubnetIds": three}, "anka:network.stackRef", "output privateSubnetIds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := harness.NewRecorder()
			tc.outputs["vpcId"] = "vpc-123"
			rec.StackOutputs["acme/network/prod"] = tc.outputs
			var n *Network
			err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) (err error) {
				n, err = New(ctx, "net", Args{Mode: ModeStackRef, StackRef: "acme/network/prod", AvailabilityZones: zones})
				if err != nil {
					return err
				}
				// What the node groups do: consume the subnets.
				_, err = ec2.NewSecurityGroup(ctx, "consumer", &ec2.SecurityGroupArgs{
					Description: n.PrivateSubnetIDs.Index(pulumi.Int(0)),
					Tags:        pulumi.StringMap{"public": n.PublicSubnetIDs.Index(pulumi.Int(0))},
				})
				return err
			})
			if tc.key == "" {
				require.NoError(t, err)
				got, _ := harness.MustAwait(t, n.PrivateSubnetIDs)
				assert.Equal(t, []string{"subnet-a", "subnet-b", "subnet-c"}, got)
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.key+" ")
			assert.ErrorContains(t, err, tc.msg)
			assert.Empty(t, rec.ByType("aws:ec2/securityGroup:SecurityGroup"), "nothing consuming the subnets is planned")
		})
	}
}
