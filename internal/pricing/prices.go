// Package pricing holds a dated table of AWS list prices for the resource
// types this program creates, and the Estimate that renders a monthly cost
// by line from them. The table is embedded in the program (no network at
// preview): it says when it was read and where each price comes from, and a
// price it does not hold is reported as unknown, never guessed.
package pricing

import "github.com/anka-ha/anka-build-cloud-aws/internal/capacity"

// Date is when the table's prices were read.
const Date = "2026-11-30"

// Region is the only region the table holds prices for.
const Region = "us-east-1"

// HoursPerMonth is AWS's convention for a month of hourly charges (its
// pricing pages and the AWS Pricing Calculator use 730 hours).
const HoursPerMonth = 730

// Sources of the prices below. The AWS Price List API serves the same
// figures as the pricing pages
// (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/us-east-1/index.json).
const (
	SourceEKS     = "https://aws.amazon.com/eks/pricing/ (Price List API: AmazonEKS)"
	SourceEC2     = "https://aws.amazon.com/ec2/pricing/on-demand/ (Price List API: AmazonEC2, Linux, shared tenancy), held in internal/capacity"
	SourceVPC     = "https://aws.amazon.com/vpc/pricing/ (Price List API: AmazonVPC, AmazonEC2 NatGateway)"
	SourceELB     = "https://aws.amazon.com/elasticloadbalancing/pricing/ (Price List API: AWSELB)"
	SourceEBS     = "https://aws.amazon.com/ebs/pricing/ (Price List API: AmazonEC2, product family Storage / System Operation)"
	SourceFSx     = "https://aws.amazon.com/fsx/openzfs/pricing/ (Price List API: AmazonFSx, fileSystemType OpenZFS)"
	SourceS3      = "https://aws.amazon.com/s3/pricing/ (Price List API: AmazonS3)"
	SourceEFS     = "https://aws.amazon.com/efs/pricing/ (Price List API: AmazonEFS)"
	SourceKMS     = "https://aws.amazon.com/kms/pricing/ (Price List API: awskms)"
	SourceLogs    = "https://aws.amazon.com/cloudwatch/pricing/ (Price List API: AmazonCloudWatch)"
	SourceUnknown = "not in this table"
)

// Price is one list price in us-east-1, USD per Unit.
type Price struct {
	USD    float64
	Unit   string
	Source string
}

// us-east-1 list prices, read on Date.
var (
	// EKS cluster, per cluster-hour: a Kubernetes version in standard
	// support, and in extended support.
	EKSStandardHour = Price{0.10, "cluster-hour", SourceEKS}
	EKSExtendedHour = Price{0.60, "cluster-hour", SourceEKS}

	// NAT gateway, per gateway-hour. Data processed ($0.045/GB) is usage,
	// not in the estimate.
	NATGatewayHour = Price{0.045, "NAT gateway-hour", SourceVPC}
	NATGatewayGB   = Price{0.045, "GB processed", SourceVPC}

	// Public IPv4 address, per address-hour, in use or idle (each NAT
	// gateway's Elastic IP, each internet-facing load balancer's address in
	// each zone).
	PublicIPv4Hour = Price{0.005, "IPv4 address-hour", SourceVPC}

	// Load balancers, per hour. Capacity units (ALB LCU $0.008/LCU-hour, NLB
	// NLCU $0.006/NLCU-hour) follow traffic: usage, not in the estimate.
	ALBHour  = Price{0.0225, "ALB-hour", SourceELB}
	ALBLCU   = Price{0.008, "LCU-hour", SourceELB}
	NLBHour  = Price{0.0225, "NLB-hour", SourceELB}
	NLBNLCU  = Price{0.006, "NLCU-hour", SourceELB}
	GP3GB    = Price{0.08, "GB-month", SourceEBS}
	GP3IOPS  = Price{0.005, "provisioned IOPS-month above 3,000", SourceEBS}
	GP3MiBps = Price{0.04, "provisioned MiB/s-month above 125", SourceEBS}
	IO2GB    = Price{0.125, "GB-month", SourceEBS}
	// io2 IOPS are billed in tiers of the volume's provisioned IOPS.
	IO2IOPSTier1 = Price{0.065, "IOPS-month, up to 32,000", SourceEBS}
	IO2IOPSTier2 = Price{0.0455, "IOPS-month, 32,001 to 64,000", SourceEBS}
	IO2IOPSTier3 = Price{0.03185, "IOPS-month, above 64,000", SourceEBS}

	// S3 Standard, first 50 TB/month. What is stored (snapshots, templates)
	// is usage: unknown before it is written.
	S3StandardGB = Price{0.023, "GB-month", SourceS3}
	// EFS Standard storage (regional), elastic throughput billed per GB
	// transferred: usage.
	EFSStandardGB = Price{0.30, "GB-month", SourceEFS}
	// KMS customer managed key, per key-month (requests: usage, the first
	// 20,000 a month free).
	KMSKeyMonth = Price{1.00, "key-month", SourceKMS}
	// CloudWatch Logs (control-plane logs): usage.
	LogsIngestGB = Price{0.50, "GB ingested", SourceLogs}
	LogsStoreGB  = Price{0.03, "GB-month archived", SourceLogs}
)

