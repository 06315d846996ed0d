# Host rules for fetch, the browser tools and each egress connection (net.connect): no
# private, link-local, loopback or metadata names or addresses, unless the
# operator's data lets them through. A JSON file in the policy directory sets it:
#
#   {"egress": {"ports": [80, 443, 8080],                 ports open to egress (default 80, 443)
#               "allow_private": ["10.20.0.0/16"],        private ranges let through
#               "allow_hosts": ["wiki.corp.example"],     names let through (their addresses are still judged)
#               "allow_metadata": false}}                 cloud metadata addresses (169.254.169.254, fd00:ec2::254)
package warden

requested_hosts contains host if {
	names_a_url
	url := lower(input.args.url)
	web_url(url)
	host := url_host(url)
}

names_a_url if input.tool == "fetch"

names_a_url if startswith(input.tool, "browser.")

# Only web URLs name a host (a browser's data: and about:blank pages do not).
web_url(url) if startswith(url, "http://")

web_url(url) if startswith(url, "https://")

requested_hosts contains input.args.host if input.tool == "net.connect"

egress_ports := data.egress.ports

egress_ports := [80, 443] if not data.egress.ports

egress_allowed_private := data.egress.allow_private

egress_allowed_private := [] if not data.egress.allow_private

egress_allowed_hosts := data.egress.allow_hosts

egress_allowed_hosts := [] if not data.egress.allow_hosts

host_allowed(host) if host in egress_allowed_hosts

host_allowed(host) if {
	is_ip(host)
	some cidr in egress_allowed_private
	net.cidr_contains(cidr, host)
}

private_address_allowed if {
	input.args.address_class != "metadata"
	some cidr in egress_allowed_private
	net.cidr_contains(cidr, input.args.ip)
}

private_address_allowed if {
	input.args.address_class == "metadata"
	data.egress.allow_metadata == true
}

# The host part of an http(s) URL, without port or credentials.
url_host(url) := host if {
	rest := trim_prefix(trim_prefix(url, "https://"), "http://")
	authority := split(rest, "/")[0]
	hostport := split_last(authority, "@")
	host := lower(strip_port(hostport))
}

split_last(s, sep) := parts[count(parts) - 1] if parts := split(s, sep)

strip_port(hostport) := trim_suffix(trim_prefix(split(hostport, "]")[0], "["), "") if startswith(hostport, "[")

strip_port(hostport) := split(hostport, ":")[0] if not startswith(hostport, "[")

metadata_hosts := {"metadata.google.internal", "metadata", "instance-data", "169.254.169.254", "fd00:ec2::254"}

private_ranges := [
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
	"100.64.0.0/10", "0.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10",
]

blocked_host(host) if host in metadata_hosts

blocked_host("localhost")

blocked_host(host) if endswith(host, ".localhost")

blocked_host(host) if endswith(host, ".internal")

blocked_host(host) if {
	is_ip(host)
	some cidr in private_ranges
	net.cidr_contains(cidr, host)
}

is_ip(host) if regex.match(`^[0-9]+(\.[0-9]+){3}$`, host)

is_ip(host) if contains(host, ":")
