package buildcloud

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Type tokens the tests look up.
const (
	tDeployment    = "kubernetes:apps/v1:Deployment"
	tService       = "kubernetes:core/v1:Service"
	tSecret        = "kubernetes:core/v1:Secret"
	tPV            = "kubernetes:core/v1:PersistentVolume"
	tPVC           = "kubernetes:core/v1:PersistentVolumeClaim"
	tSA            = "kubernetes:core/v1:ServiceAccount"
	tPDB           = "kubernetes:policy/v1:PodDisruptionBudget"
	tNetPol        = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tPriority      = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
	tFSx           = "aws:fsx/openZfsFileSystem:OpenZfsFileSystem"
	tEFS           = "aws:efs/fileSystem:FileSystem"
	tMountTarget   = "aws:efs/mountTarget:MountTarget"
	tSG            = "aws:ec2/securityGroup:SecurityGroup"
	tSGIngress     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tBucket        = "aws:s3/bucketV2:BucketV2"
	tBucketPolicy  = "aws:s3/bucketPolicy:BucketPolicy"
	tBucketPAB     = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tBucketOwner   = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tBucketSSE     = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tBucketLife    = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	tBucketVer     = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tRole          = "aws:iam/role:Role"
	tRolePolicy    = "aws:iam/rolePolicy:RolePolicy"
	tK8sProvider   = "pulumi:providers:kubernetes"
	testRootToken  = "s3cr3t-root-token-value"
	testNodeSG     = "sg-0nodes"
	testEdgeLabel  = "anka-edge"
	testEtcdSecret = "etcd-client-tls"
	testOIDC       = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
)

var testZones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

// wired returns Args as the stack wires them, for environment env.
func wired(env string) Args {
	return Args{
		Environment:          env,
		Region:               "us-east-1",
		Registry:             RegistryArgs{ExternalURL: "https://registry.anka.example.com"},
		Tags:                 map[string]string{"project": "anka"},
		AvailabilityZones:    testZones,
		RootToken:            testRootToken,
		EtcdEndpoints:        []string{"etcd-0.etcd-headless.anka.svc:2379", "etcd-1.etcd-headless.anka.svc:2379", "etcd-2.etcd-headless.anka.svc:2379"},
		EtcdClientTLSSecret:  testEtcdSecret,
		EtcdClientLabels:     map[string]string{"anka.io/etcd-client": "true"},
		EdgePodLabels:        map[string]string{"app.kubernetes.io/name": testEdgeLabel},
		MetricsNamespace:     "monitoring",
		HasVPC:               true,
		HasRouteTables:       true,
		HasNodeSecurityGroup: true,
		HasOIDC:              true,
	}
}

// wiring stands for the network's and the cluster's outputs, as far as
// args declares them.
func wiring(a Args) Wiring {
	var w Wiring
	if a.HasVPC {
		w.VpcID = pulumi.String("vpc-1")
		w.PrivateSubnetIDs = pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"})
	}
	if a.HasRouteTables {
		w.PrivateRouteTableIDs = pulumi.ToStringArray([]string{"rtb-a", "rtb-b", "rtb-c"})
	}
	if a.HasNodeSecurityGroup {
		w.NodeSecurityGroupID = pulumi.String(testNodeSG)
	}
	if a.HasOIDC {
		w.OIDCProviderArn = pulumi.String(testOIDC)
	}
	return w
}

// local is the local control plane: pvc mode, no AWS.
func local() Args {
	return Args{
		ClusterMode:   ClusterExisting,
		EtcdEndpoints: []string{"etcd-0.etcd-headless.anka.svc:2379"},
		Registry:      RegistryArgs{PVC: &PVCArgs{StorageClass: "anka-local-rwx"}},
	}
}

// deploy runs New under the mock with a Kubernetes provider passed as the
// stack does, and checks what every test relies on: each child is parented
// to the component, Kubernetes children use the given provider and AWS
// children the default one.
func deploy(t *testing.T, args Args) (*harness.Recorder, *BuildCloud) {
	t.Helper()
	rec := harness.NewRecorder()
	var bc *BuildCloud
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		bc, err = New(ctx, "bc", args, wiring(args), pulumi.Providers(k8s))
		return err
	})
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		switch {
		case r.Type == TypeToken || r.Type == tK8sProvider:
		case strings.HasPrefix(r.Type, "kubernetes:"):
			assert.Equal(t, "bc", r.ParentName(), "%s %s must be parented to the component", r.Type, r.Name)
			assert.Equal(t, "k8s", harness.ProviderName(r.Provider), "%s %s must use the Kubernetes provider", r.Type, r.Name)
		default:
			assert.Equal(t, "bc", r.ParentName(), "%s %s must be parented to the component", r.Type, r.Name)
			assert.Empty(t, harness.ProviderName(r.Provider), "%s %s must use the default aws provider", r.Type, r.Name)
		}
	}
	return rec, bc
}

// ---- small readers of recorded inputs ----

func obj(v resource.PropertyValue) resource.PropertyMap {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsNull() {
		return resource.PropertyMap{}
	}
	return v.ObjectValue()
}

func path(m resource.PropertyMap, keys ...string) resource.PropertyValue {
	v := resource.NewObjectProperty(m)
	for _, k := range keys {
		v = obj(v)[resource.PropertyKey(k)]
	}
	return v
}

func strs(v resource.PropertyValue) []string {
	var out []string
	if !v.IsArray() {
		return nil
	}
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}

func strMap(v resource.PropertyValue) map[string]string {
	out := map[string]string{}
	for k, e := range obj(v) {
		out[string(k)] = e.StringValue()
	}
	return out
}

// selects reports whether selector matches labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func podSpec(t *testing.T, rec *harness.Recorder, name string) resource.PropertyMap {
	t.Helper()
	return obj(path(rec.Get(t, tDeployment, name).Inputs, "spec", "template", "spec"))
}

