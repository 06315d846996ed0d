/// What kind of address a connection would reach, judged on the resolved IP
/// (never on the name): everything but `public` is refused unless a policy
/// rule allows it.
enum AddressClass: String, Sendable {
    case `public`
    case loopback
    /// RFC 1918 (10/8, 172.16/12, 192.168/16).
    case `private`
    case linkLocal = "link_local"
    /// fc00::/7.
    case uniqueLocal = "unique_local"
    /// 100.64/10, carrier-grade NAT.
    case sharedAddress = "cgnat"
    /// Cloud instance metadata: 169.254.169.254, fd00:ec2::254.
    case metadata
    /// 0.0.0.0/8 and ::, which reach this host.
    case unspecified
    case multicast
    /// Documentation, benchmarking, 240/4 and other ranges that are not the internet.
    case reserved

    var isPublic: Bool { self == .public }

    /// Classifies an IPv4 address in network byte order, as four octets.
    static func of(ipv4 o: [UInt8]) -> AddressClass {
        guard o.count == 4 else { return .reserved }
        switch (o[0], o[1]) {
        case (169, 254) where o[2] == 169 && o[3] == 254: return .metadata
        case (0, _): return .unspecified
        case (127, _): return .loopback
        case (10, _), (172, 16...31), (192, 168): return .private
        case (169, 254): return .linkLocal
        case (100, 64...127): return .sharedAddress
        case (224...239, _): return .multicast
        case (240...255, _): return .reserved
        // 192.0.0/24, TEST-NETs 192.0.2/24, 198.51.100/24, 203.0.113/24, benchmarking 198.18/15.
        case (192, 0) where o[2] == 0 || o[2] == 2: return .reserved
        case (198, 18...19): return .reserved
        case (198, 51) where o[2] == 100: return .reserved
        case (203, 0) where o[2] == 113: return .reserved
        default: return .public
        }
    }

    /// Classifies an IPv6 address given as sixteen octets. IPv4-mapped and
    /// IPv4-compatible forms are judged as the IPv4 address inside.
    static func of(ipv6 o: [UInt8]) -> AddressClass {
        guard o.count == 16 else { return .reserved }
        let metadata: [UInt8] = [0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]
        if o == metadata { return .metadata }
        if o.allSatisfy({ $0 == 0 }) { return .unspecified }
        if o[0..<15].allSatisfy({ $0 == 0 }) && o[15] == 1 { return .loopback }
        if o[0..<10].allSatisfy({ $0 == 0 }) && ((o[10] == 0xff && o[11] == 0xff) || (o[10] == 0 && o[11] == 0)) {
            return of(ipv4: Array(o[12..<16]))
        }
        // NAT64 (64:ff9b::/96) carries an IPv4 address too.
        if o[0] == 0x00 && o[1] == 0x64 && o[2] == 0xff && o[3] == 0x9b && o[4..<12].allSatisfy({ $0 == 0 }) {
            return of(ipv4: Array(o[12..<16]))
        }
        if o[0] & 0xfe == 0xfc { return .uniqueLocal }
        if o[0] == 0xfe && o[1] & 0xc0 == 0x80 { return .linkLocal }
        // fec0::/10, the old site-local.
        if o[0] == 0xfe && o[1] & 0xc0 == 0xc0 { return .private }
        if o[0] == 0xff { return .multicast }
        // 2001:db8::/32, documentation.
        if o[0] == 0x20 && o[1] == 0x01 && o[2] == 0x0d && o[3] == 0xb8 { return .reserved }
        // Only 2000::/3 is global unicast today.
        if o[0] & 0xe0 != 0x20 { return .reserved }
        return .public
    }
}
