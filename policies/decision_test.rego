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
	d := warden.decision with input as call("free", "browser.content", {"url": "https://example.com"})
	not d.allow
	d.deny == ["tool browser.content is not allowed on plan free"]
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

# net.connect: each connection through the egress proxy.
connect(plan, args) := call(plan, "net.connect", object.union({"port": 443, "private": false, "address_class": "public", "scheme": "connect", "method": "CONNECT"}, args))

test_exec_connections_to_public_hosts_need_a_plan_with_network if {
	allowed := warden.decision with input as connect("creator", {"via": "exec", "host": "example.com", "ip": "93.184.215.14"})
	allowed.allow
	denied := warden.decision with input as connect("free", {"via": "exec", "host": "example.com", "ip": "93.184.215.14"})
	denied.deny == ["exec calls on plan free may not open network connections"]
}

test_fetch_connections_follow_the_fetch_tool if {
	d := warden.decision with input as connect("free", {"via": "fetch", "host": "example.com", "ip": "93.184.215.14"})
	d.allow
	not d.require_approval
}

test_connections_are_judged_on_the_resolved_address if {
	d := warden.decision with input as connect("pro", {"via": "exec", "host": "rebind.example", "ip": "127.0.0.1", "private": true, "address_class": "loopback"})
	d.deny == ["rebind.example resolves to 127.0.0.1, a loopback address: connections there are refused"]
}

test_metadata_address_is_refused_even_where_its_range_is_allowed if {
	inp := connect("pro", {"via": "exec", "host": "169.254.169.254", "ip": "169.254.169.254", "port": 80, "private": true, "address_class": "metadata"})
	d := warden.decision with input as inp with data.egress as {"allow_private": ["169.254.0.0/16"]}
	"169.254.169.254 resolves to 169.254.169.254, a metadata address: connections there are refused" in d.deny
	opened := warden.decision with input as inp with data.egress as {"allow_private": ["169.254.0.0/16"], "allow_metadata": true}
	opened.allow
}

test_only_open_ports if {
	d := warden.decision with input as connect("pro", {"via": "exec", "host": "example.com", "ip": "93.184.215.14", "port": 22})
	d.deny == ["port 22 of example.com is closed to egress; open ports: [80, 443]"]
	opened := warden.decision with input as connect("pro", {"via": "exec", "host": "example.com", "ip": "93.184.215.14", "port": 22}) with data.egress as {"ports": [22]}
	opened.allow
}

test_data_lets_a_private_range_through if {
	inp := connect("pro", {"via": "fetch", "host": "10.1.2.3", "ip": "10.1.2.3", "port": 8080, "private": true, "address_class": "private"})
	refused := warden.decision with input as inp with data.egress as {"ports": [8080]}
	not refused.allow
	allowed := warden.decision with input as inp with data.egress as {"ports": [8080], "allow_private": ["10.1.0.0/16"]}
	allowed.allow
}

test_an_allowed_name_is_still_judged_on_its_address if {
	fetch := warden.decision with input as call("pro", "fetch", {"url": "http://localhost:8080/"}) with data.egress as {"allow_hosts": ["localhost"]}
	fetch.allow
	inp := connect("pro", {"via": "fetch", "host": "localhost", "ip": "127.0.0.1", "port": 80, "private": true, "address_class": "loopback"})
	d := warden.decision with input as inp with data.egress as {"allow_hosts": ["localhost"]}
	d.deny == ["localhost resolves to 127.0.0.1, a loopback address: connections there are refused"]
}

test_private_names_are_refused_before_resolution if {
	d := warden.decision with input as connect("pro", {"via": "exec", "host": "metadata.google.internal", "ip": "93.184.215.14"})
	"host metadata.google.internal is private, link-local or metadata" in d.deny
}

# The browser tools: a plan names the family ("browser") or single tools.
test_browser_tools_follow_the_family_in_the_plan if {
	every tool in ["browser.content", "browser.screenshot", "browser.pdf", "browser.evaluate"] {
		d := warden.decision with input as call("pro", tool, {"url": "https://example.com/", "timeout_ms": 5000})
		d.allow
	}
	denied := warden.decision with input as call("creator", "browser.screenshot", {"url": "https://example.com/"})
	denied.deny == ["tool browser.screenshot is not allowed on plan creator"]
}

test_a_plan_may_name_one_browser_tool if {
	plans := {"pro": {"tools": {"browser.screenshot"}, "limits": {}, "network": true, "approval_tools": set()}}
	shot := warden.decision with input as call("pro", "browser.screenshot", {"url": "https://example.com/"}) with data.plans as plans
	shot.allow
	pdf := warden.decision with input as call("pro", "browser.pdf", {"url": "https://example.com/"}) with data.plans as plans
	pdf.deny == ["tool browser.pdf is not allowed on plan pro"]
	link := warden.decision with input as connect("pro", {"via": "browser", "host": "example.com", "ip": "93.184.215.14"}) with data.plans as plans
	link.allow
}

test_browser_pages_of_private_hosts_are_refused if {
	every url in ["http://169.254.169.254/latest", "HTTP://LOCALHOST:8080/", "https://10.1.2.3/"] {
		d := warden.decision with input as call("pro", "browser.content", {"url": url})
		not d.allow
	}
}

test_browser_pages_without_a_host_are_judged_on_the_rest if {
	d := warden.decision with input as call("pro", "browser.screenshot", {"url": "data:text/html,<p>hi</p>"})
	d.allow
	html := warden.decision with input as call("pro", "browser.evaluate", {"html_bytes": 12, "expression": "1 + 1"})
	html.allow
}

test_browser_connections_need_the_browser_in_the_plan if {
	d := warden.decision with input as connect("creator", {"via": "browser", "host": "example.com", "ip": "93.184.215.14"})
	d.deny == ["browser calls on plan creator may not open network connections"]
}

test_browser_timeout_ceiling if {
	d := warden.decision with input as call("pro", "browser.pdf", {"html_bytes": 10, "timeout_ms": 200000})
	d.deny == ["timeout_ms 200000 exceeds the plan's ceiling of 120000"]
}

test_a_plan_may_hold_the_browser_family_for_approval if {
	plans := {"pro": {"tools": {"browser"}, "limits": {}, "network": true, "approval_tools": {"browser"}}}
	d := warden.decision with input as call("pro", "browser.pdf", {"html_bytes": 3}) with data.plans as plans
	d.allow
	d.require_approval
	d.approval_reasons == ["browser.pdf calls need an operator's approval on plan pro"]
}