func container(t *testing.T, spec resource.PropertyMap, name string) resource.PropertyMap {
	t.Helper()
	for _, c := range spec["containers"].ArrayValue() {
		if obj(c)["name"].StringValue() == name {
			return obj(c)
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func containerNames(spec resource.PropertyMap) []string {
	var out []string
	for _, c := range spec["containers"].ArrayValue() {
		out = append(out, obj(c)["name"].StringValue())
	}
	return out
}

// env returns the container's variables by name.
func env(c resource.PropertyMap) map[string]resource.PropertyMap {
	out := map[string]resource.PropertyMap{}
	for _, e := range c["env"].ArrayValue() {
		out[obj(e)["name"].StringValue()] = obj(e)
	}
	return out
}

func envNames(c resource.PropertyMap) []string {
	var out []string
	for name := range env(c) {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func envValue(t *testing.T, c resource.PropertyMap, name string) string {
	t.Helper()
	e, ok := env(c)[name]
	require.True(t, ok, "env %s is set", name)
	return e["value"].StringValue()
}

// ---- tests ----

func TestBuildCloudDefaultsArePinned(t *testing.T) {
	dev := Args{}.WithDefaults()
	assert.Equal(t, "anka", dev.Namespace)
	assert.Equal(t, EnvDev, dev.Environment)
	assert.Equal(t, TopologyCombined, dev.Topology)
	assert.Equal(t, 2, dev.Replicas)
	assert.Equal(t, "veertu/anka-build-cloud-controller:v1.50.1", dev.Controller.Image)
	assert.Equal(t, "veertu/anka-build-cloud-registry:v1.50.1", dev.Registry.Image)
	assert.Equal(t, StorageFSxOpenZFS, dev.Registry.Storage, "fsx-openzfs is the default in eks mode")
	assert.Equal(t, &FSxArgs{DeploymentType: FSxSingleAZ2, ThroughputMBps: 160, StorageGiB: 256, BackupRetentionDays: 7, DailyBackupStartTime: "03:00"}, dev.Registry.FSx)
	assert.Equal(t, 3570, dev.Registry.DrainSeconds)
	assert.Equal(t, 30, dev.PreStopSeconds)
	assert.Equal(t, "0", dev.Controller.DefragDBInterval)
	assert.Equal(t, 200, dev.Registry.MaxTemplateSizeGB)
	assert.True(t, *dev.EnableMetrics)
	assert.Equal(t, []int{500, 1024, 500, 1024}, []int{dev.Controller.CPUMillis, dev.Controller.MemoryMiB, dev.Registry.CPUMillis, dev.Registry.MemoryMiB})

	prod := Args{Environment: EnvProd}.WithDefaults()
	assert.Equal(t, []int{2000, 4096, 2000, 1024}, []int{prod.Controller.CPUMillis, prod.Controller.MemoryMiB, prod.Registry.CPUMillis, prod.Registry.MemoryMiB}, "the vendor's sizing in prod")
	assert.Equal(t, &FSxArgs{DeploymentType: FSxMultiAZ1, ThroughputMBps: 320, StorageGiB: 1024, BackupRetentionDays: 7, DailyBackupStartTime: "03:00"}, prod.Registry.FSx)

	existing := Args{ClusterMode: ClusterExisting}.WithDefaults()
	assert.Equal(t, StoragePVC, existing.Registry.Storage, "pvc is the default on an existing cluster")
	assert.Equal(t, &PVCArgs{Size: "500Gi", AccessMode: "ReadWriteMany"}, existing.Registry.PVC)

	s3 := Args{Registry: RegistryArgs{Storage: StorageS3}}.WithDefaults()
	assert.Equal(t, &S3Args{PartSizeMiB: 20, UploadConcurrency: 2, ConcurrentPushes: 4, AbortIncompleteMultipartUploadDays: new(1)}, s3.Registry.S3)

	assert.Equal(t, Args{Environment: EnvProd}.WithDefaults(), Args{Environment: EnvProd}.WithDefaults().WithDefaults(), "defaulting twice changes nothing")

	split := Args{Topology: TopologySplit, Replicas: 3}.WithDefaults()
	assert.Equal(t, []int{3, 3}, []int{split.Controller.Replicas, split.Registry.Replicas}, "split replicas default to anka:buildcloud.replicas")
}

func TestBuildCloudTopologies(t *testing.T) {
	cases := []struct {
		name        string
		topology    string
		controllers int
		registries  int
		deployments map[string][]string // deployment -> containers
	}{
		{"combined runs N pods each with a Controller and a Registry", TopologyCombined, 0, 0,
			map[string][]string{"bc-controller-registry": {"controller", "registry"}}},
		{"split runs a Controller and a Registry Deployment that scale on their own", TopologySplit, 3, 2,
			map[string][]string{"bc-controller": {"controller"}, "bc-registry": {"registry"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := wired(EnvDev)
			a.Topology = tc.topology
			a.Controller.Replicas, a.Registry.Replicas = tc.controllers, tc.registries
			rec, bc := deploy(t, a)
			deps := rec.ByType(tDeployment)
			require.Len(t, deps, len(tc.deployments))
			for name, containers := range tc.deployments {
				d := rec.Get(t, tDeployment, name)
				spec := podSpec(t, rec, name)
				assert.Equal(t, containers, containerNames(spec))
				want := 2
				if tc.topology == TopologySplit {
					want = map[string]int{"bc-controller": 3, "bc-registry": 2}[name]
				}
				assert.Equal(t, float64(want), path(d.Inputs, "spec", "replicas").NumberValue(), "replicas of %s", name)
				labels := strMap(path(d.Inputs, "spec", "template", "metadata", "labels"))
				hasController := slices.Contains(containers, "controller")
				// The Services' selectors pick exactly the pods with the container.
				assert.Equal(t, hasController, selects(bc.ControllerSelector, labels), "controller selector vs %s", name)
				assert.Equal(t, slices.Contains(containers, "registry"), selects(bc.RegistrySelector, labels), "registry selector vs %s", name)
				assert.Equal(t, hasController, labels["anka.io/etcd-client"] == "true", "etcd's client label only on Controller pods (%s)", name)
				// The Deployment's selector matches its template.
				for k, v := range strMap(path(d.Inputs, "spec", "selector", "matchLabels")) {
					assert.Equal(t, v, labels[k])
				}
			}
			ctrl := rec.Get(t, tService, "bc-controller")
			reg := rec.Get(t, tService, "bc-registry")
			assert.Equal(t, bc.ControllerSelector, strMap(path(ctrl.Inputs, "spec", "selector")))
			assert.Equal(t, bc.RegistrySelector, strMap(path(reg.Inputs, "spec", "selector")))
		})
	}
}

func TestBuildCloudOutputs(t *testing.T) {
	_, bc := deploy(t, wired(EnvDev))
	type outs struct{ ns, ctrl, reg, ctrlURL, regURL, ext, mode, fs, bucket string }
	v, _ := harness.MustAwait(t, pulumi.All(bc.Namespace, bc.ControllerService, bc.RegistryService, bc.ControllerURL, bc.RegistryURL, bc.RegistryExternalURL, bc.StorageMode, bc.FileSystemID, bc.BucketName))
	s := func(i int) string { return v.([]any)[i].(string) }
	o := outs{s(0), s(1), s(2), s(3), s(4), s(5), s(6), s(7), s(8)}
	assert.Equal(t, outs{
		ns: "anka", ctrl: "bc-controller", reg: "bc-registry",
		ctrlURL: "http://bc-controller.anka.svc.cluster.local:80",
		regURL:  "http://bc-registry.anka.svc.cluster.local:8089",
		ext:     "https://registry.anka.example.com",
		mode:    "fsx-openzfs", fs: "bc-registry-id", bucket: "",
	}, o)
	assert.Equal(t, []string{"bc-controller", "bc-registry"}, []string{bc.ControllerServiceName, bc.RegistryServiceName})
	assert.Equal(t, map[string]string{"app.kubernetes.io/instance": "bc", "anka.io/controller": "true"}, bc.ControllerSelector)
	assert.Equal(t, map[string]string{"app.kubernetes.io/instance": "bc", "anka.io/registry": "true"}, bc.RegistrySelector)
}

func TestBuildCloudPlacement(t *testing.T) {
	cases := []struct {
		name string
		env  string
		when string
	}{
		{"prod refuses to stack replicas in one zone", EnvProd, "DoNotSchedule"},
		{"dev spreads across zones when it can", EnvDev, "ScheduleAnyway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := wired(tc.env)
			a.Topology = TopologySplit
			rec, _ := deploy(t, a)
			for _, d := range rec.ByType(tDeployment) {
				spec := podSpec(t, rec, d.Name)
				match := strMap(path(d.Inputs, "spec", "selector", "matchLabels"))

				terms := path(spec, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution").ArrayValue()
				require.Len(t, terms, 1, "%s: one required anti-affinity term", d.Name)
				assert.Equal(t, "kubernetes.io/hostname", obj(terms[0])["topologyKey"].StringValue())
				assert.Equal(t, match, strMap(path(obj(terms[0]), "labelSelector", "matchLabels")), "%s: replicas avoid each other", d.Name)

				spread := spec["topologySpreadConstraints"].ArrayValue()
				require.Len(t, spread, 1)
				sc := obj(spread[0])
				assert.Equal(t, float64(1), sc["maxSkew"].NumberValue())
				assert.Equal(t, "topology.kubernetes.io/zone", sc["topologyKey"].StringValue())
				assert.Equal(t, tc.when, sc["whenUnsatisfiable"].StringValue())
				assert.Equal(t, match, strMap(path(sc, "labelSelector", "matchLabels")))

				strategy := path(d.Inputs, "spec", "strategy", "rollingUpdate")
				assert.Equal(t, float64(0), path(obj(strategy), "maxSurge").NumberValue(), "no surge pod that anti-affinity could strand")
				assert.Equal(t, float64(1), path(obj(strategy), "maxUnavailable").NumberValue())
			}
		})
	}
}

func TestBuildCloudPodDisruptionBudgets(t *testing.T) {
	for _, topology := range []string{TopologyCombined, TopologySplit} {
		t.Run("one budget per Deployment in the "+topology+" topology", func(t *testing.T) {
			a := wired(EnvProd)
			a.Topology = topology
			rec, _ := deploy(t, a)
			deps := rec.ByType(tDeployment)
			pdbs := rec.ByType(tPDB)
			require.Len(t, pdbs, len(deps))
			for _, d := range deps {
				pdb := rec.Get(t, tPDB, d.Name)
				assert.Equal(t, float64(1), path(pdb.Inputs, "spec", "maxUnavailable").NumberValue())
				assert.Equal(t, strMap(path(d.Inputs, "spec", "selector", "matchLabels")), strMap(path(pdb.Inputs, "spec", "selector", "matchLabels")))
				assert.Equal(t, "AlwaysAllow", path(pdb.Inputs, "spec", "unhealthyPodEvictionPolicy").StringValue())
			}
		})
	}
}

func storageArgs(mode string) Args {
	a := wired(EnvDev)
	a.Registry.Storage = mode
	if mode == StoragePVC {
		a.Registry.PVC = &PVCArgs{StorageClass: "anka-local-rwx"}
	}
	return a
}

func TestBuildCloudRegistryHasNoMemoryLimitInAnyMode(t *testing.T) {
	for _, mode := range []string{StorageFSxOpenZFS, StorageEFS, StorageS3, StoragePVC} {
		for _, topology := range []string{TopologyCombined, TopologySplit} {
			t.Run("the "+mode+" registry in the "+topology+" topology has requests and no limits", func(t *testing.T) {
				a := storageArgs(mode)
				a.Topology = topology
				rec, _ := deploy(t, a)
				name := "bc-controller-registry"
				if topology == TopologySplit {
					name = "bc-registry"
				}
				reg := container(t, podSpec(t, rec, name), "registry")
				res := obj(reg["resources"])
				_, hasLimits := res["limits"]
				assert.False(t, hasLimits, "no memory (or CPU) limit on the registry: kubernetes/kubernetes#43916")
				requests := strMap(res["requests"])
				assert.Equal(t, "500m", requests["cpu"])
				memory := "1024Mi"
				if mode == StorageS3 {
					memory = "1264Mi" // 1024 + 20 MiB × (2 + 1) parts × 4 pushes
				}
				assert.Equal(t, memory, requests["memory"])
			})
		}
	}
}

func TestBuildCloudSecretsArriveAsSecrets(t *testing.T) {
	// The token is config (a secret there); the component marks it secret.
	rec, _ := deploy(t, wired(EnvProd))
	assertSecretToken(t, rec)

	a := wired(EnvProd)
	a.Topology = TopologySplit
	rec, _ = deploy(t, a)
	assertSecretToken(t, rec)

	for _, c := range []struct{ deployment, container string }{{"bc-controller", "controller"}, {"bc-registry", "registry"}} {
		ctr := container(t, podSpec(t, rec, c.deployment), c.container)
		v := env(ctr)["ANKA_ROOT_TOKEN"]
		require.NotNil(t, v, "%s has ANKA_ROOT_TOKEN", c.container)
		_, plainValue := v["value"]
		assert.False(t, plainValue, "%s: the token is never a plain env value", c.container)
		assert.Equal(t, map[string]string{"name": "bc-auth", "key": "root-token"}, strMap(path(v, "valueFrom", "secretKeyRef")))
		for name, e := range env(ctr) {
			if val, ok := e["value"]; ok {
				assert.NotContains(t, val.StringValue(), testRootToken, "%s/%s leaks the token", c.container, name)
			}
		}
	}
	// Nothing else carries the token in the clear.
	for _, r := range rec.Resources() {
		if r.Type == tSecret {
			continue
		}
		b, err := json.Marshal(r.Inputs.Mappable())
		require.NoError(t, err)
		assert.NotContains(t, string(b), testRootToken, "%s %s", r.Type, r.Name)
	}
}

func assertSecretToken(t *testing.T, rec *harness.Recorder) {
	t.Helper()
	secret := rec.Get(t, tSecret, "bc-auth")
	data := secret.Inputs["stringData"]
	token := obj(data)["root-token"]
	assert.True(t, data.IsSecret() || token.IsSecret(), "the root token reaches the Secret as a pulumi secret")
	if token.IsSecret() {
		token = token.SecretValue().Element
	}
	assert.Equal(t, testRootToken, token.StringValue())
}

func TestBuildCloudProbesAndPorts(t *testing.T) {
	a := wired(EnvDev)
	a.Topology = TopologySplit
	rec, _ := deploy(t, a)
	for _, c := range []struct {
		deployment, container string
		port                  float64
		startup               bool
	}{{"bc-controller", "controller", ControllerListenPort, true}, {"bc-registry", "registry", RegistryPort, true}} {
		ctr := container(t, podSpec(t, rec, c.deployment), c.container)
		assert.Equal(t, c.port, obj(ctr["ports"].ArrayValue()[0])["containerPort"].NumberValue())
		for probe, p := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/livez", "startupProbe": "/livez"} {
			pr := obj(ctr[resource.PropertyKey(probe)])
			require.NotEmpty(t, pr, "%s has a %s", c.container, probe)
			assert.Equal(t, p, path(pr, "httpGet", "path").StringValue(), "%s %s", c.container, probe)
			assert.Equal(t, c.port, path(pr, "httpGet", "port").NumberValue(), "%s %s", c.container, probe)
			assert.Greater(t, pr["timeoutSeconds"].NumberValue(), float64(1), "%s %s timeout above 1 s", c.container, probe)
		}
	}
	// The Controller listens on 8080 (no NET_BIND_SERVICE needed); its
	// Service keeps port 80, so every client URL stays the same.
	for _, s := range []struct {
		name         string
		port, target float64
	}{{"bc-controller", 80, 8080}, {"bc-registry", 8089, 8089}} {
		svc := rec.Get(t, tService, s.name)
		assert.Equal(t, "ClusterIP", path(svc.Inputs, "spec", "type").StringValue())
		port := obj(path(svc.Inputs, "spec", "ports").ArrayValue()[0])
		assert.Equal(t, "http", port["name"].StringValue())
		assert.Equal(t, s.port, port["port"].NumberValue())
		assert.Equal(t, s.target, port["targetPort"].NumberValue())
	}
	// Both metrics ports fit in one combined pod.
	rec, _ = deploy(t, wired(EnvDev))
	var ports []float64
	for _, name := range []string{"controller", "registry"} {
		for _, p := range container(t, podSpec(t, rec, "bc-controller-registry"), name)["ports"].ArrayValue() {
			ports = append(ports, obj(p)["containerPort"].NumberValue())
		}
	}
	assert.ElementsMatch(t, []float64{8080, 2112, 8089, 2113}, ports, "no port is used twice in the combined pod")
}

func TestBuildCloudPriorityGracePeriodAndPreStop(t *testing.T) {
	a := wired(EnvDev)
	a.Topology = TopologySplit
	a.PreStopSeconds = 45
	a.Registry.DrainSeconds = 7200
	rec, _ := deploy(t, a)
	pc := rec.Get(t, tPriority, "bc-priority")
	assert.Equal(t, "anka-buildcloud", path(pc.Inputs, "metadata", "name").StringValue())
	assert.Equal(t, float64(DefaultPriorityValue), pc.Inputs["value"].NumberValue())
	assert.False(t, pc.Inputs["globalDefault"].BoolValue())

	for _, c := range []struct {
		deployment, container string
		grace                 float64
		shutdown              string
	}{
		{"bc-controller", "controller", 45 + 30, "30s"}, // preStop + Controller shutdown
		{"bc-registry", "registry", 45 + 7200, "7200s"}, // preStop + Registry drain
	} {
		spec := podSpec(t, rec, c.deployment)
		assert.Equal(t, "anka-buildcloud", spec["priorityClassName"].StringValue())
		assert.Equal(t, c.grace, spec["terminationGracePeriodSeconds"].NumberValue(), "%s: grace period = preStop + drain", c.deployment)
		ctr := container(t, spec, c.container)
		assert.Equal(t, float64(45), path(ctr, "lifecycle", "preStop", "sleep", "seconds").NumberValue(), "sleep action, no shell needed")
		_, exec := obj(path(ctr, "lifecycle", "preStop"))["exec"]
		assert.False(t, exec)
		assert.Equal(t, c.shutdown, envValue(t, ctr, "ANKA_GRACEFUL_SHUTDOWN_TIMEOUT"))
	}
	// Combined: one grace period covering the longer of the two.
	rec, _ = deploy(t, wired(EnvDev))
	assert.Equal(t, float64(30+3570), podSpec(t, rec, "bc-controller-registry")["terminationGracePeriodSeconds"].NumberValue())
}

func TestBuildCloudSecurityContext(t *testing.T) {
	rec, _ := deploy(t, wired(EnvDev))
	spec := podSpec(t, rec, "bc-controller-registry")
	assert.Equal(t, "RuntimeDefault", path(spec, "securityContext", "seccompProfile", "type").StringValue())
	assert.False(t, spec["automountServiceAccountToken"].BoolValue())
	assert.False(t, spec["enableServiceLinks"].BoolValue(), "no Service env vars next to the ANKA_* flags")
	for _, name := range []string{"controller", "registry"} {
		sc := obj(container(t, spec, name)["securityContext"])
		assert.False(t, sc["allowPrivilegeEscalation"].BoolValue())
		assert.Equal(t, []string{"ALL"}, strs(path(sc, "capabilities", "drop")))
		assert.Empty(t, strs(path(sc, "capabilities", "add")), "%s: no capability, not even NET_BIND_SERVICE: both listen above 1023", name)
		_, nonRoot := sc["runAsNonRoot"]
		assert.False(t, nonRoot, "the images' user is undocumented: runAsNonRoot is not forced")
	}
}

// TestBuildCloudSecretFilesAre0400: the etcd client Secret is mounted with
// every file 0400. A Controller-only pod (split) gets an fsGroup, changed
// only on a root mismatch, so a non-root process would read the files too
// (the kubelet makes them 0440, group fsGroup); a pod that also runs the
// Registry gets none, or the kubelet would re-group its whole data volume.
// No pod mounts a service-account token.
func TestBuildCloudSecretFilesAre0400(t *testing.T) {
	a := wired(EnvDev)
	a.Topology = TopologySplit
	rec, _ := deploy(t, a)
	spec := podSpec(t, rec, "bc-controller")
	vol := obj(spec["volumes"].ArrayValue()[0])
	require.Equal(t, testEtcdSecret, path(vol, "secret", "secretName").StringValue())
	assert.Equal(t, float64(0o400), numv(path(vol, "secret", "defaultMode")))
	items := path(vol, "secret", "items").ArrayValue()
	require.Len(t, items, 3)
	for _, item := range items {
		assert.Equal(t, float64(0o400), numv(obj(item)["mode"]), obj(item)["key"].StringValue())
	}
	assert.Equal(t, float64(SecretFSGroup), numv(path(spec, "securityContext", "fsGroup")))
	assert.Equal(t, "OnRootMismatch", path(spec, "securityContext", "fsGroupChangePolicy").StringValue())
	reg := podSpec(t, rec, "bc-registry")
	_, fsGroup := obj(reg["securityContext"])["fsGroup"]
	assert.False(t, fsGroup, "the Registry's data volume is never re-grouped")
	for _, d := range []string{"bc-controller", "bc-registry"} {
		at := podSpec(t, rec, d)["automountServiceAccountToken"]
		assert.True(t, at.IsBool() && !at.BoolValue(), "%s: no service-account token", d)
	}

	rec, _ = deploy(t, wired(EnvDev))
	combined := podSpec(t, rec, "bc-controller-registry")
	_, fsGroup = obj(combined["securityContext"])["fsGroup"]
	assert.False(t, fsGroup, "the combined pod mounts the Registry's data: no fsGroup")
	assert.Equal(t, float64(0o400), numv(path(obj(combined["volumes"].ArrayValue()[0]), "secret", "defaultMode")))
}

// numv is v's number, or -1 when it is none (a missing field fails the
// comparison instead of panicking).
func numv(v resource.PropertyValue) float64 {
	if v.IsNumber() {
		return v.NumberValue()
	}
	return -1
}

func TestBuildCloudImagesUseTheMirror(t *testing.T) {
	a := wired(EnvDev)
	a.ImageRegistry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub"
	a.ImagePullSecrets = []string{"mirror-pull"}
	rec, _ := deploy(t, a)
	spec := podSpec(t, rec, "bc-controller-registry")
	assert.Equal(t, "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/veertu/anka-build-cloud-controller:v1.50.1", container(t, spec, "controller")["image"].StringValue())
	assert.Equal(t, "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/veertu/anka-build-cloud-registry:v1.50.1", container(t, spec, "registry")["image"].StringValue())
	assert.Equal(t, "mirror-pull", obj(spec["imagePullSecrets"].ArrayValue()[0])["name"].StringValue())
}

func TestBuildCloudFSxStorage(t *testing.T) {
	cases := []struct {
		name       string
		env        string
		deployment string
		subnets    []string
		throughput float64
	}{
		{"dev gets a single-AZ file system in the first private subnet", EnvDev, FSxSingleAZ2, []string{"subnet-a"}, 160},
		{"prod gets a multi-AZ file system over two subnets with the route tables", EnvProd, FSxMultiAZ1, []string{"subnet-a", "subnet-b"}, 320},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, bc := deploy(t, wired(tc.env))
			fs := rec.Get(t, tFSx, "bc-registry")
			assert.True(t, fs.Protect, "the file system is protected")
			assert.True(t, fs.RetainOnDelete, "the file system is retained on delete")
			assert.Equal(t, tc.deployment, fs.Inputs["deploymentType"].StringValue())
			assert.Equal(t, tc.throughput, fs.Inputs["throughputCapacity"].NumberValue())
			assert.Equal(t, tc.subnets, strs(fs.Inputs["subnetIds"]))
			assert.Equal(t, float64(7), fs.Inputs["automaticBackupRetentionDays"].NumberValue(), "automatic backups on")
			assert.False(t, fs.Inputs["skipFinalBackup"].BoolValue())
			if tc.deployment == FSxMultiAZ1 {
				assert.Equal(t, "subnet-a", fs.Inputs["preferredSubnetId"].StringValue())
				assert.Equal(t, []string{"rtb-a", "rtb-b", "rtb-c"}, strs(fs.Inputs["routeTableIds"]))
			}
			assert.Empty(t, bc.Warnings)

			sg := rec.Get(t, tSG, "bc-registry-nfs")
			assert.Equal(t, "vpc-1", sg.Inputs["vpcId"].StringValue())
			assert.Equal(t, []string{"bc-registry-nfs-id"}, strs(fs.Inputs["securityGroupIds"]))
			rules := rec.ByType(tSGIngress)
			var got []string
			for _, r := range rules {
				assert.Equal(t, testNodeSG, r.Inputs["referencedSecurityGroupId"].StringValue(), "%s: NFS only from the node security group", r.Name)
				assert.Equal(t, "bc-registry-nfs-id", r.Inputs["securityGroupId"].StringValue())
				_, cidr := r.Inputs["cidrIpv4"]
				assert.False(t, cidr, "%s has no CIDR source", r.Name)
				assert.False(t, r.RetainOnDelete, "%s sits in the stack's VPC: destroy deletes it after the file system", r.Name)
				got = append(got, r.Inputs["ipProtocol"].StringValue()+" "+r.Inputs["fromPort"].String()+"-"+r.Inputs["toPort"].String())
			}
			assert.ElementsMatch(t, []string{
				"tcp {111}-{111}", "udp {111}-{111}", "tcp {2049}-{2049}", "udp {2049}-{2049}", "tcp {20001}-{20003}", "udp {20001}-{20003}",
			}, got)

			pv := rec.Get(t, tPV, "bc-registry")
			assert.True(t, pv.RetainOnDelete)
			assert.Equal(t, "bc-registry.fsx.us-east-1.amazonaws.com", path(pv.Inputs, "spec", "nfs", "server").StringValue(), "the PV mounts the file system's DNS name")
			assert.Equal(t, "/fsx", path(pv.Inputs, "spec", "nfs", "path").StringValue())
			assert.Equal(t, []string{"ReadWriteMany"}, strs(path(pv.Inputs, "spec", "accessModes")))
			assert.Equal(t, "Retain", path(pv.Inputs, "spec", "persistentVolumeReclaimPolicy").StringValue())
			assert.Equal(t, []string{"nfsvers=4.1", "rsize=1048576", "wsize=1048576", "hard", "timeo=600", "nconnect=16"}, strs(path(pv.Inputs, "spec", "mountOptions")))
			pvc := rec.Get(t, tPVC, "bc-registry")
			assert.True(t, pvc.RetainOnDelete)
			assert.Equal(t, path(pv.Inputs, "metadata", "name").StringValue(), path(pvc.Inputs, "spec", "volumeName").StringValue(), "the claim binds the PV by name")
			assert.Equal(t, "", path(pvc.Inputs, "spec", "storageClassName").StringValue())

			reg := container(t, podSpec(t, rec, "bc-controller-registry"), "registry")
			assert.Equal(t, "/mnt/vol", envValue(t, reg, "ANKA_BASE_PATH"))
			_, backend := env(reg)["ANKA_BACKEND_TYPE"]
			assert.False(t, backend, "disk is the Registry's default backend")
		})
	}
}

func TestBuildCloudWarnsAboutSingleAZStorageInProd(t *testing.T) {
	a := wired(EnvProd)
	a.Registry.FSx = &FSxArgs{DeploymentType: FSxSingleAZ2}
	_, bc := deploy(t, a)
	require.Len(t, bc.Warnings, 1)
	assert.Contains(t, bc.Warnings[0], "SINGLE_AZ_2 in prod")
}

func TestBuildCloudEFSStorage(t *testing.T) {
	rec, bc := deploy(t, storageArgs(StorageEFS))
	require.Len(t, bc.Warnings, 1)
	assert.Contains(t, bc.Warnings[0], "slow")
	assert.Contains(t, bc.Warnings[0], "efs.csi.aws.com")

	fs := rec.Get(t, tEFS, "bc-registry")
	assert.True(t, fs.Protect)
	assert.True(t, fs.RetainOnDelete)
	assert.True(t, fs.Inputs["encrypted"].BoolValue())
	assert.Equal(t, "elastic", fs.Inputs["throughputMode"].StringValue())
	mts := rec.ByType(tMountTarget)
	require.Len(t, mts, 3, "one mount target per private subnet")
	var subnets []string
	for _, mt := range mts {
		subnets = append(subnets, mt.Inputs["subnetId"].StringValue())
		assert.Equal(t, []string{"bc-registry-efs-id"}, strs(mt.Inputs["securityGroups"]))
	}
	assert.ElementsMatch(t, []string{"subnet-a", "subnet-b", "subnet-c"}, subnets)
	rules := rec.ByType(tSGIngress)
	require.Len(t, rules, 1)
	assert.Equal(t, testNodeSG, rules[0].Inputs["referencedSecurityGroupId"].StringValue())
	assert.Equal(t, float64(2049), rules[0].Inputs["fromPort"].NumberValue())
	assert.Equal(t, "tcp", rules[0].Inputs["ipProtocol"].StringValue())

	pv := rec.Get(t, tPV, "bc-registry")
	assert.Equal(t, "efs.csi.aws.com", path(pv.Inputs, "spec", "csi", "driver").StringValue())
	assert.Equal(t, "bc-registry-id", path(pv.Inputs, "spec", "csi", "volumeHandle").StringValue(), "volumeHandle is the file system id")
	assert.True(t, pv.RetainOnDelete)
	assert.True(t, rec.Get(t, tPVC, "bc-registry").RetainOnDelete)
	assert.Empty(t, rec.ByType(tFSx))
}

func TestBuildCloudS3Storage(t *testing.T) {
	a := storageArgs(StorageS3)
	a.Topology = TopologySplit
	a.Registry.S3 = &S3Args{PartSizeMiB: 100, UploadConcurrency: 3}
	a.Registry.MaxTemplateSizeGB = 1000
	rec, bc := deploy(t, a)
	// The bucket's and the role's names are the provider's (auto-named).
	bucketName, bucketArn, roleArn := s3Names(t, bc)
	assert.NotEmpty(t, bucketName)
	assert.Equal(t, "arn:aws:s3:::"+bucketName, bucketArn)

	for _, typ := range []string{tPV, tPVC, tFSx, tEFS, tSG} {
		assert.Empty(t, rec.ByType(typ), "s3 mode creates no %s", typ)
	}
	bucket := rec.Get(t, tBucket, "bc-registry")
	assert.True(t, bucket.Protect)
	assert.True(t, bucket.RetainOnDelete)
	assert.False(t, bucket.Inputs["forceDestroy"].BoolValue())
	for typ, name := range map[string]string{tBucketSSE: "bc-registry-encryption", tBucketPAB: "bc-registry-public-access", tBucketOwner: "bc-registry-ownership", tBucketPolicy: "bc-registry-tls-only"} {
		r := rec.Get(t, typ, name)
		assert.True(t, r.RetainOnDelete, "%s stays with the retained bucket", typ)
		assert.Equal(t, "bc-registry-id", r.Inputs["bucket"].StringValue())
	}
	pab := rec.Get(t, tBucketPAB, "bc-registry-public-access").Inputs
	for _, k := range []resource.PropertyKey{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.True(t, pab[k].BoolValue(), string(k))
	}
	assert.Equal(t, "BucketOwnerEnforced", path(rec.Get(t, tBucketOwner, "bc-registry-ownership").Inputs, "rule", "objectOwnership").StringValue())
	var tls map[string]any
	require.NoError(t, json.Unmarshal([]byte(rec.Get(t, tBucketPolicy, "bc-registry-tls-only").Inputs["policy"].StringValue()), &tls))
	stmt := tls["Statement"].([]any)[0].(map[string]any)
	assert.Equal(t, "Deny", stmt["Effect"])
	assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, stmt["Condition"])

	// The IRSA role: only the Registry's service account, only the bucket.
	role := rec.Get(t, tRole, "bc-registry")
	var trust map[string]any
	require.NoError(t, json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].StringValue()), &trust))
	cond := trust["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	assert.Equal(t, "system:serviceaccount:anka:bc-registry", cond["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:sub"])
	assert.Equal(t, map[string][]string{
		bucketArn:        {"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
		bucketArn + "/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
	}, registryGrants(t, rec), "nothing beyond the bucket and its objects")
	sa := rec.Get(t, tSA, "bc-registry")
	assert.Contains(t, roleArn, "arn:aws:iam::123456789012:role/")
	assert.Equal(t, roleArn, strMap(path(sa.Inputs, "metadata", "annotations"))["eks.amazonaws.com/role-arn"])
	assert.Equal(t, "bc-registry", podSpec(t, rec, "bc-registry")["serviceAccountName"].StringValue())
	assert.Empty(t, strMap(path(rec.Get(t, tSA, "bc-controller").Inputs, "metadata", "annotations")), "the Controller gets no AWS role")

	reg := container(t, podSpec(t, rec, "bc-registry"), "registry")
	backend := map[string]string{}
	for name := range env(reg) {
		if strings.HasPrefix(name, "ANKA_BACKEND_") || strings.HasPrefix(name, "AWS_") {
			backend[name] = envValue(t, reg, name)
		}
	}
	assert.Equal(t, map[string]string{
		"ANKA_BACKEND_TYPE":                                      "s3",
		"ANKA_BACKEND_S3_BUCKET":                                 bucketName,
		"ANKA_BACKEND_S3_UPLOAD_PART_SIZE":                       "104857600",
		"ANKA_BACKEND_S3_UPLOAD_CONCURRENCY":                     "3",
		"ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS": "1",
		"AWS_REGION":         "us-east-1",
		"AWS_DEFAULT_REGION": "us-east-1",
	}, backend)
	assert.Equal(t, "2624Mi", strMap(path(reg, "resources", "requests"))["memory"], "1024 + 100 MiB × (3 + 1) parts × 4 pushes")
	vols := podSpec(t, rec, "bc-registry")["volumes"].ArrayValue()
	require.Len(t, vols, 1)
	_, emptyDir := obj(vols[0])["emptyDir"]
	assert.True(t, emptyDir, "scratch space only, no claim")

	mode, _ := harness.MustAwait(t, bc.StorageMode)
	assert.Equal(t, "s3", mode)
}

// s3Names are the bucket's name and ARN and the Registry role's ARN, as the
// component outputs them.
func s3Names(t *testing.T, bc *BuildCloud) (bucketName, bucketArn, roleArn string) {
	t.Helper()
	v, _ := harness.MustAwait(t, pulumi.All(bc.BucketName, bc.BucketArn, bc.RegistryRoleArn))
	names := v.([]any)
	return names[0].(string), names[1].(string), names[2].(string)
}

// registryStatement is one statement of the Registry role's S3 policy.
type registryStatement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource string
}