// FSxOpenZFS is one deployment type's prices. Known is false where the
// table has none.
type FSxOpenZFS struct {
	StorageGB Price // SSD storage, per GB-month
	MBps      Price // throughput capacity, per MBps-month
	BackupGB  Price // backup storage, per GB-month (usage)
	Known     bool
}

// fsx holds the deployment types whose us-east-1 prices this table has.
// SINGLE_AZ_1: SSD storage $0.09/GB-month, throughput $0.26/MBps-month,
// backups $0.05/GB-month (AmazonFSx, deploymentOption Single-AZ,
// fileSystemType OpenZFS). The newer types (SINGLE_AZ_2, SINGLE_AZ_HA_1/2,
// MULTI_AZ_1) are priced differently and were not read into this table:
// they are unknown, and the estimate says so.
var fsx = map[string]FSxOpenZFS{
	"SINGLE_AZ_1": {
		StorageGB: Price{0.09, "GB-month", SourceFSx},
		MBps:      Price{0.26, "MBps-month", SourceFSx},
		BackupGB:  Price{0.05, "GB-month", SourceFSx},
		Known:     true,
	},
}

// FSx returns the prices of an FSx for OpenZFS deployment type
// (SINGLE_AZ_1, SINGLE_AZ_2, MULTI_AZ_1, ...); ok is false when the table
// has none.
func FSx(deploymentType string) (FSxOpenZFS, bool) {
	p, ok := fsx[deploymentType]
	return p, ok && p.Known
}

// InstanceHour is an EC2 instance type's us-east-1 Linux on-demand price
// per hour, from internal/capacity (the capacity plan's table); ok is false
// for a type it does not price.
func InstanceHour(name string) (Price, bool) {
	t, ok := capacity.Lookup(name)
	if !ok || t.HourlyUSD <= 0 {
		return Price{Unit: "instance-hour", Source: SourceUnknown}, false
	}
	return Price{t.HourlyUSD, "instance-hour", SourceEC2}, true
}

// EBS volume types the estimate prices.
const (
	VolumeGP3 = "gp3"
	VolumeIO2 = "io2"
)

// gp3's included performance.
const (
	GP3BaselineIOPS  = 3000
	GP3BaselineMiBps = 125
)

// Volume is one EBS volume's monthly price: storage, provisioned IOPS and
// throughput beyond what the type includes. ok is false for a type the
// table does not price.
func Volume(typ string, sizeGiB, iops, mibps int) (usd float64, ok bool) {
	switch typ {
	case VolumeGP3:
		usd = float64(sizeGiB) * GP3GB.USD
		if iops > GP3BaselineIOPS {
			usd += float64(iops-GP3BaselineIOPS) * GP3IOPS.USD
		}
		if mibps > GP3BaselineMiBps {
			usd += float64(mibps-GP3BaselineMiBps) * GP3MiBps.USD
		}
		return usd, true
	case VolumeIO2:
		return float64(sizeGiB)*IO2GB.USD + IO2IOPS(iops), true
	}
	return 0, false
}

// IO2IOPS is the monthly price of an io2 volume's provisioned IOPS, tier
// by tier: the first 32,000 at tier 1, the next 32,000 at tier 2, the rest
// at tier 3.
func IO2IOPS(iops int) float64 {
	const tier = 32000
	t1 := min(iops, tier)
	t2 := min(max(iops-tier, 0), tier)
	t3 := max(iops-2*tier, 0)
	return float64(t1)*IO2IOPSTier1.USD + float64(t2)*IO2IOPSTier2.USD + float64(t3)*IO2IOPSTier3.USD
}
