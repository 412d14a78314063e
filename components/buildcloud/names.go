package buildcloud

// Names other components refer to (the monitoring rules select these
// objects by name), derived from the same code that creates them.

// DeploymentNames are the Deployments New(ctx, name, a, ...) creates: one
// per pod role (<name>-controller-registry combined; <name>-controller and
// <name>-registry split).
func (a Args) DeploymentNames(name string) []string {
	var out []string
	for _, d := range a.WithDefaults().deployments() {
		out = append(out, name+"-"+d.role)
	}
	return out
}

// RegistryClaimName is the PersistentVolumeClaim the Registry mounts in pvc
// mode: anka:registry.pvc.existingClaim, else the one New creates.
func (a Args) RegistryClaimName(name string) string {
	if v := a.WithDefaults().Registry.PVC; v != nil && v.ExistingClaim != "" {
		return v.ExistingClaim
	}
	return (&BuildCloud{name: name}).registryClaimName()
}
