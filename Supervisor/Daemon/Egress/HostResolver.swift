import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Names to addresses with the system resolver (getaddrinfo), on a pool of
/// threads of its own: a slow DNS server must not hold an event loop or
/// Swift's pool, and however many connections tenants open at once, lookups
/// wait for one of a fixed number of threads instead of each taking one.
/// The proxy connects to exactly the address it judged, never to the name.
enum HostResolver {
    struct Failure: Error, Equatable {
        var message: String
    }

    /// How many lookups run at once; the others queue.
    static let threads = 8

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }()

    /// The addresses of `host` in the resolver's order; an IP literal is itself.
    static func resolve(_ host: String, port: Int) async throws -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        return try await pool.runIfActive { try lookup(host, port: port) }
    }

    private static func lookup(_ host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(message: "\(host) does not resolve: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let raw = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    addresses.append(SocketAddress(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }, host: host))
                case AF_INET6:
                    addresses.append(SocketAddress(raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }, host: host))
                default:
                    break
                }
            }
            next = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw Failure(message: "\(host) resolves to no IPv4 or IPv6 address") }
        return addresses
    }

    /// The class of the address a connection would reach.
    static func classify(_ address: SocketAddress) -> AddressClass {
        switch address {
        case .v4(let v4):
            let raw = v4.address.sin_addr.s_addr
            return AddressClass.of(ipv4: withUnsafeBytes(of: raw) { Array($0) })
        case .v6(let v6):
            return AddressClass.of(ipv6: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        case .unixDomainSocket:
            return .reserved
        }
    }
}
