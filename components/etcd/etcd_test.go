package etcd

import (
	"encoding/json"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seed stands for anka:etcdTlsSeed as `openssl rand -hex 32` prints one.
const seed = "7f3c1a9e5b2d48c6a0e1f4b3c2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"

func prodArgs() Args {
	return Args{
		Namespace: "anka", Prod: true, TLSSeed: seed, StackIdentity: "anka/unit", AWS: true, HasOIDC: true,
		TLS:              TLSArgs{NotBefore: testNotBefore},
		StorageClassName: "anka-etcd",
	}
}

// testWiring stands for the cluster's OIDC provider.
var testWiring = Wiring{OIDCProviderArn: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC")}

func run(t *testing.T, args Args) (*harness.Recorder, error) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "etcd", args, testWiring)
		return err
	})
	return rec, err
}

// refusedProd runs the prod arguments changed by mod, requires an error and
// no resource registered (validation comes before any resource), and
// returns the error.
func refusedProd(t *testing.T, mod func(*Args)) error {
	t.Helper()
	a := prodArgs()
	mod(&a)
	rec, err := run(t, a)
	require.Error(t, err)
	assert.Zero(t, rec.Len(), "validation comes before any resource")
	return err
}

func obj(v resource.PropertyValue, path ...string) resource.PropertyValue {
	for _, p := range path {
		v = v.ObjectValue()[resource.PropertyKey(p)]
	}
	return v
}

