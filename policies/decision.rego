# The decision before every tool call: data.warden.decision with the input of DESIGN.md.
package warden

default require_approval := false

default needs_approval := false

decision := {
	"allow": count(deny) == 0,
	"deny": sort([msg | some msg in deny]),
	"require_approval": needs_approval,
	"approval_reasons": sort([msg | some msg in approval_reasons]),
}

# Approval matters only for calls the rules would otherwise allow.
needs_approval if {
	count(deny) == 0
	require_approval
}

deny contains "unknown tenant plan" if not plan

deny contains msg if {
	input.tenant.status != "active"
	msg := sprintf("tenant %s is %s", [input.tenant.id, input.tenant.status])
}

# Tenants call the tools of their plan. net.connect is no tool of theirs: the
# egress proxy asks it for each connection a call makes (see below).
deny contains msg if {
	plan
	input.tool != "net.connect"
	not tool_in_plan(input.tool)
	msg := sprintf("tool %s is not allowed on plan %s", [input.tool, input.tenant.plan])
}

tool_in_plan(tool) if {
	some listed in plan.tools
	names_tool(listed, tool)
}

# A plan's list names a tool, or a whole family: "browser" for
# browser.content, browser.screenshot, browser.pdf and browser.evaluate.
names_tool(listed, tool) if listed == tool

names_tool(listed, tool) if listed == split(tool, ".")[0]

# Each ceiling on its own: a plan that leaves one out leaves only that one open.
deny contains msg if {
	some name in ["timeout_ms", "cpu_ms", "memory_mb", "output_bytes"]
	ceiling := plan.limits[name]
	input.args[name] > ceiling
	msg := sprintf("%s %v exceeds the plan's ceiling of %v", [name, input.args[name], ceiling])
}

deny contains "network access is not part of this plan" if {
	input.args.network == true
	not plan.network
}

# Quotas (calls per day, CPU seconds, …) are enforced exactly by the meter, with 429;
# input.usage carries the tenant's counters for rules of your own.

deny contains msg if {
	some host in requested_hosts
	blocked_host(host)
	not host_allowed(host)
	msg := sprintf("host %s is private, link-local or metadata", [host])
}

# net.connect: one connection through the egress proxy, on behalf of a call of
# input.args.via, with the name (host), the address it resolved to (ip), whether
# that address is anything but public (private, address_class) and the port.
deny contains msg if {
	input.tool == "net.connect"
	not connections_allowed
	msg := sprintf("%s calls on plan %s may not open network connections", [input.args.via, input.tenant.plan])
}

connections_allowed if {
	input.args.via == "exec"
	plan.network
}

connections_allowed if {
	input.args.via in {"fetch", "browser"}
	some tool in plan.tools
	split(tool, ".")[0] == input.args.via
}

deny contains msg if {
	input.tool == "net.connect"
	not input.args.port in egress_ports
	msg := sprintf("port %v of %s is closed to egress; open ports: %v", [input.args.port, input.args.host, egress_ports])
}

# Judged on the address the name resolved to: a public name that resolves to a
# private address is refused here (no DNS-rebinding way in).
deny contains msg if {
	input.tool == "net.connect"
	input.args.private
	not private_address_allowed
	msg := sprintf("%s resolves to %s, a %s address: connections there are refused", [input.args.host, input.args.ip, input.args.address_class])
}

require_approval if count(approval_reasons) > 0

approval_reasons contains msg if {
	some listed in plan.approval_tools
	names_tool(listed, input.tool)
	msg := sprintf("%s calls need an operator's approval on plan %s", [input.tool, input.tenant.plan])
}

# Shell access with the network on is risky enough for a human to look first.
approval_reasons contains "exec with the network on needs an operator's approval below the pro plan" if {
	input.tool == "exec"
	input.args.network == true
	input.tenant.plan != "pro"
}
