package stacks

import (
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/network"
	"github.com/anka-ha/anka-build-cloud-aws/internal/pricing"
)

// Estimate lines, in the order the table prints them.
const (
	CostNodes       = "nodes"
	CostEKS         = "EKS control plane"
	CostNAT         = "NAT gateways"
	CostPublicIPv4  = "public IPv4 addresses"
	CostLB          = "load balancer"
	CostEtcd        = "etcd volumes"
	CostRootVolumes = "node root volumes"
	CostRegistry    = "registry storage"
	CostKMS         = "KMS keys"
	CostBackups     = "etcd snapshots (S3)"
	CostLogs        = "control-plane logs"
)

// Estimate is the stack's monthly cost at AWS list prices (internal/pricing,
// us-east-1, dated), line by line, from the validated config: what the
// stack creates and keeps running, 730 hours a month. Traffic and data
// stored are usage lines, not counted; a price the table lacks is unknown,
// not counted, and named in the total. Run logs it at every preview.
func (c Config) Estimate() pricing.Estimate {
	e := pricing.New(c.Stack, c.Region)
	const h = pricing.HoursPerMonth
	ca := c.clusterArgs()
	eks := ca.Mode == cluster.ModeEKS
	zones := len(c.Network.AvailabilityZones)

	if eks {
		nodes := zones * ca.Nodes.DesiredPerZone
		typ := ""
		if len(ca.Nodes.InstanceTypes) > 0 {
			typ = ca.Nodes.InstanceTypes[0]
		}
		p, ok := pricing.InstanceHour(typ)
		switch {
		case !ok:
			e.AddUnknown(CostNodes, "%d × %s (%d zones × %d): the type has no price in internal/capacity", nodes, typ, zones, ca.Nodes.DesiredPerZone)
		case ca.Nodes.CapacityType == "SPOT":
			e.AddUnknown(CostNodes, "%d × %s SPOT (%d zones × %d): spot prices vary; on demand it would be %s", nodes, typ, zones, ca.Nodes.DesiredPerZone,
				pricing.Money(float64(nodes)*p.USD*h))
		default:
			e.Add(CostNodes, float64(nodes)*p.USD*h, p.Source, "%d × %s (%d zones × %d desired) × %s × %d h, on demand, first of anka:cluster.nodes.instanceTypes",
				nodes, typ, zones, ca.Nodes.DesiredPerZone, pricing.Rate(p, "h"), h)
		}
		p, support := pricing.EKSStandardHour, "standard support"
		if ca.ExtendedSupport(cluster.Now()) {
			p, support = pricing.EKSExtendedHour, "extended support"
		}
		e.Add(CostEKS, p.USD*h, p.Source, "1 cluster × %s × %d h (Kubernetes %s, %s)", pricing.Rate(p, "h"), h, ca.Version, support)
	}

	// NAT gateways and the public IPv4 addresses: each NAT gateway's
	// Elastic IP, and an internet-facing load balancer's address per zone.
	nat := 0
	if c.Network.Mode == network.ModeCreate {
		nat = 1
		if c.Network.NatGateways == network.NatPerAZ {
			nat = zones
		}
		e.Add(CostNAT, float64(nat)*pricing.NATGatewayHour.USD*h, pricing.NATGatewayHour.Source, "%d × %s × %d h (natGateways %s); data processed %s is usage, not counted",
			nat, pricing.Rate(pricing.NATGatewayHour, "h"), h, c.Network.NatGateways, pricing.Rate(pricing.NATGatewayGB, "GB"))
	}
	edgeArgs := c.Edge.WithDefaults()
	lb, lbPrice, lbUnits := "", pricing.Price{}, ""
	if c.EdgeEnabled() {
		switch edgeArgs.Mode {
		case edge.ModeALB:
			lb, lbPrice, lbUnits = "ALB", pricing.ALBHour, "LCUs "+pricing.Rate(pricing.ALBLCU, "LCU-hour")
		case edge.ModeNLBMTLS:
			lb, lbPrice, lbUnits = "NLB", pricing.NLBHour, "NLCUs "+pricing.Rate(pricing.NLBNLCU, "NLCU-hour")
		}
	}
	lbIPs := 0
	if lb != "" && edgeArgs.Scheme == edge.SchemeInternetFacing {
		lbIPs = zones
	}
	if ips := nat + lbIPs; ips > 0 {
		which := fmt.Sprintf("%d NAT Elastic IP(s)", nat)
		if lbIPs > 0 {
			which += fmt.Sprintf(" + %d for the internet-facing %s, one per zone", lbIPs, lb)
		}
		e.Add(CostPublicIPv4, float64(ips)*pricing.PublicIPv4Hour.USD*h, pricing.PublicIPv4Hour.Source, "%d × %s × %d h (%s)",
			ips, pricing.Rate(pricing.PublicIPv4Hour, "h"), h, which)
	}

	switch {
	case lb != "":
		e.Add(CostLB, lbPrice.USD*h, lbPrice.Source, "1 %s (%s, %s) × %s × %d h; %s are usage, not counted",
			lb, edgeArgs.Mode, edgeArgs.Scheme, pricing.Rate(lbPrice, "h"), h, lbUnits)
	case c.EdgeEnabled() && edgeArgs.Mode == edge.ModeIngressNginx:
		e.Add(CostLB, 0, "", "none from this stack: anka:edge.mode %s uses the cluster's ingress-nginx and its load balancer", edgeArgs.Mode)
	default:
		e.Add(CostLB, 0, "", "none from this stack: anka:edge.mode %s", orNone(c.Edge.Mode))
	}

	// etcd's volumes: one claim per member, of the anka-etcd class.
	s := c.Storage.Etcd
	size := c.Etcd.VolumeSizeGi
	if per, ok := pricing.Volume(s.Type, size, s.IOPS, s.ThroughputMiBps); ok {
		perf := fmt.Sprintf("%d IOPS", s.IOPS)
		if s.Type == pricing.VolumeGP3 {
			perf += fmt.Sprintf(", %d MiB/s", s.ThroughputMiBps)
		}
		e.Add(CostEtcd, float64(c.Etcd.Replicas)*per, pricing.SourceEBS, "%d × %s %d GiB, %s: %s each (%s)",
			c.Etcd.Replicas, s.Type, size, perf, pricing.Money(per), volumeArithmetic(s.Type, size, s.IOPS, s.ThroughputMiBps))
	} else {
		e.AddUnknown(CostEtcd, "%d × %s %d GiB: the type has no price in the table", c.Etcd.Replicas, s.Type, size)
	}

	if eks {
		nodes := zones * ca.Nodes.DesiredPerZone
		per, _ := pricing.Volume(pricing.VolumeGP3, ca.Nodes.DiskGiB, pricing.GP3BaselineIOPS, pricing.GP3BaselineMiBps)
		e.Add(CostRootVolumes, float64(nodes)*per, pricing.SourceEBS, "%d × gp3 %d GiB × %s (baseline 3000 IOPS, 125 MiB/s)",
			nodes, ca.Nodes.DiskGiB, pricing.Rate(pricing.GP3GB, "GB-month"))
	}

	c.registryCost(e)

	keys, why := 0, ""
	if eks && ca.SecretsEncryption {
		keys, why = 1, "secrets encryption (anka:cluster.secretsEncryption)"
	}
	if keys > 0 {
		e.Add(CostKMS, float64(keys)*pricing.KMSKeyMonth.USD, pricing.KMSKeyMonth.Source, "%d × %s: %s; requests are usage", keys, pricing.Rate(pricing.KMSKeyMonth, "key-month"), why)
	} else {
		e.Add(CostKMS, 0, "", "none created by this stack (anka:cluster.secretsEncryption is off; keys given by ARN are billed to their owner)")
	}

	if *c.Etcd.Backup.Enabled {
		e.AddUsage(CostBackups, pricing.S3StandardGB.Source, "S3 Standard %s: hourly snapshots kept %d days, size unknown before they are written",
			pricing.Rate(pricing.S3StandardGB, "GB-month"), c.Etcd.Backup.RetentionDays)
	}
	if eks && len(ca.LogTypes) > 0 {
		e.AddUsage(CostLogs, pricing.LogsIngestGB.Source, "CloudWatch Logs %s ingested, %s stored (%d log types, kept %d days)",
			pricing.Rate(pricing.LogsIngestGB, "GB"), pricing.Rate(pricing.LogsStoreGB, "GB-month"), len(ca.LogTypes), ca.LogRetentionDays)
	}

	if c.Etcd.DiskCheck.Enabled != nil && *c.Etcd.DiskCheck.Enabled {
		e.Note("the etcd disk check's volume (%s, %d GiB) lives about a day after each `up` that changes the class: a day's share of one etcd volume, not counted", s.Type, c.Etcd.DiskCheckSizeGi)
	}
	e.Note("not counted: data transfer between zones and to the internet, EBS snapshots, FSx backups, and anything the Build Cloud's users create")
	return *e
}

