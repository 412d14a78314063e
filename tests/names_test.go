package tests

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/components/network"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/anka-ha/anka-build-cloud-aws/internal/s3bucket"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

// renamed lists every resource whose name or type changed after stacks
// were deployed, with the identity it had: each must carry that identity
// as an alias, or an existing stack replaces it (and a protected one stops
// the update).
func renamed() []renamedResource {
	out := []renamedResource{
		{"kubernetes:core/v1:Namespace", "namespace-namespace", harness.Alias{Name: "namespace"}, false},
		{"kubernetes:apps/v1:StatefulSet", "etcd-members", harness.Alias{Name: "etcd"}, false},
		{storage.TypeToken, "storage", harness.Alias{Type: storage.FormerTypeToken}, false},
	}
	// A bucket's settings shared the bucket's name before they were named
	// by role; etcd's are protected like the bucket.
	settings := map[string]string{
		s3bucket.RoleEncryption:   "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		s3bucket.RolePublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		s3bucket.RoleOwnership:    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
		s3bucket.RolePolicy:       "aws:s3/bucketPolicy:BucketPolicy",
		s3bucket.RoleVersioning:   "aws:s3/bucketVersioningV2:BucketVersioningV2",
		s3bucket.RoleLifecycle:    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
	}
	for role, typ := range settings {
		out = append(out, renamedResource{typ, "etcd-backups-" + role, harness.Alias{Name: "etcd-backups"}, true})
		if role != s3bucket.RoleVersioning && role != s3bucket.RoleLifecycle {
			out = append(out, renamedResource{typ, "anka-registry-" + role, harness.Alias{Name: "anka-registry"}, false})
		}
	}
	return out
}

type renamedResource struct {
	typ, name string
	former    harness.Alias
	protected bool
}

// TestRenamedResourcesKeepTheirFormerIdentity: every renamed or retyped
// resource of the s3 stack (the one with both buckets) declares its former
// name or type as an alias, and the protected ones are still protected.
func TestRenamedResourcesKeepTheirFormerIdentity(t *testing.T) {
	run, err := runStackFile(t, "s3", nil)
	require.NoError(t, err)
	for _, r := range renamed() {
		got := run.rec.Get(t, r.typ, r.name)
		assert.Contains(t, got.Aliases, r.former, "%s %s must alias its former identity %+v", r.typ, r.name, r.former)
		if r.protected {
			assert.True(t, got.Protect, "%s %s holds data: protected", r.typ, r.name)
		}
	}
	// No protected resource is left sharing its name with another of its
	// parent: the settings of a bucket are named by role.
	seen := map[string]string{}
	for _, r := range run.rec.Resources() {
		if !r.Protect || r.Type == "aws:s3/bucketV2:BucketV2" {
			continue
		}
		key := r.Parent + "::" + r.Name
		assert.Empty(t, seen[key], "%s %s shares its name with %s", r.Type, r.Name, seen[key])
		seen[key] = r.Type
	}
}

// components are every component's Args, struct and TypeToken; the test
// below fails when a directory under components/ is missing here.
var components = map[string]struct {
	args, component any
	token           string
}{
	"buildcloud": {buildcloud.Args{}, buildcloud.BuildCloud{}, buildcloud.TypeToken},
	"cluster":    {cluster.Args{}, cluster.Cluster{}, cluster.TypeToken},
	"edge":       {edge.Args{}, edge.Edge{}, edge.TypeToken},
	"etcd":       {etcd.Args{}, etcd.Etcd{}, etcd.TypeToken},
	"monitoring": {monitoring.Args{}, monitoring.Monitoring{}, monitoring.TypeToken},
	"namespace":  {namespace.Args{}, namespace.Namespace{}, namespace.TypeToken},
	"network":    {network.Args{}, network.Network{}, network.TypeToken},
	"storage":    {storage.Args{}, storage.Storage{}, storage.TypeToken},
}

func TestComponentsListsEveryComponent(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "components"))
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			assert.Contains(t, components, e.Name(), "components/%s: add it to the components table of names_test.go", e.Name())
		}
	}
}

// TestComponentTypeTokensMatchGoNames: each component's TypeToken is
// anka:<package>:<Go type>, so a token says which Go type registered it.
func TestComponentTypeTokensMatchGoNames(t *testing.T) {
	for pkg, c := range components {
		typ := reflect.TypeOf(c.component)
		assert.Equal(t, "anka:"+pkg+":"+typ.Name(), c.token, "components/%s", pkg)
		assert.True(t, strings.HasSuffix(typ.PkgPath(), "/components/"+pkg), typ.PkgPath())
	}
}

// TestComponentREADMEsNameEveryArgsField: every exported field of each
// component's Args appears in a table row of its README.md, so a field
// added without documentation fails here.
func TestComponentREADMEsNameEveryArgsField(t *testing.T) {
	for pkg, c := range components {
		readme, err := os.ReadFile(filepath.Join("..", "components", pkg, "README.md"))
		if !assert.NoError(t, err, "components/%s has Args but no README.md", pkg) {
			continue
		}
		var rows []string
		for _, line := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "|") {
				rows = append(rows, line)
			}
		}
		// A name counts as a token of a row: `Field`, | Field |, Field.Sub,
		// "`A`, `Field`".
		cells := map[string]bool{}
		for _, c := range strings.FieldsFunc(strings.Join(rows, "\n"), func(r rune) bool {
			return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			cells[c] = true
		}
		typ := reflect.TypeOf(c.args)
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); f.IsExported() {
				assert.True(t, cells[f.Name], "components/%s/README.md names no Args.%s in its tables", pkg, f.Name)
			}
		}
	}
}
