package edge

import (
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
)

// Workloads are the pods the edge runs in the cluster, as the scheduler sees
// them, for the stack's capacity plan: NGINX in nlb-mtls mode, none in the
// other modes (the ALB and ingress-nginx are not this stack's pods).
func (a Args) Workloads() ([]capacity.Workload, error) {
	a = a.WithDefaults()
	if a.Mode != ModeNLBMTLS {
		return nil, nil
	}
	r, err := capacity.Quantities(a.Nginx.CPURequest, a.Nginx.MemoryRequest)
	if err != nil {
		return nil, fmt.Errorf("anka:edge.nginx.cpuRequest/memoryRequest: %w", err)
	}
	return []capacity.Workload{{
		Name:             NginxName,
		Requests:         capacity.PodRequests([]capacity.Resources{r}, nil),
		Replicas:         a.Nginx.Replicas,
		OnePerNode:       true,
		StrictZoneSpread: a.Prod,
		Keys:             []string{"anka:edge.nginx.cpuRequest", "anka:edge.nginx.memoryRequest", "anka:edge.nginx.replicas"},
	}}, nil
}
