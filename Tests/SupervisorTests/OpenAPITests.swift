import Foundation
import Logging
import Sandbox
import Store
@testable import Supervisor
import Testing

/// The OpenAPI document (`Supervisor/Daemon/openapi.json`) against the implementation:
/// the same routes and methods, and real answers that validate against its schemas.
@Suite("OpenAPI document")
struct OpenAPITests {
    static var sourceDocumentPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Supervisor/Daemon/openapi.json").path
    }

    static func document(_ response: LocalHTTPClient.Response) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
    }

    @Test func theDocumentIsServedWithoutAKeyAndIsTheOneInTheRepository() async throws {
        try await withLiveDaemon { daemon in
            let response = try await daemon.http("GET", "/v1/openapi.json")
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
            let served = try Self.document(response)
            let source = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Self.sourceDocumentPath))) as? NSDictionary)
            #expect(NSDictionary(dictionary: served).isEqual(source), "the served document differs from the repository's")
            #expect((served["openapi"] as? String)?.hasPrefix("3.1") == true)
            #expect((served["info"] as? [String: Any])?["version"] as? String == WardenVersion.current)

            // Every $ref points at something that exists.
            var refs: [String] = []
            func collect(_ value: Any) {
                if let object = value as? [String: Any] {
                    if let ref = object["$ref"] as? String { refs.append(ref) }
                    object.values.forEach(collect)
                } else if let array = value as? [Any] {
                    array.forEach(collect)
                }
            }
            collect(served)
            #expect(!refs.isEmpty)
            for ref in Set(refs) {
                #expect(SchemaValidator(document: served).resolve(ref) != nil, "dangling $ref \(ref)")
            }
        }
    }

    /// Hummingbird's `/a/**` and `/a/:name` in OpenAPI spelling.
    static func openAPIPath(_ routerPath: String) -> String {
        routerPath.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            if segment == "**" { return "{path}" }
            if segment.hasPrefix(":") { return "{\(segment.dropFirst())}" }
            return String(segment)
        }.joined(separator: "/")
    }

    /// A concrete URL path for a templated one.
    static func concretePath(_ path: String) -> String {
        path.replacingOccurrences(of: "{path}", with: "probe/dir/file.txt").replacingOccurrences(of: "{id}", with: "ap_probe")
    }

    @Test func everyRouteIsDocumentedWithItsMethodsAndEveryDocumentedRouteExists() async throws {
        try await withLiveDaemon { daemon in
            let served = try Self.document(try await daemon.http("GET", "/v1/openapi.json"))
            let paths = try #require(served["paths"] as? [String: [String: Any]])
            let verbs: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            var documented: [String: Set<String>] = [:]
            for (path, item) in paths {
                documented[path] = Set(item.keys.filter { verbs.contains($0) }.map { $0.uppercased() })
            }

            // The router as the daemon builds it (the same function, the same kind of inputs).
            var registered: [String: Set<String>] = [:]
            for route in try Self.publicRoutes(stateDirectory: daemon.stateDirectory + "/router-probe") {
                registered[Self.openAPIPath(route.path), default: []].insert(route.method)
            }
            #expect(!registered.isEmpty)

            // Methods a path lacks are registered too, to answer 405 with Allow: ask the
            // live daemon which ones those are.
            var implemented: [String: Set<String>] = [:]
            for (path, methods) in registered {
                for method in methods {
                    let answer = try await daemon.http(method, Self.concretePath(path))
                    #expect(answer.status != 404, "\(method) \(path) is registered but answers 404")
                    if answer.status != 405 { implemented[path, default: []].insert(method) }
                }
            }
            #expect(Set(implemented.keys) == Set(documented.keys),
                    "routes: \(implemented.keys.sorted()) documented: \(documented.keys.sorted())")
            for (path, methods) in implemented {
                #expect(documented[path] == methods, "\(path): implemented \(methods.sorted()), documented \(documented[path]?.sorted() ?? [])")
            }

            // And the live 405 answers name exactly the documented methods.
            for (path, methods) in documented {
                guard let absent = ["GET", "POST", "PUT", "PATCH", "DELETE"].first(where: { !methods.contains($0) }) else { continue }
                let answer = try await daemon.http(absent, Self.concretePath(path))
                #expect(answer.status == 405, "\(absent) \(path) answered \(answer.status)")
                let allow = Set((answer.header("Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                #expect(allow == methods, "\(path): Allow \(allow.sorted()) vs documented \(methods.sorted())")
            }

            // Operations that need a key say so in the document and in fact.
            for (path, item) in paths {
                for (verb, operation) in item where verbs.contains(verb) {
                    guard let operation = operation as? [String: Any] else { continue }
                    let open = (operation["security"] as? [Any])?.isEmpty == true
                    let answer = try await daemon.http(verb.uppercased(), Self.concretePath(path))
                    if open {
                        #expect(answer.status != 401, "\(verb) \(path) is documented without a key but answered 401")
                    } else {
                        #expect(answer.status == 401, "\(verb) \(path) needs a key but answered \(answer.status)")
                    }
                }
            }
        }
    }

    /// Every (path, method) the tenant API's router holds, including the 405 responders.
    static func publicRoutes(stateDirectory: String) throws -> [(path: String, method: String)] {
        var configuration = SupervisorConfiguration()
        configuration.stateDirectory = stateDirectory
        let layout = StateLayout(root: stateDirectory)
        try layout.prepare()
        let store = try SQLiteStore(path: layout.database)
        let settings = try WorkerSettings.load(configuration: configuration)
        let jail = try Jail(cgroupParent: "warden")
        let logger = Logger(label: "openapi-test")
        let workers = WorkerManager(settings: settings, jail: jail, layout: layout, logger: logger)
        let decisions = try DecisionServices(store: store, configuration: configuration, workers: workers, logger: logger)
        let router = PublicRoutes.router(store: store, configuration: configuration, hostChecks: HostChecks.read(),
                                         workers: workers,
                                         execLimits: .init(maxTimeoutMs: 1000, maxCpuMs: 1000, maxMemoryMB: 64, maxOutputBytes: 1024),
                                         decisions: decisions)
        return router.routes.map { ($0.path.description, $0.method.rawValue) }
    }

    @Test func realAnswersValidateAgainstTheDocumentsSchemas() async throws {
        try await withLiveDaemon { daemon in
            let served = try Self.document(try await daemon.http("GET", "/v1/openapi.json"))
            let validator = SchemaValidator(document: served)
            let (_, token) = try await daemon.tenantWithKey("schema")
            func check(_ response: LocalHTTPClient.Response, _ schema: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
                let value = try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
                let problems = validator.validate(value, against: "#/components/schemas/\(schema)")
                #expect(problems.isEmpty, "\(schema): \(problems) in \(String(decoding: response.body, as: UTF8.self))",
                        sourceLocation: sourceLocation)
            }

            try check(try await daemon.http("GET", "/v1/health"), "Health")
            try check(try await daemon.http("GET", "/v1/whoami", headers: bearer(token)), "WhoAmI")
            try check(try await daemon.http("GET", "/v1/usage?by=tool", headers: bearer(token)), "Usage")

            let exec = try await daemon.exec(token, ["language": "python", "code": "import sys\nprint('out')\nprint('err', file=sys.stderr)"])
            #expect(exec.status == 200, "\(String(decoding: exec.body, as: UTF8.self))")
            try check(exec, "ExecResult")
            #expect(exec.json?["request_id"] as? String == exec.header("X-Request-Id"))
            #expect(exec.json?["stdout"] as? String == "out\n")

            let failing = try await daemon.exec(token, ["language": "bash", "code": "exit 3"])
            #expect(failing.status == 200)
            try check(failing, "ExecResult")
            #expect(failing.json?["status"] as? String == "exited_nonzero")
            #expect(failing.json?["exit_code"] as? Int == 3)

            // The streamed variant: chunks, then a result of the same schema.
            let streamed = try await daemon.exec(token, ["language": "bash", "code": "echo a; echo b >&2"], stream: true)
            #expect(streamed.status == 200)
            #expect(streamed.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = serverSentEvents(streamed.body)
            for event in events {
                let value = try JSONSerialization.jsonObject(with: Data(event.data.utf8))
                switch event.event {
                case "stdout", "stderr":
                    #expect(validator.validate(value, against: "#/components/schemas/OutputChunk").isEmpty, "\(event)")
                case "result":
                    let problems = validator.validate(value, against: "#/components/schemas/ExecResult")
                    #expect(problems.isEmpty, "\(problems)")
                default:
                    Issue.record("unexpected event \(event.event): \(event.data)")
                }
            }
            #expect(events.last?.event == "result")

            // Files.
            let written = try await daemon.files("PUT", "/v1/files/notes/a.txt", token: token, body: Data("hello".utf8))
            #expect(written.status == 201)
            try check(written, "FileWritten")
            let listed = try await daemon.files("GET", "/v1/files?prefix=notes/", token: token)
            #expect(listed.status == 200)
            try check(listed, "FileList")
            let deleted = try await daemon.files("DELETE", "/v1/files/notes/a.txt", token: token)
            #expect(deleted.status == 200)
            try check(deleted, "FileDeleted")

            // Errors, each with a status the document lists for the operation.
            let errors: [(LocalHTTPClient.Response, String, String)] = [
                (try await daemon.http("GET", "/v1/whoami"), "/v1/whoami", "get"),
                (try await daemon.exec(token, ["language": "cobol", "code": ""]), "/v1/exec", "post"),
                (try await daemon.exec(token, ["language": "python", "code": "", "timeout_ms": -1]), "/v1/exec", "post"),
                (try await daemon.files("GET", "/v1/files/missing.txt", token: token), "/v1/files/{path}", "get"),
                (try await daemon.fetch(token, ["url": "ftp://127.0.0.1/"]), "/v1/fetch", "post"),
                (try await daemon.fetch(token, ["url": "http://127.0.0.1:1/"]), "/v1/fetch", "post"),
                (try await daemon.fetch(token, ["url": "http://127.0.0.1:1/", "max_bytes": 0]), "/v1/fetch", "post"),
            ]
            let paths = try #require(served["paths"] as? [String: [String: Any]])
            for (response, path, verb) in errors {
                try check(response, "Error")
                let responses = ((paths[path]?[verb] as? [String: Any])?["responses"] as? [String: Any]) ?? [:]
                #expect(responses[String(response.status)] != nil, "\(verb) \(path) answered \(response.status), which the document does not list")
            }
        }
    }

    @Test func theValidatorCatchesWrongDocuments() throws {
        // The checks above are only as good as the validator: it must refuse these.
        let document = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Self.sourceDocumentPath))) as? [String: Any])
        let validator = SchemaValidator(document: document)
        let good: [String: Any] = ["status": "ok", "exit_code": 0, "signal": NSNull(), "stdout_truncated": false,
                                   "stderr_truncated": false, "cpu_ms": 3, "wall_ms": 9, "memory_peak_bytes": 1024,
                                   "request_id": "req_x"]
        #expect(validator.validate(good, against: "#/components/schemas/ExecResult").isEmpty)
        var missing = good
        missing.removeValue(forKey: "wall_ms")
        #expect(!validator.validate(missing, against: "#/components/schemas/ExecResult").isEmpty)
        var mistyped = good
        mistyped["cpu_ms"] = "3"
        #expect(!validator.validate(mistyped, against: "#/components/schemas/ExecResult").isEmpty)
        var unknownStatus = good
        unknownStatus["status"] = "fine"
        #expect(!validator.validate(unknownStatus, against: "#/components/schemas/ExecResult").isEmpty)
        #expect(!validator.validate(["error": ["code": "x"]], against: "#/components/schemas/Error").isEmpty)
    }
}

