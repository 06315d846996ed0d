import Foundation
import Hummingbird

/// `GET /v1/openapi.json`: the OpenAPI 3.1 document of the tenant API
/// (`Supervisor/Daemon/openapi.json`, shipped as a resource of this target).
struct OpenAPIController {
    let document: Data?

    init(document: Data? = Self.load()) {
        self.document = document
    }

    func openapi(_ request: Request, context: some IdentifiedRequestContext) async throws -> Response {
        guard let document else {
            throw APIError.unavailable(code: "openapi_unavailable",
                                       "the OpenAPI document is not installed: \(Self.bundleName)/openapi.json must sit beside the warden binary")
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    static let bundleName = "Warden_Supervisor.resources"

    /// The resource bundle beside the executable. `Bundle.module` would trap
    /// when a binary was copied without it; a missing document is only a 503.
    static func load() -> Data? {
        var directories = [Bundle.main.bundleURL.path]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append((exe as NSString).deletingLastPathComponent)
        }
        for directory in directories {
            if let data = FileManager.default.contents(atPath: "\(directory)/\(bundleName)/openapi.json") { return data }
        }
        return nil
    }
}
