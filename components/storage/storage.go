// Package storage provides the StorageClass etcd's volumes are provisioned
// from: encrypted gp3 with provisioned IOPS or io2 on the EBS CSI driver,
// bound where the pod lands (WaitForFirstConsumer), volumes retained
// (reclaimPolicy Retain). The class itself is replaced, delete before
// replace, when its parameters change: the API server refuses any update of
// a StorageClass's parameters, and a bound volume does not need its class.
package storage

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// TypeToken is the component's type, after its Go name (storage.Storage).
	TypeToken = "anka:storage:Storage"
	// FormerTypeToken is the type the component registered as before its
	// type matched its Go name; the alias keeps existing stacks' component
	// and, by inheritance, its StorageClasses instead of replacing them.
	FormerTypeToken = "anka:storage:EtcdStorage"
)

// Storage is the component resource.
type Storage struct {
	pulumi.ResourceState

	// ClassName is the StorageClass etcd's volume claims use.
	ClassName pulumi.StringOutput
	// Class is the StorageClass resource.
	Class *storagev1.StorageClass
	// DiskCheckClassName is a class with the same parameters whose volumes
	// are deleted with their claim: the disk check's throw-away volume.
	DiskCheckClassName pulumi.StringOutput
	// DiskCheckClass is that StorageClass resource.
	DiskCheckClass *storagev1.StorageClass
}

// DiskCheckSuffix names the disk check's class after the etcd class.
const DiskCheckSuffix = "-disk-check"

// Parameters are the EBS CSI StorageClass parameters for args.
func Parameters(args Args) map[string]string {
	args = args.WithDefaults()
	params := map[string]string{
		"type":                      args.Type,
		"iops":                      fmt.Sprint(args.IOPS),
		"encrypted":                 "true",
		"csi.storage.k8s.io/fstype": DefaultFSType,
	}
	if args.Type == TypeGP3 {
		params["throughput"] = fmt.Sprint(args.ThroughputMiBps)
	}
	if args.KMSKeyArn != "" {
		params["kmsKeyId"] = args.KMSKeyArn
	}
	return params
}

// New registers the StorageClasses. A change of parameters (type, IOPS,
// throughput, KMS key) replaces a class delete-before-replace: its name is
// fixed and the API server refuses "updates to parameters". Neither class is
// retained on delete: a retained old class would stay, the replacement's
// create would upsert onto it and fail. Bound PersistentVolumes (Retain) do
// not need their class to exist, and volumes provisioned after the change
// get the new parameters; the existing ones are changed with EBS volume
// modification (ChangeWarning). Consumers name the class by its configured
// name, a plain string, so that nothing depends on the class resource and
// its replacement cascades to nothing.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Storage, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	s := &Storage{}
	opts = append(append([]pulumi.ResourceOption{}, opts...), pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(FormerTypeToken)}}))
	if err := ctx.RegisterComponentResource(TypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	var topologies corev1.TopologySelectorTermArray
	if len(args.Zones) > 0 {
		topologies = corev1.TopologySelectorTermArray{corev1.TopologySelectorTermArgs{
			MatchLabelExpressions: corev1.TopologySelectorLabelRequirementArray{corev1.TopologySelectorLabelRequirementArgs{
				Key:    pulumi.String("topology.kubernetes.io/zone"),
				Values: pulumi.ToStringArray(args.Zones),
			}},
		}}
	}
	classOpts := []pulumi.ResourceOption{pulumi.Parent(s), pulumi.DeleteBeforeReplace(true)}
	if ctx.DryRun() {
		// pulumi-kubernetes previews the replacement's create as a
		// server-side dry-run apply onto the live object of the same name
		// (upsertExistingObjects), which the API server refuses: "updates
		// to parameters are forbidden" (pulumi/pulumi-kubernetes#3767). The
		// preview leaves the parameters out of the diff; the StatefulSet's
		// storage hook warns instead that `up` replaces the class.
		classOpts = append(classOpts, pulumi.IgnoreChanges([]string{"parameters"}))
	}
	class := func(role, className, reclaim string) (*storagev1.StorageClass, error) {
		return storagev1.NewStorageClass(ctx, name+"-"+role, &storagev1.StorageClassArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:   pulumi.String(className),
				Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("anka-build-cloud")},
			},
			Provisioner:          pulumi.String(EBSCSIProvisioner),
			Parameters:           pulumi.ToStringMap(Parameters(args)),
			ReclaimPolicy:        pulumi.String(reclaim),
			VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
			AllowVolumeExpansion: pulumi.Bool(true),
			AllowedTopologies:    topologies,
		}, classOpts...)
	}
	etcdClass, err := class("etcd", args.ClassName, "Retain")
	if err != nil {
		return nil, err
	}
	s.Class = etcdClass
	s.ClassName = etcdClass.Metadata.Name().Elem()
	// The disk check measures a volume like the members' and must not leave
	// it behind (a Retain class would keep, and bill, one per run).
	if s.DiskCheckClass, err = class("disk-check", args.ClassName+DiskCheckSuffix, "Delete"); err != nil {
		return nil, err
	}
	s.DiskCheckClassName = s.DiskCheckClass.Metadata.Name().Elem()
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"className": s.ClassName, "diskCheckClassName": s.DiskCheckClassName})
}
