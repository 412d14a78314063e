// Package quantity reads the Kubernetes resource quantities config accepts
// ("500m", "2", "1.5Gi", "512Mi"), enough to validate and compare them
// without pulling in k8s.io/apimachinery.
package quantity

import (
	"fmt"
	"regexp"
	"strconv"
)

var pattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$`)

var multiplier = map[string]float64{
	"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50,
}

// Parse returns the quantity's value in base units (cores or bytes).
func Parse(s string) (float64, error) {
	m := pattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	return v * multiplier[m[2]], nil
}
