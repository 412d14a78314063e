package edge

import (
	"fmt"
	"strconv"
	"strings"
)

// Annotation namespaces of the AWS Load Balancer Controller (v2.x/v3.x docs,
// guide/ingress/annotations.md and guide/service/annotations.md) and
// Pulumi's await switch.
const (
	ALBAnnotationPrefix = "alb.ingress.kubernetes.io/"
	NLBAnnotationPrefix = "service.beta.kubernetes.io/aws-load-balancer-"
	// SkipAwaitAnnotation stops pulumi-kubernetes from waiting for a load
	// balancer address (anka:edge.awaitLoadBalancer false).
	SkipAwaitAnnotation = "pulumi.com/skipAwait"
)

// ALBListenPorts is the listen-ports annotation: HTTPS 443, and HTTP 80 only
// to redirect to it (ssl-redirect).
const ALBListenPorts = `[{"HTTP":80},{"HTTPS":443}]`

// ALBAnnotations are the annotations of both Ingresses in mode alb. They
// are identical on the two, as an IngressGroup requires for the settings of
// the shared ALB (scheme, attributes, inbound CIDRs, WAF).
func ALBAnnotations(a Args) map[string]string {
	a = a.WithDefaults()
	lbAttrs := []string{
		"idle_timeout.timeout_seconds=" + strconv.Itoa(a.IdleTimeoutSeconds),
		"routing.http.drop_invalid_header_fields.enabled=true",
	}
	if a.ALB.AccessLogsBucket != "" {
		lbAttrs = append(lbAttrs, "access_logs.s3.enabled=true", "access_logs.s3.bucket="+a.ALB.AccessLogsBucket)
		if a.ALB.AccessLogsPrefix != "" {
			lbAttrs = append(lbAttrs, "access_logs.s3.prefix="+a.ALB.AccessLogsPrefix)
		}
	}
	ann := map[string]string{
		"scheme":                   a.Scheme,
		"target-type":              "ip",
		"certificate-arn":          a.ALB.CertificateArn,
		"listen-ports":             ALBListenPorts,
		"ssl-redirect":             "443",
		"ssl-policy":               a.ALB.SSLPolicy,
		"load-balancer-attributes": strings.Join(lbAttrs, ","),
		"target-group-attributes":  "deregistration_delay.timeout_seconds=" + strconv.Itoa(*a.DeregistrationDelaySeconds),
		"backend-protocol":         "HTTP",
		"healthcheck-path":         HealthCheckPath,
		"success-codes":            "200",
		"group.name":               a.ALB.GroupName,
	}
	if len(a.SourceCIDRs) > 0 {
		ann["inbound-cidrs"] = strings.Join(a.SourceCIDRs, ",")
	}
	if a.ALB.WAFAclArn != "" {
		ann["wafv2-acl-arn"] = a.ALB.WAFAclArn
	}
	out := make(map[string]string, len(ann)+1)
	for k, v := range ann {
		out[ALBAnnotationPrefix+k] = v
	}
	if !*a.AwaitLoadBalancer {
		out[SkipAwaitAnnotation] = "true"
	}
	return out
}

// NLBListenerAttributesAnnotation is the per-listener attributes annotation
// of the NLB's TCP listener on port, e.g.
// service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443.
func NLBListenerAttributesAnnotation(port int) string {
	return fmt.Sprintf("%slistener-attributes.%s-%d", NLBAnnotationPrefix, NLBListenerProtocolTCP, port)
}

// NLBAnnotations are the annotations of the NLB Service in mode nlb-mtls: an
// NLB with IP targets (the NGINX pods), one TCP listener whose idle timeout
// is anka:edge.idleTimeoutSeconds, client IPs preserved, cross-zone load
// balancing, and an HTTP health check on NGINX's plain /healthz port.
func NLBAnnotations(a Args) map[string]string {
	a = a.WithDefaults()
	s := a.NginxSettings()
	ann := map[string]string{
		"type":                            "external",
		"nlb-target-type":                 "ip",
		"scheme":                          a.Scheme,
		"target-group-attributes":         "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=" + strconv.Itoa(*a.DeregistrationDelaySeconds),
		"attributes":                      "load_balancing.cross_zone.enabled=true",
		"healthcheck-protocol":            "http",
		"healthcheck-port":                strconv.Itoa(s.HealthPort),
		"healthcheck-path":                "/healthz",
		"healthcheck-interval":            "10",
		"healthcheck-healthy-threshold":   "2",
		"healthcheck-unhealthy-threshold": "2",
	}
	out := make(map[string]string, len(ann)+2)
	for k, v := range ann {
		out[NLBAnnotationPrefix+k] = v
	}
	out[NLBListenerAttributesAnnotation(a.NLB.Port)] = "tcp.idle_timeout.seconds=" + strconv.Itoa(a.IdleTimeoutSeconds)
	if !*a.AwaitLoadBalancer {
		out[SkipAwaitAnnotation] = "true"
	}
	return out
}
