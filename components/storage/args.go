package storage

import (
	"cmp"

	"github.com/anka-ha/anka-build-cloud-aws/internal/ebs"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// EBS volume types allowed for etcd. gp2 (burst credits), st1/sc1 (HDD),
// standard (magnetic) and EFS (network file system) all make etcd's fsync
// latency unpredictable and are refused.
const (
	TypeGP3 = ebs.GP3
	TypeIO2 = ebs.IO2
)

// Defaults, in one place.
const (
	DefaultClassName  = "anka-etcd"
	DefaultType       = TypeGP3
	DefaultGP3IOPS    = 3000
	DefaultGP3MiBps   = 125
	DefaultIO2IOPS    = 6000
	DefaultFSType     = "ext4"
	EBSCSIProvisioner = "ebs.csi.aws.com"
)

// Args configures the etcd StorageClass. Config anka:storage.etcd.
type Args struct {
	// ClassName of the StorageClass, default anka-etcd. Renaming it after the
	// first deployment orphans the volumes' class: the old one is retained.
	// Config anka:storage.etcd.className.
	ClassName string `json:"className"`
	// Type is gp3 (default) or io2. Config anka:storage.etcd.type.
	Type string `json:"type"`
	// IOPS: gp3 3000-80000 (default 3000), io2 100-256000 (default 6000);
	// see internal/ebs for the limits and their sources.
	// Config anka:storage.etcd.iops.
	IOPS int `json:"iops"`
	// ThroughputMiBps for gp3, 125-2000 (default 125, at most IOPS/4); not
	// allowed for io2. Config anka:storage.etcd.throughputMiBps.
	ThroughputMiBps int `json:"throughputMiBps"`
	// KMSKeyArn encrypts the volumes with a customer key; "" uses the
	// account's default EBS key. Volumes are always encrypted.
	// Config anka:storage.etcd.kmsKeyArn.
	KMSKeyArn string `json:"kmsKeyArn"`
	// Zones restricts provisioning to these zones (allowedTopologies); empty
	// allows any. Set from anka:network.availabilityZones.
	Zones []string `json:"-"`
}

// WithDefaults returns a copy with every unset field at its default.
func (a Args) WithDefaults() Args {
	a.ClassName = cmp.Or(a.ClassName, DefaultClassName)
	a.Type = cmp.Or(a.Type, DefaultType)
	if a.IOPS == 0 {
		if a.Type == TypeIO2 {
			a.IOPS = DefaultIO2IOPS
		} else {
			a.IOPS = DefaultGP3IOPS
		}
	}
	if a.ThroughputMiBps == 0 && a.Type == TypeGP3 {
		a.ThroughputMiBps = DefaultGP3MiBps
	}
	return a
}

// Validate reports every problem with the (defaulted) args, naming config keys.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems
	switch a.Type {
	case TypeGP3, TypeIO2:
		for _, v := range ebs.CheckClass(a.Volume(0), Keys) {
			p.Addf(v.Key, "%s", v.Msg)
		}
	case "gp2", "standard", "st1", "sc1", "io1", "efs":
		p.Addf("anka:storage.etcd.type", "must be gp3 or io2, got %q: etcd needs steady fdatasync latency (gp2 runs out of burst credits, HDD and EFS are too slow); use gp3 with provisioned IOPS or io2", a.Type)
	default:
		p.OneOf("anka:storage.etcd.type", a.Type, TypeGP3, TypeIO2)
	}
	if a.KMSKeyArn != "" {
		p.KMSKey("anka:storage.etcd.kmsKeyArn", a.KMSKeyArn)
	}
	return p.Err()
}

// Keys name the config keys of the class's settings; a claim's size key is
// the claimant's.
var Keys = ebs.Keys{
	Type:       "anka:storage.etcd.type",
	IOPS:       "anka:storage.etcd.iops",
	Throughput: "anka:storage.etcd.throughputMiBps",
}

// Volume is a volume of this class of the given size, as CreateVolume
// receives it.
func (a Args) Volume(sizeGiB int) ebs.Volume {
	a = a.WithDefaults()
	return ebs.Volume{Type: a.Type, SizeGiB: sizeGiB, IOPS: a.IOPS, ThroughputMiBps: a.ThroughputMiBps}
}

// MinClaimGiB is the smallest claim on this class that EC2 accepts: the
// disk check's volume has this size.
func (a Args) MinClaimGiB() int {
	a = a.WithDefaults()
	l, ok := ebs.For(a.Type)
	if !ok {
		return 1
	}
	return l.MinSizeGiB(a.IOPS)
}
