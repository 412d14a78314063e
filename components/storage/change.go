package storage

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParametersAnnotation on the etcd StatefulSet records the class parameters
// its volumes were provisioned with (the JSON of Parameters). A storage
// change updates it in place (metadata only: no pod restarts), and the
// StatefulSet's update hook compares old and new to warn at preview.
const ParametersAnnotation = "anka.io/etcd-storage-parameters"

// ClassAnnotation on the etcd StatefulSet names the class its claim
// template asks for, as configured now. The claim template itself is
// immutable and ignored on update, so the StatefulSet's update hook compares
// this with the template in state to refuse a rename (ClassChangeError).
const ClassAnnotation = "anka.io/etcd-storage-class"

// ClassNameKey is the config key of the etcd StorageClass's name.
const ClassNameKey = "anka:storage.etcd.className"

// ClassChangeError refuses a change of the etcd class's name on a deployed
// stack: the claims and the StatefulSet's immutable claim template keep
// naming the old class, which `up` would delete (it is a replacement of the
// class resource), so a member recreated later (the member-replacement
// runbook, a scale-up) would wait forever for a class that no longer
// exists. nil when nothing changed or either name is unknown.
func ClassChangeError(claimClass, configured string) error {
	if claimClass == "" || configured == "" || claimClass == configured {
		return nil
	}
	return fmt.Errorf("%s cannot change on a deployed stack: the etcd claims and the StatefulSet's claim template (immutable) name StorageClass %q, which this `up` would delete, and a member recreated later could never get a volume. Set it back: pulumi config set --path '%s' %s (to move etcd to another class, replace one member at a time: docs/operations.md, \"Changing etcd storage\")",
		ClassNameKey, claimClass, ClassNameKey, claimClass)
}

// KMSKeyArnKey is the config key of the volumes' KMS key.
const KMSKeyArnKey = "anka:storage.etcd.kmsKeyArn"

// Fingerprint is the JSON of the class's parameters for args: the
// ParametersAnnotation value, and what reruns the disk check.
func Fingerprint(args Args) string {
	b, _ := json.Marshal(Parameters(args))
	return string(b)
}

// paramKeys maps the EBS CSI parameters a user sets to their config keys,
// in the order a warning names them.
var paramKeys = []struct{ param, key string }{
	{"type", Keys.Type},
	{"iops", Keys.IOPS},
	{"throughput", Keys.Throughput},
	{"kmsKeyId", KMSKeyArnKey},
}

// ChangeWarning says what a storage change does to the volumes that exist
// already, given the old and new Fingerprint: "" when no setting changed or
// oldFP is empty (the first deployment, or a stack from before the
// annotation). New volumes get the new parameters from the replaced class;
// existing ones keep theirs until modified with `aws ec2 modify-volume`, one
// at a time, each at most once per 6 hours (EBS). A KMS key cannot be
// changed on a volume.
func ChangeWarning(oldFP, newFP, className, namespace string, claims []string) string {
	if oldFP == "" || oldFP == newFP {
		return ""
	}
	var oldP, newP map[string]string
	if json.Unmarshal([]byte(oldFP), &oldP) != nil || json.Unmarshal([]byte(newFP), &newP) != nil {
		return ""
	}
	var changed []string
	var modify []string
	kms := false
	for _, pk := range paramKeys {
		o, n := oldP[pk.param], newP[pk.param]
		if o == n {
			continue
		}
		changed = append(changed, fmt.Sprintf("%s %s -> %s", pk.key, orNone(o), orNone(n)))
		switch pk.param {
		case "type":
			modify = append(modify, "--volume-type "+n)
		case "iops":
			modify = append(modify, "--iops "+n)
		case "throughput":
			if n != "" {
				modify = append(modify, "--throughput "+n)
			}
		case "kmsKeyId":
			kms = true
		}
	}
	if len(changed) == 0 {
		return ""
	}
	// io2 takes no throughput; a change to gp3 must name it even if unchanged.
	if newP["type"] != oldP["type"] && newP["type"] == TypeGP3 && !strings.Contains(strings.Join(modify, " "), "--throughput") {
		modify = append(modify, "--throughput "+newP["throughput"])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "etcd storage change (%s): `pulumi up` replaces StorageClass %s and its disk-check class (delete before replace: their parameters are immutable) and only volumes provisioned from now on get the new settings; the %d existing etcd volumes keep theirs until changed in place.",
		strings.Join(changed, ", "), className, len(claims))
	if len(modify) > 0 {
		fmt.Fprintf(&b, " After `pulumi up`, modify them one at a time (online, the member keeps running), each only when the previous one shows `optimizing` or `completed`:")
		for _, c := range claims {
			fmt.Fprintf(&b, " VOL=$(kubectl get pv \"$(kubectl -n %s get pvc %s -o jsonpath='{.spec.volumeName}')\" -o jsonpath='{.spec.csi.volumeHandle}'); aws ec2 modify-volume --volume-id \"$VOL\" %s; aws ec2 describe-volumes-modifications --volume-ids \"$VOL\" --query 'VolumesModifications[0].ModificationState';",
				namespace, c, strings.Join(modify, " "))
		}
		b.WriteString(" EBS allows one modification per volume every 6 hours: a failed or further change waits that long.")
	}
	if kms {
		fmt.Fprintf(&b, " %s: EBS cannot re-encrypt a volume; existing volumes keep their key until a member is moved onto a new volume (docs/operations.md, \"Changing etcd storage\").", KMSKeyArnKey)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
