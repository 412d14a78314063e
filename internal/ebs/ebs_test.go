package ebs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

var keys = Keys{Type: "t", Size: "size", IOPS: "iops", Throughput: "tp"}

func violatedKeys(v Volume) []string {
	var out []string
	for _, x := range Check(v, keys) {
		out = append(out, x.Key)
	}
	return out
}

func TestCheckVolumes(t *testing.T) {
	cases := []struct {
		name string
		v    Volume
		want []string
	}{
		{"a gp3 baseline volume of 1 GiB is valid", Volume{GP3, 1, 3000, 125}, nil},
		{"gp3 above the baseline needs 500 IOPS per GiB of size", Volume{GP3, 1, 6000, 125}, []string{"size"}},
		{"gp3 with 6000 IOPS on 12 GiB is valid", Volume{GP3, 12, 6000, 125}, nil},
		{"gp3 throughput above a quarter of the IOPS is refused", Volume{GP3, 20, 3000, 1000}, []string{"tp"}},
		{"gp3 below its IOPS floor is refused", Volume{GP3, 20, 1000, 125}, []string{"iops"}},
		// The ratio is only checked on a size inside the range: one report.
		{"io2 under 4 GiB is refused by EC2", Volume{IO2, 1, 10000, 0}, []string{"size"}},
		{"io2 with 10000 IOPS needs 10 GiB", Volume{IO2, 9, 10000, 0}, []string{"size"}},
		{"io2 with 10000 IOPS on 10 GiB is valid", Volume{IO2, 10, 10000, 0}, nil},
		{"io2 takes no throughput", Volume{IO2, 20, 10000, 250}, []string{"tp"}},
		{"io1 is bound to 50 IOPS per GiB", Volume{IO1, 4, 1000, 0}, []string{"size"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, violatedKeys(c.v))
		})
	}
}

func TestMinSizeGiB(t *testing.T) {
	gp3, _ := For(GP3)
	io2, _ := For(IO2)
	assert.Equal(t, 1, gp3.MinSizeGiB(3000), "the gp3 baseline fits any size")
	assert.Equal(t, 12, gp3.MinSizeGiB(6000), "6000/500 = 12")
	assert.Equal(t, 4, io2.MinSizeGiB(100), "io2's minimum size")
	assert.Equal(t, 10, io2.MinSizeGiB(10000), "10000/1000 = 10")
	assert.Equal(t, 11, io2.MinSizeGiB(10001), "rounded up")
	for _, typ := range []string{GP3, IO2, IO1} {
		l, ok := For(typ)
		assert.True(t, ok)
		for _, iops := range []int{l.MinIOPS, l.MaxIOPS} {
			v := Volume{Type: typ, SizeGiB: l.MinSizeGiB(iops), IOPS: iops}
			if l.MaxThroughput > 0 {
				v.ThroughputMiBps = l.MinThroughput
			}
			assert.Empty(t, Check(v, keys), "MinSizeGiB(%d) of %s must pass Check", iops, typ)
		}
	}
	_, ok := For("gp2")
	assert.False(t, ok)
}

func TestViolationNamesSourceAndFix(t *testing.T) {
	v := Check(Volume{IO2, 1, 10000, 0}, Keys{Size: "anka:etcd.volumeSizeGi", IOPS: "anka:storage.etcd.iops"})
	if assert.Len(t, v, 1) {
		assert.Equal(t, "anka:etcd.volumeSizeGi", v[0].Key)
		assert.Contains(t, v[0].Msg, "4 to 65536 GiB")
		assert.Contains(t, v[0].Msg, "CreateVolume")
	}
}
