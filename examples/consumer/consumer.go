package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// The outputs of the anka stack this program reads: the contract in the
// anka project's README ("Consuming the outputs from another project") and
// stacks/outputs.go. Kept as literals so the example can be copied into
// another repository; consumer_test.go pins them to the stacks constants.
const (
	OutputControllerURL = "controllerUrl"
	OutputRegistryURL   = "registryUrl"
	OutputKubeconfig    = "kubeconfig" // a secret in the anka stack
)

// What this program creates in the anka cluster.
const (
	// Namespace is where the CI runners run.
	Namespace = "ci-runners"
	// SecretName is the Secret the runners load with envFrom.
	SecretName = "anka-build-cloud"
	// KeyControllerURL and KeyRegistryURL are the Secret's keys, named as
	// environment variables so a runner pod can use `envFrom: secretRef`.
	KeyControllerURL = "ANKA_CONTROLLER_URL"
	KeyRegistryURL   = "ANKA_REGISTRY_URL"
	// ConfigAnkaStack names the anka stack to read, e.g. acme/anka/prod.
	ConfigAnkaStack = "consumer:ankaStack"
	// OutputSecretName is what this program exports.
	OutputSecretName = "secretName"
)

// ErrMissingOutput is returned (wrapped) when the referenced anka stack does
// not export an output this program needs, or exports it empty.
var ErrMissingOutput = errors.New("missing stack output")

// Program reads consumer:ankaStack and runs Run: what main passes to pulumi.Run.
func Program(ctx *pulumi.Context) error {
	stack, err := config.Try(ctx, ConfigAnkaStack)
	if err != nil || strings.TrimSpace(stack) == "" {
		return fmt.Errorf("%s must name the anka stack to read (org/project/stack): pulumi config set %s acme/anka/prod", ConfigAnkaStack, ConfigAnkaStack)
	}
	return Run(ctx, strings.TrimSpace(stack))
}

// Run reads the controller URL, registry URL and kubeconfig of the anka
// stack stackName through a stack reference and creates, in that cluster, the
// namespace ci-runners and the Secret anka-build-cloud holding both URLs for
// the CI runners there. It exports the Secret's name.
//
// Every output is checked before any resource is registered, so a stack that
// does not export one (or exports it empty, e.g. controllerUrl before the
// anka stack has an edge) fails with one error naming the stack and the
// outputs, wrapping ErrMissingOutput.
func Run(ctx *pulumi.Context, stackName string) error {
	ref, err := pulumi.NewStackReference(ctx, "anka", &pulumi.StackReferenceArgs{Name: pulumi.String(stackName)})
	if err != nil {
		return fmt.Errorf("stack reference %q: %w", stackName, err)
	}
	if err := requireOutputs(ref, stackName, OutputControllerURL, OutputRegistryURL, OutputKubeconfig); err != nil {
		return err
	}
	controllerURL := ref.GetStringOutput(pulumi.String(OutputControllerURL))
	registryURL := ref.GetStringOutput(pulumi.String(OutputRegistryURL))
	// The anka stack exports the kubeconfig as a secret, and a stack reference
	// keeps it one; ToSecret makes sure even if the producer forgot.
	kubeconfig := pulumi.ToSecret(ref.GetStringOutput(pulumi.String(OutputKubeconfig))).(pulumi.StringOutput)

	k8s, err := kubernetes.NewProvider(ctx, "anka", &kubernetes.ProviderArgs{Kubeconfig: kubeconfig})
	if err != nil {
		return err
	}
	ns, err := corev1.NewNamespace(ctx, Namespace, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(Namespace),
			Labels: pulumi.StringMap{"app.kubernetes.io/managed-by": pulumi.String("pulumi")},
		},
	}, pulumi.Provider(k8s))
	if err != nil {
		return err
	}
	secret, err := corev1.NewSecret(ctx, SecretName, &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(SecretName),
			Namespace: ns.Metadata.Name(),
		},
		Type: pulumi.String("Opaque"),
		// The URLs are not secret in the anka stack, but everything in a
		// Kubernetes Secret is kept out of plain-text state and previews.
		StringData: pulumi.ToSecret(pulumi.StringMap{
			KeyControllerURL: controllerURL,
			KeyRegistryURL:   registryURL,
		}).(pulumi.StringMapOutput),
	}, pulumi.Provider(k8s))
	if err != nil {
		return err
	}
	ctx.Export(OutputSecretName, secret.Metadata.Name().Elem())
	return nil
}

// requireOutputs waits for the referenced stack's outputs and reports every
// name that is absent or not a non-empty string, in one error.
func requireOutputs(ref *pulumi.StackReference, stackName string, names ...string) error {
	var problems []string
	for _, name := range names {
		d, err := ref.GetOutputDetails(name)
		if err != nil {
			return fmt.Errorf("reading output %q of stack %q: %w", name, stackName, err)
		}
		v := d.Value
		if v == nil {
			v = d.SecretValue
		}
		switch s, ok := v.(string); {
		case v == nil:
			problems = append(problems, fmt.Sprintf("%q is not exported", name))
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is a %T, want a string", name, v))
		case strings.TrimSpace(s) == "":
			problems = append(problems, fmt.Sprintf("%q is empty", name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: stack %q: %s (check that %s is the anka stack and that `pulumi up` has run there; "+
			"the URLs stay empty until the stack has an edge, anka:edge.mode)",
			ErrMissingOutput, stackName, strings.Join(problems, "; "), stackName)
	}
	return nil
}