func registryStatements(t *testing.T, rec *harness.Recorder) []registryStatement {
	t.Helper()
	var policy struct{ Statement []registryStatement }
	require.NoError(t, json.Unmarshal([]byte(rec.Get(t, tRolePolicy, "bc-registry-s3").Inputs["policy"].StringValue()), &policy))
	return policy.Statement
}

// registryGrants are the Registry role's allowed actions by resource.
func registryGrants(t *testing.T, rec *harness.Recorder) map[string][]string {
	t.Helper()
	grants := map[string][]string{}
	for _, s := range registryStatements(t, rec) {
		assert.Equal(t, "Allow", s.Effect)
		grants[s.Resource] = append(grants[s.Resource], s.Action...)
	}
	return grants
}

// TestBuildCloudS3RegistryOwnsItsLifecycleRule: the vendor's Registry writes
// its abort-incomplete-multipart-upload rule on the bucket at start, and
// with ..._DAYS=0 removes the bucket's rule instead. So the variable carries
// the configured days (never 0), the role may read and write the bucket's
// lifecycle configuration (on the bucket ARN, nothing else), and Pulumi does
// not manage that bucket's lifecycle, which the Registry would rewrite and
// every `pulumi up` would put back. The bucket is not versioned: nothing would
// expire the noncurrent versions of deleted templates.
func TestBuildCloudS3RegistryOwnsItsLifecycleRule(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s3     *S3Args
		bucket string // "" for the bucket the component creates
		days   string
	}{
		{"a created bucket, the vendor's default of 1 day", &S3Args{}, "", "1"},
		{"a created bucket, 7 days configured", &S3Args{AbortIncompleteMultipartUploadDays: new(7)}, "", "7"},
		{"an existing bucket, 3 days configured", &S3Args{Bucket: "acme-anka-templates", AbortIncompleteMultipartUploadDays: new(3)}, "acme-anka-templates", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := storageArgs(StorageS3)
			a.Topology = TopologySplit
			a.Registry.S3 = tc.s3
			rec, bc := deploy(t, a)

			reg := container(t, podSpec(t, rec, "bc-registry"), "registry")
			assert.Equal(t, tc.days, envValue(t, reg, "ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS"))

			bucketName, bucketArn, _ := s3Names(t, bc)
			if tc.bucket != "" {
				assert.Equal(t, tc.bucket, bucketName)
			}
			require.Equal(t, "arn:aws:s3:::"+bucketName, bucketArn)
			var lifecycle []registryStatement
			for _, s := range registryStatements(t, rec) {
				for _, action := range s.Action {
					if strings.Contains(action, "Lifecycle") {
						lifecycle = append(lifecycle, s)
						break
					}
				}
			}
			require.Len(t, lifecycle, 1, "one statement grants lifecycle actions")
			assert.Equal(t, "Allow", lifecycle[0].Effect)
			assert.Equal(t, []string{"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"}, lifecycle[0].Action, "exactly the two lifecycle actions")
			assert.Equal(t, bucketArn, lifecycle[0].Resource, "on the bucket ARN, not on its objects or any other bucket")

			assert.Empty(t, rec.ByType(tBucketLife), "Pulumi manages no lifecycle configuration on the Registry's bucket")
			assert.Empty(t, rec.ByType(tBucketVer), "the Registry's bucket is not versioned")
			for _, b := range rec.ByType(tBucket) {
				for _, k := range []resource.PropertyKey{"lifecycleRules", "versionings"} {
					_, set := b.Inputs[k]
					assert.False(t, set, "the bucket sets no inline %s", k)
				}
			}
		})
	}
}

