import Foundation
import Supervisor
import TestKit
import Testing

extension RunningDaemon {
    /// `POST /v1/browser/TOOL` with a JSON object, generous timeout.
    func browser(_ token: String, _ tool: String, _ request: [String: Any], accept: String? = nil,
                 timeout: Duration = .seconds(120)) async throws -> LocalHTTPClient.Response {
        var headers = bearer(token) + [("Content-Type", "application/json")]
        if let accept { headers.append(("Accept", accept)) }
        return try await LocalHTTPClient.send("POST", "/v1/browser/\(tool)", to: .tcp(host: "127.0.0.1", port: port),
                                              headers: headers, body: Live.json(request), timeout: timeout)
    }

    /// A browser call that must succeed; its JSON answer.
    func page(_ token: String, _ tool: String, _ request: [String: Any],
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let response = try await browser(token, tool, request)
        #expect(response.status == 200, "\(tool) answered \(response.status): \(String(decoding: response.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        return try #require(response.json, sourceLocation: sourceLocation)
    }

    /// Chromium's processes in the tenant's worker jail.
    func browserProcesses(_ tenantID: String) async throws -> [Int32] {
        guard let worker = try await workerPID(tenantID) else { return [] }
        return ProcessTree.browsers(under: worker)
    }
}

extension LocalHTTPClient.Response {
    var text: String { String(decoding: body, as: UTF8.self) }
}
