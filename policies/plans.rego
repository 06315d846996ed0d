# Default plans. The daemon provides the store's plans as data.plans (warden plan …);
# these apply when it does not (warden policy eval and test).
package warden

default_plans := {
	"free": {
		"tools": {"fetch", "exec", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 10000, "cpu_ms": 10000, "memory_mb": 256, "output_bytes": 1048576},
		"network": false,
		"approval_tools": set(),
	},
	"creator": {
		"tools": {"fetch", "exec", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 30000, "cpu_ms": 30000, "memory_mb": 512, "output_bytes": 4194304},
		"network": true,
		"approval_tools": set(),
	},
	"pro": {
		"tools": {"fetch", "exec", "browser", "files.list", "files.read", "files.write", "files.delete"},
		"limits": {"timeout_ms": 120000, "cpu_ms": 120000, "memory_mb": 2048, "output_bytes": 8388608},
		"network": true,
		"approval_tools": set(),
	},
}

plans := data.plans

plans := default_plans if not data.plans

plan := plans[input.tenant.plan]
