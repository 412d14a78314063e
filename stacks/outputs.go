package stacks

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Output names: the stable contract other projects read through stack
// references. Renaming or removing one breaks consumers; the README table
// and tests/contract_test.go must change with it.
const (
	OutputClusterName       = "clusterName"
	OutputKubeconfig        = "kubeconfig"
	OutputOIDCProviderArn   = "oidcProviderArn"
	OutputVpcID             = "vpcId"
	OutputPrivateSubnetIDs  = "privateSubnetIds"
	OutputPublicSubnetIDs   = "publicSubnetIds"
	OutputEtcdStorageClass  = "etcdStorageClass"
	OutputEtcdEndpoints     = "etcdEndpoints"
	OutputEtcdBackupBucket  = "etcdBackupBucket"
	OutputEtcdTLSNotAfter   = "etcdTlsNotAfter"
	OutputNamespace         = "namespace"
	OutputControllerURL     = "controllerUrl"
	OutputRegistryURL       = "registryUrl"
	OutputLoadBalancer      = "loadBalancerHostname"
	OutputRegistryStorage   = "registryStorage"
	OutputRegistryBucket    = "registryBucket"
	OutputRegistryBucketArn = "registryBucketArn"
	OutputRegistryFS        = "registryFileSystemId"
)

// Outputs are the stack's exported values.
type Outputs struct {
	ClusterName        pulumi.StringOutput
	Kubeconfig         pulumi.StringOutput // secret
	OIDCProviderArn    pulumi.StringOutput
	VpcID              pulumi.StringOutput
	PrivateSubnetIDs   pulumi.StringArrayOutput
	PublicSubnetIDs    pulumi.StringArrayOutput
	EtcdStorageClass   pulumi.StringOutput
	EtcdEndpoints      pulumi.StringOutput
	EtcdBackupBucket   pulumi.StringOutput
	EtcdTLSNotAfter    pulumi.StringOutput // earliest etcd certificate expiry, RFC 3339; "" without TLS
	Namespace          pulumi.StringOutput
	ControllerURL      pulumi.StringOutput
	RegistryURL        pulumi.StringOutput
	RegistryStorage    pulumi.StringOutput
	RegistryBucket     pulumi.StringOutput
	RegistryBucketArn  pulumi.StringOutput
	RegistryFileSystem pulumi.StringOutput
	// LoadBalancerHostname is the ALB/NLB DNS name to point both host names at.
	LoadBalancerHostname pulumi.StringOutput
}

// Map returns the outputs by their exported names.
func (o Outputs) Map() map[string]pulumi.Output {
	return map[string]pulumi.Output{
		OutputClusterName:       o.ClusterName,
		OutputKubeconfig:        pulumi.ToSecret(o.Kubeconfig),
		OutputOIDCProviderArn:   o.OIDCProviderArn,
		OutputVpcID:             o.VpcID,
		OutputPrivateSubnetIDs:  o.PrivateSubnetIDs,
		OutputPublicSubnetIDs:   o.PublicSubnetIDs,
		OutputEtcdStorageClass:  o.EtcdStorageClass,
		OutputEtcdEndpoints:     o.EtcdEndpoints,
		OutputEtcdBackupBucket:  o.EtcdBackupBucket,
		OutputEtcdTLSNotAfter:   o.EtcdTLSNotAfter,
		OutputNamespace:         o.Namespace,
		OutputControllerURL:     o.ControllerURL,
		OutputRegistryURL:       o.RegistryURL,
		OutputLoadBalancer:      o.LoadBalancerHostname,
		OutputRegistryStorage:   o.RegistryStorage,
		OutputRegistryBucket:    o.RegistryBucket,
		OutputRegistryBucketArn: o.RegistryBucketArn,
		OutputRegistryFS:        o.RegistryFileSystem,
	}
}

// Export registers every output on the stack.
func (o Outputs) Export(ctx *pulumi.Context) {
	for name, value := range o.Map() {
		ctx.Export(name, value)
	}
}
