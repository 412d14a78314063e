// Command anka deploys Anka Build Cloud in high availability on AWS: one
// `pulumi up` per environment stack (Pulumi.<stack>.yaml).
package main

import (
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() { pulumi.Run(stacks.Run) }
