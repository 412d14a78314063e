package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Type tokens of the teardown tests.
const (
	typeVPC        = "aws:ec2/vpc:Vpc"
	typeSubnet     = "aws:ec2/subnet:Subnet"
	typeSG         = "aws:ec2/securityGroup:SecurityGroup"
	typeSGRule     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeFSx        = "aws:fsx/openZfsFileSystem:OpenZfsFileSystem"
	typeEFS        = "aws:efs/fileSystem:FileSystem"
	typeMountTgt   = "aws:efs/mountTarget:MountTarget"
	typeNodeGroup  = "aws:eks/nodeGroup:NodeGroup"
	teardownHeader = "## What `pulumi destroy` keeps, and how to really delete"
)

// inTheVPC are the network resources `pulumi destroy` deletes last and AWS
// refuses to delete while anything still sits in them (DependencyViolation).
var inTheVPC = map[string]bool{typeVPC: true, typeSubnet: true, typeSG: true}

// deletedByHand are the resources docs/operations.md's teardown deletes
// with the AWS CLI before `pulumi destroy` (the FSx file system, with a
// final backup): its network interfaces sit in the stack's subnets.
var deletedByHand = map[string]bool{typeFSx: true}

// teardownCase is a stack file, optionally with the Registry on EFS.
type teardownCase struct {
	name, stack string
	efs         bool
}

var teardownCases = []teardownCase{{"dev", "dev", false}, {"prod", "prod", false}, {"prod-efs", "prod", true}, {"s3", "s3", false}}

func runTeardownCase(t *testing.T, c teardownCase) *stackRun {
	t.Helper()
	var overrides map[string]string
	if c.efs {
		cfg, _ := harness.LoadStackConfig(t, repoRoot(t), c.stack)
		var registry map[string]any
		require.NoError(t, json.Unmarshal([]byte(cfg["anka:registry"]), &registry))
		registry["storage"] = "efs"
		delete(registry, "fsx")
		b, err := json.Marshal(registry)
		require.NoError(t, err)
		overrides = map[string]string{"anka:registry": string(b)}
	}
	run, err := runStackFile(t, c.stack, overrides)
	require.NoError(t, err)
	return run
}

// byURN indexes the recorded resources by the dependency URNs the engine
// sees (parent types included): a dependency is matched by type and name.
func depsOf(run *stackRun, r harness.Resource) []harness.Resource {
	var out []harness.Resource
	for _, d := range r.DependsOn {
		for _, o := range run.rec.Resources() {
			if strings.HasSuffix(d, "::"+o.Type+"::"+o.Name) || strings.HasSuffix(d, "$"+o.Type+"::"+o.Name) {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// TestTeardownLeavesNothingInTheVPC plays the documented teardown on the
// dependency graph the engine receives: the FSx file system is deleted by
// hand first (docs/operations.md), then `pulumi destroy` deletes every
// resource that is not retained, dependents before their dependencies, and
// drops the retained ones from the state, leaving them in AWS. AWS refuses
// to delete a VPC, subnet or security group that something left behind
// still uses, so no AWS resource left behind may depend on one of them.
// Before this change the NFS security group and its rules (and EFS's mount
// targets) were retained and failed this.
func TestTeardownLeavesNothingInTheVPC(t *testing.T) {
	for _, c := range teardownCases {
		t.Run(c.name, func(t *testing.T) {
			run := runTeardownCase(t, c)
			var kept []string
			for _, r := range run.rec.Resources() {
				if !r.Custom || !strings.HasPrefix(r.Type, "aws:") || !r.RetainOnDelete || deletedByHand[r.Type] {
					continue
				}
				kept = append(kept, r.Type+" "+r.Name)
				assert.False(t, inTheVPC[r.Type], "%s %s is retained but sits in the VPC: destroy cannot delete the VPC after it", r.Type, r.Name)
				for _, d := range depsOf(run, r) {
					if inTheVPC[d.Type] && !d.RetainOnDelete {
						t.Errorf("%s %s outlives destroy in %s %s, which destroy then fails to delete (DependencyViolation)", r.Type, r.Name, d.Type, d.Name)
					}
				}
			}
			sort.Strings(kept)
			t.Logf("%s: left in AWS by destroy: %v", c.name, kept)
		})
	}
}

// TestTeardownOrderOnTheGraph: what destroy deletes in the VPC comes after
// the Registry's storage. The file system depends on its security group,
// every rule and the private subnets it sits in (so destroy handles it
// before them); the group on the VPC; the EFS mount targets on the group,
// the rules and the file system. The storage keeps its data: the file
// system is protected and retained in both modes.
func TestTeardownOrderOnTheGraph(t *testing.T) {
	for _, c := range teardownCases {
		if c.stack == "s3" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			run := runTeardownCase(t, c)
			fsType, sgName := typeFSx, "anka-registry-nfs"
			if c.efs {
				fsType, sgName = typeEFS, "anka-registry-efs"
			}
			fs := run.rec.Get(t, fsType, "anka-registry")
			assert.True(t, fs.Protect && fs.RetainOnDelete, "the data: protected and retained")
			sg := run.rec.Get(t, typeSG, sgName)
			assert.False(t, sg.RetainOnDelete || sg.Protect, "the NFS group goes with the stack")
			assert.Contains(t, names(depsOf(run, sg)), typeVPC+" network-vpc", "the group is deleted before the VPC")
			var rules []harness.Resource
			for _, r := range run.rec.ByType(typeSGRule) {
				if strings.HasPrefix(r.Name, sgName+"-") {
					rules = append(rules, r)
					assert.False(t, r.RetainOnDelete, r.Name)
				}
			}
			require.NotEmpty(t, rules)
			users := []harness.Resource{fs}
			if c.efs {
				users = run.rec.ByType(typeMountTgt)
				require.Len(t, users, 3)
			}
			for _, u := range users {
				deps := names(depsOf(run, u))
				assert.Contains(t, deps, sg.Type+" "+sg.Name, "%s %s before its group", u.Type, u.Name)
				for _, r := range rules {
					assert.Contains(t, deps, r.Type+" "+r.Name, "%s %s before rule %s", u.Type, u.Name, r.Name)
				}
				subnets := 0
				for _, d := range depsOf(run, u) {
					if d.Type == typeSubnet {
						subnets++
						assert.True(t, strings.HasPrefix(d.Name, "network-private-"), "%s %s sits in %s", u.Type, u.Name, d.Name)
					}
				}
				assert.NotZero(t, subnets, "%s %s depends on the subnets it sits in: destroy deletes them after it", u.Type, u.Name)
				if c.efs {
					assert.False(t, u.RetainOnDelete || u.Protect, "mount target %s goes with the stack", u.Name)
					assert.Contains(t, deps, fs.Type+" "+fs.Name)
				}
			}
		})
	}
}

func names(rs []harness.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Type+" "+r.Name)
	}
	return out
}

