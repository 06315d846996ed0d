import Foundation
import Supervisor
import Testing

/// The worker and the supervisor answer with one set of error codes.
@Suite("Worker error codes")
struct WorkerErrorCodeTests {
    /// The worker's refusals carry the supervisor's code for a request it cannot serve.
    @Test func theWorkersBadRequestsUseTheSupervisorsCode() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("codes")
            _ = try await daemon.run(token, "bash", "mkdir -p /workspace/folder")
            // The supervisor accepts the path; the worker finds a directory.
            let response = try await daemon.files("GET", "/v1/files/folder", token: token)
            #expect(response.status == 400, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.errorCode == "invalid_request")
            #expect(response.errorMessage?.contains("directory") == true, "\(response.errorMessage ?? "")")
        }
    }
}