// registryCost adds the Registry's storage line: FSx for OpenZFS (storage
// and throughput capacity), S3 or EFS (usage), or a claim on a class this
// stack does not price.
func (c Config) registryCost(e *pricing.Estimate) {
	r := c.BuildCloud.WithDefaults().Registry
	switch r.Storage {
	case buildcloud.StorageFSxOpenZFS:
		f := r.FSx
		p, ok := pricing.FSx(f.DeploymentType)
		if !ok {
			e.AddUnknown(CostRegistry, "FSx for OpenZFS %s, %d GiB, %d MBps: the table has no %s price (see %s)", f.DeploymentType, f.StorageGiB, f.ThroughputMBps, f.DeploymentType, pricing.SourceFSx)
			return
		}
		e.Add(CostRegistry, float64(f.StorageGiB)*p.StorageGB.USD+float64(f.ThroughputMBps)*p.MBps.USD, pricing.SourceFSx,
			"FSx for OpenZFS %s: %d GiB × %s + %d MBps × %s; backups %s are usage",
			f.DeploymentType, f.StorageGiB, pricing.Rate(p.StorageGB, "GB-month"), f.ThroughputMBps, pricing.Rate(p.MBps, "MBps-month"), pricing.Rate(p.BackupGB, "GB-month"))
	case buildcloud.StorageS3:
		e.AddUsage(CostRegistry, pricing.S3StandardGB.Source, "S3 Standard %s for the templates stored, plus requests: usage, unknown before templates are pushed",
			pricing.Rate(pricing.S3StandardGB, "GB-month"))
	case buildcloud.StorageEFS:
		e.AddUsage(CostRegistry, pricing.EFSStandardGB.Source, "EFS Standard %s for the templates stored, elastic throughput per GB transferred: usage",
			pricing.Rate(pricing.EFSStandardGB, "GB-month"))
	default:
		e.AddUnknown(CostRegistry, "storage %s: a claim on a class this stack does not create or price", r.Storage)
	}
}

