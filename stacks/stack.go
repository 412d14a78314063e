package stacks

import (
	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/components/network"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BuildCloudName is the Build Cloud component's name, the prefix of its
// Deployments.
const BuildCloudName = "anka"

// Stack holds the composed components and the outputs contract.
type Stack struct {
	Config     Config
	Network    *network.Network
	Cluster    *cluster.Cluster
	Storage    *storage.Storage
	Namespace  *namespace.Namespace
	Etcd       *etcd.Etcd
	Edge       *edge.Edge
	BuildCloud *buildcloud.BuildCloud
	// Monitoring is nil with anka:monitoring.mode none.
	Monitoring *monitoring.Monitoring
	Outputs    Outputs
}

// Run is the program: load and validate config, build, export. main.go and
// the integration tests' inline program both call it.
func Run(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		_ = ctx.Log.Warn(w, nil)
	}
	if err := cfg.checkPlaceholders(ctx); err != nil {
		return err
	}
	if plan, ok, _ := cfg.CapacityPlan(); ok {
		_ = ctx.Log.Info(plan.String(), nil)
	}
	if cfg.deploysToAWS() {
		// A stack on a cluster outside AWS (the local control plane) has
		// no AWS bill to estimate.
		_ = ctx.Log.Info(cfg.Estimate().String(), nil)
	}
	st, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	st.Outputs.Export(ctx)
	return nil
}

// New builds the stack from a validated config.
func New(ctx *pulumi.Context, cfg Config) (*Stack, error) {
	st := &Stack{Config: cfg}
	var err error
	if st.Network, err = network.New(ctx, "network", cfg.Network); err != nil {
		return nil, err
	}

	if st.Cluster, err = cluster.New(ctx, "cluster", cfg.clusterArgs(), cluster.Wiring{
		VpcID:            st.Network.VpcID,
		PrivateSubnetIDs: st.Network.PrivateSubnetIDs,
		PublicSubnetIDs:  st.Network.PublicSubnetIDs,
	}); err != nil {
		return nil, err
	}
	k8s := pulumi.Providers(st.Cluster.Provider)
	ready := pulumi.DependsOn(st.Cluster.Ready)

	if st.Storage, err = storage.New(ctx, "storage", cfg.Storage.Etcd, k8s, ready); err != nil {
		return nil, err
	}

	if st.Namespace, err = namespace.New(ctx, "namespace", namespace.Args{
		Name: cfg.Namespace,
		// The alb (Ingress target-type ip) and nlb-mtls (nlb-target-type ip)
		// edges register pod IPs in this namespace as targets: let the AWS
		// Load Balancer Controller gate pod readiness on target health
		// (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/).
		// none and ingress-nginx create no target group here.
		PodReadinessGateInject: cfg.EdgeEnabled() && (cfg.Edge.Mode == edge.ModeALB || cfg.Edge.Mode == edge.ModeNLBMTLS),
	}, k8s, ready); err != nil {
		return nil, err
	}
	ea := cfg.Etcd
	// The class names are plain config and nothing depends on the class
	// resources: a storage change replaces a class (delete before replace),
	// and a dependent StatefulSet would be replaced with it. On the first
	// up a claim whose class comes a moment later still binds; the
	// members' order comes from the namespace.
	var ew etcd.Wiring
	if ea.HasOIDC {
		ew.OIDCProviderArn = st.Cluster.OIDCProviderArn
	}
	if st.Etcd, err = etcd.New(ctx, "etcd", ea, ew, k8s, pulumi.DependsOn([]pulumi.Resource{st.Namespace.Resource})); err != nil {
		return nil, err
	}

	ba := cfg.BuildCloud
	var bw buildcloud.Wiring
	if ba.HasVPC {
		bw.VpcID, bw.PrivateSubnetIDs = st.Network.VpcID, st.Network.PrivateSubnetIDs
	}
	if ba.HasRouteTables {
		bw.PrivateRouteTableIDs = st.Network.PrivateRouteTableIDs
	}
	if ba.HasNodeSecurityGroup {
		bw.NodeSecurityGroupID = st.Cluster.NodeSecurityGroupID
	}
	if ba.HasOIDC {
		bw.OIDCProviderArn = st.Cluster.OIDCProviderArn
	}
	if st.BuildCloud, err = buildcloud.New(ctx, BuildCloudName, ba, bw, k8s, pulumi.DependsOn([]pulumi.Resource{st.Namespace.Resource, st.Etcd.StatefulSet})); err != nil {
		return nil, err
	}
	cfg.Edge.ControllerService, cfg.Edge.RegistryService = st.BuildCloud.ControllerServiceName, st.BuildCloud.RegistryServiceName

	controllerURL := pulumi.String("").ToStringOutput()
	registryURL := pulumi.String("").ToStringOutput()
	lbHostname := pulumi.String("").ToStringOutput()
	if cfg.EdgeEnabled() {
		if st.Edge, err = edge.New(ctx, "edge", cfg.Edge, k8s,
			// NGINX resolves the Services when it starts.
			pulumi.DependsOn(append([]pulumi.Resource{st.Namespace.Resource}, st.BuildCloud.Services...))); err != nil {
			return nil, err
		}
		controllerURL, registryURL, lbHostname = st.Edge.ControllerURL, st.Edge.RegistryURL, st.Edge.LoadBalancerHostname
	}

	if cfg.Monitoring.Enabled() {
		if st.Monitoring, err = monitoring.New(ctx, MonitoringName, cfg.Monitoring, k8s,
			pulumi.DependsOn([]pulumi.Resource{st.Namespace.Resource})); err != nil {
			return nil, err
		}
	}

	st.Outputs = Outputs{
		ClusterName:          st.Cluster.Name,
		Kubeconfig:           st.Cluster.Kubeconfig,
		OIDCProviderArn:      st.Cluster.OIDCProviderArn,
		VpcID:                st.Network.VpcID,
		PrivateSubnetIDs:     st.Network.PrivateSubnetIDs,
		PublicSubnetIDs:      st.Network.PublicSubnetIDs,
		EtcdStorageClass:     st.Storage.ClassName,
		EtcdEndpoints:        st.Etcd.Endpoints,
		EtcdBackupBucket:     st.Etcd.BackupBucket,
		EtcdTLSNotAfter:      st.Etcd.TLSNotAfter,
		Namespace:            st.Namespace.Name,
		ControllerURL:        controllerURL,
		RegistryURL:          registryURL,
		RegistryStorage:      orEmpty(st.BuildCloud.StorageMode),
		RegistryBucket:       orEmpty(st.BuildCloud.BucketName),
		RegistryBucketArn:    orEmpty(st.BuildCloud.BucketArn),
		RegistryFileSystem:   orEmpty(st.BuildCloud.FileSystemID),
		LoadBalancerHostname: lbHostname,
	}
	return st, nil
}

// orEmpty turns an output a component left unset (its mode does not create
// that resource) into "", so the contract always has every key.
func orEmpty(o pulumi.StringOutput) pulumi.StringOutput {
	if o.OutputState == nil {
		return pulumi.String("").ToStringOutput()
	}
	return o
}
