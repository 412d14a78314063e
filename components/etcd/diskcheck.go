package etcd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/imageref"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DiskCheckTTLSeconds keeps a finished disk check (and its logs) a day.
const DiskCheckTTLSeconds = 86400

// Where the disk-check container sees the volume under test and the scripts.
const (
	diskCheckDataDir    = "/data"
	diskCheckScriptsDir = "/anka/scripts"
)

// DiskCheckCommand is the disk-check container's command: the image's sh
// runs check.sh (components/etcd/diskcheck), which runs the image's fio.
// It installs nothing: Validate refuses it if it ever runs a package
// manager (installsPackages).
func DiskCheckCommand() []string {
	return []string{"sh", diskCheckScriptsDir + "/disk-check.sh", diskCheckDataDir}
}

// diskCheckJob measures fdatasync latency on a fresh volume of the etcd
// StorageClass the way etcd's hardware guide does, and fails (failing the
// `pulumi up` that awaits it) when the p99 is above the threshold. Its name
// carries a hash of what it measures, so it runs again when that changes.
func diskCheckJob(ctx *pulumi.Context, name string, args Args, cm *corev1.ConfigMap, parent pulumi.ResourceOption) error {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s", args.StorageFingerprint, args.DiskCheck.ThresholdMs, args.DiskCheck.Image)))
	jobName := "etcd-disk-check-" + hex.EncodeToString(sum[:])[:8]
	_, err := batchv1.NewJob(ctx, name+"-disk-check", &batchv1.JobArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(jobName), Namespace: pulumi.String(args.Namespace), Labels: labels()},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(0),
			ActiveDeadlineSeconds: pulumi.Int(900),
			// The finished Job and its pod go after a day, and with the pod
			// its claim and volume; a refresh after that reruns the check.
			TtlSecondsAfterFinished: pulumi.Int(DiskCheckTTLSeconds),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: pulumi.StringMap{appLabel: pulumi.String("etcd-disk-check"), JobLabel: pulumi.String("true")}},
				Spec: corev1.PodSpecArgs{
					RestartPolicy: pulumi.String("Never"),
					// It measures a volume; it talks to no API at all.
					AutomountServiceAccountToken: pulumi.Bool(false),
					EnableServiceLinks:           pulumi.Bool(false),
					// fsGroup makes the fresh volume writable by the
					// non-root user, as for the members' data.
					SecurityContext: restrictedPod(),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("fio"),
						Image: pulumi.String(args.DiskCheck.Image),
						// fio comes with the image (anka:etcd.diskCheck.image):
						// nothing is installed or downloaded when it runs.
						Command: pulumi.ToStringArray(DiskCheckCommand()),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("ANKA_DISKCHECK_THRESHOLD_MS"), Value: pulumi.String(fmt.Sprint(args.DiskCheck.ThresholdMs))},
							home(tmpDir),
						},
						SecurityContext: restrictedContainer(),
						Resources:       smallResources(fioCPU, fioMemory, fioMemoryLimit),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(diskCheckDataDir)},
							corev1.VolumeMountArgs{Name: pulumi.String(scripts), MountPath: pulumi.String(diskCheckScriptsDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String(tmpDir)},
						},
					}},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String(scripts), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(ScriptsConfigMapName)}},
						corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
						// A fresh volume with the etcd class's parameters,
						// deleted with the pod (its class reclaims with Delete).
						corev1.VolumeArgs{Name: pulumi.String("data"), Ephemeral: corev1.EphemeralVolumeSourceArgs{
							VolumeClaimTemplate: corev1.PersistentVolumeClaimTemplateArgs{
								Spec: corev1.PersistentVolumeClaimSpecArgs{
									AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
									StorageClassName: pulumi.String(args.DiskCheckStorageClassName),
									Resources: corev1.VolumeResourceRequirementsArgs{
										Requests: pulumi.StringMap{"storage": pulumi.Sprintf("%dGi", args.DiskCheckSizeGi)},
									},
								},
							},
						}},
					},
				},
			},
		},
	}, parent, pulumi.DeleteBeforeReplace(true), pulumi.DependsOn([]pulumi.Resource{cm}))
	return err
}

// bareImages are Docker Hub's official distribution images: none has fio,
// and the check no longer installs it.
var bareImages = map[string]bool{
	"alpine": true, "busybox": true, "debian": true, "ubuntu": true, "amazonlinux": true,
	"centos": true, "fedora": true, "rockylinux": true, "almalinux": true, "oraclelinux": true,
}

// diskCheckImageProblem says why image cannot run the disk check, or "".
// Whether an image really has fio shows only when it runs (check.sh then
// fails with reason=no-fio); this refuses what is known beforehand. The
// reference's form and pinning are checked with every image key.
func diskCheckImageProblem(image string) string {
	ref, err := imageref.Parse(image)
	if err != nil {
		return "" // the image keys' own check names the form's problem
	}
	repo := ref.Name()
	if ref.Domain == "docker.io" || ref.Domain == "" {
		repo = strings.TrimPrefix(ref.Path, "library/")
	}
	if bareImages[repo] {
		return "must name an image that contains fio (with sh and awk): " + repo + " is a bare distribution image without fio, and the check installs nothing when it runs; use the default " + DefaultFioImage + " or an image of your own with fio"
	}
	return ""
}

// packageManagers are the commands that install software into a container.
var packageManagers = []string{"apk", "apt", "apt-get", "dnf", "yum", "microdnf", "zypper", "pip", "pip3", "curl", "wget"}

// installsPackages names the package manager or downloader that cmd runs
// (as a word anywhere in it, e.g. inside `sh -c "..."`), or "".
func installsPackages(cmd []string) string {
	for _, arg := range cmd {
		for _, w := range strings.FieldsFunc(arg, func(r rune) bool {
			return r != '-' && r != '_' && r != '.' && r != '/' && (r < 'a' || r > 'z') && (r < '0' || r > '9')
		}) {
			base := w[strings.LastIndex(w, "/")+1:]
			if slices.Contains(packageManagers, base) {
				return base
			}
		}
	}
	return ""
}