func TestBuildCloudS3AbortDaysZeroIsRefused(t *testing.T) {
	for _, tc := range []struct {
		days int
		want string
	}{
		{0, "must be at least 1"},
		{-1, "must be at least 1"},
		{366, "must be between 1 and 365 days"},
	} {
		a := storageArgs(StorageS3)
		a.Registry.S3 = &S3Args{AbortIncompleteMultipartUploadDays: new(tc.days)}
		err := a.Validate()
		require.Error(t, err, tc.days)
		harness.AssertKeys(t, err, "anka:registry.s3.abortIncompleteMultipartUploadDays")
		assert.Contains(t, err.Error(), tc.want)
		if tc.days < 1 {
			assert.Contains(t, err.Error(), "remove the bucket's existing one", "the error says why 0 is refused")
		}
	}
	// Unset means the vendor's default, not 0.
	a := storageArgs(StorageS3)
	a.Registry.S3 = &S3Args{}
	require.NoError(t, a.Validate())
	assert.Equal(t, 1, *a.WithDefaults().Registry.S3.AbortIncompleteMultipartUploadDays)
}

func TestBuildCloudS3ExistingBucket(t *testing.T) {
	a := storageArgs(StorageS3)
	a.Registry.S3 = &S3Args{Bucket: "acme-anka-templates"}
	rec, _ := deploy(t, a)
	for _, typ := range []string{tBucket, tBucketPolicy, tBucketPAB, tBucketOwner, tBucketSSE, tBucketLife, tPV, tPVC} {
		assert.Empty(t, rec.ByType(typ), "an existing bucket is left alone: no %s", typ)
	}
	assert.Contains(t, rec.Get(t, tRolePolicy, "bc-registry-s3").Inputs["policy"].StringValue(), `"arn:aws:s3:::acme-anka-templates/*"`)
	reg := container(t, podSpec(t, rec, "bc-controller-registry"), "registry")
	assert.Equal(t, "acme-anka-templates", envValue(t, reg, "ANKA_BACKEND_S3_BUCKET"))
}

