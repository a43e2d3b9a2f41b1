package calico

// IPAMConflicts is how many IPAM transactions p lost to a concurrent writer (and
// retried).
func IPAMConflicts(p *Provider) int64 { return p.ipam.conflicts.Load() }
