// Package namespace provides the Kubernetes namespace the Build Cloud runs
// in. It is retained on delete: deleting a namespace deletes every
// PersistentVolumeClaim in it, and etcd's claims must survive `pulumi destroy`.
package namespace

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:namespace:Namespace"

// DefaultName is the namespace's default name (config anka:namespace); the
// other components default to it too.
const DefaultName = "anka"

// Namespace is the component resource.
type Namespace struct {
	pulumi.ResourceState

	// Name of the namespace.
	Name pulumi.StringOutput
	// Resource is the namespace, for DependsOn.
	Resource *corev1.Namespace
}

// New registers the namespace. Pod Security Admission enforces "baseline"
// (etcd's init container copies a binary but needs no privilege) and warns
// at "restricted".
func New(ctx *pulumi.Context, name, namespace string, opts ...pulumi.ResourceOption) (*Namespace, error) {
	if namespace == "" {
		namespace = DefaultName
	}
	n := &Namespace{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(namespace),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":          pulumi.String("anka-build-cloud"),
				"pod-security.kubernetes.io/enforce": pulumi.String("baseline"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, pulumi.Parent(n), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	n.Resource = ns
	n.Name = ns.Metadata.Name().Elem()
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"name": n.Name})
}
