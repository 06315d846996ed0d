import Foundation
import Logging
import Store
@testable import Supervisor
import Testing

@Suite("warden serve configuration")
struct ConfigurationTests {
    @Test func defaultsSuitADeveloper() throws {
        let configuration = try SupervisorConfiguration.resolve([])
        #expect(configuration.stateDirectory == "./var")
        #expect(configuration.host == "127.0.0.1" && configuration.port == 8080)
        #expect(configuration.logFormat == .text && configuration.logLevel == .info)
    }

    @Test func tomlThenEnvironmentThenFlagsWithTheLaterWinning() throws {
        let toml = try ConfigurationLayer.toml("""
            state_dir = "/srv/warden"
            [http]
            host = "0.0.0.0"
            port = 9000
            max_body_bytes = 1024
            idle_timeout_seconds = 2.5
            [log]
            format = "json"
            level = "debug"
            [shutdown]
            grace_seconds = 3
            [tenants]
            host_id_base = 500000
            host_id_count = 1000
            """, source: "test.toml")
        let environment = ConfigurationLayer.environment([
            "WARDEN_HTTP_PORT": "9100", "WARDEN_LOG_LEVEL": "warning", "HOME": "/root",
        ])
        let flags = ConfigurationLayer.flags([.httpPort: .integer(9200), .logFormat: nil])

        let configuration = try SupervisorConfiguration.resolve([toml, environment, flags])
        #expect(configuration.stateDirectory == "/srv/warden")
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9200)
        #expect(configuration.logLevel == .warning)
        #expect(configuration.logFormat == .json)
        #expect(configuration.maxBodyBytes == 1024)
        #expect(configuration.idleTimeoutSeconds == 2.5)
        #expect(configuration.shutdownGraceSeconds == 3)
        #expect(configuration.hostIDBase == 500_000 && configuration.hostIDCount == 1000)
    }

    @Test func loadReadsTheFileNamedByTheEnvironment() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/warden.toml"
        try "[http]\nport = 7000\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try SupervisorConfiguration.load(
            configFile: nil, environment: ["WARDEN_CONFIG": file, "WARDEN_STATE_DIR": "/tmp/x"],
            flags: .flags([:]))
        #expect(configuration.port == 7000)
        #expect(configuration.stateDirectory == "/tmp/x")
    }

    @Test func errorsNameTheSourceAndTheSetting() throws {
        #expect { try ConfigurationLayer.toml("[http]\nprot = 1\n", source: "a.toml") } throws: {
            "\($0)".contains("unknown setting 'http.prot'")
        }
        #expect { try ConfigurationLayer.toml("[http\n", source: "a.toml") } throws: {
            "\($0)".contains("a.toml: not valid TOML at line 1")
        }
        #expect { try SupervisorConfiguration.resolve([.environment(["WARDEN_HTTP_PORT": "80x"])]) } throws: {
            "\($0)" == "WARDEN_HTTP_PORT must be an integer, got '80x'"
        }
        #expect { try SupervisorConfiguration.resolve([.flags([.httpPort: .integer(70000)])]) } throws: {
            "\($0)" == "--port must be between 0 and 65535, got 70000"
        }
        #expect { try SupervisorConfiguration.resolve([.flags([.logFormat: .string("xml")])]) } throws: {
            "\($0)".contains("not one of text, json")
        }
        #expect { try SupervisorConfiguration.resolve([try .toml("log.level = 3", source: "b.toml")]) } throws: {
            "\($0)" == "b.toml: log.level must be a non-empty string"
        }
    }

    @Test func nodeSettingsComeFromEveryLayerAndBadOnesAreRefused() throws {
        let toml = try ConfigurationLayer.toml("[node]\nid = \"pod-0\"\nheartbeat_ms = 500\nlease_ttl_ms = 3000\n", source: "n.toml")
        let flags = ConfigurationLayer.flags([.nodeAdvertise: .string("http://10.0.0.7:8080")])
        let configuration = try SupervisorConfiguration.resolve([toml, .environment(["WARDEN_NODE_ID": "pod-1"]), flags])
        #expect(configuration.nodeID == "pod-1" && configuration.nodeAdvertise == "http://10.0.0.7:8080")
        #expect(configuration.nodeHeartbeatMs == 500 && configuration.nodeLeaseTTLMs == 3000)
        #expect(try SupervisorConfiguration.resolve([]).nodeID == nil)

        #expect { try SupervisorConfiguration.resolve([.flags([.nodeID: .string("pod 0")])]) } throws: {
            "\($0)".hasPrefix("--node-id: node id 'pod 0' must be 1 to 64 letters")
        }
        for address in ["https://10.0.0.7:8443", "10.0.0.7:8080", "http://10.0.0.7", "http://10.0.0.7:8080/api"] {
            #expect { try SupervisorConfiguration.resolve([.flags([.nodeAdvertise: .string(address)])]) } throws: {
                "\($0)" == "--advertise: '\(address)' is not an http://host:port address other nodes can reach"
            }
        }
        #expect { try SupervisorConfiguration.resolve([.flags([.nodeHeartbeatMs: .integer(2000), .nodeLeaseTTLMs: .integer(5000)])]) } throws: {
            "\($0)".contains("node.lease_ttl_ms (5000) must be at least three heartbeats")
        }
        #expect(NodeAddress("http://[::1]:9000") == NodeAddress("http://[::1]:9000/"))
        #expect(NodeAddress("http://[::1]:9000")?.host == "::1")
    }

    @Test func theStoreIsSQLiteUnlessAPostgreSQLConnectionIsNamed() throws {
        #expect(try SupervisorConfiguration.resolve([]).store == .sqlite)
        let environment = ConfigurationLayer.environment(["WARDEN_STORE_URL": "postgresql://warden@db/warden?sslmode=verify-full"])
        #expect(try SupervisorConfiguration.resolve([environment]).store == .postgres("postgresql://warden@db/warden?sslmode=verify-full"))
        let flags = ConfigurationLayer.flags([.storeURL: .string("host=/run/postgresql dbname=warden")])
        #expect(try SupervisorConfiguration.resolve([environment, flags]).store == .postgres("host=/run/postgresql dbname=warden"))
        #expect(try SupervisorConfiguration.resolve([try .toml("[store]\nurl = \"postgresql\"", source: "c.toml")]).store == .postgres(""))
        #expect { try SupervisorConfiguration.resolve([.flags([.storeURL: .string("mysql://db")])]) } throws: {
            "\($0)".hasPrefix("--store: store 'mysql://db' is not one of")
        }
    }

    @Test func everyKeyHasAnEnvironmentVariableAndAFlag() {
        #expect(ConfigurationKey.httpMaxBodyBytes.environmentVariable == "WARDEN_HTTP_MAX_BODY_BYTES")
        #expect(Set(ConfigurationKey.allCases.map(\.flagName)).count == ConfigurationKey.allCases.count)
    }
}

@Suite("JSON log handler")
struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLineWithMetadata() throws {
        let pipe = Pipe()
        var handler = JSONLogHandler(label: "warden", output: LogOutput(handle: pipe.fileHandleForWriting))
        handler.metadata["request_id"] = "req_1"
        var logger = Logger(label: "warden") { _ in handler }
        logger.logLevel = .info
        logger.info("hello \"world\"", metadata: ["status": "200"])
        logger.debug("not shown")
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "hello \"world\"")
        #expect(object["level"] as? String == "info")
        #expect((object["metadata"] as? [String: Any])?["request_id"] as? String == "req_1")
        #expect((object["metadata"] as? [String: Any])?["status"] as? String == "200")
        #expect((object["time"] as? String)?.contains("T") == true)
    }
}
