package warden_test

import data.warden

tenant(plan) := {"id": "t_1", "plan": plan, "status": "active"}

call(plan, tool, args) := {"tenant": tenant(plan), "tool": tool, "args": args, "usage": {}}

test_free_plan_may_fetch_public_hosts if {
	d := warden.decision with input as call("free", "fetch", {"url": "https://example.com/a"})
	d.allow
	d.deny == []
	not d.require_approval
}

test_free_plan_may_exec_within_its_ceilings if {
	d := warden.decision with input as call("free", "exec", {"language": "python", "timeout_ms": 5000, "memory_mb": 256})
	d.allow
	not d.require_approval
}

test_free_plan_may_not_browse if {
	d := warden.decision with input as call("free", "browser", {"url": "https://example.com"})
	not d.allow
	d.deny == ["tool browser is not allowed on plan free"]
}

test_suspended_tenant_is_denied if {
	inp := object.union(call("pro", "fetch", {"url": "https://example.com"}), {"tenant": {"id": "t_1", "plan": "pro", "status": "suspended"}})
	d := warden.decision with input as inp
	"tenant t_1 is suspended" in d.deny
}

test_timeout_ceiling if {
	d := warden.decision with input as call("creator", "exec", {"timeout_ms": 60000})
	d.deny == ["timeout_ms 60000 exceeds the plan's ceiling of 30000"]
}

test_network_needs_a_plan_with_network if {
	d := warden.decision with input as call("free", "fetch", {"url": "https://example.com", "network": true})
	"network access is not part of this plan" in d.deny
}

test_metadata_and_private_hosts_are_blocked if {
	every url in ["http://169.254.169.254/latest", "https://10.1.2.3/", "http://localhost:8080", "http://metadata.google.internal/x", "http://[::1]:80/"] {
		d := warden.decision with input as call("pro", "fetch", {"url": url})
		not d.allow
	}
}

test_exec_with_network_needs_approval_below_pro if {
	d := warden.decision with input as call("creator", "exec", {"network": true})
	d.allow
	d.require_approval
}

test_plan_approval_tools_hold_calls if {
	plans := {"pro": {"tools": {"files.delete"}, "limits": {}, "network": true, "approval_tools": {"files.delete"}}}
	d := warden.decision with input as call("pro", "files.delete", {"path": "a.txt"}) with data.plans as plans
	d.allow
	d.require_approval
	d.approval_reasons == ["files.delete calls need an operator's approval on plan pro"]
}

test_denied_calls_never_ask_for_approval if {
	plans := {"pro": {"tools": {"exec"}, "limits": {"timeout_ms": 10}, "network": true, "approval_tools": {"exec"}}}
	d := warden.decision with input as call("pro", "exec", {"timeout_ms": 20}) with data.plans as plans
	not d.allow
	not d.require_approval
}

test_unknown_plan if {
	d := warden.decision with input as call("gold", "fetch", {"url": "https://example.com"})
	"unknown tenant plan" in d.deny
}

test_store_plans_replace_defaults if {
	plans := {"free": {"tools": {"exec"}, "limits": {"timeout_ms": 1, "memory_mb": 1}, "network": false, "approval_tools": set()}}
	d := warden.decision with input as call("free", "exec", {}) with data.plans as plans
	d.allow
}
