package etcd

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// podSpecs are the pod specs of every workload the component registers
// with args, by "<type> <resource name>".
func podSpecs(t *testing.T, args Args) map[string]resource.PropertyValue {
	t.Helper()
	rec, err := run(t, args)
	require.NoError(t, err)
	out := map[string]resource.PropertyValue{}
	for _, r := range rec.Resources() {
		in := resource.NewObjectProperty(r.Inputs)
		switch r.Type {
		case "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job":
			out[r.Type+" "+r.Name] = obj(in, "spec", "template", "spec")
		case "kubernetes:batch/v1:CronJob":
			out[r.Type+" "+r.Name] = obj(in, "spec", "jobTemplate", "spec", "template", "spec")
		}
	}
	return out
}

func allContainers(pod resource.PropertyValue) []resource.PropertyValue {
	var out []resource.PropertyValue
	for _, list := range []string{"initContainers", "containers"} {
		if v := obj(pod, list); v.IsArray() {
			out = append(out, v.ArrayValue()...)
		}
	}
	return out
}

func strv(v resource.PropertyValue) string {
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func num(v resource.PropertyValue) float64 {
	if v.IsNumber() {
		return v.NumberValue()
	}
	return -1
}

// TestEtcdPodsAreRestricted: every pod of the component (members, prune,
// backup, disk check) meets the Pod Security Standards' "restricted"
// profile with explicit non-root ids of at least 10000, an fsGroup for its
// volumes and Secret files (changed only on a root mismatch), no
// service-account token, and requests plus a memory ceiling on every
// container but the members' etcd (no limit by default, on purpose).
func TestEtcdPodsAreRestricted(t *testing.T) {
	pods := podSpecs(t, prodArgs())
	require.Len(t, pods, 4, "members, prune, backup, disk check: %v", pods)
	for name, pod := range pods {
		sc := obj(pod, "securityContext")
		assert.True(t, obj(sc, "runAsNonRoot").IsBool() && obj(sc, "runAsNonRoot").BoolValue(), "%s: runAsNonRoot", name)
		for _, id := range []string{"runAsUser", "runAsGroup", "fsGroup"} {
			assert.GreaterOrEqual(t, num(obj(sc, id)), 10000.0, "%s: %s", name, id)
		}
		assert.Equal(t, float64(PodGID), num(obj(sc, "fsGroup")), "%s: the fsGroup is the pods' group", name)
		assert.Equal(t, "OnRootMismatch", strv(obj(sc, "fsGroupChangePolicy")), "%s", name)
		assert.Equal(t, "RuntimeDefault", strv(obj(sc, "seccompProfile", "type")), "%s", name)
		at := obj(pod, "automountServiceAccountToken")
		assert.True(t, at.IsBool() && !at.BoolValue(), "%s: no service-account token", name)

		cs := allContainers(pod)
		require.NotEmpty(t, cs, name)
		for _, c := range cs {
			where := name + " container " + strv(obj(c, "name"))
			csc := obj(c, "securityContext")
			assert.True(t, obj(csc, "runAsNonRoot").IsBool() && obj(csc, "runAsNonRoot").BoolValue(), "%s: runAsNonRoot", where)
			assert.Equal(t, float64(PodUID), num(obj(csc, "runAsUser")), where)
			assert.Equal(t, float64(PodGID), num(obj(csc, "runAsGroup")), where)
			ape := obj(csc, "allowPrivilegeEscalation")
			assert.True(t, ape.IsBool() && !ape.BoolValue(), "%s: allowPrivilegeEscalation false", where)
			ro := obj(csc, "readOnlyRootFilesystem")
			assert.True(t, ro.IsBool() && ro.BoolValue(), "%s: read-only root", where)
			assert.Equal(t, []any{"ALL"}, obj(csc, "capabilities", "drop").Mappable(), where)
			assert.True(t, obj(csc, "capabilities", "add").IsNull(), "%s adds no capability", where)
			assert.Equal(t, "RuntimeDefault", strv(obj(csc, "seccompProfile", "type")), where)

			res := obj(c, "resources")
			assert.True(t, obj(res, "requests", "cpu").IsString() && obj(res, "requests", "memory").IsString(), "%s: requests", where)
			if name == "kubernetes:apps/v1:StatefulSet etcd-members" && strv(obj(c, "name")) == "etcd" {
				continue // anka:etcd.memoryLimit, none by default
			}
			assert.True(t, obj(res, "limits", "memory").IsString(), "%s: a memory ceiling", where)
		}
	}
}

// TestEtcdSecretVolumesAre0400: every Secret the component mounts is mode
// 0400 (256), items included; the fsGroup above lets the non-root user
// read them.
func TestEtcdSecretVolumesAre0400(t *testing.T) {
	seen := 0
	for name, pod := range podSpecs(t, prodArgs()) {
		for _, v := range obj(pod, "volumes").ArrayValue() {
			s := obj(v, "secret")
			if s.IsNull() {
				continue
			}
			seen++
			assert.Equal(t, 256.0, num(obj(s, "defaultMode")), "%s volume %s", name, strv(obj(v, "name")))
			if items := obj(s, "items"); items.IsArray() {
				for _, it := range items.ArrayValue() {
					assert.Equal(t, 256.0, num(obj(it, "mode")), "%s item %s", name, strv(obj(it, "key")))
				}
			}
		}
	}
	assert.Equal(t, 3, seen, "members, prune and backup mount TLS material")
}

// TestEtcdPruneMountsOnlyTheClientPair: the prune Job runs etcdctl as a
// client, so it gets the CA and the client pair and neither the server nor
// the peer key; the members still get the whole Secret.
func TestEtcdPruneMountsOnlyTheClientPair(t *testing.T) {
	pods := podSpecs(t, prodArgs())
	tlsVol := func(pod resource.PropertyValue) resource.PropertyValue {
		for _, v := range obj(pod, "volumes").ArrayValue() {
			if strv(obj(v, "name")) == tlsVolume {
				return obj(v, "secret")
			}
		}
		return resource.NewNullProperty()
	}
	var prune resource.PropertyValue
	for name, pod := range pods {
		if strings.HasSuffix(name, "etcd-prune") {
			prune = pod
		}
	}
	require.False(t, prune.IsNull(), "no prune Job in %v", pods)
	sec := tlsVol(prune)
	require.True(t, sec.IsObject(), "the prune Job mounts TLS material")
	require.True(t, obj(sec, "items").IsArray(), "the prune Job names the Secret's items it mounts")
	var keys []string
	for _, it := range obj(sec, "items").ArrayValue() {
		keys = append(keys, strv(obj(it, "key")))
		assert.Equal(t, strv(obj(it, "key")), strv(obj(it, "path")))
	}
	assert.Equal(t, []string{"ca.crt", "client.crt", "client.key"}, keys)
	assert.True(t, obj(tlsVol(pods["kubernetes:apps/v1:StatefulSet etcd-members"]), "items").IsNull(),
		"the members mount the whole Secret (server and peer pairs)")
}

// TestEtcdDataStaysWritable: the members' data volume is mounted writable
// at the data dir, and the pod's fsGroup is what makes it writable by the
// non-root user (the claim's volume root belongs to root when provisioned).
func TestEtcdDataStaysWritable(t *testing.T) {
	pod := podSpecs(t, prodArgs())["kubernetes:apps/v1:StatefulSet etcd-members"]
	var etcd resource.PropertyValue
	for _, c := range obj(pod, "containers").ArrayValue() {
		if strv(obj(c, "name")) == "etcd" {
			etcd = c
		}
	}
	found := false
	for _, m := range obj(etcd, "volumeMounts").ArrayValue() {
		if strv(obj(m, "name")) == dataVolume {
			found = true
			assert.Equal(t, dataMount, strv(obj(m, "mountPath")))
			assert.False(t, obj(m, "readOnly").IsBool() && obj(m, "readOnly").BoolValue())
		}
	}
	assert.True(t, found, "etcd mounts its data volume")
	assert.Equal(t, float64(PodGID), num(obj(pod, "securityContext", "fsGroup")))
}

// TestEtcdDiskCheckShipsFio: the disk check runs the fio its image ships,
// with a command that installs nothing, and validation refuses an image
// known to have no fio (the former default alpine:3.22 among them) and
// would refuse a command that runs a package manager.
func TestEtcdDiskCheckShipsFio(t *testing.T) {
	var dc resource.PropertyValue
	for name, pod := range podSpecs(t, prodArgs()) {
		if strings.HasSuffix(name, "etcd-disk-check") {
			dc = obj(pod, "containers").ArrayValue()[0]
		}
	}
	require.False(t, dc.IsNull())
	assert.Equal(t, "ghcr.io/kastenhq/kubestr:v0.4.49", strv(obj(dc, "image")))
	var cmd []string
	for _, v := range obj(dc, "command").ArrayValue() {
		cmd = append(cmd, v.StringValue())
	}
	assert.Equal(t, DiskCheckCommand(), cmd)
	assert.Empty(t, installsPackages(cmd), "the command installs nothing")

	assert.Equal(t, "apk", installsPackages([]string{"sh", "-c", "apk add --no-cache fio >/dev/null && sh /anka/scripts/disk-check.sh /data"}),
		"the former command is recognised")
	assert.Equal(t, "apt-get", installsPackages([]string{"/bin/sh", "-c", "/usr/bin/apt-get install -y fio"}))
	assert.Empty(t, installsPackages([]string{"sh", "/anka/scripts/disk-check.sh", "/data"}))

	for _, image := range []string{"alpine:3.22", "docker.io/library/alpine:3.22", "debian:12", "ubuntu:24.04@sha256:" + strings.Repeat("a", 64)} {
		a := prodArgs()
		a.DiskCheck.Image = image
		err := a.Validate()
		require.Error(t, err, image)
		assert.Contains(t, err.Error(), "anka:etcd.diskCheck.image must name an image that contains fio", image)
	}
	for _, image := range []string{DefaultFioImage, "registry.example.com:5000/tools/fio:3.36", "my.registry/alpine-fio:1"} {
		a := prodArgs()
		a.DiskCheck.Image = image
		if err := a.Validate(); err != nil {
			assert.NotContains(t, err.Error(), "must name an image that contains fio", image)
		}
	}
	a := prodArgs()
	a.DiskCheck.Enabled = new(false)
	a.DiskCheck.Image = "alpine:3.22"
	if err := a.Validate(); err != nil {
		assert.NotContains(t, err.Error(), "anka:etcd.diskCheck.image", "the image of a disabled check is not judged")
	}
}
