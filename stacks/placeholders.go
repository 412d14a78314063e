package stacks

import (
	"sort"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/internal/placeholder"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// secretKeys are never searched: a finding would print the value.
var secretKeys = []string{"anka:etcdTlsSeed", "rootToken", "privateKey", "kubeconfig"}

// Placeholders lists the documentation placeholders (internal/placeholder)
// left in any anka: value, by key.
func (c Config) Placeholders() []placeholder.Finding {
	keys := make([]string, 0, len(c.raw))
	for k := range c.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []placeholder.Finding
	for _, k := range keys {
		for _, f := range placeholder.Find(k, c.raw[k]) {
			secret := false
			for _, s := range secretKeys {
				secret = secret || strings.Contains(f.Key, s)
			}
			if !secret {
				out = append(out, f)
			}
		}
	}
	return out
}

// deploysToAWS reports whether the stack creates AWS resources, where a
// placeholder fails late (ACM, IAM, the API endpoint's allow-list, DNS).
func (c Config) deploysToAWS() bool {
	return c.Cluster.Mode != cluster.ModeExisting || c.Etcd.AWS
}

// checkPlaceholders warns about each placeholder at preview of a stack that
// deploys to AWS, so the example stack files still preview in CI, and
// refuses them on its `up`, where each would fail late or lock someone out.
func (c Config) checkPlaceholders(ctx *pulumi.Context) error {
	found := c.Placeholders()
	if len(found) == 0 || !c.deploysToAWS() {
		// Off AWS (the local control plane) nothing checks these names.
		return nil
	}
	if ctx.DryRun() {
		for _, f := range found {
			_ = ctx.Log.Warn(f.String()+"; replace it before `pulumi up`", nil)
		}
		return nil
	}
	var p validation.Problems
	for _, f := range found {
		p.Addf(f.Key, "is a placeholder (%s): %s; set your own value before `pulumi up` (preview only warns)", f.Value, f.Why)
	}
	return p.Err()
}