// volumeArithmetic spells out one EBS volume's monthly price.
func volumeArithmetic(typ string, size, iops, mibps int) string {
	switch typ {
	case pricing.VolumeGP3:
		s := fmt.Sprintf("%d × %s", size, pricing.Rate(pricing.GP3GB, "GB-month"))
		if iops > pricing.GP3BaselineIOPS {
			s += fmt.Sprintf(" + %d IOPS × %s", iops-pricing.GP3BaselineIOPS, pricing.Rate(pricing.GP3IOPS, "IOPS-month"))
		}
		if mibps > pricing.GP3BaselineMiBps {
			s += fmt.Sprintf(" + %d MiB/s × %s", mibps-pricing.GP3BaselineMiBps, pricing.Rate(pricing.GP3MiBps, "MiB/s-month"))
		}
		return s
	case pricing.VolumeIO2:
		s := fmt.Sprintf("%d × %s + %d IOPS × %s", size, pricing.Rate(pricing.IO2GB, "GB-month"), min(iops, 32000), pricing.Rate(pricing.IO2IOPSTier1, "IOPS-month"))
		if iops > 32000 {
			s += fmt.Sprintf(" + %d × %s", min(iops-32000, 32000), pricing.Rate(pricing.IO2IOPSTier2, "IOPS-month"))
		}
		if iops > 64000 {
			s += fmt.Sprintf(" + %d × %s", iops-64000, pricing.Rate(pricing.IO2IOPSTier3, "IOPS-month"))
		}
		return s
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
