package stacks

import (
	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/components/network"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Stack holds the composed components and the outputs contract.
type Stack struct {
	Config    Config
	Network   *network.Network
	Cluster   *cluster.Cluster
	Storage   *storage.Storage
	Namespace *namespace.Namespace
	Etcd      *etcd.Etcd
	Outputs   Outputs
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

	ca := cfg.clusterArgs()
	ca.VpcID = st.Network.VpcID
	ca.PrivateSubnetIDs = st.Network.PrivateSubnetIDs
	ca.PublicSubnetIDs = st.Network.PublicSubnetIDs
	if ca.Mode == cluster.ModeExisting && cfg.Cluster.StackRef != "" {
		ref, err := pulumi.NewStackReference(ctx, "cluster-ref", &pulumi.StackReferenceArgs{Name: pulumi.String(cfg.Cluster.StackRef)})
		if err != nil {
			return nil, err
		}
		ca.Kubeconfig = ref.GetStringOutput(pulumi.String(OutputKubeconfig))
	}
	if st.Cluster, err = cluster.New(ctx, "cluster", ca); err != nil {
		return nil, err
	}
	k8s := pulumi.Providers(st.Cluster.Provider)
	ready := pulumi.DependsOn(st.Cluster.Ready)

	if st.Storage, err = storage.New(ctx, "storage", cfg.Storage.Etcd, k8s, ready); err != nil {
		return nil, err
	}

	if st.Namespace, err = namespace.New(ctx, "namespace", cfg.Namespace, k8s, ready); err != nil {
		return nil, err
	}
	ea := cfg.Etcd
	ea.StorageClassName = st.Storage.ClassName
	ea.OIDCProviderArn = st.Cluster.OIDCProviderArn
	if st.Etcd, err = etcd.New(ctx, "etcd", ea, k8s, pulumi.DependsOn([]pulumi.Resource{st.Namespace, st.Storage})); err != nil {
		return nil, err
	}

	st.Outputs = Outputs{
		ClusterName:      st.Cluster.Name,
		Kubeconfig:       st.Cluster.Kubeconfig,
		OIDCProviderArn:  st.Cluster.OIDCProviderArn,
		VpcID:            st.Network.VpcID,
		PrivateSubnetIDs: st.Network.PrivateSubnetIDs,
		PublicSubnetIDs:  st.Network.PublicSubnetIDs,
		EtcdStorageClass: st.Storage.ClassName,
		EtcdEndpoints:    st.Etcd.Endpoints,
		EtcdBackupBucket: st.Etcd.BackupBucket,
		Namespace:        st.Namespace.Name,
		// Filled by the edge component; empty until it exists.
		ControllerURL: pulumi.String("").ToStringOutput(),
		RegistryURL:   pulumi.String("").ToStringOutput(),
	}
	return st, nil
}
