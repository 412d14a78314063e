// Package buildcloud deploys the Anka Build Cloud workload: the Controller
// and the Registry in high availability on Kubernetes, either combined (N
// pods with both containers, like the vendor's HA diagram) or split (two
// Deployments that scale on their own), with the Registry's shared storage
// on FSx for OpenZFS, EFS, S3 or a PersistentVolumeClaim.
//
//	bc, err := buildcloud.New(ctx, "anka", buildcloud.Args{
//		Environment:         "prod",
//		RootToken:           rootToken, // a secret
//		EtcdEndpoints:       pulumi.ToStringArray(etcdArgs.ControllerEndpoints()),
//		EtcdClientTLSSecret: pulumi.String(etcd.ClientSecretName),
//		EtcdClientLabels:    etcd.ClientLabels,
//		AvailabilityZones:   zones,
//		VpcID:               net.VpcID,
//		PrivateSubnetIDs:    net.PrivateSubnetIDs,
//		PrivateRouteTableIDs: net.PrivateRouteTableIDs,
//		NodeSecurityGroupID: cl.NodeSecurityGroupID,
//		OIDCProviderArn:     cl.OIDCProviderArn,
//	}, pulumi.Providers(cl.Provider))
package buildcloud

import (
	"errors"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:buildcloud:BuildCloud"

// BuildCloud is the component resource.
type BuildCloud struct {
	pulumi.ResourceState

	// Namespace the workload runs in.
	Namespace pulumi.StringOutput
	// ControllerService and RegistryService are the ClusterIP Services
	// (port name "http", ports 80 and 8089) the edge routes to.
	ControllerService pulumi.StringOutput
	RegistryService   pulumi.StringOutput
	// ControllerServiceName and RegistryServiceName are the same names as
	// plain strings (<name>-controller, <name>-registry), for components
	// that take them as plain values (the edge).
	ControllerServiceName string
	RegistryServiceName   string
	// ControllerURL and RegistryURL are the in-cluster URLs,
	// http://<service>.<namespace>.svc.cluster.local:<port>.
	ControllerURL pulumi.StringOutput
	RegistryURL   pulumi.StringOutput
	// RegistryExternalURL is what Anka nodes are told (ANKA_ANKA_REGISTRY).
	RegistryExternalURL pulumi.StringOutput
	// StorageMode is the Registry storage mode (anka:registry.storage).
	StorageMode pulumi.StringOutput
	// FileSystemID is the FSx or EFS file system ("" in s3 and pvc modes).
	FileSystemID pulumi.StringOutput
	// BucketName and BucketArn in s3 mode ("" otherwise).
	BucketName pulumi.StringOutput
	BucketArn  pulumi.StringOutput
	// RegistryRoleArn is the Registry's IRSA role in s3 mode ("" otherwise).
	RegistryRoleArn pulumi.StringOutput
	// ControllerSelector and RegistrySelector select the pods running a
	// Controller / a Registry (the Services' selectors); in the combined
	// topology both select the same pods.
	ControllerSelector map[string]string
	RegistrySelector   map[string]string
	// Warnings repeats what was logged with ctx.Log.Warn (EFS, single-AZ
	// storage in prod, defragmentation on).
	Warnings []string
	// Services are the Controller and Registry Services, for DependsOn
	// (NGINX resolves them when it starts).
	Services []pulumi.Resource

	args       Args
	wiring     Wiring
	name       string
	authSecret []pulumi.Resource
}

// New registers the Build Cloud. Args are defaulted and validated before
// anything is registered.
func New(ctx *pulumi.Context, name string, args Args, w Wiring, opts ...pulumi.ResourceOption) (*BuildCloud, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if err := w.check(args); err != nil {
		return nil, err
	}
	if args.Registry.Storage == StorageS3 && args.Region == "" {
		// aws:region is the stack's to check (once, for every component).
		return nil, errors.New("buildcloud: Args.Region (aws:region) is required for s3 storage")
	}
	bc := &BuildCloud{args: args, wiring: w, name: name}
	if err := ctx.RegisterComponentResource(TypeToken, name, bc, opts...); err != nil {
		return nil, err
	}
	if err := bc.build(ctx); err != nil {
		return nil, err
	}
	return bc, ctx.RegisterResourceOutputs(bc, pulumi.Map{
		"namespace":           bc.Namespace,
		"controllerService":   bc.ControllerService,
		"registryService":     bc.RegistryService,
		"controllerUrl":       bc.ControllerURL,
		"registryUrl":         bc.RegistryURL,
		"registryExternalUrl": bc.RegistryExternalURL,
		"storageMode":         bc.StorageMode,
		"fileSystemId":        bc.FileSystemID,
		"bucketName":          bc.BucketName,
		"bucketArn":           bc.BucketArn,
		"registryRoleArn":     bc.RegistryRoleArn,
		"controllerSelector":  pulumi.ToStringMap(bc.ControllerSelector),
		"registrySelector":    pulumi.ToStringMap(bc.RegistrySelector),
	})
}

func (bc *BuildCloud) warn(ctx *pulumi.Context, msg string) error {
	bc.Warnings = append(bc.Warnings, msg)
	return ctx.Log.Warn(msg, &pulumi.LogArgs{Resource: bc})
}

// Names of the in-namespace objects, derived from the component name.
func (bc *BuildCloud) controllerServiceName() string { return bc.name + "-controller" }
func (bc *BuildCloud) registryServiceName() string   { return bc.name + "-registry" }
func (bc *BuildCloud) authSecretName() string        { return bc.name + "-auth" }
func (bc *BuildCloud) registryClaimName() string     { return bc.name + "-registry" }

// InternalURL is http://<service>.<namespace>.svc.cluster.local:<port>.
func InternalURL(service, namespace string, port int) string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", service, namespace, port)
}