func TestEtcdStatefulSetPlacementAndVolumes(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	sts := rec.Get(t, "kubernetes:apps/v1:StatefulSet", "etcd-members")
	spec := obj(resource.NewObjectProperty(sts.Inputs), "spec")
	assert.Equal(t, 3.0, obj(spec, "replicas").NumberValue())
	assert.Equal(t, "Parallel", obj(spec, "podManagementPolicy").StringValue())
	assert.Equal(t, "etcd-headless", obj(spec, "serviceName").StringValue())
	assert.Equal(t, "Retain", obj(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted").StringValue())
	assert.Equal(t, "Retain", obj(spec, "persistentVolumeClaimRetentionPolicy", "whenScaled").StringValue())
	claim := obj(spec, "volumeClaimTemplates").ArrayValue()[0]
	assert.Equal(t, "anka-etcd", obj(claim, "spec", "storageClassName").StringValue())
	assert.Equal(t, "20Gi", obj(claim, "spec", "resources", "requests", "storage").StringValue())

	pod := obj(spec, "template", "spec")
	assert.Equal(t, DefaultPriorityClass, obj(pod, "priorityClassName").StringValue())
	anti := obj(pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution").ArrayValue()
	require.Len(t, anti, 1)
	assert.Equal(t, "kubernetes.io/hostname", obj(anti[0], "topologyKey").StringValue())
	spread := obj(pod, "topologySpreadConstraints").ArrayValue()[0]
	assert.Equal(t, "topology.kubernetes.io/zone", obj(spread, "topologyKey").StringValue())
	assert.Equal(t, "DoNotSchedule", obj(spread, "whenUnsatisfiable").StringValue(), "prod: one member per zone, strictly")

	c := obj(pod, "containers").ArrayValue()[0]
	assert.Equal(t, DefaultImage, obj(c, "image").StringValue())
	var cmd []string
	for _, v := range obj(c, "command").ArrayValue() {
		cmd = append(cmd, v.StringValue())
	}
	assert.Equal(t, []string{"/anka/bin/busybox", "sh", "/anka/scripts/member.sh", "start"}, cmd)
	assert.Equal(t, "/livez", obj(c, "livenessProbe", "httpGet", "path").StringValue(), "probes use etcd's health endpoints, not a TCP check")
	assert.Equal(t, "/readyz", obj(c, "readinessProbe", "httpGet", "path").StringValue())
	res := obj(c, "resources")
	assert.True(t, obj(res, "limits").IsNull() || !obj(res, "limits").ObjectValue().HasValue("cpu"), "no CPU limit on etcd")
	assert.Equal(t, "1", obj(res, "requests", "cpu").StringValue())

	env := map[string]string{}
	for _, e := range obj(c, "env").ArrayValue() {
		if v := obj(e, "value"); v.IsString() {
			env[obj(e, "name").StringValue()] = v.StringValue()
		}
	}
	s := prodArgs().WithDefaults().Settings()
	for _, want := range s.Env() {
		if want.FieldPath == "" {
			assert.Equal(t, want.Value, env[want.Name], "env %s is the member package's rendering", want.Name)
		}
	}
	assert.Equal(t, "8589934592", env["ANKA_ETCD_QUOTA_BACKEND_BYTES"], "8 GiB quota, not etcd's 2 GB default")
	assert.Equal(t, "true", env["ANKA_ETCD_TLS"])
	init := obj(pod, "initContainers").ArrayValue()[0]
	assert.Equal(t, DefaultBusyboxImage, obj(init, "image").StringValue(), "a static busybox, as the distroless etcd image has no shell")
}

func TestEtcdDisruptionBudgetKeepsQuorum(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	pdb := rec.Get(t, "kubernetes:policy/v1:PodDisruptionBudget", "etcd-pdb")
	assert.Equal(t, 1.0, obj(resource.NewObjectProperty(pdb.Inputs), "spec", "maxUnavailable").NumberValue())
	headless := rec.Get(t, "kubernetes:core/v1:Service", "etcd-headless")
	assert.True(t, obj(resource.NewObjectProperty(headless.Inputs), "spec", "publishNotReadyAddresses").BoolValue())
}

func TestEtcdNetworkPolicySelectors(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	np := rec.Get(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "etcd-netpol")
	rules := obj(resource.NewObjectProperty(np.Inputs), "spec", "ingress").ArrayValue()
	require.Len(t, rules, 2)
	peer := rules[0]
	assert.Equal(t, 2380.0, obj(peer, "ports").ArrayValue()[0].ObjectValue()["port"].NumberValue())
	assert.Equal(t, "etcd", obj(obj(peer, "from").ArrayValue()[0], "podSelector", "matchLabels", "app.kubernetes.io/name").StringValue())
	client := rules[1]
	assert.Equal(t, 2379.0, obj(client, "ports").ArrayValue()[0].ObjectValue()["port"].NumberValue())
	assert.Equal(t, "true", obj(obj(client, "from").ArrayValue()[1], "podSelector", "matchLabels", ClientLabel).StringValue())
}

func TestEtcdTLSMaterialIsSecretAndStable(t *testing.T) {
	rec1, err := run(t, prodArgs())
	require.NoError(t, err)
	rec2, err := run(t, prodArgs())
	require.NoError(t, err)
	s1 := rec1.Get(t, "kubernetes:core/v1:Secret", "etcd-tls")
	s2 := rec2.Get(t, "kubernetes:core/v1:Secret", "etcd-tls")
	assert.True(t, s1.Inputs["stringData"].IsSecret(), "certificates and keys are Pulumi secrets")
	assert.Equal(t, s1.Inputs["stringData"], s2.Inputs["stringData"], "two previews derive identical certificates: no diff, no rotation")
	client := rec1.Get(t, "kubernetes:core/v1:Secret", "etcd-client-tls")
	keys := client.Inputs["stringData"].SecretValue().Element.ObjectValue()
	assert.ElementsMatch(t, []resource.PropertyKey{"ca.crt", "client.crt", "client.key"}, keys.StableKeys())
}

func TestEtcdBackupBucketProtectedAndRoleScopedToPrefix(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		if r.ParentName() == "etcd" && len(r.Type) > 7 && r.Type[:7] == "aws:s3/" {
			assert.True(t, r.Protect, "%s %s must be protected", r.Type, r.Name)
			assert.True(t, r.RetainOnDelete, "%s %s must be retained on delete", r.Type, r.Name)
		}
	}
	policy := rec.Get(t, "aws:iam/rolePolicy:RolePolicy", "etcd-backup")
	var doc struct {
		Statement []struct {
			Action   []string
			Resource string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policy.Inputs["policy"].StringValue()), &doc))
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, []string{"s3:PutObject"}, doc.Statement[0].Action)
	// The bucket's name is generated from its prefix, as S3 does.
	assert.Regexp(t, `^arn:aws:s3:::anka-etcd-backups-[0-9a-f]{8}/etcd-snapshots/\*$`, doc.Statement[0].Resource)
	cron := rec.Get(t, "kubernetes:batch/v1:CronJob", "etcd-backup")
	spec := obj(resource.NewObjectProperty(cron.Inputs), "spec")
	assert.Equal(t, "0 * * * *", obj(spec, "schedule").StringValue())
	assert.Equal(t, "Forbid", obj(spec, "concurrencyPolicy").StringValue())
	role := rec.Get(t, "aws:iam/role:Role", "etcd-backup")
	assert.Contains(t, role.Inputs["assumeRolePolicy"].StringValue(), "system:serviceaccount:anka:etcd-backup")
}

