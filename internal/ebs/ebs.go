// Package ebs holds the limits EC2 puts on an EBS volume of each type (size,
// IOPS, IOPS per GiB, throughput, throughput per IOPS), so that every claim
// the stack makes on an EBS StorageClass is checked at preview instead of
// failing in CreateVolume while a pod waits Pending and `pulumi up` times out.
//
// The EBS CSI driver passes the StorageClass's `iops` and `throughput` to
// CreateVolume unchanged and does not round a claim's size up to the type's
// minimum (kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md; its
// `allowAutoIOPSPerGBIncrease` only applies to `iopsPerGB`), so the limits
// below are the whole story.
package ebs

import (
	"fmt"
	"math"
)

// Volume types.
const (
	GP3 = "gp3"
	IO2 = "io2"
	IO1 = "io1"
)

// Limits of one volume type.
type Limits struct {
	Type           string
	MinGiB, MaxGiB int
	// MinIOPS and MaxIOPS bound the provisioned IOPS of one volume.
	MinIOPS, MaxIOPS int
	// MaxIOPSPerGiB bounds IOPS by size: a volume of s GiB takes at most
	// s*MaxIOPSPerGiB IOPS, except that IOPS up to BaselineIOPS are allowed
	// on any size (gp3).
	MaxIOPSPerGiB int
	BaselineIOPS  int
	// MinThroughput and MaxThroughput (MiB/s) are provisionable on gp3 only
	// (0 when the type takes no throughput setting); at most
	// MaxThroughputPerIOPS MiB/s per provisioned IOPS.
	MinThroughput, MaxThroughput int
	MaxThroughputPerIOPS         float64
	// Source cites where the figures come from.
	Source string
}

// The limits, read 2026-11-30.
//
// Sizes, IOPS ranges and ratios: Amazon EC2 API Reference, CreateVolume
// (`Size`: gp3 1-16,384 GiB [64 TiB since 2025-09], io1 4-16,384, io2
// 4-65,536; `Iops`: io1 100-64,000, io2 100-256,000) and the EBS User Guide,
// "Amazon EBS volume types" (gp3: baseline 3,000 IOPS and 125 MiB/s at any
// size, at most 500 IOPS per GiB above the baseline and 0.25 MiB/s per
// provisioned IOPS; io2 Block Express 1,000 IOPS per GiB; io1 50 IOPS per
// GiB). The gp3 maxima were raised on 2025-09-26 to 64 TiB, 80,000 IOPS and
// 2,000 MiB/s (AWS What's New "Amazon EBS gp3 volumes now support up to 64
// TiB, 80,000 IOPS and 2,000 MiB/s"; kubernetes-sigs/aws-ebs-csi-driver
// #2678/#2682 dropped the driver's own 16,000 cap so EC2's limits apply).
// EC2's error for a ratio breach: "Iops to volume size ratio of 750.000000
// is too high; maximum is 500" (seen in rocicorp/mono#4410).
var limits = map[string]Limits{
	GP3: {
		Type: GP3, MinGiB: 1, MaxGiB: 65536,
		MinIOPS: 3000, MaxIOPS: 80000, MaxIOPSPerGiB: 500, BaselineIOPS: 3000,
		MinThroughput: 125, MaxThroughput: 2000, MaxThroughputPerIOPS: 0.25,
		Source: "EBS User Guide, volume types: gp3; EC2 API CreateVolume; AWS What's New 2025-09-26",
	},
	IO2: {
		Type: IO2, MinGiB: 4, MaxGiB: 65536,
		MinIOPS: 100, MaxIOPS: 256000, MaxIOPSPerGiB: 1000,
		Source: "EBS User Guide, volume types: io2 Block Express; EC2 API CreateVolume",
	},
	IO1: {
		Type: IO1, MinGiB: 4, MaxGiB: 16384,
		MinIOPS: 100, MaxIOPS: 64000, MaxIOPSPerGiB: 50,
		Source: "EBS User Guide, volume types: io1; EC2 API CreateVolume",
	},
}

