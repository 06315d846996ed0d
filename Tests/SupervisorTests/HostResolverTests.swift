import NIOCore
@testable import Supervisor
import Testing

/// The egress proxy's resolver: literals stay themselves, names resolve on a
/// bounded pool, and many lookups at once (more than the pool's threads)
/// each get their own answer.
@Suite struct HostResolverTests {
    @Test func aLiteralIsItselfAndANameResolves() async throws {
        #expect(try await HostResolver.resolve("10.1.2.3", port: 80).map(\.ipAddress) == ["10.1.2.3"])
        #expect(try await HostResolver.resolve("::1", port: 80).map(\.ipAddress) == ["::1"])
        let local = try await HostResolver.resolve("localhost", port: 8080)
        #expect(!local.isEmpty && local.allSatisfy { $0.port == 8080 })
        #expect(local.contains { $0.ipAddress == "127.0.0.1" || $0.ipAddress == "::1" }, "\(local)")
    }

    @Test func aNameThatDoesNotResolveSaysSo() async throws {
        await #expect(throws: HostResolver.Failure.self) {
            _ = try await HostResolver.resolve("no-such-host.invalid", port: 80)
        }
    }

    @Test func manyLookupsAtOnceQueueOnThePoolAndEachGetsItsOwnAnswer() async throws {
        let lookups = HostResolver.threads * 8
        let answers = try await withThrowingTaskGroup(of: (Int, [SocketAddress]).self) { group in
            for n in 0..<lookups {
                group.addTask { (n, try await HostResolver.resolve("localhost", port: 20_000 + n)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == lookups)
        for (n, addresses) in answers {
            #expect(!addresses.isEmpty && addresses.allSatisfy { $0.port == 20_000 + n }, "lookup \(n): \(addresses)")
        }
    }
}