func TestEtcdEveryChildHasTheComponentAsParent(t *testing.T) {
	rec, err := run(t, prodArgs())
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		if r.Type != TypeToken {
			assert.Equal(t, "etcd", r.ParentName(), "%s %s", r.Type, r.Name)
		}
	}
}

func TestEtcdWithoutAWSHasNoBackupOrDiskCheck(t *testing.T) {
	a := prodArgs()
	a.AWS, a.HasOIDC, a.Prod = false, false, false
	off := false
	a.TLS.Enabled = &off
	rec, err := run(t, a)
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:s3/bucketV2:BucketV2"))
	assert.Empty(t, rec.ByType("kubernetes:batch/v1:CronJob"))
	assert.Len(t, rec.ByType("kubernetes:batch/v1:Job"), 1, "only the prune Job, no disk check")
	assert.Empty(t, rec.ByType("kubernetes:core/v1:Secret"))
}

// TestEtcdBackupScheduleMacros: every macro Kubernetes documents for a
// CronJob schedule is accepted and reaches the CronJob as written (the
// five-field check this replaced refused @midnight and @annually).
func TestEtcdBackupScheduleMacros(t *testing.T) {
	for _, schedule := range []string{"@midnight", "@annually", "15 */2 * * mon-fri"} {
		a := prodArgs()
		a.Backup.Schedule = schedule
		rec, err := run(t, a)
		require.NoError(t, err, schedule)
		cron := rec.Get(t, "kubernetes:batch/v1:CronJob", "etcd-backup")
		assert.Equal(t, schedule, cron.Inputs["spec"].ObjectValue()["schedule"].StringValue())
	}
}

func TestEtcdValidation(t *testing.T) {
	off := false
	cases := []struct {
		name string
		mod  func(*Args)
		keys []string
	}{
		{"an even member count is refused", func(a *Args) { a.Replicas = 4 }, []string{"anka:etcd.replicas"}},
		{"TLS off in prod is refused", func(a *Args) { a.TLS.Enabled = &off }, []string{"anka:etcd.tls.enabled"}},
		{"a missing seed is refused", func(a *Args) { a.TLSSeed = "" }, []string{"anka:etcdTlsSeed"}},
		{"a too-small volume is refused", func(a *Args) { a.VolumeSizeGi = 8 }, []string{"anka:etcd.volumeSizeGi"}},
		{"a bad memory quantity is refused", func(a *Args) { a.MemoryRequest = "2GB" }, []string{"anka:etcd.memoryRequest"}},
		{"a memory limit below the request is refused", func(a *Args) { a.MemoryLimit = "1Gi" }, []string{"anka:etcd.memoryLimit"}},
		{"backups without OIDC are refused", func(a *Args) { on := true; a.HasOIDC = false; a.Backup.Enabled = &on }, []string{"anka:etcd.backup.enabled"}},
		{"a heartbeat that makes the election timeout too short is refused", func(a *Args) { a.HeartbeatIntervalMs = 1000 }, []string{"anka:etcd.electionTimeoutMs"}},
		// The API server refuses both CronJobs at `up`.
		{"a backup schedule at minute 61 is refused", func(a *Args) { a.Backup.Schedule = "61 * * * *" }, []string{"anka:etcd.backup.schedule"}},
		{"a time zone in the backup schedule is refused", func(a *Args) { a.Backup.Schedule = "CRON_TZ=UTC 0 * * * *" }, []string{"anka:etcd.backup.schedule"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := refusedProd(t, tc.mod)
			harness.AssertKeys(t, err, tc.keys...)
		})
	}
	_ = member.DefaultReplicas
}
