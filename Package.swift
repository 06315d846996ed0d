// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Warden",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The jail primitive. The code between clone and exec is C (CSandbox);
        // libseccomp and libcap come in as system libraries.
        .systemLibrary(name: "CSeccomp", path: "Sandbox/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", path: "Sandbox/CCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .target(name: "CSandbox", path: "Sandbox/CSandbox"),
        .target(name: "Sandbox", dependencies: ["CSandbox", "CSeccomp", "CCap"], path: "Sandbox/Sandbox"),

        // The Rego engine: knows nothing of tenants.
        .target(name: "Policy",
                dependencies: [.product(name: "BigInt", package: "BigInt"),
                               .product(name: "Collections", package: "swift-collections")],
                path: "Supervisor/Policy",
                // The evaluator's recursive closures make the closure specializer
                // nest copies without end in -O builds; compile time explodes.
                // Run-time exclusivity checks cost on every access to the evaluator's
                // state; the hot path does without them (debug builds keep them).
                swiftSettings: [.unsafeFlags(["-Xllvm", "-sil-disable-pass=closure-specialize"]),
                                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),

        // The system libpq, for the PostgreSQL back end of the store.
        .systemLibrary(name: "CPQ", path: "Supervisor/CPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // The system libcurl, for the fetch tool (through the egress proxy).
        .systemLibrary(name: "CCurl", path: "Supervisor/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),

        // Tenants, API keys and the rest of the system of record: one protocol, SQLite and PostgreSQL back ends.
        .target(name: "Store",
                dependencies: ["CPQ", .product(name: "GRDB", package: "GRDB.swift"),
                               .product(name: "Crypto", package: "swift-crypto")],
                path: "Supervisor/Store"),

        // The daemon: HTTP API, auth, admin API on a Unix socket, configuration.
        .target(name: "Supervisor",
                dependencies: ["Store", "Sandbox", "WorkerProtocol", "Policy", "CCurl",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "TOMLKit", package: "TOMLKit"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")],
                path: "Supervisor/Daemon", resources: [.copy("openapi.json")]),

        // The worker protocol: frames, codec and messages shared by the supervisor and the worker.
        .target(name: "WorkerProtocol", path: "Worker/Protocol"),
        // openat2 for workspace paths that never leave the workspace.
        .target(name: "CWorker", path: "Worker/CWorker"),
        // The per-tenant worker: serves the protocol, runs each tool call in a nested jail.
        .executableTarget(name: "warden-worker", dependencies: ["Sandbox", "WorkerProtocol", "CWorker"],
                          path: "Worker/Worker",
                          // -z now: jail children call libc functions the worker never calls itself,
                          // and lazy binding would resolve them again in every child.
                          // The static FoundationEssentials does not name the two libraries it needs.
                          linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-z", "-Xlinker", "now"]),
                                           .linkedLibrary("_FoundationCollections"),
                                           .linkedLibrary("_FoundationCShims")]),

        .executableTarget(name: "warden",
                          dependencies: ["Sandbox", "Policy", "Supervisor", "Store",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "CLI"),

        // A C program that tries syscalls inside a jail and prints what the kernel answered.
        .executableTarget(name: "syscall-probe", path: "Tests/Probes/syscall-probe", linkerSettings: [.unsafeFlags(["-static-stdlib"])]),

        // Test support shared by the test targets: process trees, PNG screenshots decoded to pixels (zlib).
        .systemLibrary(name: "CZlib", path: "Tests/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "TestKit", dependencies: ["CZlib"], path: "Tests/TestKit"),

        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], path: "Tests/SandboxTests"),
        .testTarget(name: "WorkerTests", dependencies: ["WorkerProtocol", "Sandbox", "TestKit"], path: "Tests/WorkerTests"),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"], path: "Tests/PolicyTests"),
        .testTarget(name: "StoreTests", dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")],
                    path: "Tests/StoreTests"),
        .testTarget(name: "SupervisorTests",
                    dependencies: ["Supervisor", "Store", "TestKit",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "Crypto", package: "swift-crypto"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOHTTP1", package: "swift-nio")],
                    path: "Tests/SupervisorTests"),
    ]
)
