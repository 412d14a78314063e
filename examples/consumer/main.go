// Command consumer is an example of another Pulumi project reading the anka
// stack's outputs through a stack reference: it gives the CI runners in the
// namespace ci-runners a Secret with the Build Cloud controller and registry
// URLs. See README.md in this directory.
package main

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

func main() { pulumi.Run(Program) }
