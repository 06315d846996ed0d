import Foundation

/// A node's advertised tenant API, `http://host:port`: where other nodes
/// forward the calls of the tenants it holds. Plain HTTP on purpose: nodes
/// talk over the cluster's own network (a pod network, a private LAN).
struct NodeAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init?(_ url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
              let host = components.host, !host.isEmpty, let port = components.port, (1...65_535).contains(port),
              components.user == nil, components.query == nil, components.fragment == nil,
              components.path.isEmpty || components.path == "/" else { return nil }
        // URLComponents keeps the brackets of an IPv6 literal; sockets want it bare.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
    }

    var description: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}
