package cluster

import "encoding/json"

// albControllerPolicy is the IAM policy the AWS Load Balancer Controller needs
// to manage ALBs/NLBs, their target groups and security groups. Mutations are
// limited to resources tagged elbv2.k8s.aws/cluster, which the controller
// puts on everything it creates, so it cannot touch other load balancers.
//
// It is the controller's own docs/install/iam_policy.json of the release
// that DefaultALBChartVersion installs, statement for statement, in the same
// order; TestClusterALBPolicyMatchesUpstream compares it with the upstream
// copy in testdata/ (whose .source file says where it comes from), so a
// chart bump fails until both are updated.
func albControllerPolicy() string {
	managed := map[string]any{"Null": map[string]string{"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
	requestTagged := map[string]any{"Null": map[string]string{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
	lbArns := []string{
		"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
	}
	statements := []map[string]any{
		{"Effect": "Allow", "Action": []string{"iam:CreateServiceLinkedRole"}, "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]string{"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{
			"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
			"ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
			"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
			"ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools", "ec2:GetSecurityGroupsForVpc",
			"ec2:DescribeIpamPools",
			"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
			"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
			"elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeSSLPolicies",
			"elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
			"elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
			"elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
			"elasticloadbalancing:DescribeCapacityReservation",
		}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{
			"cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate",
			"iam:ListServerCertificates", "iam:GetServerCertificate",
			"waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
			"wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
			"shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection",
		}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{"ec2:CreateSecurityGroup"}},
		{"Effect": "Allow", "Resource": "arn:aws:ec2:*:*:security-group/*", "Action": []string{"ec2:CreateTags"},
			"Condition": map[string]any{
				"StringEquals": map[string]string{"ec2:CreateAction": "CreateSecurityGroup"},
				"Null":         map[string]string{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
			}},
		{"Effect": "Allow", "Resource": "arn:aws:ec2:*:*:security-group/*", "Action": []string{"ec2:CreateTags", "ec2:DeleteTags"},
			"Condition": map[string]any{"Null": map[string]string{
				"aws:RequestTag/elbv2.k8s.aws/cluster":  "true",
				"aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
			}}},
		{"Effect": "Allow", "Resource": "*", "Condition": managed, "Action": []string{
			"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
		}},
		{"Effect": "Allow", "Resource": "*", "Condition": requestTagged, "Action": []string{
			"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup",
		}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{
			"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
			"elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
		}},
		{"Effect": "Allow", "Resource": lbArns, "Action": []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			"Condition": map[string]any{"Null": map[string]string{
				"aws:RequestTag/elbv2.k8s.aws/cluster":  "true",
				"aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
			}}},
		{"Effect": "Allow", "Action": []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}, "Resource": []string{
			"arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
			"arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
		}},
		{"Effect": "Allow", "Resource": "*", "Condition": managed, "Action": []string{
			"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
			"elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
			"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
			"elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
			"elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation",
			"elasticloadbalancing:ModifyIpPools",
		}},
		{"Effect": "Allow", "Resource": lbArns, "Action": []string{"elasticloadbalancing:AddTags"},
			"Condition": map[string]any{
				"StringEquals": map[string][]string{"elasticloadbalancing:CreateAction": {"CreateTargetGroup", "CreateLoadBalancer"}},
				"Null":         map[string]string{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
			}},
		{"Effect": "Allow", "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "Action": []string{
			"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
		}},
		{"Effect": "Allow", "Resource": "*", "Action": []string{
			"elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener",
			"elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
			"elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities",
		}},
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		panic(err) // static data: cannot fail
	}
	return string(b)
}