func TestBuildCloudPVCStorage(t *testing.T) {
	t.Run("the local control plane gets a ReadWriteMany claim on its class and no AWS resource", func(t *testing.T) {
		rec, _ := deploy(t, local())
		for _, r := range rec.Resources() {
			assert.False(t, strings.HasPrefix(r.Type, "aws:"), "no AWS resource: %s %s", r.Type, r.Name)
		}
		pvc := rec.Get(t, tPVC, "bc-registry")
		assert.True(t, pvc.RetainOnDelete)
		assert.Equal(t, "anka-local-rwx", path(pvc.Inputs, "spec", "storageClassName").StringValue())
		assert.Equal(t, []string{"ReadWriteMany"}, strs(path(pvc.Inputs, "spec", "accessModes")))
		assert.Equal(t, "500Gi", path(pvc.Inputs, "spec", "resources", "requests", "storage").StringValue())
		assert.Empty(t, rec.ByType(tPV))
		assert.Empty(t, rec.ByType(tSecret), "no auth without a root token in dev")
	})
	t.Run("an existing claim is mounted and nothing is created for it", func(t *testing.T) {
		a := local()
		a.Registry.PVC = &PVCArgs{ExistingClaim: "registry-data"}
		rec, _ := deploy(t, a)
		assert.Empty(t, rec.ByType(tPVC))
		vols := podSpec(t, rec, "bc-controller-registry")["volumes"].ArrayValue()
		assert.Equal(t, "registry-data", path(obj(vols[0]), "persistentVolumeClaim", "claimName").StringValue())
	})
}

