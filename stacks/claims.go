package stacks

import (
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/anka-ha/anka-build-cloud-aws/internal/ebs"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// claim is one PersistentVolumeClaim the stack makes on an EBS class.
type claim struct {
	what    string
	sizeGiB int
	sizeKey string
}

// claims lists every claim the stack makes on the etcd classes, with the key
// that sets its size.
func (c Config) claims() []claim {
	out := []claim{{what: "each etcd member's volume", sizeGiB: c.Etcd.VolumeSizeGi, sizeKey: "anka:etcd.volumeSizeGi"}}
	if c.Etcd.DiskCheck.Enabled != nil && *c.Etcd.DiskCheck.Enabled {
		// Sized by MinClaimGiB from the class; listed so the rule covers it.
		out = append(out, claim{what: "the disk check's volume", sizeGiB: c.Etcd.DiskCheckSizeGi, sizeKey: storage.Keys.IOPS})
	}
	return out
}

// checkClaims checks every claim on an EBS class against EC2's limits for
// the class's volume type (internal/ebs), so a claim EC2 would refuse (the
// pod Pending, `up` timing out) is refused at preview, naming the key.
func (c Config) checkClaims(p *validation.Problems) {
	if _, ok := ebs.For(c.Storage.Etcd.Type); !ok {
		return // the type itself is refused by the storage validation
	}
	// Class-wide limits (IOPS, throughput) are the storage validation's.
	classWide := map[string]bool{}
	for _, v := range ebs.CheckClass(c.Storage.Etcd.Volume(0), storage.Keys) {
		classWide[v.Msg] = true
	}
	for _, cl := range c.claims() {
		k := storage.Keys
		k.Size = cl.sizeKey
		for _, v := range ebs.Check(c.Storage.Etcd.Volume(cl.sizeGiB), k) {
			if !classWide[v.Msg] {
				p.Addf(v.Key, "(%s) %s", cl.what, v.Msg)
			}
		}
	}
}
