package edge

import (
	"fmt"
	"sync"

	"github.com/anka-ha/anka-build-cloud-aws/internal/kubeinputs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SchemeKey is the config key of the load balancer's scheme.
const SchemeKey = "anka:edge.scheme"

// SchemeChangeWarning says what a scheme change does on a deployed stack,
// given the scheme annotation before and after ("" when unchanged or
// unknown, e.g. the first deployment). An ELB's scheme cannot be modified,
// so the AWS Load Balancer Controller deletes the load balancer and creates
// another one (a scheme or type mismatch is what its synthesizer treats as
// requiring replacement: isSDKLoadBalancerRequiresReplacement,
// kubernetes-sigs/aws-load-balancer-controller pkg/deploy/elbv2
// load_balancer_synthesizer.go). The Kubernetes objects are only updated; what
// changes for users is the DNS name and every open connection.
func SchemeChangeWarning(oldScheme, newScheme, lbKind, object string) string {
	if oldScheme == "" || newScheme == "" || oldScheme == newScheme {
		return ""
	}
	return fmt.Sprintf("%s %s -> %s: a load balancer's scheme cannot change in place, so the AWS Load Balancer Controller deletes the %s and creates a new one with a new DNS name. "+
		"Connections through the old one are cut when it goes, pushes in flight included: hold the jobs that push templates for the length of the `up`. "+
		"Clients reach the edge again once your DNS records point at the new name (docs/operations.md, \"First deployment\" step 9): read it with `kubectl get %s -o jsonpath='{.status.loadBalancer.ingress[0].hostname}'`; `pulumi up --refresh` updates the output loadBalancerHostname.",
		SchemeKey, oldScheme, newScheme, lbKind, object)
}

// schemeChangeHook warns at preview (and at `up`) when the scheme annotation
// key of the load balancer's Kubernetes object changes. The ALB's two
// Ingresses share one hook and one load balancer: it warns once.
func (e *Edge) schemeChangeHook(ctx *pulumi.Context, name, annotationKey, lbKind, object string) (*pulumi.ResourceHook, error) {
	var once sync.Once
	return ctx.RegisterResourceHook(name+"-scheme-change", func(h *pulumi.ResourceHookArgs) error {
		w := SchemeChangeWarning(kubeinputs.Annotation(h.OldInputs, annotationKey), kubeinputs.Annotation(h.NewInputs, annotationKey), lbKind, object)
		if w != "" {
			// No LogArgs.Resource: it would wait for the object's URN, which
			// waits for this hook.
			once.Do(func() { _ = ctx.Log.Warn(w, nil) })
		}
		return nil
	}, &pulumi.ResourceHookOptions{OnDryRun: true})
}

// beforeUpdate binds hook to a resource's updates.
func beforeUpdate(hook *pulumi.ResourceHook) pulumi.ResourceOption {
	return pulumi.ResourceHooks(&pulumi.ResourceHookBinding{BeforeUpdate: []*pulumi.ResourceHook{hook}})
}
