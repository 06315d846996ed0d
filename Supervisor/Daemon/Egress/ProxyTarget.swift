import Foundation
import NIOHTTP1

/// Where a proxy request wants to go: `CONNECT host:port` (a tunnel, for
/// HTTPS) or an absolute `http://` URI (forwarded). Anything else is refused.
struct ProxyTarget: Sendable, Equatable {
    enum Kind: String, Sendable {
        case tunnel = "connect"
        case forward = "http"
    }

    var kind: Kind
    /// Lower-cased; an IPv6 literal without its brackets.
    var host: String
    var port: Int
    /// The whole URI of a forwarded request; nil for a tunnel.
    var url: String?
    var method: String
    /// A forwarded request's path and query (origin form), as the origin server gets it.
    var originForm: String

    /// The authority as the Host header gives it.
    var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return (kind == .forward && port == 80) ? name : "\(name):\(port)"
    }

    struct Invalid: Error, Equatable {
        var message: String
    }

    init(kind: Kind, host: String, port: Int, url: String?, method: String, originForm: String) {
        self.kind = kind
        self.host = host
        self.port = port
        self.url = url
        self.method = method
        self.originForm = originForm
    }

    /// Reads the target of a request head.
    init(_ head: HTTPRequestHead) throws(Invalid) {
        if head.method == .CONNECT {
            let (host, port) = try Self.hostAndPort(head.uri, defaultPort: nil)
            self.init(kind: .tunnel, host: host, port: port, url: nil, method: "CONNECT", originForm: "")
            return
        }
        let uri = head.uri
        let lowered = uri.lowercased()
        if lowered.hasPrefix("https://") {
            throw Invalid(message: "https:// URLs go through a CONNECT tunnel; this proxy forwards only http:// requests")
        }
        guard lowered.hasPrefix("http://") else {
            throw Invalid(message: "a proxy request needs an absolute http:// URI or CONNECT host:port, not \"\(uri.prefix(200))\"")
        }
        let rest = uri.dropFirst("http://".count)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<end])
        guard !authority.contains("@") else {
            throw Invalid(message: "credentials in the URL are not forwarded; send them in a header")
        }
        let (host, port) = try Self.hostAndPort(authority, defaultPort: 80)
        var path = String(rest[end...])
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        self.init(kind: .forward, host: host, port: port, url: uri, method: head.method.rawValue, originForm: path)
    }

    /// `host:port`, `[v6]:port`, or just a host when there is a default port.
    static func hostAndPort(_ authority: String, defaultPort: Int?) throws(Invalid) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Invalid(message: "\"\(authority.prefix(200))\" has an IPv6 address without its closing bracket")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw Invalid(message: "\"\(authority.prefix(200))\" is not host:port")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw Invalid(message: "\"\(authority.prefix(200))\" is not host:port") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw Invalid(message: "\"\(portText.prefix(20))\" is not a port between 1 and 65535")
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw Invalid(message: "CONNECT needs host:port, not \"\(authority.prefix(200))\"")
        }
        let name = host.lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_:%")
        guard !name.isEmpty, name.utf8.count <= 253, name.allSatisfy({ allowed.contains($0) }) else {
            throw Invalid(message: "\"\(host.prefix(200))\" is not a host name or IP address")
        }
        return (name, port)
    }
}
