package storage

import (
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// EBS volume types allowed for etcd. gp2 (burst credits), st1/sc1 (HDD),
// standard (magnetic) and EFS (network file system) all make etcd's fsync
// latency unpredictable and are refused.
const (
	TypeGP3 = "gp3"
	TypeIO2 = "io2"
)

// Limits of the EBS volume types (AWS documentation).
const (
	GP3MinIOPS       = 3000
	GP3MaxIOPS       = 16000
	GP3MinThroughput = 125
	GP3MaxThroughput = 1000
	// gp3 allows at most 0.25 MiB/s of throughput per provisioned IOPS.
	GP3ThroughputPerIOPS = 0.25
	IO2MinIOPS           = 100
	IO2MaxIOPS           = 64000
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
	// IOPS: gp3 3000-16000 (default 3000), io2 100-64000 (default 6000).
	// Config anka:storage.etcd.iops.
	IOPS int `json:"iops"`
	// ThroughputMiBps for gp3, 125-1000 (default 125, at most IOPS/4); not
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
	if a.ClassName == "" {
		a.ClassName = DefaultClassName
	}
	if a.Type == "" {
		a.Type = DefaultType
	}
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
	case TypeGP3:
		p.Between("anka:storage.etcd.iops", a.IOPS, GP3MinIOPS, GP3MaxIOPS, " IOPS for gp3")
		if p.Between("anka:storage.etcd.throughputMiBps", a.ThroughputMiBps, GP3MinThroughput, GP3MaxThroughput, " MiB/s for gp3") &&
			float64(a.ThroughputMiBps) > float64(a.IOPS)*GP3ThroughputPerIOPS {
			p.Addf("anka:storage.etcd.throughputMiBps", "may be at most iops/4 on gp3 (%d MiB/s for %d IOPS), got %d; raise anka:storage.etcd.iops or lower the throughput",
				int(float64(a.IOPS)*GP3ThroughputPerIOPS), a.IOPS, a.ThroughputMiBps)
		}
	case TypeIO2:
		p.Between("anka:storage.etcd.iops", a.IOPS, IO2MinIOPS, IO2MaxIOPS, " IOPS for io2")
		if a.ThroughputMiBps != 0 {
			p.Addf("anka:storage.etcd.throughputMiBps", "applies to gp3 only; io2 throughput follows its IOPS. Remove it, got %d", a.ThroughputMiBps)
		}
	case "gp2", "standard", "st1", "sc1", "io1", "efs":
		p.Addf("anka:storage.etcd.type", "must be gp3 or io2, got %q: etcd needs steady fdatasync latency (gp2 runs out of burst credits, HDD and EFS are too slow); use gp3 with provisioned IOPS or io2", a.Type)
	default:
		p.OneOf("anka:storage.etcd.type", a.Type, TypeGP3, TypeIO2)
	}
	if a.KMSKeyArn != "" && !isKMSArn(a.KMSKeyArn) {
		p.Addf("anka:storage.etcd.kmsKeyArn", "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got %q", a.KMSKeyArn)
	}
	return p.Err()
}

func isKMSArn(s string) bool {
	const prefix = "arn:aws"
	return strings.HasPrefix(s, prefix) && strings.Contains(s, ":kms:") && (strings.Contains(s, ":key/") || strings.Contains(s, ":alias/"))
}