func TestBuildCloudNetworkPolicy(t *testing.T) {
	cases := []struct {
		name     string
		edge     map[string]string
		edgeNS   string
		cidrs    []string
		wantEdge map[string]string
		wantNS   bool
	}{
		{"only the edge pods reach the API ports", map[string]string{"app.kubernetes.io/name": testEdgeLabel}, "", nil, map[string]string{"app.kubernetes.io/name": testEdgeLabel}, false},
		{"an edge in another namespace is selected there", map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx", nil, map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, true},
		{"without edge labels the namespace is allowed, plus the given CIDRs", nil, "", []string{"10.40.0.0/16"}, map[string]string{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := wired(EnvDev)
			a.TrustEdgeClientCertHeaders = tc.edge != nil
			a.EdgePodLabels, a.EdgeNamespace, a.IngressCIDRs = tc.edge, tc.edgeNS, tc.cidrs
			rec, bc := deploy(t, a)
			np := rec.Get(t, tNetPol, "bc-ingress")
			spec := obj(np.Inputs["spec"])
			assert.Equal(t, map[string]string{"app.kubernetes.io/instance": "bc", "app.kubernetes.io/name": "anka-build-cloud"}, strMap(path(spec, "podSelector", "matchLabels")))
			assert.Equal(t, []string{"Ingress"}, strs(spec["policyTypes"]))
			rules := spec["ingress"].ArrayValue()

			edge := obj(rules[0])
			peer := obj(edge["from"].ArrayValue()[0])
			assert.Equal(t, tc.wantEdge, strMap(path(peer, "podSelector", "matchLabels")))
			_, hasNS := peer["namespaceSelector"]
			assert.Equal(t, tc.wantNS, hasNS)
			if tc.wantNS {
				assert.Equal(t, tc.edgeNS, strMap(path(peer, "namespaceSelector", "matchLabels"))["kubernetes.io/metadata.name"])
			}
			assert.Equal(t, []float64{8080, 8089}, ports(edge), "the pods' ports: a policy sees the Service's translation")

			fromController := obj(rules[1])
			assert.Equal(t, bc.ControllerSelector, strMap(path(obj(fromController["from"].ArrayValue()[0]), "podSelector", "matchLabels")))
			assert.Equal(t, []float64{8089}, ports(fromController))

			var cidrs []string
			for _, r := range rules[2:] {
				for _, p := range obj(r)["from"].ArrayValue() {
					if b, ok := obj(p)["ipBlock"]; ok {
						cidrs = append(cidrs, obj(b)["cidr"].StringValue())
						assert.Equal(t, []float64{8080, 8089}, ports(obj(r)))
					}
				}
			}
			assert.Equal(t, tc.cidrs, cidrs)
			metrics := obj(rules[len(rules)-1])
			assert.Equal(t, []float64{2112, 2113}, ports(metrics))
		})
	}
}

func ports(rule resource.PropertyMap) []float64 {
	var out []float64
	for _, p := range rule["ports"].ArrayValue() {
		out = append(out, obj(p)["port"].NumberValue())
	}
	return out
}

// documentedEnv is every variable the component sets, with its meaning from
// the vendor's configuration reference (docs.veertu.com, "Configuration
// Reference": Controller and Registry tables; S3 backend table).
var documentedEnv = []struct {
	name       string
	containers string // "controller", "registry" or "both"
	meaning    string
}{
	{"ANKA_LISTEN_ADDR", "both", "[address]:port to listen on (Controller default :80; set :8089 on the Registry)"},
	{"ANKA_ANKA_REGISTRY", "controller", "Registry URL the Controller uses and gives to Anka nodes to pull templates; must be reachable by the nodes"},
	{"ANKA_LOCAL_ANKA_REGISTRY", "controller", "Controller-to-Registry URL when ANKA_ANKA_REGISTRY is not reachable from the Controller (http[s]://addr:port)"},
	{"ANKA_ETCD_ENDPOINTS", "controller", "comma-separated etcd endpoints (default 127.0.0.1:2379)"},
	{"ANKA_USE_ETCD_TLS", "controller", "connect to etcd over TLS"},
	{"ANKA_ETCD_CA_CERT", "controller", "file path of the CA certificate for etcd"},
	{"ANKA_ETCD_CERT", "controller", "file path of the client certificate for etcd"},
	{"ANKA_ETCD_CERT_KEY", "controller", "file path of the client certificate's key for etcd"},
	{"ANKA_DEFRAG_DB_INTERVAL", "controller", "interval of etcd defragmentation; 0 = off"},
	{"ANKA_V", "both", "log verbosity, 0-10"},
	{"ANKA_GRACEFUL_SHUTDOWN_TIMEOUT", "both", "how long to wait on SIGINT/SIGTERM before shutting down (default 10s)"},
	{"ANKA_ENABLE_METRICS", "both", "serve Prometheus metrics on *:2112/metrics"},
	{"ANKA_METRICS_PORT", "both", "port of the metrics endpoint (default 2112)"},
	{"ANKA_ENABLE_AUTH", "both", "enable authentication (root token, certificates, OIDC, API keys)"},
	{"ANKA_ROOT_TOKEN", "both", "root token for basic auth as user root, at least 10 characters; the same on Controller and Registry"},
	{"ANKA_ENABLE_INGRESS_NGINX", "both", "authenticate by the Ssl-Client-Verify/Ssl-Client-Cert headers set by NGINX"},
	{"ANKA_BASE_PATH", "registry", "Registry data base path"},
	{"ANKA_BACKEND_TYPE", "registry", "storage backend: disk (default) or s3"},
	{"ANKA_BACKEND_S3_BUCKET", "registry", "the S3 bucket to use for the registry"},
	{"ANKA_BACKEND_S3_UPLOAD_PART_SIZE", "registry", "multipart part size in bytes (min 5mb, max 500mb); × 10,000 parts is the largest template"},
	{"ANKA_BACKEND_S3_UPLOAD_CONCURRENCY", "registry", "concurrent part uploads per object (min 1); raises memory use"},
	{"ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS", "registry", "lifecycle rule aborting incomplete multipart uploads after N days; 0 = no rule, an existing one is removed"},
	{"AWS_REGION", "registry", "not a vendor variable: the AWS SDK's region (the vendor documents no region setting for S3)"},
	{"AWS_DEFAULT_REGION", "registry", "not a vendor variable: the older AWS SDKs' region"},
}

func TestBuildCloudEnvMatchesVendorReference(t *testing.T) {
	a := storageArgs(StorageS3)
	a.Topology = TopologySplit
	a.TrustEdgeClientCertHeaders = true
	rec, _ := deploy(t, a)
	want := map[string][]string{}
	for _, e := range documentedEnv {
		require.NotEmpty(t, e.meaning, e.name)
		for _, c := range []string{"controller", "registry"} {
			if e.containers == c || e.containers == "both" {
				want[c] = append(want[c], e.name)
			}
		}
	}
	for c, names := range want {
		sort.Strings(names)
		ctr := container(t, podSpec(t, rec, "bc-"+c), c)
		assert.Equal(t, names, envNames(ctr), "%s: every variable is documented and every documented one is set", c)
	}

	ctrl := container(t, podSpec(t, rec, "bc-controller"), "controller")
	for name, value := range map[string]string{
		"ANKA_LISTEN_ADDR":          ":8080",
		"ANKA_ANKA_REGISTRY":        "https://registry.anka.example.com",
		"ANKA_LOCAL_ANKA_REGISTRY":  "http://bc-registry.anka.svc.cluster.local:8089",
		"ANKA_ETCD_ENDPOINTS":       "etcd-0.etcd-headless.anka.svc:2379,etcd-1.etcd-headless.anka.svc:2379,etcd-2.etcd-headless.anka.svc:2379",
		"ANKA_USE_ETCD_TLS":         "true",
		"ANKA_ETCD_CA_CERT":         "/etc/anka/etcd-tls/ca.crt",
		"ANKA_ETCD_CERT":            "/etc/anka/etcd-tls/client.crt",
		"ANKA_ETCD_CERT_KEY":        "/etc/anka/etcd-tls/client.key",
		"ANKA_DEFRAG_DB_INTERVAL":   "0",
		"ANKA_V":                    "0",
		"ANKA_ENABLE_METRICS":       "true",
		"ANKA_METRICS_PORT":         "2112",
		"ANKA_ENABLE_AUTH":          "true",
		"ANKA_ENABLE_INGRESS_NGINX": "true",
	} {
		assert.Equal(t, value, envValue(t, ctrl, name), name)
	}
	reg := container(t, podSpec(t, rec, "bc-registry"), "registry")
	for name, value := range map[string]string{"ANKA_LISTEN_ADDR": ":8089", "ANKA_BASE_PATH": "/mnt/vol", "ANKA_METRICS_PORT": "2113", "ANKA_GRACEFUL_SHUTDOWN_TIMEOUT": "3570s"} {
		assert.Equal(t, value, envValue(t, reg, name), name)
	}
	// The etcd client certificate is mounted where the variables point.
	spec := podSpec(t, rec, "bc-controller")
	vol := obj(spec["volumes"].ArrayValue()[0])
	assert.Equal(t, testEtcdSecret, path(vol, "secret", "secretName").StringValue())
	var keys []string
	for _, item := range path(vol, "secret", "items").ArrayValue() {
		keys = append(keys, obj(item)["key"].StringValue())
	}
	assert.Equal(t, []string{"ca.crt", "client.crt", "client.key"}, keys)
	assert.Equal(t, EtcdTLSMountPath, obj(ctrl["volumeMounts"].ArrayValue()[0])["mountPath"].StringValue())

	// Without auth, TLS or metrics, those variables disappear.
	b := local()
	b.EnableMetrics = new(false)
	rec, bc := deploy(t, b)
	require.Len(t, bc.Warnings, 1)
	assert.Contains(t, bc.Warnings[0], "anka:registry.externalUrl is not set")
	spec = podSpec(t, rec, "bc-controller-registry")
	assert.Equal(t, []string{"ANKA_ANKA_REGISTRY", "ANKA_DEFRAG_DB_INTERVAL", "ANKA_ETCD_ENDPOINTS", "ANKA_GRACEFUL_SHUTDOWN_TIMEOUT", "ANKA_LISTEN_ADDR", "ANKA_LOCAL_ANKA_REGISTRY", "ANKA_V"}, envNames(container(t, spec, "controller")))
	assert.Equal(t, []string{"ANKA_BASE_PATH", "ANKA_GRACEFUL_SHUTDOWN_TIMEOUT", "ANKA_LISTEN_ADDR", "ANKA_V"}, envNames(container(t, spec, "registry")))
	assert.Equal(t, "http://bc-registry.anka.svc.cluster.local:8089", envValue(t, container(t, spec, "controller"), "ANKA_ANKA_REGISTRY"), "the internal URL when no external one is configured")
}

func TestBuildCloudValidation(t *testing.T) {
	with := func(env string, edit func(*Args)) Args {
		a := wired(env)
		edit(&a)
		return a
	}
	cases := []struct {
		name string
		args Args
		keys []string
	}{
		{"a memory limit on the registry is refused", with(EnvDev, func(a *Args) { a.Registry.MemoryLimit = "4Gi" }),
			[]string{"anka:registry.memoryLimit"}},
		{"a memory limit in MiB on the registry is refused too", with(EnvDev, func(a *Args) { a.Registry.MemoryLimitMiB = 4096 }),
			[]string{"anka:registry.memoryLimitMiB"}},
		{"one combined replica in prod is refused", with(EnvProd, func(a *Args) { a.Replicas = 1 }),
			[]string{"anka:buildcloud.replicas"}},
		{"one split Registry replica in prod is refused", with(EnvProd, func(a *Args) { a.Topology = TopologySplit; a.Registry.Replicas = 1 }),
			[]string{"anka:registry.replicas"}},
		{"split replica counts in the combined topology are refused", with(EnvDev, func(a *Args) { a.Controller.Replicas = 3 }),
			[]string{"anka:controller.replicas"}},
		{"an unknown topology is refused", with(EnvDev, func(a *Args) { a.Topology = "sidecar" }),
			[]string{"anka:buildcloud.topology"}},
		{"a registry external URL that is not a URL is refused", with(EnvDev, func(a *Args) { a.Registry.ExternalURL = "registry.example.com:8089" }),
			[]string{"anka:registry.externalUrl"}},
		{"EFS settings without storage efs named explicitly are refused", with(EnvDev, func(a *Args) { a.Registry.EFS = &EFSArgs{} }),
			[]string{"anka:registry.efs"}},
		{"an unknown storage mode is refused", with(EnvDev, func(a *Args) { a.Registry.Storage = "hostPath" }),
			[]string{"anka:registry.storage"}},
		{"an S3 part size below 5 MiB is refused", with(EnvDev, func(a *Args) { a.Registry.Storage = StorageS3; a.Registry.S3 = &S3Args{PartSizeMiB: 4} }),
			[]string{"anka:registry.s3.partSizeMiB"}},
		{"an S3 part size too small for the largest template is refused", with(EnvDev, func(a *Args) {
			a.Registry.Storage = StorageS3
			a.Registry.MaxTemplateSizeGB = 500
		}), []string{"anka:registry.s3.partSizeMiB"}},
		{"s3 without an OIDC provider is refused", with(EnvDev, func(a *Args) {
			a.Registry.Storage = StorageS3
			a.HasOIDC = false
		}), []string{"anka:cluster.oidcProviderArn"}},
		{"an FSx throughput not offered for the deployment type is refused", with(EnvDev, func(a *Args) { a.Registry.FSx = &FSxArgs{DeploymentType: FSxSingleAZ2, ThroughputMBps: 128} }),
			[]string{"anka:registry.fsx.throughputMBps"}},
		{"an FSx capacity below 64 GiB is refused", with(EnvDev, func(a *Args) { a.Registry.FSx = &FSxArgs{StorageGiB: 32} }),
			[]string{"anka:registry.fsx.storageGiB"}},
		{"FSx with automatic backups off is refused", with(EnvDev, func(a *Args) { a.Registry.FSx = &FSxArgs{BackupRetentionDays: 91} }),
			[]string{"anka:registry.fsx.backupRetentionDays"}},
		{"FSx without subnets or the node security group is refused", with(EnvDev, func(a *Args) {
			a.HasVPC = false
			a.HasNodeSecurityGroup = false
		}), []string{"anka:registry.storage", "anka:registry.storage"}},
		{"multi-AZ FSx without route tables is refused", with(EnvProd, func(a *Args) { a.HasRouteTables = false }),
			[]string{"anka:registry.fsx.deploymentType"}},
		{"a ReadWriteOnce claim for two registries is refused", with(EnvDev, func(a *Args) {
			a.Registry.Storage = StoragePVC
			a.Registry.PVC = &PVCArgs{StorageClass: "gp3", AccessMode: "ReadWriteOnce"}
		}), []string{"anka:registry.pvc.accessMode"}},
		{"a pvc without a storage class or claim is refused", with(EnvDev, func(a *Args) { a.Registry.Storage = StoragePVC }),
			[]string{"anka:registry.pvc.storageClass"}},
		{"prod without a root token is refused", with(EnvProd, func(a *Args) { a.RootToken = "" }),
			[]string{"anka:buildcloud.rootToken"}},
		{"a root token below the vendor's minimum is refused", with(EnvDev, func(a *Args) { a.RootToken = "short" }),
			[]string{"anka:buildcloud.rootToken"}},
		{"trusted certificate headers with direct CIDR access are refused", with(EnvDev, func(a *Args) {
			a.TrustEdgeClientCertHeaders = true
			a.IngressCIDRs = []string{"10.40.0.0/16"}
		}), []string{"anka:buildcloud.ingressCidrs"}},
		{"trusted certificate headers without a root token are refused", with(EnvDev, func(a *Args) {
			a.TrustEdgeClientCertHeaders = true
			a.RootToken = ""
		}), []string{"anka:buildcloud.rootToken"}},
		{"trusted certificate headers without the edge's pod labels are refused", with(EnvDev, func(a *Args) {
			a.TrustEdgeClientCertHeaders = true
			a.EdgePodLabels = nil
		}), []string{"anka:edge.mode"}},
		{"an image on latest is refused", with(EnvDev, func(a *Args) { a.Registry.Image = "veertu/anka-build-cloud-registry:latest" }),
			[]string{"anka:registry.image"}},
		{"a preStop sleep beyond 300 s is refused", with(EnvDev, func(a *Args) { a.PreStopSeconds = 301 }),
			[]string{"anka:buildcloud.preStopSeconds"}},
		{"a drain shorter than 30 s is refused", with(EnvDev, func(a *Args) { a.Registry.DrainSeconds = 10 }),
			[]string{"anka:registry.drainSeconds"}},
		{"a priority at or above etcd's is refused", with(EnvDev, func(a *Args) { a.EtcdPriorityClassValue = 500000 }),
			[]string{"anka:buildcloud.priorityClassValue"}},
		{"a defrag interval that is not a duration is refused", with(EnvDev, func(a *Args) { a.Controller.DefragDBInterval = "weekly" }),
			[]string{"anka:controller.defragDbInterval"}},
		{"missing etcd endpoints are refused", with(EnvDev, func(a *Args) { a.EtcdEndpoints = nil }),
			[]string{"anka:etcd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := harness.NewRecorder()
			err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "bc", tc.args, wiring(tc.args))
				return err
			})
			require.Error(t, err)
			harness.AssertKeys(t, err, tc.keys...)
			assert.Zero(t, rec.Len(), "nothing is registered for invalid args")
		})
	}
}