func (bc *BuildCloud) build(ctx *pulumi.Context) error {
	a := bc.args
	parent := pulumi.Parent(bc)
	str := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }

	bc.Namespace = str(a.Namespace)
	bc.ControllerServiceName, bc.RegistryServiceName = bc.controllerServiceName(), bc.registryServiceName()
	bc.ControllerService = str(bc.controllerServiceName())
	bc.RegistryService = str(bc.registryServiceName())
	bc.ControllerURL = str(InternalURL(bc.controllerServiceName(), a.Namespace, ControllerPort))
	bc.RegistryURL = str(InternalURL(bc.registryServiceName(), a.Namespace, RegistryPort))
	external := a.Registry.ExternalURL
	if external == "" {
		external = InternalURL(bc.registryServiceName(), a.Namespace, RegistryPort)
	}
	bc.RegistryExternalURL = str(external)
	bc.StorageMode = str(a.Registry.Storage)
	bc.FileSystemID, bc.BucketName, bc.BucketArn, bc.RegistryRoleArn = str(""), str(""), str(""), str("")
	bc.ControllerSelector = selector(bc.name, roleController)
	bc.RegistrySelector = selector(bc.name, roleRegistry)

	if a.Registry.ExternalURL == "" {
		if err := bc.warn(ctx, fmt.Sprintf("anka:registry.externalUrl is not set: Anka nodes are told the in-cluster Registry URL %s, which nodes outside the cluster cannot reach; set it to the edge's Registry URL", external)); err != nil {
			return err
		}
	}
	if a.Controller.DefragDBInterval != DefaultDefragDBInterval {
		if err := bc.warn(ctx, fmt.Sprintf("anka:controller.defragDbInterval is %s: the vendor says etcd defragmentation is not safe on an in-use Build Cloud; prefer a maintenance window", a.Controller.DefragDBInterval)); err != nil {
			return err
		}
	}
	if a.Prod() && a.Registry.Storage == StorageFSxOpenZFS && a.Registry.FSx.DeploymentType != FSxMultiAZ1 {
		if err := bc.warn(ctx, fmt.Sprintf("anka:registry.fsx.deploymentType is %s in prod: the Registry's file system lives in one zone, and losing that zone stops pushes and pulls", a.Registry.FSx.DeploymentType)); err != nil {
			return err
		}
	}

	if _, err := schedulingv1.NewPriorityClass(ctx, bc.name+"-priority", &schedulingv1.PriorityClassArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:   pulumi.String(a.PriorityClassName),
			Labels: pulumi.ToStringMap(commonLabels(bc.name)),
		},
		Value:            pulumi.Int(a.PriorityClassValue),
		GlobalDefault:    pulumi.Bool(false),
		PreemptionPolicy: pulumi.String("PreemptLowerPriority"),
		Description:      pulumi.String("Anka Build Cloud Controller and Registry: above ordinary workloads, below etcd."),
	}, parent); err != nil {
		return err
	}

	if a.RootToken != "" {
		token := pulumi.ToSecret(pulumi.String(a.RootToken)).(pulumi.StringOutput)
		secret, err := corev1.NewSecret(ctx, bc.name+"-auth", &corev1.SecretArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(bc.authSecretName()),
				Namespace: pulumi.String(a.Namespace),
				Labels:    pulumi.ToStringMap(commonLabels(bc.name)),
			},
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{RootTokenSecretKey: token},
		}, parent)
		if err != nil {
			return err
		}
		bc.authSecret = append(bc.authSecret, secret)
	}

	st, err := bc.registryStorage(ctx)
	if err != nil {
		return err
	}
	if err := bc.workloads(ctx, st); err != nil {
		return err
	}
	if err := bc.services(ctx); err != nil {
		return err
	}
	return bc.networkPolicy(ctx)
}