/// Just enough JSON Schema (2020-12, as OpenAPI 3.1 uses it) for the
/// document's own schemas: $ref, type, required, properties,
/// additionalProperties: false, items, enum, const, minimum.
struct SchemaValidator {
    let document: [String: Any]

    func resolve(_ ref: String) -> [String: Any]? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let object = node as? [String: Any], let next = object[String(part)] else { return nil }
            node = next
        }
        return node as? [String: Any]
    }

    func validate(_ value: Any, against ref: String) -> [String] {
        guard let schema = resolve(ref) else { return ["no schema at \(ref)"] }
        return validate(value, schema: schema, at: "$")
    }

    private static func typeName(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if type(of: value) == Bool.self { return "boolean" }
        if let number = value as? NSNumber, type(of: value) != String.self {
            // JSONSerialization's booleans are NSNumbers of C type char (or C++ bool).
            let objCType = String(cString: number.objCType)
            if objCType == "c" || objCType == "B" { return "boolean" }
            return number.doubleValue.rounded() == number.doubleValue ? "integer" : "number"
        }
        if value is String { return "string" }
        if value is [Any] { return "array" }
        if value is [String: Any] { return "object" }
        return "unknown"
    }

    private static func same(_ a: Any, _ b: Any) -> Bool {
        let type = typeName(a)
        guard type == typeName(b) else { return false }
        switch type {
        case "null": return true
        case "string": return (a as? String) == (b as? String)
        case "boolean": return ((a as? Bool) ?? (a as? NSNumber)?.boolValue) == ((b as? Bool) ?? (b as? NSNumber)?.boolValue)
        case "integer", "number": return (a as? NSNumber)?.doubleValue == (b as? NSNumber)?.doubleValue
        default: return false
        }
    }

    private func validate(_ value: Any, schema: [String: Any], at path: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            guard let target = resolve(ref) else { return ["\(path): dangling \(ref)"] }
            return validate(value, schema: target, at: path)
        }
        var problems: [String] = []
        let actual = Self.typeName(value)
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { return ["\(path): \(actual), expected \(allowed.joined(separator: " or "))"] }
        }
        if let options = schema["enum"] as? [Any],
           !options.contains(where: { Self.same($0, value) }) {
            problems.append("\(path): \(value) is not one of \(options)")
        }
        if let constant = schema["const"], !Self.same(constant, value) {
            problems.append("\(path): \(value) is not \(constant)")
        }
        if let minimum = (schema["minimum"] as? NSNumber)?.doubleValue, let number = value as? NSNumber,
           actual != "boolean", number.doubleValue < minimum {
            problems.append("\(path): \(number) < \(minimum)")
        }
        if let object = value as? [String: Any] {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                problems.append("\(path): missing required '\(key)'")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (key, child) in object {
                if let childSchema = properties[key] as? [String: Any] {
                    problems += validate(child, schema: childSchema, at: "\(path).\(key)")
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(path): unexpected property '\(key)'")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() {
                problems += validate(element, schema: items, at: "\(path)[\(index)]")
            }
        }
        return problems
    }
}