// section is the text of docs/operations.md under header.
func section(t *testing.T, header string) string {
	t.Helper()
	return markdownSection(t, "docs/operations.md", header)
}

// markdownSection is the text of the repository's file (a slash path) from
// header to the next "## " heading.
func markdownSection(t *testing.T, file, header string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(file)))
	require.NoError(t, err)
	doc := string(b)
	i := strings.Index(doc, header)
	require.GreaterOrEqual(t, i, 0, "%s has no section %q", file, header)
	rest := doc[i+len(header):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// assertInOrder asserts that the documented section shows every step,
// each after the one before it (the first place each appears).
func assertInOrder(t *testing.T, doc, section string, steps []string) {
	t.Helper()
	at := -1
	for _, s := range steps {
		i := strings.Index(doc, s)
		require.GreaterOrEqual(t, i, 0, "the %s section does not show %q", section, s)
		assert.Greater(t, i, at, "%q comes too early in the documented order %v", s, steps)
		at = i
	}
}

// TestTeardownDocumentedOrder: the documented teardown deletes the FSx file
// system with a final backup and waits until it is gone before it
// unprotects by URN and destroys, and every URN it names is one the
// program registers.
func TestTeardownDocumentedOrder(t *testing.T) {
	doc := section(t, teardownHeader)
	steps := []string{
		"aws fsx delete-file-system",
		"SkipFinalBackup=false",
		"aws fsx describe-file-systems",
		"pulumi state unprotect",
		"pulumi destroy --yes",
	}
	assertInOrder(t, doc, "teardown", steps)
	assert.NotContains(t, doc, "unprotect --all", "unprotect by URN: the file system stays protected until it is deleted by hand")
	assert.NotContains(t, doc, "SkipFinalBackup=true")
	assertDocumentedURNs(t, doc)
}

var documentedURN = regexp.MustCompile(`urn:pulumi:<stack>::anka::([^'"\s]+)::([A-Za-z0-9<>._-]+)`)

// assertDocumentedURNs: every urn:pulumi:<stack>::anka::<types>::<name> in
// doc names a resource the prod stack registers, with its parents' types.
func assertDocumentedURNs(t *testing.T, doc string) {
	t.Helper()
	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	// r.Parent is the engine's URN of the parent, its types included:
	// urn:pulumi:<stack>::<project>::<parent types>::<parent name>.
	chain := func(r harness.Resource) string {
		parts := strings.Split(r.Parent, "::")
		if len(parts) < 4 || parts[2] == "pulumi:pulumi:Stack" {
			return r.Type
		}
		return parts[2] + "$" + r.Type
	}
	registered := map[string]bool{}
	for _, r := range run.rec.Resources() {
		registered[chain(r)+"::"+r.Name] = true
	}
	found := documentedURN.FindAllStringSubmatch(doc, -1)
	require.NotEmpty(t, found, "the section names no URN")
	for _, m := range found {
		name := regexp.MustCompile(`<[^<>]*>`).ReplaceAllString(m[2], "us-east-1b") // <zone>, <next-zone>
		assert.True(t, registered[m[1]+"::"+name], "documented URN %s names no resource the program registers", m[0])
	}
}
