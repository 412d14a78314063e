// Package awstags builds the tag maps AWS resources carry: the stack's
// anka:tags plus what each resource adds.
package awstags

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Merge returns the union of the maps; a later map wins on a shared key.
func Merge(maps ...map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = pulumi.String(v)
		}
	}
	return out
}
