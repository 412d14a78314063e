package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
	"github.com/anka-ha/anka-build-cloud-aws/internal/ebs"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests read the pod specs the program registers for each stack file
// from the golden files (TestStackGolden keeps them fresh) and check rules
// that only a cluster would otherwise enforce, at run time.

// podObject is a workload object with its pod template.
type podObject struct {
	Kind, Name string // Kubernetes kind and metadata.name
	Replicas   int
	MaxSurge   int
	Spec       map[string]any // the pod spec
	Claims     []map[string]any
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string         { s, _ := v.(string); return s }

func podObjects(t *testing.T, stack string) []podObject {
	t.Helper()
	var out []podObject
	for _, r := range readGolden(t, stack).Resources {
		kind := r.Type[strings.LastIndex(r.Type, ":")+1:]
		spec := obj(r.Inputs["spec"])
		var tmpl map[string]any
		switch r.Type {
		case "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job":
			tmpl = obj(spec["template"])
		case "kubernetes:batch/v1:CronJob":
			tmpl = obj(obj(obj(spec["jobTemplate"])["spec"])["template"])
		default:
			continue
		}
		o := podObject{Kind: kind, Name: str(obj(r.Inputs["metadata"])["name"]), Replicas: 1, Spec: obj(tmpl["spec"])}
		if n, ok := spec["replicas"].(float64); ok {
			o.Replicas = int(n)
		}
		if n, ok := obj(obj(spec["strategy"])["rollingUpdate"])["maxSurge"].(float64); ok {
			o.MaxSurge = int(n)
		}
		for _, c := range list(spec["volumeClaimTemplates"]) {
			o.Claims = append(o.Claims, obj(obj(c)["spec"]))
		}
		for _, v := range list(o.Spec["volumes"]) {
			if e := obj(obj(v)["ephemeral"]); e != nil {
				o.Claims = append(o.Claims, obj(obj(e["volumeClaimTemplate"])["spec"]))
			}
		}
		out = append(out, o)
	}
	require.NotEmpty(t, out, "no workloads in %s", stack)
	return out
}

func containers(spec map[string]any) (main, inits []map[string]any) {
	for _, c := range list(spec["containers"]) {
		main = append(main, obj(c))
	}
	for _, c := range list(spec["initContainers"]) {
		inits = append(inits, obj(c))
	}
	return main, inits
}

// TestPodsReadOnlyRootsHaveAWritableHome: a program that writes under $HOME
// (the AWS CLI caches IRSA credentials in ~/.aws/cli/cache and fails with
// "Read-only file system", aws/aws-cli#7376) must find it on a writable
// mount when the root filesystem is read-only; so must $TMPDIR where set.
func TestPodsReadOnlyRootsHaveAWritableHome(t *testing.T) {
	for _, stack := range environmentStacks {
		for _, o := range podObjects(t, stack) {
			main, inits := containers(o.Spec)
			for _, c := range append(main, inits...) {
				if ro, _ := obj(c["securityContext"])["readOnlyRootFilesystem"].(bool); !ro {
					continue
				}
				where := fmt.Sprintf("%s: %s %s container %s", stack, o.Kind, o.Name, str(c["name"]))
				env := map[string]string{}
				for _, e := range list(c["env"]) {
					env[str(obj(e)["name"])] = str(obj(e)["value"])
				}
				home, ok := env["HOME"]
				if !assert.True(t, ok, "%s has a read-only root and no HOME on a writable mount", where) {
					continue
				}
				assert.True(t, onWritableMount(c, home), "%s: HOME=%s is not under a writable volume mount", where, home)
				if tmp, ok := env["TMPDIR"]; ok {
					assert.True(t, onWritableMount(c, tmp), "%s: TMPDIR=%s is not under a writable volume mount", where, tmp)
				}
			}
		}
	}
}

func onWritableMount(c map[string]any, path string) bool {
	for _, m := range list(c["volumeMounts"]) {
		mp := str(obj(m)["mountPath"])
		ro, _ := obj(m)["readOnly"].(bool)
		if !ro && (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) {
			return true
		}
	}
	return false
}

// TestPodsClaimsWithinEBSLimits: every claim on one of the stack's EBS
// classes is one EC2's CreateVolume accepts for the class's type and IOPS
// (an io2 claim under 4 GiB, or under 1 GiB per 1,000 IOPS, stays Pending).
func TestPodsClaimsWithinEBSLimits(t *testing.T) {
	for _, stack := range environmentStacks {
		classes := map[string]ebs.Volume{}
		for _, r := range readGolden(t, stack).Resources {
			if r.Type != "kubernetes:storage.k8s.io/v1:StorageClass" || str(r.Inputs["provisioner"]) != "ebs.csi.aws.com" {
				continue
			}
			p := obj(r.Inputs["parameters"])
			var v ebs.Volume
			v.Type = str(p["type"])
			_, _ = fmt.Sscan(str(p["iops"]), &v.IOPS)
			_, _ = fmt.Sscan(str(p["throughput"]), &v.ThroughputMiBps)
			classes[str(obj(r.Inputs["metadata"])["name"])] = v
		}
		require.NotEmpty(t, classes, stack)
		checked := 0
		for _, o := range podObjects(t, stack) {
			for _, c := range o.Claims {
				v, ok := classes[str(c["storageClassName"])]
				if !ok {
					continue
				}
				size, err := capacity.Quantities("", str(obj(obj(c["resources"])["requests"])["storage"]))
				require.NoError(t, err)
				v.SizeGiB = int(size.MemoryMiB / 1024)
				assert.Empty(t, ebs.Check(v, ebs.Keys{Size: "size", IOPS: "iops", Throughput: "throughput"}),
					"%s: %s %s claims %v on %s", stack, o.Kind, o.Name, v, c["storageClassName"])
				checked++
			}
		}
		assert.GreaterOrEqual(t, checked, 2, "%s: the etcd members' and the disk check's claims", stack)
	}
}

// TestCapacityWorkloadsMatchPodSpecs: the capacity plan places what the
// components say they run (Workloads); this holds them to the pod specs the
// program registers, so a change to a request, a replica count, an
// anti-affinity or a spread rule cannot leave the plan behind.
func TestCapacityWorkloadsMatchPodSpecs(t *testing.T) {
	for _, stack := range environmentStacks {
		t.Run(stack, func(t *testing.T) {
			cfg := loadConfig(t, stack)
			ws, err := cfg.Workloads()
			require.NoError(t, err)
			byName := map[string]capacity.Workload{}
			for _, w := range ws {
				byName[w.Name] = w
			}
			seen := map[string]bool{}
			for _, o := range podObjects(t, stack) {
				w, ok := byName[o.Name]
				if !ok {
					// Names with a hash suffix match by prefix.
					for name, cand := range byName {
						if strings.HasSuffix(name, "-") && strings.HasPrefix(o.Name, name) {
							w, ok = cand, true
						}
					}
				}
				if !assert.True(t, ok, "%s %s runs pods the capacity plan does not know", o.Kind, o.Name) {
					continue
				}
				seen[w.Name] = true
				main, inits := containers(o.Spec)
				assert.Equal(t, w.Requests, requestsOf(t, main, inits), "%s %s: effective pod requests", o.Kind, o.Name)
				assert.Equal(t, w.Replicas, o.Replicas, "%s %s: replicas", o.Kind, o.Name)
				assert.Equal(t, w.Transient, o.Kind == "Job" || o.Kind == "CronJob", "%s %s: transient", o.Kind, o.Name)
				assert.Equal(t, w.Surge, o.MaxSurge, "%s %s: maxSurge", o.Kind, o.Name)
				anti, strict := scheduling(o.Spec)
				assert.Equal(t, w.OnePerNode, anti, "%s %s: required hostname anti-affinity", o.Kind, o.Name)
				assert.Equal(t, w.StrictZoneSpread, strict, "%s %s: DoNotSchedule zone spread", o.Kind, o.Name)
			}
			for name := range byName {
				assert.True(t, seen[name], "the plan places %s, which the program does not run", name)
			}
		})
	}
}

func requestsOf(t *testing.T, main, inits []map[string]any) capacity.Resources {
	t.Helper()
	get := func(cs []map[string]any) []capacity.Resources {
		var out []capacity.Resources
		for _, c := range cs {
			req := obj(obj(c["resources"])["requests"])
			r, err := capacity.Quantities(str(req["cpu"]), str(req["memory"]))
			require.NoError(t, err)
			out = append(out, r)
		}
		return out
	}
	return capacity.PodRequests(get(main), get(inits))
}

func scheduling(spec map[string]any) (antiAffinity, strictSpread bool) {
	aff := obj(obj(spec["affinity"])["podAntiAffinity"])
	for _, term := range list(aff["requiredDuringSchedulingIgnoredDuringExecution"]) {
		if str(obj(term)["topologyKey"]) == "kubernetes.io/hostname" {
			antiAffinity = true
		}
	}
	for _, c := range list(spec["topologySpreadConstraints"]) {
		if str(obj(c)["topologyKey"]) == "topology.kubernetes.io/zone" && str(obj(c)["whenUnsatisfiable"]) == "DoNotSchedule" {
			strictSpread = true
		}
	}
	return antiAffinity, strictSpread
}

// loadConfig loads and validates a stack file's config the way the program
// does, under the mock.
func loadConfig(t *testing.T, stack string) stacks.Config {
	t.Helper()
	run, err := runStackFile(t, stack, nil)
	require.NoError(t, err)
	return run.stack.Config
}