// For returns the limits of a volume type.
func For(typ string) (Limits, bool) {
	l, ok := limits[typ]
	return l, ok
}

// MinSizeGiB is the smallest volume of this type that takes iops.
func (l Limits) MinSizeGiB(iops int) int {
	size := l.MinGiB
	if iops > l.BaselineIOPS && l.MaxIOPSPerGiB > 0 {
		if need := int(math.Ceil(float64(iops) / float64(l.MaxIOPSPerGiB))); need > size {
			size = need
		}
	}
	return size
}

// Volume is one volume as CreateVolume would receive it.
type Volume struct {
	Type            string
	SizeGiB         int
	IOPS            int
	ThroughputMiBps int
}

// Keys name the config keys that set each field of a Volume, so a violation
// names what to change.
type Keys struct {
	Type, Size, IOPS, Throughput string
}

// Violation is one limit a volume breaks.
type Violation struct {
	// Key is the config key to change; Msg completes a sentence after it.
	Key, Msg string
}

// Check returns every limit v breaks (none for a type without limits here:
// the caller refuses unknown types itself).
func Check(v Volume, k Keys) []Violation {
	l, ok := For(v.Type)
	if !ok {
		return nil
	}
	out := l.checkClass(v, k)
	if v.SizeGiB < l.MinGiB || v.SizeGiB > l.MaxGiB {
		out = append(out, l.violation(k.Size, "must be %d to %d GiB for an EBS %s volume, got %d", l.MinGiB, l.MaxGiB, l.Type, v.SizeGiB))
	} else if least := l.MinSizeGiB(v.IOPS); v.IOPS <= l.MaxIOPS && v.SizeGiB < least {
		out = append(out, l.violation(k.Size, "must be at least %d GiB to carry %d IOPS on %s (at most %d IOPS per GiB above %d), got %d; raise it or lower %s",
			least, v.IOPS, l.Type, l.MaxIOPSPerGiB, l.BaselineIOPS, v.SizeGiB, k.IOPS))
	}
	return out
}

// CheckClass returns the limits a StorageClass's IOPS and throughput break
// whatever the size of the claims on it (v.SizeGiB is ignored).
func CheckClass(v Volume, k Keys) []Violation {
	l, ok := For(v.Type)
	if !ok {
		return nil
	}
	return l.checkClass(v, k)
}

func (l Limits) violation(key, format string, args ...any) Violation {
	return Violation{Key: key, Msg: fmt.Sprintf(format, args...) + " (" + l.Source + ")"}
}

func (l Limits) checkClass(v Volume, k Keys) []Violation {
	var out []Violation
	if v.IOPS < l.MinIOPS || v.IOPS > l.MaxIOPS {
		out = append(out, l.violation(k.IOPS, "must be %d to %d for an EBS %s volume, got %d", l.MinIOPS, l.MaxIOPS, l.Type, v.IOPS))
	}
	switch {
	case l.MaxThroughput == 0 && v.ThroughputMiBps != 0:
		out = append(out, l.violation(k.Throughput, "applies to gp3 only; %s throughput follows its IOPS. Remove it, got %d", l.Type, v.ThroughputMiBps))
	case l.MaxThroughput > 0 && (v.ThroughputMiBps < l.MinThroughput || v.ThroughputMiBps > l.MaxThroughput):
		out = append(out, l.violation(k.Throughput, "must be %d to %d MiB/s for %s, got %d", l.MinThroughput, l.MaxThroughput, l.Type, v.ThroughputMiBps))
	case l.MaxThroughput > 0 && float64(v.ThroughputMiBps) > float64(v.IOPS)*l.MaxThroughputPerIOPS:
		out = append(out, l.violation(k.Throughput, "may be at most %.2f MiB/s per IOPS on %s (%d MiB/s for %d IOPS), got %d; raise %s or lower the throughput",
			l.MaxThroughputPerIOPS, l.Type, int(float64(v.IOPS)*l.MaxThroughputPerIOPS), v.IOPS, v.ThroughputMiBps, k.IOPS))
	}
	return out
}