func TestBuildCloudValidConfigurationsPass(t *testing.T) {
	for name, a := range map[string]Args{
		"dev with FSx single-AZ":   wired(EnvDev),
		"prod with FSx multi-AZ":   wired(EnvProd),
		"prod with s3":             storageArgs(StorageS3),
		"the local control plane":  local(),
		"efs named explicitly":     storageArgs(StorageEFS),
		"split with 5 controllers": func() Args { a := wired(EnvProd); a.Topology = TopologySplit; a.Controller.Replicas = 5; return a }(),
	} {
		assert.NoError(t, a.Validate(), name)
	}
}

func TestBuildCloudDeployTimeChecks(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Args, *Wiring)
		want string
	}{
		{"an existing cluster without a node security group fails FSx", func(_ *Args, w *Wiring) { w.NodeSecurityGroupID = pulumi.String("") }, "anka:registry.storage"},
		{"a network without route tables fails multi-AZ FSx", func(a *Args, w *Wiring) {
			a.Registry.FSx = &FSxArgs{DeploymentType: FSxMultiAZ1}
			w.PrivateRouteTableIDs = pulumi.StringArray{}
		}, "MULTI_AZ_1 needs the private route tables"},
		{"wiring that lacks what the args declare is refused", func(_ *Args, w *Wiring) { w.VpcID = nil }, "buildcloud: Wiring lacks VpcID and PrivateSubnetIDs (HasVPC)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := wired(EnvDev)
			w := wiring(a)
			tc.edit(&a, &w)
			err := harness.Run(t, "unit", nil, nil, harness.NewRecorder(), func(ctx *pulumi.Context) error {
				_, err := New(ctx, "bc", a, w)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestBuildCloudDrainDefaultFitsTheLoadBalancers: the one setting of the
// drain chain defaults so that preStop + drain is exactly the longest
// deregistration delay AWS allows (3600 s), whatever the preStop.
func TestBuildCloudDrainDefaultFitsTheLoadBalancers(t *testing.T) {
	for _, preStop := range []int{0, 1, 30, 60, 300} {
		a := Args{PreStopSeconds: preStop}.WithDefaults()
		assert.Equal(t, 3600, a.PreStopSeconds+a.Registry.DrainSeconds, "preStop %d", preStop)
	}
	a := Args{Registry: RegistryArgs{DrainSeconds: 1200}}.WithDefaults()
	assert.Equal(t, 1200, a.Registry.DrainSeconds, "an explicit drain is kept")
}

// TestBuildCloudRolloutsHaveCustomTimeoutsCoveringTheDrains: with maxSurge
// 0 and required anti-affinity a new pod may wait for its predecessor's
// whole grace (a push draining), then its startup probe budget, one pod
// after the other. pulumi-kubernetes's default await is 10 minutes, so
// every Deployment gets custom timeouts covering replicas × (grace +
// startup), a delete timeout covering the grace (foreground deletion), and
// a progressDeadlineSeconds covering one pod.
func TestBuildCloudRolloutsHaveCustomTimeoutsCoveringTheDrains(t *testing.T) {
	split := wired(EnvDev)
	split.Topology = TopologySplit
	split.Controller.Replicas, split.Registry.Replicas = 3, 3
	for name, a := range map[string]Args{"combined": wired(EnvDev), "split": split} {
		t.Run(name, func(t *testing.T) {
			rec, _ := deploy(t, a)
			deps := rec.ByType(tDeployment)
			require.NotEmpty(t, deps)
			for _, dep := range deps {
				require.NotNil(t, dep.CustomTimeouts, "%s has custom timeouts", dep.Name)
				spec := resource.NewObjectProperty(dep.Inputs)
				replicas := spec.ObjectValue()["spec"].ObjectValue()["replicas"].NumberValue()
				pod := podSpec(t, rec, dep.Name)
				grace := pod["terminationGracePeriodSeconds"].NumberValue()
				start := 0.0
				for _, c := range pod["containers"].ArrayValue() {
					probe := obj(c.ObjectValue()["startupProbe"])
					start = max(start, probe["periodSeconds"].NumberValue()*probe["failureThreshold"].NumberValue())
				}
				for op, v := range map[string]string{"create": dep.CustomTimeouts.Create, "update": dep.CustomTimeouts.Update} {
					d, err := time.ParseDuration(v)
					require.NoError(t, err, "%s %s", dep.Name, op)
					assert.GreaterOrEqual(t, d.Seconds(), replicas*(grace+start), "%s %s covers replicas × (grace + startup)", dep.Name, op)
					assert.Greater(t, d, 10*time.Minute, "%s %s", dep.Name, op)
				}
				del, err := time.ParseDuration(dep.CustomTimeouts.Delete)
				require.NoError(t, err)
				assert.GreaterOrEqual(t, del.Seconds(), grace, "%s: a foreground delete waits for the pods' grace", dep.Name)
				progress := path(dep.Inputs, "spec", "progressDeadlineSeconds").NumberValue()
				assert.GreaterOrEqual(t, progress, grace+start, "%s: a pod waiting for a drain is not a stalled rollout", dep.Name)
			}
		})
	}
	rec, _ := deploy(t, split)
	reg := rec.Get(t, tDeployment, "bc-registry")
	assert.Equal(t, "3h46m30s", reg.CustomTimeouts.Update, "3 × (3600 grace + 120 schedule + 600 startup + 10 ready) + 600")
	assert.Equal(t, "1h10m0s", reg.CustomTimeouts.Delete, "3600 grace + 600")
}

// TestBuildCloudTeardownKeepsTheDataNotTheNetwork: what `pulumi destroy`
// keeps of the Registry's storage is the data (the file system, protected
// and retained), never something that sits in the stack's VPC: a retained
// security group, rule or mount target outlives destroy and makes the
// deletion of the subnets and the VPC fail (DependencyViolation). The file
// system depends on its group and rules (and the mount targets on the
// group, rules and file system), so destroy deletes them only after what
// uses them.
func TestBuildCloudTeardownKeepsTheDataNotTheNetwork(t *testing.T) {
	for _, mode := range []string{StorageFSxOpenZFS, StorageEFS} {
		t.Run(mode, func(t *testing.T) {
			rec, _ := deploy(t, storageArgs(mode))
			fsType := map[string]string{StorageFSxOpenZFS: tFSx, StorageEFS: tEFS}[mode]
			fs := rec.Get(t, fsType, "bc-registry")
			assert.True(t, fs.Protect && fs.RetainOnDelete, "the file system (the data) is protected and retained")

			sgName := map[string]string{StorageFSxOpenZFS: "bc-registry-nfs", StorageEFS: "bc-registry-efs"}[mode]
			sg := rec.Get(t, tSG, sgName)
			assert.False(t, sg.RetainOnDelete, "the NFS security group sits in the VPC: a retained group blocks the VPC's deletion")
			assert.False(t, sg.Protect)
			rules := rec.ByType(tSGIngress)
			require.NotEmpty(t, rules)
			for _, r := range rules {
				assert.False(t, r.RetainOnDelete, "%s is not retained", r.Name)
				assert.True(t, dependsOn(r, sg), "%s is deleted before its group", r.Name)
			}
			users := []harness.Resource{}
			if mode == StorageFSxOpenZFS {
				users = append(users, fs)
			} else {
				mts := rec.ByType(tMountTarget)
				require.Len(t, mts, 3)
				for _, mt := range mts {
					assert.False(t, mt.RetainOnDelete, "mount target %s is a network interface in a stack subnet: not retained", mt.Name)
					assert.False(t, mt.Protect)
					assert.True(t, dependsOn(mt, fs), "%s goes before the file system entry", mt.Name)
				}
				users = append(users, mts...)
				// the backup policy belongs to the kept file system
				assert.True(t, rec.Get(t, "aws:efs/backupPolicy:BackupPolicy", "bc-registry").RetainOnDelete)
			}
			for _, u := range users {
				assert.True(t, dependsOn(u, sg), "%s %s uses the group: destroy deletes the group after it", u.Type, u.Name)
				for _, r := range rules {
					assert.True(t, dependsOn(u, r), "%s %s is created after rule %s and deleted before it", u.Type, u.Name, r.Name)
				}
			}
		})
	}
}

// dependsOn: r names other among its dependencies (the engine's URNs carry
// the parent types, the recorder's do not: compare type and name).
func dependsOn(r, other harness.Resource) bool {
	for _, d := range r.DependsOn {
		if strings.HasSuffix(d, other.Type+"::"+other.Name) {
			return true
		}
	}
	return false
}
