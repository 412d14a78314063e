package member

import (
	_ "embed"
	"fmt"
	"path"
)

// The scripts, embedded so the component can ship them in a ConfigMap mounted at ScriptsDir.
var (
	//go:embed member.sh
	Script string
	//go:embed backup.sh
	BackupScript string
)

// File names of the scripts in the ConfigMap.
const (
	ScriptName       = "member.sh"
	BackupScriptName = "backup.sh"
)

// Modes of member.sh, its first argument.
const (
	// ModeStart is the etcd container's entrypoint: decide how to start, then run etcd.
	ModeStart = "start"
	// ModePrune is the scale-down Job, run with the NEW (smaller) settings before the StatefulSet
	// shrinks: it removes the members not in the desired list, one at a time, highest ordinal first,
	// only while every member that stays is healthy.
	ModePrune = "prune"
	// ModeHealth reports this member's health, alarms and db size, one line; exits 1 unless healthy.
	// "health all" reports every member. For operators: kubectl exec etcd-0 -c etcd -- <Command(ModeHealth)>.
	ModeHealth = "health"
	// ModeReclaim is for a maintenance window: compact to the current revision, defragment each member,
	// disarm alarms (NOSPACE). Defragmentation blocks each member while it runs.
	ModeReclaim = "reclaim"
)

// Downward-API variables the pod must set; Env lists them with their field paths.
const (
	PodNameEnv = "POD_NAME"
	PodUIDEnv  = "POD_UID"
)

// BusyboxImagePath is where the busybox image keeps its binary. The image must be a static build:
// busybox:1.36.1-musl (or -uclibc); the plain busybox:1.36.1 tag is the glibc build, dynamically
// linked, which cannot run in the distroless etcd image.
const BusyboxImagePath = "/bin/busybox"

// Command is the etcd container's command for a mode (ModeStart for the StatefulSet, ModePrune for
// the scale-down Job), e.g. [/anka/bin/busybox sh /anka/scripts/member.sh start].
func (s Settings) Command(mode string) []string {
	return []string{path.Join(s.ToolsDir, "busybox"), "sh", path.Join(s.ScriptsDir, ScriptName), mode}
}

// InitCommand is the command of the init container (busybox image, ToolsDir mounted as an emptyDir):
// it copies the static busybox into ToolsDir and links its applets there.
func (s Settings) InitCommand() []string {
	return []string{BusyboxImagePath, "sh", "-c", ToolsInstallScript(BusyboxImagePath, s.ToolsDir)}
}

// ToolsInstallScript copies busybox from src into dir and links its applets there; the links point
// at dir/busybox, so they work in a container that has no busybox of its own.
func ToolsInstallScript(src, dir string) string {
	return fmt.Sprintf("cp %s %s/busybox && %s/busybox --install -s %s", src, dir, dir, dir)
}

// EtcdToolsCopyCommand is the command of a second init container, run in the etcd image (which has
// no shell) after InitCommand, that copies etcdctl and etcdutl into ToolsDir for another image
// (the backup CronJob's aws-cli image).
func (s Settings) EtcdToolsCopyCommand() []string {
	return []string{path.Join(s.ToolsDir, "busybox"), "cp",
		path.Join(s.EtcdBinDir, "etcdctl"), path.Join(s.EtcdBinDir, "etcdutl"), s.ToolsDir + "/"}
}

// PruneSkipEnv, set to "true" in the prune Job, makes prune finish at once
// when no member name resolves (the first deployment, before any pod).
const PruneSkipEnv = "ANKA_ETCD_PRUNE_SKIP_IF_NO_MEMBERS"

// PruneEnv is the prune Job's environment: Env plus PruneSkipEnv.
func (s Settings) PruneEnv() []EnvVar {
	return append(s.Env(), EnvVar{Name: PruneSkipEnv, Value: "true"})
}
