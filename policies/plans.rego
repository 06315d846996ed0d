# Default plans. The store provides the real ones as data.plans; these apply when it does not.
package warden

default_plans := {
	"free": {
		"tools": {"fetch", "exec", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 10000, "memory_mb": 256, "calls_per_day": 200},
		"network": false,
		"approval_tools": set(),
	},
	"creator": {
		"tools": {"fetch", "exec", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 30000, "memory_mb": 512, "calls_per_day": 2000},
		"network": true,
		"approval_tools": set(),
	},
	"pro": {
		"tools": {"fetch", "exec", "browser", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 120000, "memory_mb": 2048, "calls_per_day": 50000},
		"network": true,
		"approval_tools": set(),
	},
}

plans := data.plans

plans := default_plans if not data.plans

plan := plans[input.tenant.plan]
